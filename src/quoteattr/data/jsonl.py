"""Reading and writing the interchange JSONL (one article per line), atomically."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from quoteattr.data.schema import Article, SchemaError


class InputError(ValueError):
    """Bad input; the message names the file and the position (line, byte) and what to do."""


def read_utf8(path: Path, max_bytes: int) -> str:
    """Read a text file, refusing empty, oversized, binary or non-UTF-8 content with a clear error."""
    size = path.stat().st_size
    if size == 0:
        raise InputError(f"{path}: file is empty")
    if size > max_bytes:
        raise InputError(
            f"{path}: file is {size:,} bytes, over the {max_bytes:,}-byte limit; split it or raise --max-bytes"
        )
    raw = path.read_bytes()
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


def iter_json_lines(path: Path, max_bytes: int) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield (line number, object) for each non-blank line; a broken line raises InputError naming it."""
    text = read_utf8(path, max_bytes)
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            raise InputError(f"{path}: line {number}, column {error.colno}: invalid JSON ({error.msg})") from error
        if not isinstance(record, dict):
            raise InputError(f"{path}: line {number}: expected a JSON object, got {type(record).__name__}")
        yield number, record


DEFAULT_MAX_BYTES = 200_000_000


def read_articles(path: str | Path, max_bytes: int = DEFAULT_MAX_BYTES) -> list[Article]:
    """Read and validate an interchange JSONL file; errors name the file and line."""
    path = Path(path)
    articles = []
    for number, record in iter_json_lines(path, max_bytes):
        try:
            articles.append(Article.from_dict(record))
        except SchemaError as error:
            raise InputError(f"{path}: line {number}: {error}") from error
    return articles


@contextmanager
def atomic_writer(path: str | Path, mode: str = "w") -> Iterator[IO[Any]]:
    """Write to a temporary file beside ``path`` and rename it into place only on success."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        encoding = None if "b" in mode else "utf-8"
        with os.fdopen(handle, mode, encoding=encoding) as stream:
            yield stream
        os.replace(temp_name, path)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise


def write_articles(path: str | Path, articles: Iterable[Article]) -> int:
    """Write articles as interchange JSONL atomically; returns how many were written."""
    count = 0
    with atomic_writer(path) as stream:
        for article in articles:
            stream.write(json.dumps(article.to_dict(), ensure_ascii=False) + "\n")
            count += 1
    return count


def write_json(path: str | Path, payload: Any) -> None:
    """Write one JSON document atomically."""
    with atomic_writer(path) as stream:
        json.dump(payload, stream, ensure_ascii=False, indent=2)
        stream.write("\n")
