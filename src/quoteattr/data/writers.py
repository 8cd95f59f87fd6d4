"""Every output written: interchange JSONL (also gzipped), Parquet, the TSV quote table and JSON documents,
atomically (nothing appears unless all of it was written) or to standard output (``-``).

Writers take any iterator and only rename their temporary file into place at the end, so memory stays flat
however many articles pass through.
"""

from __future__ import annotations

import gzip
import json
import os
import shlex
import shutil
import sys
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from quoteattr.data.errors import InputError
from quoteattr.data.quote_table import write_quote_table
from quoteattr.data.readers import PARQUET_BATCH, RECORD_SUFFIXES, STDIO, record_suffix
from quoteattr.data.schema import Article


def plain_permissions(path: str | Path, directory: bool = False) -> None:
    """Give a file (or folder) made by ``tempfile`` (0600 / 0700) the mode a plain write would: the umask's."""
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(path, (0o777 if directory else 0o666) & ~umask)


def unwritable(path: str | Path, error: OSError) -> InputError:
    """The error of an output the file system refuses, naming the output rather than its temporary file."""
    return InputError(f"{path}: cannot write here ({error.strerror or error})")


def check_writable(path: str | Path) -> None:
    """Fail now, naming ``path``, when it cannot be written (a folder, or in a folder that takes no new files),
    so a command stops before its work rather than after it; nothing is created (the probe file has no name)."""
    if str(path) == STDIO:
        return
    path = Path(path)
    try:
        if path.is_dir():
            raise InputError(f"{path}: is a folder; give a file name")
        folder = path.parent
        while not folder.exists():  # the folders still to make: probe the one that would hold them
            folder = folder.parent
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as error:
        raise unwritable(path, error) from error


@contextmanager
def atomic_writer(path: str | Path, mode: str = "w") -> Iterator[IO[Any]]:
    """Write to a temporary file beside ``path`` and rename it into place only on success; whatever stops the
    write (an error, Ctrl-C, the SIGTERM the command line turns into an exception) removes the temporary file."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as error:
        raise unwritable(path, error) from error
    try:
        encoding = None if "b" in mode else "utf-8"
        with os.fdopen(handle, mode, encoding=encoding) as stream:
            yield stream
        plain_permissions(temp_name)
        os.replace(temp_name, path)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise


@contextmanager
def output_stream(path: str | Path) -> Iterator[IO[str]]:
    """Standard output for ``-``; otherwise an atomic writer (nothing appears unless all of it is written)."""
    if str(path) == STDIO:
        yield sys.stdout
        sys.stdout.flush()
    else:
        with atomic_writer(path) as stream:
            yield stream


def write_json(path: str | Path, payload: Any) -> None:
    """Write one JSON document atomically."""
    with atomic_writer(path) as stream:
        json.dump(payload, stream, ensure_ascii=False, indent=2)
        stream.write("\n")


def show_result(result: dict[str, Any], output: str | None, script: str, argv: list[str] | None) -> int:
    """Print a script's result as JSON and, with ``output``, write it there led by the command that made it
    (``python SCRIPT ARGV…``; ``docs/make_results.py`` renders it); status 0."""
    print(json.dumps(result, indent=1, ensure_ascii=False))
    if output:
        argv = sys.argv[1:] if argv is None else argv
        write_json(output, {"command": shlex.join(["python", script, *argv]), **result})
    return 0


@contextmanager
def staging_folder(beside: Path) -> Iterator[Path]:
    """A hidden, empty folder beside ``beside`` (on its file system, so what is built there moves into place by
    rename), removed with whatever is left in it however the block ends."""
    try:
        beside.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{beside.name}.", suffix=".new", dir=beside.parent))
    except OSError as error:
        raise unwritable(beside, error) from error
    try:
        yield staging
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def replace_folder(new: Path, target: Path) -> None:
    """Put the folder ``new`` (in a staging folder) at ``target`` by renames: the old folder moves into the
    staging folder, so it goes with it, and an interrupted swap puts it back."""
    if not target.exists():
        new.rename(target)
        return
    old = new.with_name(f"{new.name}.old")
    target.rename(old)
    try:
        new.rename(target)
    except BaseException:
        old.rename(target)
        raise


def write_articles(path: str | Path, articles: Iterable[Article]) -> int:
    """Write articles as interchange JSONL (atomically, or to standard output for ``-``); returns how many."""
    with output_stream(path) as stream:
        return write_jsonl_lines(stream, articles)


def write_jsonl_lines(stream: IO[str], articles: Iterable[Article]) -> int:
    """Write articles to an open text stream, one interchange record per line; returns how many."""
    count = 0
    for article in articles:
        stream.write(json.dumps(article.to_dict(), ensure_ascii=False) + "\n")
        count += 1
    return count


OUTPUT_SUFFIXES = (*RECORD_SUFFIXES, ".tsv")


def output_format_for(path: str | Path, requested: str | None) -> str:
    """The format asked for, else the one the output's name says (JSONL for standard output); a name that says
    none is refused, since an ``x.csv`` holding JSONL would mislead whoever opens it."""
    if str(path) == STDIO and requested == "parquet":
        raise InputError("-: Parquet is a file format, not a stream; give --output a file name or another --format")
    if requested or str(path) == STDIO:
        return requested or "jsonl"
    suffix = record_suffix(path)
    if suffix:
        return "parquet" if suffix == ".parquet" else "jsonl"
    if str(path).lower().endswith(".tsv"):
        return "tsv"
    raise InputError(f"{path}: unknown output type; name it {', '.join(OUTPUT_SUFFIXES[:-1])} or {OUTPUT_SUFFIXES[-1]}")


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
