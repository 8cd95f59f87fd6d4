"""Interchange records streamed from and to files: JSONL (also gzipped) and Parquet, one article at a time.

Memory stays flat however long the file: records are read line by line (JSONL) or row group by row group
(Parquet), and writers take any iterator and only rename their temporary file into place at the end.
"""

from __future__ import annotations

import gzip
import json
import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from quoteattr.data.jsonl import (
    DEFAULT_MAX_BYTES,
    STDIO,
    InputError,
    atomic_writer,
    display_name,
    output_stream,
    write_articles,
    write_jsonl_lines,
)
from quoteattr.data.quote_table import write_quote_table
from quoteattr.data.schema import Article, SchemaError

RECORD_SUFFIXES = (".jsonl", ".jsonl.gz", ".parquet")
"""Inputs and outputs in the interchange schema."""
PARQUET_BATCH = 256
"""Articles per Parquet record batch, read or written."""


def record_suffix(path: str | Path) -> str | None:
    """The interchange suffix ``path`` ends with, if any (``.jsonl.gz`` before ``.jsonl``)."""
    name = str(path).lower()
    return next((suffix for suffix in sorted(RECORD_SUFFIXES, key=len, reverse=True) if name.endswith(suffix)), None)


def arrow_features():
    """The Hugging Face ``Features`` of an article row (``meta`` as a JSON string: its keys differ by source)."""
    from datasets import Features, List, Value

    span = List(Value("int32"))
    return Features(
        {
            "id": Value("string"),
            "text": Value("string"),
            "meta": Value("string"),
            "quotes": List(
                {
                    "spans": List(span),
                    "type": Value("string"),
                    "cue": span,
                    "speaker": span,
                    "speaker_entity": Value("string"),
                    "score": Value("float64"),
                    "speaker_score": Value("float64"),
                }
            ),
            "entities": List({"name": Value("string"), "mentions": List(span)}),
        }
    )


def article_to_row(article: Article) -> dict[str, Any]:
    """A dataset or Parquet row; ``meta`` is kept as a JSON string."""
    record = article.to_dict()
    record["meta"] = json.dumps(article.meta, ensure_ascii=False, sort_keys=True)
    record["quotes"] = [{"score": None, "speaker_score": None, **quote} for quote in record["quotes"]]
    return record


def row_to_article(row: dict[str, Any]) -> Article:
    meta = row.get("meta")
    return Article.from_dict({**row, "meta": json.loads(meta) if isinstance(meta, str) else meta or {}})


def read_articles(path: str | Path, max_bytes: int = DEFAULT_MAX_BYTES) -> list[Article]:
    """Read and validate an interchange file (.jsonl, .jsonl.gz, .parquet); errors name the file and line."""
    articles = []
    for number, record in iter_records(path, max_line_bytes=max_bytes):
        try:
            articles.append(Article.from_dict(record))
        except SchemaError as error:
            raise InputError(f"{display_name(path)}: line {number}: {error}") from error
    if not articles:
        raise InputError(f"{display_name(path)}: holds no articles")
    return articles


