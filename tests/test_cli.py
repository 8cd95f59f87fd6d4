"""The command line end to end: predict, and the main job on the embedded data."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from conftest import ROOT, SEED
from quoteattr.cli import main
from quoteattr.data.readers import read_articles
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


@pytest.mark.slow
def test_main_job_trains_and_compares_with_scorer_numbers(readme_project: Path, main_job: str):
    outputs = readme_project / "outputs"
    reports = json.loads((outputs / "compare" / "comparison.json").read_text())
    model_dir = Path("outputs") / "model" / "final"
    assert set(reports) == {"rules", str(model_dir)}
    assert (outputs / "model" / "final" / "README.md").exists()
    assert (outputs / "model" / "final" / "model.safetensors").exists()
    label = str(model_dir).replace("/", "_").strip("_")
    assert (outputs / "compare" / f"{label}.jsonl").exists()  # a checkpoint path names files inside compare/
    assert (outputs / "compare" / f"view_{label}.html").exists() and not (outputs / "model" / "final.jsonl").exists()
    gold = read_articles(outputs / "test_gold.jsonl")
    recomputed = evaluate_articles(gold, read_articles(outputs / "compare" / "rules.jsonl"))
    assert reports["rules"]["metrics"]["attribution"]["f1"] == recomputed["metrics"]["attribution"]["f1"]
    f1 = reports["rules"]["metrics"]["content_overlap"]["f1"]
    assert 0.0 < f1 <= 1.0 and f"{f1:.3f}" in main_job
    assert (outputs / "dataset" / "README.md").exists()


def test_evaluate_refuses_a_wrong_file_pair_and_reports_extras(tmp_path: Path, capsys):
    gold, other = tmp_path / "gold.jsonl", tmp_path / "other.jsonl"
    main(["ingest", str(SEED), "--output", str(gold)])
    other.write_text(json.dumps({"id": "elsewhere", "text": "Nothing here.", "quotes": []}) + "\n", encoding="utf-8")
    assert main(["evaluate", "--gold", str(gold), "--pred", str(other), "--bootstrap", "0"]) == 2
    error = capsys.readouterr().err
    assert f"{other} against {gold}: no predicted article matches a gold article by id" in error
    assert "'elsewhere'" in error and SEED.stem in error

    both = tmp_path / "both.jsonl"
    both.write_text(gold.read_text(encoding="utf-8") + other.read_text(encoding="utf-8"), encoding="utf-8")
    assert (
        main(
            [
                "evaluate",
                "--gold",
                str(gold),
                "--pred",
                str(both),
                "--bootstrap",
                "0",
                "--output",
                str(tmp_path / "r.json"),
            ]
        )
        == 0
    )
    assert "warning: 1 predicted articles are not in the gold (not scored): elsewhere" in capsys.readouterr().err
    assert json.loads((tmp_path / "r.json").read_text())["extra_predictions"] == ["elsewhere"]


def test_predict_reads_stdin_and_writes_stdout_as_a_readable_table(tmp_path: Path):
    import subprocess
    import sys

    record = {"id": "s1", "text": '"We will rebuild every house," the mayor said on Monday.\n\nShe left.'}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "quoteattr.cli",
            "predict",
            "-",
            "--output",
            "-",
            "--format",
            "tsv",
            "--batch-size",
            "4",
        ],
        input=json.dumps(record) + "\n",
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    header, row = csv.reader(io.StringIO(result.stdout), delimiter="\t")
    assert header == ["article", "start_in_text", "end_in_text", "type", "quote", "cue", "speaker", "speaker_entity"]
    assert row == ["s1", "0", "30", "direct", '"We will rebuild every house,"', "said", "the mayor", ""]
    assert (
        "rules: 1article" in result.stderr and "to standard output (tsv)" in result.stderr
    )  # progress and summary stay off stdout
    assert not (ROOT / "-").exists()


def test_predict_output_is_jsonl_by_default_and_tsv_by_extension(tmp_path: Path):
    assert main(["predict", str(SEED), "--output", str(tmp_path / "p.jsonl")]) == 0
    [article] = read_articles(tmp_path / "p.jsonl")
    assert main(["predict", str(SEED), "--output", str(tmp_path / "p.tsv")]) == 0
    rows = (tmp_path / "p.tsv").read_text(encoding="utf-8").splitlines()
    assert len(rows) == 1 + len(article.quotes)
    assert any("Konashenkov" in row.split("\t")[7] for row in rows[1:])


def test_every_subcommand_help_states_the_defaults(capsys):
    for command in (["predict"], ["labelstudio", "push"], ["evaluate"]):
        with pytest.raises(SystemExit):
            main([*command, "--help"])
        assert "(default: " in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main(["predict", "--help"])
    assert "(default: 32)" in " ".join(capsys.readouterr().out.split())  # --batch-size
