"""Predict and ingest stream: inputs read lazily in every format (.txt, .jsonl, .jsonl.gz, Parquet, globs),
outputs written whole or not at all, bad records reported by file and line."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import ROOT
from quoteattr.cli import main
from quoteattr.data.readers import count_articles, iter_articles, read_articles, read_txt
from quoteattr.data.schema import Article

STARTER = ROOT / "data" / "raw" / "starter"


def starter_records() -> list[dict]:
    return [{"id": path.stem, "text": read_txt(path).text} for path in sorted(STARTER.glob("*.txt"))]


def write_jsonl(path: Path, records: list[dict]) -> Path:
    lines = "".join(json.dumps(record) + "\n" for record in records)
    if path.suffix == ".gz":
        path.write_bytes(gzip.compress(lines.encode("utf-8")))
    else:
        path.write_text(lines, encoding="utf-8")
    return path


def test_rules_consume_their_input_lazily(rules):
    """The first prediction comes after one batch of input, not after the whole stream."""
    text = read_txt(STARTER / "001_city_budget.txt").text
    consumed = 0

    def stream() -> Iterator[Article]:
        nonlocal consumed
        for number in range(10_000):
            consumed += 1
            yield Article(id=str(number), text=text)

    first = next(rules.predict(stream(), batch_size=8))
    assert first.id == "0" and first.quotes
    assert consumed <= 64


def test_every_input_format_gives_the_same_predictions(tmp_path: Path):
    records = starter_records()[:6]
    plain = write_jsonl(tmp_path / "in.jsonl", records)
    zipped = write_jsonl(tmp_path / "in.jsonl.gz", records)
    outputs = {}
    for name, source in (("jsonl", plain), ("gz", zipped)):
        outputs[name] = tmp_path / f"out-{name}.jsonl"
        assert main(["predict", "--system", "rules", str(source), "--output", str(outputs[name])]) == 0
    parquet = tmp_path / "out.parquet"
    assert main(["predict", "--system", "rules", str(zipped), "--output", str(parquet)]) == 0
    again = tmp_path / "again.jsonl.gz"
    assert main(["predict", "--system", "rules", str(parquet), "--output", str(again)]) == 0  # Parquet in, gzip out

    expected = [a.to_dict() for a in read_articles(outputs["jsonl"])]
    assert expected and any(a["quotes"] for a in expected)
    for path in (outputs["gz"], parquet, again):
        assert [a.to_dict() for a in read_articles(path)] == expected, path
    assert gzip.decompress(again.read_bytes()).decode("utf-8").count("\n") == 6


def test_the_progress_bar_knows_how_many_articles_are_coming(tmp_path: Path, capsys):
    """Plain JSONL (blank lines not counted), Parquet and .txt pages are counted before reading; gzip is not."""
    records = starter_records()[:8]
    plain = tmp_path / "in.jsonl"
    plain.write_text("\n".join(json.dumps(record) for record in records[:4]) + "\n\n", encoding="utf-8")
    parquet = tmp_path / "in.parquet"
    assert main(["ingest", str(write_jsonl(tmp_path / "more.jsonl", records[4:])), "--output", str(parquet)]) == 0
    zipped = write_jsonl(tmp_path / "in.jsonl.gz", records[4:])
    assert count_articles([plain]) == 4 and count_articles([parquet]) == 4
    assert count_articles([STARTER]) == len(list(STARTER.glob("*.txt")))
    assert count_articles([plain, zipped]) is None
    capsys.readouterr()
    assert (
        main(["predict", "--system", "rules", str(plain), str(parquet), "--output", str(tmp_path / "out.jsonl")]) == 0
    )
    assert "8/8" in capsys.readouterr().err


def test_globs_and_folders_expand_to_every_format(tmp_path: Path):
    records = starter_records()
    (tmp_path / "a" / "b").mkdir(parents=True)
    write_jsonl(tmp_path / "a" / "one.jsonl", records[:2])
    write_jsonl(tmp_path / "a" / "b" / "two.jsonl.gz", records[2:5])
    (tmp_path / "a" / "b" / "page.txt").write_text(
        (STARTER / "006_hospital_wait.txt").read_text(encoding="utf-8"), encoding="utf-8"
    )
    assert len(list(iter_articles([str(tmp_path / "a" / "**" / "*.jsonl*")]))) == 5
    assert len(list(iter_articles([tmp_path / "a"]))) == 6
    with pytest.raises(ValueError, match=r"\*\.parquet: no .* files match this pattern"):
        iter_articles([str(tmp_path / "*.parquet")])  # fails before reading anything


def test_a_bad_record_is_named_or_skipped_and_the_run_goes_on(tmp_path: Path, capsys):
    records = starter_records()[:4]
    lines = [json.dumps(r) for r in records]
    lines.insert(2, '{"id": "broken", "text": ')
    source = tmp_path / "in.jsonl.gz"
    source.write_bytes(gzip.compress(("\n".join(lines) + "\n").encode("utf-8")))
    output = tmp_path / "out.parquet"

    assert main(["predict", "--system", "rules", str(source), "--output", str(output)]) == 2
    assert f"{source}: line 3, column 26: invalid JSON" in capsys.readouterr().err
    assert not output.exists() and not list(tmp_path.glob(".out.parquet*"))  # nothing half-written

    assert main(["predict", "--system", "rules", str(source), "--output", str(output), "--skip-bad"]) == 0
    captured = capsys.readouterr()
    assert f"skipped: {source}: line 3" in captured.err and "skipped 1" in captured.out
    assert [a.id for a in read_articles(output)] == [r["id"] for r in records]


def test_truncated_gzip_and_non_parquet_are_clear_errors(tmp_path: Path, capsys):
    whole = gzip.compress(("".join(json.dumps(r) + "\n" for r in starter_records())).encode("utf-8"))
    truncated = tmp_path / "cut.jsonl.gz"
    truncated.write_bytes(whole[: len(whole) // 2])
    fake = tmp_path / "fake.parquet"
    fake.write_text("not parquet", encoding="utf-8")
    for path, message in ((truncated, "not a complete gzip file"), (fake, "not a readable Parquet file")):
        assert main(["ingest", str(path), "--output", str(tmp_path / "out.jsonl")]) == 2
        assert f"{path}: {message}" in capsys.readouterr().err
    assert not (tmp_path / "out.jsonl").exists()


def test_duplicate_ids_across_inputs_are_refused(tmp_path: Path, capsys):
    records = starter_records()[:2]
    first, second = write_jsonl(tmp_path / "a.jsonl", records), write_jsonl(tmp_path / "b.jsonl.gz", records[1:])
    assert main(["ingest", str(first), str(second), "--output", str(tmp_path / "out.jsonl")]) == 2
    assert f"{second}: line 1: id '{records[1]['id']}' already used ({first}: line 2)" in capsys.readouterr().err
