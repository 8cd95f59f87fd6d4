"""docs/make_results.py writes every results table of README.md and docs/*.md from the files in docs/results/:
none is stale, each names the command that made its numbers, and a changed result file is caught and rewritten."""

from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT

SCRIPT = ROOT / "docs" / "make_results.py"


@pytest.fixture(scope="module")
def make_results():
    spec = importlib.util.spec_from_file_location("make_results", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def make(root: Path, *arguments: str) -> subprocess.CompletedProcess:
    command = [sys.executable, str(SCRIPT), "--root", str(root), *arguments]
    return subprocess.run(command, capture_output=True, text=True, timeout=120)


def test_no_results_table_is_stale():
    result = make(ROOT, "--check")
    assert result.returncode == 0, result.stdout + result.stderr


def test_each_table_names_the_command_that_made_its_result_file(make_results):
    blocks = [
        (path, match)
        for path in make_results.documents(ROOT)
        for match in make_results.BLOCK.finditer(path.read_text(encoding="utf-8"))
    ]
    names = {match.group(2) for _, match in blocks}
    assert names == {path.stem for path in (ROOT / "docs" / "results").glob("*.json")}  # every result is shown
    for path, match in blocks:
        result = json.loads((ROOT / "docs" / "results" / f"{match.group(2)}.json").read_text(encoding="utf-8"))
        body = match.group(4)
        assert "\n|---" in body, f"{path.name}: {match.group(2)} has no table"
        assert f"Made by `{result['command']}`." in body, f"{path.name}: {match.group(2)} does not name its command"
        if result.get("recorded_from"):
            assert f"Recorded from {result['recorded_from']}." in body


def copy_of_the_docs(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    shutil.copy(ROOT / "README.md", root / "README.md")
    shutil.copytree(ROOT / "docs", root / "docs", ignore=shutil.ignore_patterns("*.png", "__pycache__"))
    return root


def test_check_catches_a_stale_table_and_a_rerun_rewrites_it(tmp_path: Path):
    root = copy_of_the_docs(tmp_path)
    path = root / "docs" / "results" / "runtimes.json"
    result = json.loads(path.read_text(encoding="utf-8"))
    path.write_text(json.dumps({**result, "rules_articles_per_s": 1.234}), encoding="utf-8")
    stale = make(root, "--check")
    assert stale.returncode == 1 and "stale: docs/benchmarks.md" in stale.stdout
    assert make(root).returncode == 0
    assert "| rules (spaCy) |  |  | 1.23 |" in (root / "docs" / "benchmarks.md").read_text(encoding="utf-8")
    assert make(root, "--check").returncode == 0


def test_collect_takes_a_compare_folder_and_keeps_entries_with_their_own_provenance(tmp_path: Path, make_results):
    root = copy_of_the_docs(tmp_path)
    compare = tmp_path / "compare"
    compare.mkdir()
    report = {
        "articles": 2,
        "metrics": {"attribution": {"precision": 0.5, "recall": 0.5, "f1": 0.5, "f1_ci": [0.4, 0.6]}},
    }
    (compare / "comparison.json").write_text(json.dumps({"rules": report}), encoding="utf-8")
    assert make(root, "--collect", str(compare), "--name", "polnear_dev").returncode != 0  # no command: refused
    done = make(root, "--collect", str(compare), "--name", "polnear_dev", "--command", "quoteattr compare X")
    assert done.returncode == 0, done.stdout + done.stderr
    collected = json.loads((root / "docs" / "results" / "polnear_dev.json").read_text(encoding="utf-8"))
    assert collected["command"] == "quoteattr compare X" and "recorded_from" not in collected
    assert list(make_results.systems(collected)) == ["rules", "second annotator (train)"]
    polnear = (root / "docs" / "polnear.md").read_text(encoding="utf-8")
    assert "| attribution | 0.500 [0.40, 0.60] | 0.799 |" in polnear  # the annotators' entry kept its own numbers
    assert "Made by `quoteattr compare X`." in polnear
    assert make(root, "--check").returncode == 0


def test_collecting_parts_made_by_the_same_commands_names_each_command_once(tmp_path: Path):
    root = copy_of_the_docs(tmp_path)
    compare = tmp_path / "compare"
    compare.mkdir()
    (compare / "comparison.json").write_text(json.dumps({"rules": {"articles": 1, "metrics": {}}}), encoding="utf-8")
    for part in ("embedded test", "PolNeAR dev"):
        done = make(root, "--collect", str(compare), "--name", "finetuning", "--part", part, "--command", "A; B")
        assert done.returncode == 0, done.stdout + done.stderr
    collected = json.loads((root / "docs" / "results" / "finetuning.json").read_text(encoding="utf-8"))
    assert collected["command"] == "A; B" and list(collected["parts"]) == ["embedded test", "PolNeAR dev"]


def test_the_files_the_benchmark_scripts_write_render(make_results):
    """Result files shaped as the scripts' --output and results.json write them (every field, raw floats)."""
    streaming = {
        "command": "python training/benchmark_streaming.py --sizes 10 20 --ray-shards 2 --output s.json",
        "system": "rules",
        "source": "data/raw/starter",
        "source_articles": 30,
        "mean_characters": 531.2,
        "measurements": [{"command": "ingest", "articles": 1, "status": 0, "seconds": 0.9, "peak_mb": 20.1}],
        "table": [
            {
                "command": "ingest",
                "articles": 10,
                "seconds": 1.0,
                "startup_seconds": 0.9,
                "articles_per_second": 90.0,
                "ms_per_article": 11.1,
                "time_vs_smallest": 1.0,
                "peak_mb": 20.5,
                "peak_vs_smallest": 1.0,
            }
        ],
        "ray": {
            "articles": 20,
            "shards": 2,
            "workers": 2,
            "seconds": 9.0,
            "articles_per_second": 2.2,
            "driver_peak_mb": 99.0,
        },
    }
    runtimes = {
        "command": "python training/benchmark_runtimes.py --checkpoint C --gold G --output r.json",
        "articles": 4,
        "repeats": 3,
        "torch_threads": 2,
        "runtimes": [
            {
                "runtime": f"torch {p}",
                "tokens_per_s": t,
                "articles_per_s": 1.5,
                "ratio": 0.95,
                "overlap": 0.8,
                "attribution": 0.7,
            }
            for p, t in (("fp32", 1000.0), ("int8", 2000.0))
        ],
        "rules_articles_per_s": 6.0,
    }
    speed = {
        "command": "python training/benchmark.py --output b.json",
        "device": "cpu",
        "torch_threads": 2,
        "predict": {
            "articles": 24,
            "article_tokens": 5000,
            "window_tokens": 6000,
            "seconds": 3.0,
            "bare_seconds": 2.9,
            "articles_per_s": 8.0,
            "window_tokens_per_s": 2000.0,
            "bare_window_tokens_per_s": 2068.9,
            "ratio": 0.967,
            "recogniser_seconds": 0.6,
            "recogniser_articles": 20,
            "ratio_without_recogniser": 1.2,
            "peak_mb": 900.0,
        },
        "training": {
            "steps": 10,
            "batch_size": 8,
            "max_length": 256,
            "trainer_sequences_per_s": 5.0,
            "bare_sequences_per_s": 5.1,
            "ratio": 0.98,
        },
    }
    learning = {
        "command": "python training/active_learning.py --train T --validation V --dev D",
        "rows": [
            {"strategy": s, "round": 0, "labelled": 4, "pool": 6, "selected": ["a"], "attribution_f1": f, "next": ["b"]}
            for s, f in (("uncertainty", 0.1), ("random", 0.2))
        ],
    }
    rendered = {
        name: "\n".join(make_results.renderer(result)(result, "full"))
        for name, result in (("streaming", streaming), ("runtimes", runtimes), ("speed", speed), ("al", learning))
    }
    assert "| predict rules, `--engine ray`, 2 shards, 2 workers | 20 | 9.0 |" in rendered["streaming"]
    assert "| torch int8 | 2,000 | 2.00× | 1.50 | 0.950 | 0.800 | +0.000 | 0.700 | +0.000 |" in rendered["runtimes"]
    predict_row = "| predict (24 articles) | 8.00 articles/s, 2,000 window tokens/s | 2,069 window tokens/s | 0.967 |"
    assert predict_row in rendered["speed"]
    assert "| predict less spaCy's entity recogniser (20 articles, 0.6 of 3.0 s) |  |  | 1.200 |" in rendered["speed"]
    assert "| 4 | 0.100 | **0.200** |" in rendered["al"]


def test_the_files_the_eval_scripts_write_render(make_results):
    """An ablation's variants and the exact-match losses, shaped as the eval scripts' --output writes them."""
    ablation = {
        "command": "python eval/assembly_ablation.py --checkpoint C --gold G --output a.json",
        "checkpoint": "C",
        "gold": "G",
        "variants": {"joiner, threshold 0.5": {"content_exact": 0.61, "attribution": 0.7}, "grouping rules": {}},
    }
    losses = {"command": "python eval/exact_losses.py --gold G --pred P", "gold_quotes": 4, "reasons": {"exact": 3}}
    shown = "\n".join(make_results.renderer(ablation)(ablation, "full"))
    assert shown.startswith("`C` on `G`:") and "| variant | content exact F1 | attribution F1 |" in shown
    assert "| joiner, threshold 0.5 | 0.610 | 0.700 |" in shown and "| grouping rules |  |  |" in shown
    assert "| exact | 3 | 0.750 |" in "\n".join(make_results.renderer(losses)(losses, "full"))
    given = {"rules.jsonl": {"entity": "UN", "right": False}, "model.jsonl": {"entity": "Ann Lee", "right": True}}
    speakers = {
        "command": "python eval/speakers_by_quote.py --gold G --pred rules.jsonl model.jsonl",
        "gold_quotes": 1,
        "right_entity": {"rules.jsonl": 0, "model.jsonl": 1},
        "quotes": [{"article": "a", "type": "direct", "quote": '"A | B"', "gold": "Ann Lee", "systems": given}],
    }
    shown = "\n".join(make_results.renderer(speakers)(speakers, "full"))
    assert "| type | quote | gold speaker | `rules.jsonl` | `model.jsonl` |" in shown
    assert '| direct | "A \\| B" | Ann Lee | ✗ UN | ✓ Ann Lee |' in shown and "| **0/1** | **1/1** |" in shown
