"""The training run's steps, each alone and without training: arguments, windows and the Trainer around them,
the decoding search, the steps after training, the console lines, and the main job without a model."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from types import SimpleNamespace

import pytest

from conftest import ANNOTATIONS, ROOT, SEED
from quoteattr.cli import main
from quoteattr.data.errors import InputError
from quoteattr.data.readers import read_articles
from quoteattr.systems.model.attributor import QuoteAttributor
from quoteattr.training.arguments import parse_arguments, warn_emulated_bf16
from quoteattr.training.console import ConciseProgress, finished_line
from quoteattr.training.decoding_search import DecodingGrid, find_decoding
from quoteattr.training.finish import choose_decoding, finish_run, score_checkpoint
from quoteattr.training.trainer import FEATURE_COLUMNS, make_trainer, window_features

SMOKE = str(ROOT / "configs" / "smoke.yaml")


@pytest.fixture(scope="module")
def few_gold(gold) -> list:
    """Three short labelled starter articles."""
    return sorted((a for a in gold.articles if a.id != SEED.stem), key=lambda a: len(a.text))[:3]


@pytest.fixture(scope="module")
def untrained(untrained_checkpoint: Path) -> QuoteAttributor:
    return QuoteAttributor.from_pretrained(untrained_checkpoint, device="cpu")


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


AVERAGED = "metric_for_best_model: attribution_f1\neval_strategy: epoch\nsave_strategy: epoch\n"
"""A config that could average checkpoints (the cases below each break one of its needs)."""


@pytest.mark.parametrize(
    "config, overrides, message",
    [
        ("a: [\n", [], "line 2 not valid YAML"),
        ("num_train_epochs: abc\n", [], "invalid float value: 'abc'"),
        ("max_stepz: 3\n", [], "unknown arguments ['max_stepz']"),
        ("max_steps: 3\n", ["--max_stepz", "3"], "command line: "),
        ("max_steps: 3\n", ["--decoding", "tags=viterbe"], "decoding: tags must be one of viterbi, argmax"),
        ("decoding: {tags: viterbe}\n", [], "decoding: tags must be one of viterbi, argmax"),
        ("decoding: {snap_to_marks: 1}\n", [], "unknown decoding options ['snap_to_marks']"),
        ("max_steps: 3\n", ["--decoding", "min_quote_score=2"], "min_quote_score must lie in [0, 1]"),
        ("max_steps: 3\n", ["--decoding_grid", "missing.yaml"], "missing.yaml: unreadable decoding grid"),
        ("max_steps: 3\n", ["--search_decoding", "cue"], "--search_decoding must be one of"),
        ("- a\n", [], "a config is a mapping"),
        ("average_checkpoints: 0\n", [], "--average_checkpoints must be at least 1"),
        (f"{AVERAGED}average_checkpoints: 3\nsave_total_limit: 3\n", [], "save_total_limit at least 4; not epoch, 3"),
        (f"{AVERAGED}average_checkpoints: 3\nsave_total_limit: 4\n", ["--average_checkpoints", "4"], "least 5"),
        (f"{AVERAGED}average_checkpoints: 2\n", ["--save_strategy", "no"], "needs the last 2 checkpoints saved"),
        ("average_checkpoints: 2\nmetric_for_best_model: loss\n", [], "chooses by an F1"),
    ],
)
def test_bad_arguments_are_one_line_naming_their_source(tmp_path: Path, config, overrides, message, capsys):
    path = write(tmp_path / "config.yaml", config)
    with pytest.raises(InputError, match=None) as raised:
        parse_arguments(["--config", str(path), *overrides])
    assert message in str(raised.value) and "\n" not in str(raised.value)
    source = "command line" if overrides else str(path)
    assert str(raised.value).startswith(source)
    assert main(["train", "--config", str(path), *overrides]) == 2
    printed = capsys.readouterr()
    assert printed.err.count("\n") == 1 and printed.err.startswith("error: ") and "usage:" not in printed.out


@pytest.mark.parametrize("native", [True, False])
def test_bf16_on_a_cpu_without_native_bf16_is_named_before_training(native: bool, monkeypatch, capsys):
    import torch

    monkeypatch.setattr(torch.cpu, "_is_avx512_bf16_supported", lambda: native)
    monkeypatch.setattr(torch.cpu, "_is_amx_tile_supported", lambda: False)
    parse_arguments(["--config", SMOKE, "--bf16", "true", "--use_cpu", "true"])
    warned = "no native bf16" in capsys.readouterr().err
    assert warned is not native
    parse_arguments(["--config", SMOKE])
    assert "bf16" not in capsys.readouterr().err
    other_rank = SimpleNamespace(bf16=True, use_cpu=True, process_index=1)  # a torchrun run warns once, on rank 0
    warn_emulated_bf16(other_rank)
    assert "bf16" not in capsys.readouterr().err


def test_train_help_puts_the_projects_arguments_first_and_points_to_the_rest(capsys):
    with pytest.raises(SystemExit) as stopped:
        main(["train", "--help"])
    assert stopped.value.code == 0
    short = capsys.readouterr().out
    assert short.startswith("usage: quoteattr train") and len(short.splitlines()) < 150
    for argument in ("--config", "--max_train_articles", "--linker_paragraph_span", "--help-all", "--decoding_grid"):
        assert argument in short
    with pytest.raises(SystemExit):
        main(["train", "--help-all"])
    assert "--learning_rate" in capsys.readouterr().out


def test_max_eval_articles_limits_every_scored_split_the_extra_gold_too(tmp_path: Path):
    from quoteattr.data.writers import write_articles
    from quoteattr.dataset.store import load_split_articles
    from quoteattr.training.arguments import DataArguments
    from quoteattr.training.trainer import EXTRA_GOLD, load_splits

    annotations = tmp_path / "annotations"
    annotations.mkdir()
    for export in sorted(ANNOTATIONS.glob("*.json"))[:16]:
        shutil.copy(export, annotations)
    data = DataArguments(str(tmp_path / "dataset"), str(annotations), test_split="test", max_eval_articles=1)
    load_splits(data, seed=13)  # builds the dataset from the annotations
    held_out = load_split_articles(tmp_path / "dataset", "test")
    write_articles(tmp_path / "extra.jsonl", held_out)
    data.extra_gold = str(tmp_path / "extra.jsonl")
    splits, _ = load_splits(data, seed=13)
    assert len(held_out) > 1 and [len(splits[name]) for name in ("validation", "test", EXTRA_GOLD)] == [1, 1, 1]


def test_windows_and_the_trainer_around_them(untrained, few_gold, tmp_path: Path):
    """The Trainer gets one example per window and validates by decoding the validation split as the checkpoint
    does (tagger, linker, decoding settings): its scores are those of the checkpoint's own predictions."""
    import evaluate
    from transformers import TrainingArguments

    from quoteattr.evaluation import METRIC_PATH
    from quoteattr.training.validation import validation_scores

    settings = untrained.settings
    window = (untrained.tokenizer, settings["max_length"], settings["stride"], settings["paragraph_marker"])
    features = window_features(few_gold, *window)
    assert len(features) >= len(few_gold) and set(FEATURE_COLUMNS) <= set(features[0])
    arguments = TrainingArguments(output_dir=str(tmp_path), report_to="none", eval_strategy="no", use_cpu=True)
    data_args = SimpleNamespace(train_split="train", validation_split="validation")
    run_args = SimpleNamespace(early_stopping_patience=1)
    splits = {"train": few_gold, "validation": few_gold}
    trainer = make_trainer(untrained.model, untrained.tokenizer, settings, splits, data_args, run_args, arguments)
    assert len(trainer.train_dataset) == len(features)
    assert any(isinstance(callback, ConciseProgress) for callback in trainer.callback_handler.callbacks)
    metrics = trainer.evaluate()
    expected = validation_scores(untrained, few_gold, evaluate.load(METRIC_PATH), 8)
    assert {f"eval_{name}": value for name, value in expected.items()}.items() <= metrics.items()
    assert "eval_loss" in metrics and "eval_attribution_f1" in metrics


