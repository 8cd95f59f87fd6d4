"""The evaluate module, the comparison of systems, and the HTML view in a real headless browser."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import evaluate
import numpy as np
import pytest

from conftest import ROOT
from quoteattr.cli import main
from quoteattr.data.writers import write_articles


@pytest.fixture(scope="module")
def comparison(tmp_path_factory, gold):
    folder = tmp_path_factory.mktemp("compare")
    gold_path = folder / "gold.jsonl"
    write_articles(gold_path, gold.articles[:6])
    assert (
        main(
            [
                "compare",
                "--gold",
                str(gold_path),
                "--systems",
                "rules",
                "textacy",
                "--output",
                str(folder / "out"),
                "--bootstrap",
                "100",
            ]
        )
        == 0
    )
    return folder


def test_evaluate_module_agrees_with_the_cli(comparison):
    cli_report = json.loads((comparison / "out" / "rules_eval.json").read_text())
    metric = evaluate.load(str(ROOT / "eval" / "quote_attribution"))
    references = (comparison / "gold.jsonl").read_text().splitlines()
    predictions = (comparison / "out" / "rules.jsonl").read_text().splitlines()
    result = metric.compute(predictions=predictions, references=references)
    for row in (
        "content_exact",
        "content_overlap",
        "content_token",
        "cue",
        "speaker_mention",
        "attribution",
        "attribution/direct",
    ):
        for name in ("precision", "recall", "f1"):
            assert result[f"{row}_{name}"] == pytest.approx(cli_report["metrics"][row][name]), (row, name)


def test_packaged_metric_takes_dicts_and_articles_like_strings(comparison):
    from quoteattr.data.readers import read_articles
    from quoteattr.evaluation import METRIC_PATH

    metric = evaluate.load(METRIC_PATH)
    references = (comparison / "gold.jsonl").read_text().splitlines()
    predictions = (comparison / "out" / "rules.jsonl").read_text().splitlines()
    as_strings = metric.compute(predictions=predictions, references=references)
    as_dicts = metric.compute(
        predictions=[json.loads(p) for p in predictions], references=[json.loads(r) for r in references]
    )
    as_articles = metric.compute(
        predictions=read_articles(comparison / "out" / "rules.jsonl"),
        references=read_articles(comparison / "gold.jsonl"),
    )
    assert as_dicts == as_strings == as_articles
    metric.add_batch(predictions=[json.loads(p) for p in predictions], references=[json.loads(r) for r in references])
    assert metric.compute() == as_strings


def test_comparison_writes_every_report(comparison, capsys):
    out = comparison / "out"
    both = json.loads((out / "comparison.json").read_text())
    assert set(both) == {"rules", "textacy"}
    assert both["rules"]["metrics"]["content_overlap"]["f1"] > both["textacy"]["metrics"]["content_overlap"]["f1"]
    assert "attribution_given_gold_quotes" in both["textacy"]["metrics"]
    report = (out / "report.md").read_text()
    assert "![precision and recall per quote type](pr_by_type.png)" in report and "| attribution/mixed |" in report
    assert (out / "pr_by_type.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def _png_colours(path: Path) -> set[tuple[int, int, int]]:
    from PIL import Image

    with Image.open(path) as image:
        return {pixel[:3] for pixel in image.convert("RGB").getdata()}


@pytest.mark.slow
@pytest.mark.browser
def test_html_view_renders_in_headless_chromium(comparison, tmp_path: Path):
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        pytest.skip("Debian's chromium is not installed (apt-get install -y chromium; .ci/run installs it)")
    screenshot = tmp_path / "view.png"
    subprocess.run(
        [
            chromium,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={tmp_path / 'profile'}",
            f"--screenshot={screenshot}",
            "--window-size=1200,900",
            (comparison / "out" / "view_rules.html").as_uri(),
        ],
        check=False,
        capture_output=True,
        timeout=120,
    )
    assert screenshot.exists(), "chromium wrote no screenshot"
    colours = _png_colours(screenshot)
    assert len(colours) > 50  # text and highlights, not a blank page
    assert (0xFF, 0xF3, 0xB0) in colours  # quote content highlighted
    assert (0xBF, 0xE0, 0xFF) in colours  # speaker highlighted


def test_platt_scaling_calibrates_overconfident_scores():
    from quoteattr.evaluation.confidence import expected_calibration_error
    from quoteattr.systems.model.confidence import calibrate, fit_platt

    rng = np.random.default_rng(0)
    raw = rng.uniform(0, 1, 4000)
    right = list(rng.uniform(0, 1, 4000) < raw**3)  # right far less often than the raw score says
    platt = fit_platt(list(raw), right)
    calibrated = [calibrate(r, platt) for r in raw]
    assert expected_calibration_error(list(raw), right) > 0.15
    assert expected_calibration_error(calibrated, right) < 0.03
    assert fit_platt([0.2, 0.9], [True, True]) == [1.0, 0.0]  # nothing to fit: identity


def test_threshold_sweep_and_operating_point():
    from quoteattr.data.schema import Article, Quote
    from quoteattr.evaluation.confidence import operating_point, threshold_sweep

    text = "a" * 400
    gold = [Article("g", text, quotes=[Quote([(i * 20, i * 20 + 10)], "direct") for i in range(10)])]
    right = [Quote([(i * 20, i * 20 + 10)], "direct", score=0.5 + i / 20) for i in range(8)]  # 8 right, scores 0.5–0.85
    wrong = [
        Quote([(300 + i * 20, 310 + i * 20)], "direct", score=0.1 + i / 10) for i in range(4)
    ]  # 4 wrong, scores 0.1–0.4
    sweep = threshold_sweep(
        gold, [Article("g", text, quotes=sorted(right + wrong, key=lambda q: q.spans))], top_share=0.0
    )
    recalls = [row["content_overlap_recall"] for row in sweep]
    assert recalls == sorted(recalls, reverse=True) and sweep[0]["content_overlap_precision"] == 8 / 12
    point = operating_point(sweep, 1.0, "content_overlap")
    assert 0.4 < point["threshold"] <= 0.5 and point["content_overlap_recall"] == 0.8
    assert operating_point(sweep, 1.01, "content_overlap") is None
