"""Every input read: .txt pages (cleaned by ``ingest``), interchange files (.jsonl, .jsonl.gz, .parquet),
standard input, folders and globs, streamed one article at a time with clear errors.

Memory stays flat however large the input: records are read line by line (JSONL) or row group by row group
(Parquet). Bad input (empty, binary, non-UTF-8, oversized, a broken line, a truncated gzip, a repeated id)
raises InputError naming the file and the position, or with ``skip_bad`` is logged and skipped.
"""

from __future__ import annotations

import glob
import gzip
import json
import logging
import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from quoteattr.data.errors import InputError
from quoteattr.data.ingest import IngestReport, page_article
from quoteattr.data.schema import Article, SchemaError

logger = logging.getLogger(__name__)

STDIO = "-"
"""As an input or output path: standard input or standard output."""
DEFAULT_MAX_BYTES = 2_000_000
"""Largest accepted article: the bytes of a .txt page, the characters of an interchange record's text."""
LINE_BYTES_PER_TEXT_BYTE = 4
"""An interchange line may take this many times the article limit: its text as UTF-8 and JSON escapes,
with the quotes and entities beside it."""
RECORD_SUFFIXES = (".jsonl", ".jsonl.gz", ".parquet")
"""Inputs and outputs in the interchange schema."""
INPUT_SUFFIXES = (".txt", *RECORD_SUFFIXES)
PARQUET_BATCH = 256
"""Articles per Parquet record batch, read or written."""


def display_name(path: str | Path) -> str:
    """How errors name an input: its path, or <stdin>."""
    return "<stdin>" if str(path) == STDIO else str(path)


def record_suffix(path: str | Path) -> str | None:
    """The interchange suffix ``path`` ends with, if any (``.jsonl.gz`` before ``.jsonl``)."""
    name = str(path).lower()
    return next((suffix for suffix in sorted(RECORD_SUFFIXES, key=len, reverse=True) if name.endswith(suffix)), None)


def is_input(path: Path) -> bool:
    """A file this module reads: a .txt page or an interchange file."""
    return path.is_file() and (path.suffix == ".txt" or record_suffix(path) is not None)


def read_utf8(path: Path, max_bytes: int) -> str:
    """Read a text file (``-``: standard input), refusing empty, oversized, binary or non-UTF-8 content
    with a clear error."""
    if str(path) == STDIO:
        return decode_utf8(sys.stdin.buffer.read(max_bytes + 1), display_name(path), max_bytes)
    size = path.stat().st_size
    if size > max_bytes:
        raise InputError(
            f"{path}: file is {size:,} bytes, over the {max_bytes:,}-byte limit; split it or raise --max-bytes"
        )
    return decode_utf8(path.read_bytes(), str(path), max_bytes)


def decode_utf8(raw: bytes, path: str, max_bytes: int) -> str:
    """Text of a file's bytes; empty, oversized, binary or non-UTF-8 content is an error naming ``path``."""
    if not raw:
        raise InputError(f"{path}: file is empty")
    if len(raw) > max_bytes:
        raise InputError(f"{path}: over the {max_bytes:,}-byte limit; split it or raise --max-bytes")
    nul = raw.find(b"\x00")
    if nul >= 0:
        line = raw.count(b"\n", 0, nul) + 1
        raise InputError(f"{path}: line {line} (byte {nul}): NUL byte, this looks like a binary file, not text")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        line = raw.count(b"\n", 0, error.start) + 1
        raise InputError(
            f"{path}: line {line} (byte {error.start}): not valid UTF-8 ({error.reason}); re-encode the file as UTF-8"
        ) from error
    if not text.strip():
        raise InputError(f"{path}: file holds only whitespace")
    return text.removeprefix("\ufeff")


def read_txt(path: Path, max_bytes: int = DEFAULT_MAX_BYTES, removed: list[str] | None = None) -> Article:
    """One scraped page file → one cleaned Article, its id the file's name without suffix."""
    return page_article(read_utf8(path, max_bytes), path.stem, str(path), removed)