def test_decoding_search_scores_every_setting_and_keeps_the_best(untrained, few_gold, tmp_path: Path):
    grid = write(
        tmp_path / "grid.yaml",
        "grid:\n  tags: [argmax, viterbi]\n  min_content_words: [1, 3]\nrefine:\n  trim_commas: [false, true]\n"
        "min_quote_score: [0.0, 0.9]\n",
    )
    attributor = QuoteAttributor.from_pretrained(untrained.name, device="cpu")
    rows, fits = find_decoding(attributor, few_gold, "attribution", DecodingGrid.load(grid))
    assert len(rows) == 4 + 1 + 1 and set(fits) == {"score", "speaker_score"}
    best = max(rows, key=lambda row: (row["attribution_f1"], row["content_exact_f1"]))
    assert best["attribution_f1"] == max(row["attribution_f1"] for row in rows)
    assert attributor.decoding.tags in ("argmax", "viterbi") and attributor.decoding.min_quote_score in (0.0, 0.9)
    run_args = SimpleNamespace(search_decoding="none")
    table, fits = choose_decoding(untrained, few_gold, run_args)
    assert table == [] and set(fits) == {"score", "speaker_score"}


@pytest.mark.parametrize(
    "grid, message",
    [
        ("grid:\n  tags: [viterbe]\n", "tags must be one of viterbi, argmax"),
        ("grid:\n  snap_to_marks: [1]\n", "'snap_to_marks' is not a decoding option searched there"),
        ("grid:\n  tags: []\n", "a non-empty list of values"),
        ("refine:\n  min_quote_score: [0.5]\n", "'min_quote_score' is not a decoding option searched there"),
        ("sizes: 3\n", "a decoding grid has the sections grid, refine and min_quote_score"),
    ],
)
def test_a_bad_decoding_grid_is_one_error_naming_the_file(tmp_path: Path, grid, message):
    path = write(tmp_path / "grid.yaml", grid)
    with pytest.raises(InputError) as raised:
        DecodingGrid.load(path)
    assert str(raised.value).startswith(str(path)) and message in str(raised.value)


