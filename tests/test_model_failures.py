"""Inputs that used to end a run in a traceback or give a wrong answer: a truncated or overwritten checkpoint
file (now one ``error: FILE: …`` line and exit status 2, nothing written), an article longer than spaCy takes
(now processed in pieces), punctuation or function words linked as speakers (now never offered)."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from conftest import SEED
from quoteattr.cli import main
from quoteattr.data.errors import InputError


def damaged_copy(checkpoint: Path, folder: Path, file: str, how: str) -> Path:
    """A copy of ``checkpoint`` whose ``file`` is cut to half its size (truncated) or begins with other bytes."""
    shutil.copytree(checkpoint, folder)
    data = (folder / file).read_bytes()
    damaged = data[: len(data) // 2] if how == "truncated" else b"\xff" * 64 + data[64:]
    (folder / file).write_bytes(damaged)
    return folder


def assert_one_error_line(capsys, file: Path) -> None:
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert err.strip().splitlines()[-1].startswith(f"error: {file}: "), err[-2000:]


@pytest.mark.parametrize(
    ("file", "how"),
    [("model.safetensors", "truncated"), ("linker.safetensors", "truncated"), ("linker.safetensors", "overwritten")],
)
def test_predict_with_a_damaged_checkpoint_names_the_file(untrained_checkpoint, tmp_path, capsys, file, how):
    folder = damaged_copy(untrained_checkpoint, tmp_path / "ckpt", file, how)
    output = tmp_path / "out.jsonl"
    assert main(["predict", "--system", str(folder), str(SEED), "--output", str(output)]) == 2
    assert_one_error_line(capsys, folder / file)
    assert not output.exists()


def test_load_of_a_damaged_checkpoint_is_an_input_error(untrained_checkpoint, tmp_path):
    import quoteattr

    folder = damaged_copy(untrained_checkpoint, tmp_path / "ckpt", "model.safetensors", "overwritten")
    with pytest.raises(InputError, match=f"^{folder / 'model.safetensors'}: truncated or corrupted"):
        quoteattr.load(folder)


@pytest.mark.parametrize("backend", ["onnx", "torch"])
def test_export_of_a_damaged_checkpoint_writes_nothing(untrained_checkpoint, tmp_path, capsys, backend):
    folder = damaged_copy(untrained_checkpoint, tmp_path / "ckpt", "model.safetensors", "truncated")
    output = tmp_path / "exported"
    assert main(["export", str(folder), "--format", backend, "--output", str(output)]) == 2
    assert_one_error_line(capsys, folder / "model.safetensors")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ckpt"]  # no output, no staging folder left


def test_predict_with_a_truncated_onnx_graph_names_the_file(untrained_checkpoint, tmp_path, capsys):
    """An exported checkpoint (config with an onnx runtime, no PyTorch weights) whose graph file was cut short;
    a small graph stands in for the exported encoder: loading fails on the file before any inference."""
    import numpy as np
    from onnx import TensorProto, helper, numpy_helper

    folder = tmp_path / "exported"
    shutil.copytree(untrained_checkpoint, folder, ignore=shutil.ignore_patterns("model.safetensors"))
    config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    config["quoteattr"]["runtime"] = {"backend": "onnx", "precision": "fp32", "file": "model.onnx"}
    (folder / "config.json").write_text(json.dumps(config), encoding="utf-8")
    weights = numpy_helper.from_array(np.ones((64, 64), dtype=np.float32), "w")
    inputs = [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 64])]
    outputs = [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 64])]
    graph = helper.make_graph([helper.make_node("MatMul", ["x", "w"], ["y"])], "g", inputs, outputs, [weights])
    data = helper.make_model(graph).SerializeToString()
    (folder / "model.onnx").write_bytes(data[: len(data) // 2])
    output = tmp_path / "out.jsonl"
    assert main(["predict", "--system", str(folder), str(SEED), "--output", str(output)]) == 2
    assert_one_error_line(capsys, folder / "model.onnx")
    assert not output.exists()


PARAGRAPHS = [
    '"We will not back down," the minister said on Tuesday.',
    "Opposition leader Jane Smith said the plan would cost billions and called it reckless.",
    "According to the central bank, inflation fell to 2.1 percent in March.",
    '"It is a good day for the workers," said union head Tom Brown. "But the fight goes on."',
    "The talks resumed in Geneva after a week of delays.",
]
LAST = '"The last word is ours," said Mary Jones.'


def long_article(size: int) -> str:
    """News paragraphs with quotes repeated past ``size`` characters, then one quote paragraph of its own."""
    block = "\n\n".join(PARAGRAPHS)
    return "\n\n".join([block] * (size // len(block) + 1) + [LAST])


def assert_last_quote(article) -> None:
    start = article.text.index(LAST)
    last = [q for q in article.quotes if q.start >= start]
    assert [[article.text[s:e] for s, e in q.spans] for q in last] == [['"The last word is ours,"']]
    assert article.text[slice(*last[0].speaker)] == "Mary Jones" and article.text[slice(*last[0].cue)] == "said"


def test_text_pieces_cut_at_paragraphs_outside_quotations():
    from quoteattr.systems.rules import text_pieces

    quote = '"The first paragraph of a long quote,\n\n"and its second one," she said.\n\n'
    paragraphs = ["Short one.\n\n", quote, "Plain paragraph here.\n\n", "x" * 50 + " ", "y" * 50]
    text = "".join(paragraphs)
    pieces = text_pieces(text, 80)
    # never inside the quotation that runs over two paragraphs; a paragraph over the size is cut after a space
    assert [piece for _, piece in pieces] == paragraphs
    assert [offset for offset, _ in pieces] == [0, 12, 84, 107, 158]
    assert text_pieces(text, len(text)) == [(0, text)]


def test_rules_in_pieces_find_the_same_quotes(rules, monkeypatch):
    """The pieces of a long article give the quotes (offsets shifted back) that the whole article gives."""
    from quoteattr.data.schema import Article
    from quoteattr.systems import rules as rules_module

    text = long_article(2500)
    whole = next(rules.predict([Article("a", text)]))
    monkeypatch.setattr(rules_module, "PIECE_CHARS", 400)
    assert len(rules_module.text_pieces(text, 400)) > 5
    pieced = next(rules.predict([Article("a", text)]))

    def roles(article):
        return [(q.spans, q.type, q.cue, q.speaker) for q in article.quotes]

    assert roles(pieced) == roles(whole) and len(whole.quotes) > 20
    assert_last_quote(pieced)


def test_an_article_over_spacys_limit_is_processed_not_refused(rules, monkeypatch):
    """spaCy refuses a text over ``nlp.max_length`` (1M characters; the tool takes articles of up to 2 MB): the
    rules parse pieces. Shown here with the limit lowered to 20,000 characters, on an article of 50,000 (a
    1.5M-character one takes minutes: the same code path)."""
    from quoteattr.data.schema import Article

    monkeypatch.setattr(rules.nlp, "max_length", 20_000)
    text = long_article(50_000)
    (article,) = rules.predict([Article("long", text)])
    assert len(article.text) > rules.nlp.max_length and len(article.quotes) > 30
    assert_last_quote(article)


@pytest.mark.parametrize(
    ("mention", "speaks"),
    [(":", False), ("—", False), ('"', False), ("the", False), ("of the", False), ("who", False), ("’s", False)]
    + [("he", True), ("They", True), ("we", True), ("it", True), ("Others", True), ("The minister", True)],
)
def test_only_mentions_with_a_content_word_or_pronoun_can_speak(mention, speaks):
    from quoteattr.systems.model.assembly import can_speak

    assert can_speak(mention) is speaks


def test_punctuation_and_function_words_are_not_offered_as_speakers():
    """The tagger tagged ':' and 'Of the' as sources next to each quote; a chooser taking the nearest mention (as
    the linker did, with 0.99) would take them: they are not offered, so each quote gets its real speaker."""
    from quoteattr.data.schema import Article
    from quoteattr.systems.model.assembly import assemble_article
    from quoteattr.systems.model.decoding_config import DecodingConfig
    from quoteattr.systems.model.windows import ArticleTokens, token_range

    text = 'The minister said: "We will not back down." Of the rest, he said Of the: "Nothing."'
    offsets = [m.span() for m in re.finditer(r"\w+|[^\w\s]", text)]
    tokens = ArticleTokens(list(range(len(offsets))), offsets, [0] * len(offsets))

    def at(words: str, after: int = 0) -> tuple[int, int]:
        start = text.index(words, after)
        return token_range(offsets, (start, start + len(words)))

    second = text.index("Of the rest")
    spans = {
        "CONTENT": [at('"We will not back down."'), at('"Nothing."')],
        "CUE": [at("said"), at("said", second)],
        "SOURCE": [at("The minister"), at(":"), at(" he "), at("Of the", second + 5), at(":", second)],
    }
    offered = []

    def choose(requests):
        offered.extend(text[offsets[s][0] : offsets[e - 1][1]] for r in requests for s, e in r.candidates)
        nearest = lambda r, q: min(r.candidates, key=lambda c: max(c[0] - q[1], q[0] - c[1], 0))  # noqa: E731
        return [[(nearest(r, quote), None, None) for quote in r.quotes] for r in requests]

    article = assemble_article(Article("a", text), tokens, [(0, len(offsets))], spans, choose, DecodingConfig())
    assert offered == ["The minister", "he"]
    assert [text[slice(*q.speaker)] for q in article.quotes] == ["The minister", "he"]