def read_articles(path: str | Path, max_bytes: int = DEFAULT_MAX_BYTES) -> list[Article]:
    """Read and validate an interchange file (.jsonl, .jsonl.gz, .parquet) as written by this package
    (gold, predictions; ids unique); errors name the file and line."""
    articles, first_seen = [], {}
    for number, record in iter_records(path, max_line_bytes=LINE_BYTES_PER_TEXT_BYTE * max_bytes):
        where = f"{display_name(path)}: line {number}"
        try:
            articles.append(unique(Article.from_dict(record), where, first_seen))
        except SchemaError as error:
            raise InputError(f"{where}: {error}") from error
    if not articles:
        raise InputError(f"{display_name(path)}: holds no articles")
    return articles


def read_jsonl(path: Path, max_bytes: int = DEFAULT_MAX_BYTES) -> list[Article]:
    """Articles of one interchange file (.jsonl, .jsonl.gz, .parquet), text untouched."""
    return list(record_articles(path, max_bytes))


def record_articles(
    path: str | Path,
    max_bytes: int = DEFAULT_MAX_BYTES,
    on_bad_record: Callable[[InputError], None] | None = None,
    first_seen: dict[str, str] | None = None,
) -> Iterator[Article]:
    """Articles streamed from an interchange file, text untouched; other keys than id/text/quotes/entities
    become metadata. A bad record raises InputError naming the file and line, or goes to ``on_bad_record``;
    ``first_seen`` (id → where) refuses an id used before, here or in earlier inputs."""
    name, first_seen = display_name(path), {} if first_seen is None else first_seen
    line_bytes = LINE_BYTES_PER_TEXT_BYTE * max_bytes
    for number, record in iter_records(path, max_line_bytes=line_bytes, on_bad_record=on_bad_record):
        where = f"{name}: line {number}"
        try:
            yield unique(record_article(record, where, max_bytes), where, first_seen)
        except InputError as error:
            if on_bad_record is None:
                raise
            on_bad_record(error)


def unique(article: Article, where: str, first_seen: dict[str, str]) -> Article:
    """The article, once its id is known to be new (ids key predictions, evaluation and annotations)."""
    if article.id in first_seen:
        raise InputError(f"{where}: id {article.id!r} already used ({first_seen[article.id]}); ids must be unique")
    first_seen[article.id] = where
    return article


def record_article(record: dict, where: str, max_bytes: int = DEFAULT_MAX_BYTES) -> Article:
    """One interchange record → a validated Article; errors start with ``where`` (file and line)."""
    text = record.get("text")
    if not isinstance(record.get("id"), (str, int)) or isinstance(record.get("id"), bool):
        raise InputError(f"{where}: field 'id' is missing or not a string")
    if not isinstance(text, str) or not text.strip():
        raise InputError(f"{where}: field 'text' is missing, empty or not a string")
    if len(text) > max_bytes:
        raise InputError(f"{where}: text has {len(text):,} characters, over the {max_bytes:,} limit")
    meta = dict(record.get("meta") or {})
    meta.update({k: v for k, v in record.items() if k not in ("id", "text", "meta", "quotes", "entities")})
    try:
        return Article.from_dict({**record, "id": str(record["id"]), "meta": meta})
    except SchemaError as error:
        raise InputError(f"{where}: {error}") from error


def row_to_article(row: dict[str, Any]) -> Article:
    """A dataset or Parquet row (``meta`` as a JSON string) → an Article."""
    meta = row.get("meta")
    return Article.from_dict({**row, "meta": json.loads(meta) if isinstance(meta, str) else meta or {}})


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