def test_find_decoding_prints_the_best_and_saves_it_into_the_checkpoint(
    untrained_checkpoint, few_gold, tmp_path, capsys
):
    import shutil

    from quoteattr.data.writers import write_articles

    checkpoint = tmp_path / "checkpoint"
    shutil.copytree(untrained_checkpoint, checkpoint)
    gold = tmp_path / "gold.jsonl"
    write_articles(gold, few_gold)
    grid = write(tmp_path / "grid.yaml", "grid:\n  tags: [argmax]\nmin_quote_score: [0.0]\n")
    args = [
        "find-decoding",
        str(checkpoint),
        "--gold",
        str(gold),
        "--grid",
        str(grid),
        "--output",
        str(tmp_path / "rows.json"),
    ]
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert "best by attribution F1" in printed and 'training takes it as --decoding "tags=argmax,' in printed
    assert json.loads((tmp_path / "rows.json").read_text())["chosen"]["tags"] == "argmax"
    assert json.loads((checkpoint / "config.json").read_text())["quoteattr"]["decoding"]["tags"] == "viterbi"
    assert main([*args, "--save"]) == 0
    saved = json.loads((checkpoint / "config.json").read_text())["quoteattr"]
    assert saved["decoding"]["tags"] == "argmax" and saved["decoding"]["format_version"] == 3
    assert QuoteAttributor.from_pretrained(checkpoint, device="cpu").decoding.tags == "argmax"


def test_scores_of_a_checkpoint_and_the_rules_on_each_split(untrained, few_gold):
    scores, rules = score_checkpoint(untrained, {"test": few_gold})
    assert set(scores) == set(rules) == {"test"}
    assert "attribution_given_gold_quotes" in scores["test"]["metrics"] and "calibration" in scores["test"]
    assert rules["test"]["metrics"]["attribution"]["f1"] > 0


def test_the_steps_after_training_export_a_checkpoint_with_its_card(untrained, few_gold, tmp_path: Path):
    from transformers import TrainingArguments

    from quoteattr.training.arguments import DataArguments, ModelArguments, RunArguments

    arguments = TrainingArguments(output_dir=str(tmp_path / "run"), report_to="none", use_cpu=True)
    data_args = DataArguments(dataset_dir=str(tmp_path / "dataset"))
    run_args = RunArguments(search_decoding="none")
    splits = {"train": few_gold, "validation": few_gold}
    trainer = make_trainer(
        untrained.model, untrained.tokenizer, dict(untrained.settings), splits, data_args, run_args, arguments
    )
    run = {"model_args": ModelArguments(max_length=128, stride=32), "data_args": data_args, "run_args": run_args}
    final = tmp_path / "run" / "final"
    finish_run(trainer, untrained.tokenizer, dict(untrained.settings), splits, Path(data_args.dataset_dir),
               {**run, "started": 0.0}, final, push_to_hub=False)  # fmt: skip
    config = json.loads((final / "config.json").read_text())["quoteattr"]
    assert config["calibration"] == {"score": None, "speaker_score": None}  # too few validation quotes to fit
    card = (final / "README.md").read_text()
    assert "fewer than the 100 a fit needs" in card and "model-index:" in card
    assert set(json.loads((final / "eval_results.json").read_text())) == {"validation"}


def test_a_finished_run_says_there_was_nothing_left_to_train():
    state = SimpleNamespace(global_step=8, max_steps=8)
    assert finished_line(0, state, 0.2) == "nothing left to train: the run had already reached step 8 of 8"
    assert finished_line(6, state, 41.6) == "trained 6 steps in 42s"


def test_the_main_job_without_a_model_builds_and_compares_the_rules(tmp_path: Path, capsys):
    args = ["run", "--raw", str(ROOT / "data" / "raw"), "--annotations", str(ANNOTATIONS), "--output", str(tmp_path)]
    assert main([*args, "--train-config", "none"]) == 0
    printed = capsys.readouterr().out
    assert "the systems side by side" in printed and (tmp_path / "dataset" / "README.md").exists()
    reports = json.loads((tmp_path / "compare" / "comparison.json").read_text())
    assert set(reports) == {"rules"} and len(read_articles(tmp_path / "test_gold.jsonl")) > 0