def iter_records(
    path: str | Path, max_line_bytes: int, on_bad_record: Callable[[InputError], None] | None = None
) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line or row number, record) of a .jsonl, .jsonl.gz or .parquet file, or JSONL on standard input.
    A line that is not a JSON object raises InputError naming the file and line, or goes to ``on_bad_record``."""
    if record_suffix(path) == ".parquet":
        yield from _parquet_records(Path(path))
        return
    name = display_name(path)
    with _open_lines(path) as lines:
        for number, raw in enumerate(lines, start=1):
            if not raw.strip():
                continue
            try:
                yield number, _parse_line(raw.rstrip(b"\r\n"), f"{name}: line {number}", max_line_bytes)
            except InputError as error:
                if on_bad_record is None:
                    raise
                on_bad_record(error)


def count_records(path: str | Path) -> int | None:
    """How many records a .jsonl or .parquet file holds, without parsing them (for a progress bar's total);
    None for a .jsonl.gz (it would take a second pass of decompression), standard input, or an unreadable file."""
    suffix = record_suffix(path)
    try:
        if suffix == ".parquet":
            import pyarrow.parquet as pq

            return pq.ParquetFile(path).metadata.num_rows
        if suffix == ".jsonl" and str(path) != STDIO:
            with open(path, "rb") as stream:
                return sum(1 for line in stream if line.strip())
    except (OSError, ValueError):  # reading it for real reports the error, naming the file and line
        return None
    return None


def _parse_line(raw: bytes, where: str, max_line_bytes: int) -> dict[str, Any]:
    if len(raw) > max_line_bytes:
        raise InputError(f"{where}: {len(raw):,} bytes, over the {max_line_bytes:,}-byte limit; raise --max-bytes")
    try:
        record = json.loads(_decode_line(raw, where))
    except json.JSONDecodeError as error:
        raise InputError(f"{where}, column {error.colno}: invalid JSON ({error.msg})") from error
    if not isinstance(record, dict):
        raise InputError(f"{where}: expected a JSON object, got {type(record).__name__}")
    return record


def _decode_line(raw: bytes, where: str) -> str:
    nul = raw.find(b"\x00")
    if nul >= 0:
        raise InputError(f"{where} (byte {nul} of the line): NUL byte, this looks like a binary file, not JSONL")
    try:
        return raw.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as error:
        raise InputError(
            f"{where} (byte {error.start} of the line): not valid UTF-8 ({error.reason}); re-encode as UTF-8"
        ) from error


@contextmanager
def _open_lines(path: str | Path) -> Iterator[Iterable[bytes]]:
    if str(path) == STDIO:
        yield sys.stdin.buffer
    elif record_suffix(path) == ".jsonl.gz":
        with gzip.open(path, "rb") as stream:
            yield _gzip_lines(stream, str(path))
    else:
        with open(path, "rb") as stream:
            yield stream


def _gzip_lines(stream: IO[bytes], name: str) -> Iterator[bytes]:
    try:
        yield from stream
    except (OSError, EOFError) as error:
        raise InputError(f"{name}: not a complete gzip file ({error})") from error


def _parquet_records(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        parquet = pq.ParquetFile(path)
    except (pa.ArrowException, OSError) as error:
        raise InputError(f"{path}: not a readable Parquet file ({error})") from error
    missing = {"id", "text"} - set(parquet.schema_arrow.names)
    if missing:
        raise InputError(
            f"{path}: Parquet columns {sorted(missing)} are missing; the interchange schema needs id and text"
        )
    number = 0
    for batch in parquet.iter_batches(batch_size=PARQUET_BATCH):
        for row in batch.to_pylist():
            number += 1
            meta = row.get("meta")
            if isinstance(meta, str):
                try:
                    row["meta"] = json.loads(meta)
                except json.JSONDecodeError as error:
                    raise InputError(f"{path}: row {number}: column meta is not a JSON object ({error.msg})") from error
            yield number, {key: value for key, value in row.items() if value is not None}


def write_predictions(path: str | Path, articles: Iterable[Article], output_format: str) -> int:
    """Write articles as ``jsonl`` (``.jsonl.gz`` gzipped), ``parquet`` or ``tsv`` (one row per quote), or to
    standard output (``-``, JSONL or TSV); nothing appears at ``path`` unless every article was written."""
    if output_format == "parquet":
        return _write_parquet(Path(path), articles)
    if output_format == "tsv":
        with output_stream(path) as stream:
            return write_quote_table(stream, articles)
    if str(path) != STDIO and record_suffix(path) == ".jsonl.gz":
        with atomic_writer(path, "wb") as raw, gzip.open(raw, "wt", encoding="utf-8") as stream:
            return write_jsonl_lines(stream, articles)
    return write_articles(path, articles)


def _write_parquet(path: Path, articles: Iterable[Article]) -> int:
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = arrow_features().arrow_schema
    count, rows = 0, []
    with atomic_writer(path, "wb") as stream, pq.ParquetWriter(stream, schema) as writer:
        for article in articles:
            rows.append(article_to_row(article))
            count += 1
            if len(rows) == PARQUET_BATCH:
                writer.write_table(pa.Table.from_pylist(rows, schema=schema))
                rows = []
        if rows or not count:
            writer.write_table(pa.Table.from_pylist(rows, schema=schema))
    return count


def output_format_for(path: str | Path, requested: str | None) -> str:
    """The format asked for, else the one the output's name says (.tsv, .parquet; JSONL otherwise)."""
    if requested:
        return requested
    name = str(path).lower()
    return "tsv" if name.endswith(".tsv") else "parquet" if name.endswith(".parquet") else "jsonl"