def read_input(
    path: Path,
    max_bytes: int = DEFAULT_MAX_BYTES,
    removed: list[str] | None = None,
    on_bad_record: Callable[[InputError], None] | None = None,
    first_seen: dict[str, str] | None = None,
) -> Iterator[Article]:
    """One input's articles: an interchange file, a .txt page, or standard input (``-``: JSONL when it
    starts with '{', else one page with id 'stdin')."""
    first_seen = {} if first_seen is None else first_seen
    if str(path) == STDIO and not sys.stdin.buffer.peek(4096).lstrip().startswith(b"{"):
        yield unique(
            page_article(read_utf8(path, max_bytes), "stdin", display_name(path), removed),
            display_name(path),
            first_seen,
        )
    elif str(path) == STDIO or record_suffix(path):
        yield from record_articles(path, max_bytes, on_bad_record, first_seen)
    else:
        yield unique(read_txt(path, max_bytes, removed), str(path), first_seen)


def iter_articles(
    paths: Iterable[str | Path],
    skip_bad: bool = False,
    max_bytes: int = DEFAULT_MAX_BYTES,
    report: IngestReport | None = None,
) -> Iterator[Article]:
    """Articles of every input (files, folders, globs), one at a time, so memory stays flat however many.
    A bad file or record fails, or with ``skip_bad`` is logged, reported in ``report`` and skipped. Inputs
    that do not exist fail here, before the first article is read."""
    files = expand_inputs(paths)
    return _stream_articles(files, skip_bad, max_bytes, report if report is not None else IngestReport())


def _stream_articles(files: list[Path], skip_bad: bool, max_bytes: int, report: IngestReport) -> Iterator[Article]:
    first_seen: dict[str, str] = {}

    def skip(error: Exception) -> None:
        if not skip_bad:
            raise InputError(str(error)) from error
        report.skipped.append(str(error))
        logger.warning("skipped: %s", error)

    for path in files:
        removed: list[str] = []
        name, count = display_name(path), 0
        try:
            for article in read_input(path, max_bytes, removed, skip if skip_bad else None, first_seen):
                count += 1
                yield article
            if not count:
                raise InputError(f"{name}: holds no articles")
        except (InputError, OSError) as error:
            skip(error)
            continue
        report.read.append(str(path))
        if removed:
            report.removed[str(path)] = removed


def count_articles(paths: Iterable[str | Path]) -> int | None:
    """How many articles the inputs hold (a .txt page is one), or None when a stream or a compressed file
    makes that unknown before reading; bad records are counted as they stand."""
    total = 0
    for path in expand_inputs(paths):
        count = None if str(path) == STDIO else count_records(path) if record_suffix(path) else 1
        if count is None:
            return None
        total += count
    return total


def ingest(
    paths: Iterable[str | Path], skip_bad: bool = False, max_bytes: int = DEFAULT_MAX_BYTES
) -> tuple[list[Article], IngestReport]:
    """Every input's articles as a list, with the report (for small inputs; stream with ``iter_articles``)."""
    report = IngestReport()
    return list(iter_articles(paths, skip_bad, max_bytes, report)), report


def expand_inputs(paths: Iterable[str | Path]) -> list[Path]:
    """Files as given; globs (``archive/**/*.jsonl.gz``) and folders expand to the .txt, .jsonl, .jsonl.gz
    and .parquet files they hold (sorted, hidden ones skipped). Finding no input is an error, not an empty run."""
    expanded: list[Path] = []
    for given in paths:
        item = Path(given)
        if str(given) == STDIO:
            expanded.append(item)
        elif item.is_dir():
            found = sorted(
                p
                for p in item.rglob("*")
                if is_input(p) and not any(part.startswith(".") for part in p.relative_to(item).parts)
            )
            if not found:
                raise InputError(f"{item}: no {', '.join(INPUT_SUFFIXES)} files in this folder")
            expanded.extend(found)
        elif item.exists():
            expanded.append(item)
        elif glob.has_magic(str(given)):
            found = sorted(Path(p) for p in glob.glob(str(given), recursive=True) if is_input(Path(p)))
            if not found:
                raise InputError(f"{given}: no {', '.join(INPUT_SUFFIXES)} files match this pattern")
            expanded.extend(found)
        else:
            raise InputError(f"{item}: no such file or folder")
    return expanded
