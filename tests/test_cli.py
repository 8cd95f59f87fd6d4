"""The command line end to end: predict, and the main job on the embedded data."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import ANNOTATIONS, ROOT, SEED

from quoteattr.cli import main
from quoteattr.data.jsonl import read_articles
from quoteattr.evaluation.scoring import evaluate_articles


def test_predict_rules_on_the_seed(tmp_path: Path):
    output = tmp_path / "preds.jsonl"
    assert main(["predict", "--system", "rules", str(SEED), "--output", str(output)]) == 0
    [article] = read_articles(output)
    assert article.id == SEED.stem and article.meta["outlet"] == "Iran Press TV"
    speakers = {q.speaker_entity for q in article.quotes}
    assert {"Igor Konashenkov", "Bouthaina Shaaban", "Russia"} <= speakers


def test_predict_refuses_unknown_system(tmp_path: Path, capsys):
    assert main(["predict", "--system", "nope", str(SEED), "--output", str(tmp_path / "p.jsonl")]) == 2
    assert "unknown system 'nope'" in capsys.readouterr().err


def test_main_job_trains_and_compares_with_scorer_numbers(tmp_path: Path, capsys):
    smoke = str(ROOT / "configs" / "smoke.yaml")
    args = ["run", "--raw", str(ROOT / "data" / "raw"), "--annotations", str(ANNOTATIONS), "--output", str(tmp_path)]
    assert main([*args, "--train-config", smoke]) == 0
    printed = capsys.readouterr().out
    reports = json.loads((tmp_path / "compare" / "comparison.json").read_text())
    model_dir = tmp_path / "model" / "final"
    assert set(reports) == {"rules", str(model_dir)}
    assert (model_dir / "README.md").exists() and (model_dir / "model.safetensors").exists()
    label = str(model_dir).replace("/", "_").strip("_")
    assert (tmp_path / "compare" / f"{label}.jsonl").exists()  # a checkpoint path names files inside compare/
    assert (tmp_path / "compare" / f"view_{label}.html").exists() and not (model_dir.parent / "final.jsonl").exists()
    gold = read_articles(tmp_path / "test_gold.jsonl")
    recomputed = evaluate_articles(gold, read_articles(tmp_path / "compare" / "rules.jsonl"))
    assert reports["rules"]["metrics"]["attribution"]["f1"] == recomputed["metrics"]["attribution"]["f1"]
    f1 = reports["rules"]["metrics"]["content_overlap"]["f1"]
    assert 0.0 < f1 <= 1.0 and f"{f1:.3f}" in printed
    assert (tmp_path / "dataset" / "README.md").exists()
