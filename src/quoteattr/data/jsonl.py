"""Text input read with clear errors (empty, binary, non-UTF-8, oversized), and output written atomically."""

from __future__ import annotations

import json
import os
import sys
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from quoteattr.data.schema import Article


class InputError(ValueError):
    """Bad input; the message names the file and the position (line, byte) and what to do."""


STDIO = "-"
"""As an input or output path: standard input or standard output."""
DEFAULT_MAX_BYTES = 200_000_000
"""Largest accepted line of an interchange file (one article with its quotes)."""


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


def display_name(path: str | Path) -> str:
    """How errors name an input: its path, or <stdin>."""
    return "<stdin>" if str(path) == STDIO else str(path)


def plain_permissions(path: str | Path, directory: bool = False) -> None:
    """Give a file (or folder) made by ``tempfile`` (0600 / 0700) the mode a plain write would: the umask's."""
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(path, (0o777 if directory else 0o666) & ~umask)


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


def write_json(path: str | Path, payload: Any) -> None:
    """Write one JSON document atomically."""
    with atomic_writer(path) as stream:
        json.dump(payload, stream, ensure_ascii=False, indent=2)
        stream.write("\n")
