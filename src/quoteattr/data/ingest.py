"""Ingest raw articles: scraped ``.txt`` pages (cleaned of site furniture) and interchange files (.jsonl,
.jsonl.gz, .parquet: taken as is), streamed one article at a time."""

from __future__ import annotations

import glob
import hashlib
import re
import sys
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from quoteattr.data.article_files import RECORD_SUFFIXES, count_records, iter_records, record_suffix
from quoteattr.data.jsonl import STDIO, InputError, display_name, read_utf8
from quoteattr.data.schema import Article, SchemaError

DEFAULT_MAX_BYTES = 2_000_000
"""Largest accepted .txt article; a .jsonl file may hold many articles of up to this many characters each."""
INPUT_SUFFIXES = (".txt", *RECORD_SUFFIXES)
FURNITURE_MAX_WORDS = 12
"""Site furniture is short: a longer line that mentions "copyright" or "donate now" is article prose."""

_BOILERPLATE = re.compile(
    r"""(
        \b(make\ a\ (charitable\ )?donation|donate\ (now|today)|support\ (our|independent)\ journalism)\b
      | ^(join|subscribe\ to|sign\ up\ for|get)\b.*\b(mailing\ list|newsletter|updates|alerts)\b
      | ^(follow|like)\ us\b | ^share\ (this|on)\b | ^(advertisement|sponsored(\ content)?|related(\ articles?)?)$
      | ^(read\ more|click\ here|skip\ to\ (main\ )?content|cookie|accept\ cookies)\b
      | ©|\bcopyright\b|\ball\ rights\ reserved\b
      | ^(home|menu|search|log\ ?in|sign\ in|print|email)(\s*[|/»>]\s*\w+)*$
    )""",
    re.IGNORECASE | re.VERBOSE,
)
_BYLINE = re.compile(r"^by\s+([A-Z][\w.'-]*(?:\s+(?:[A-Z][\w.'-]*|and|de|van|von|al-\w+))*)\s*$", re.IGNORECASE)
_DATE_FORMATS = (
    "%a %b %d, %Y %I:%M%p",
    "%A, %B %d, %Y",
    "%B %d, %Y",
    "%b %d, %Y",
    "%d %B %Y",
    "%Y-%m-%d",
    "%a %b %d, %Y",
)
_DATE_HINT = re.compile(
    r"^((mon|tue|wed|thu|fri|sat|sun)\w*,?\s+)?((jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)\w*\.?\s+\d{1,2},?\s+\d{4}"
    r"|\d{1,2}\s+(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)\w*\s+\d{4}|\d{4}-\d{2}-\d{2})"
    r"([\s,]+\d{1,2}:\d{1,2}\s*(am|pm)?(\s*\w{2,4})?)?\s*$",
    re.IGNORECASE,
)


@dataclass
class IngestReport:
    """What an ingest run read, what it skipped (with reasons), and the lines removed from each page as
    site furniture (lines kept as metadata — outlet, date, byline, sections — are not counted)."""

    read: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    removed: dict[str, list[str]] = field(default_factory=dict)


def is_furniture(line: str) -> bool:
    """A line of site furniture by its shape: short, and a donation, sharing, cookie, copyright or
    navigation line (a body paragraph that merely mentions such words is longer, and stays)."""
    return len(line.split()) <= FURNITURE_MAX_WORDS and bool(_BOILERPLATE.search(line))


def is_prose(line: str) -> bool:
    """A body paragraph: a sentence of some length ending in sentence punctuation or a closing quote."""
    return len(line.split()) >= 8 and bool(re.search(r"[.!?…][\"”’')\]]*$", line))


def parse_date(line: str) -> str | None:
    """ISO date of a dateline, or None when the line is not one."""
    if not _DATE_HINT.match(line.strip()):
        return None
    cleaned = re.sub(r"\s+", " ", line.strip())
    cleaned = re.sub(r"(\d{1,2}):(\d)(?=[AP]M)", r"\1:0\2", cleaned, flags=re.IGNORECASE)
    for candidate in (cleaned, re.sub(r"\s+\w{2,4}$", "", cleaned)):
        for fmt in _DATE_FORMATS:
            try:
                return datetime.strptime(candidate, fmt).date().isoformat()
            except ValueError:
                continue
    return cleaned


def clean_page(raw: str) -> tuple[str, dict[str, object], list[str]]:
    """Strip site furniture from a scraped page; return the canonical text, the metadata found and the
    lines removed.

    The header (lines before the first prose paragraph) gives the outlet (a line repeated on the page),
    the date (a dateline), sections and the headline (the last remaining header line); the headline stays
    as the first paragraph of the text so headline attributions ("X: Y") can be labelled.
    """
    lines = [re.sub(r"[ \t\u00a0]+", " ", line).strip() for line in raw.splitlines()]
    lines = [line for line in lines if line]
    repeated = {line for line, count in Counter(lines).items() if count > 1 and not is_prose(line)}
    first_prose = next((i for i, line in enumerate(lines) if is_prose(line) and not is_furniture(line)), len(lines))
    meta: dict[str, object] = {}
    header_candidates: list[str] = []
    sections: list[str] = []
    removed: list[str] = []
    for line in lines[:first_prose]:
        if is_furniture(line):
            removed.append(line)
            continue
        if line in repeated:
            if meta.setdefault("outlet", line) != line:
                removed.append(line)
            continue
        date = parse_date(line)
        if date:
            meta.setdefault("date", date)
            meta.setdefault("dateline", line)
            continue
        byline = _BYLINE.match(line)
        if byline:
            meta.setdefault("author", byline.group(1))
            continue
        header_candidates.append(line)
    if header_candidates:
        meta["title"] = header_candidates[-1]
        sections = header_candidates[:-1]
    if sections:
        meta["sections"] = sections
    body = []
    for line in lines[first_prose:]:
        if line == meta.get("outlet"):
            continue  # kept as metadata
        if is_furniture(line) or line in repeated:
            removed.append(line)
        else:
            body.append(line)
    paragraphs = ([meta["title"]] if "title" in meta else []) + body
    return "\n\n".join(paragraphs), meta, removed


def page_article(raw: str, article_id: str, source: str, removed: list[str] | None = None) -> Article:
    """One scraped page's text → one cleaned Article; the lines removed as furniture are added to ``removed``."""
    text, meta, furniture = clean_page(raw)
    if not text:
        raise InputError(f"{source}: nothing left after removing site furniture")
    meta.update(source=source, sha256=hashlib.sha256(raw.encode("utf-8")).hexdigest())
    if removed is not None:
        removed.extend(furniture)
    return Article(id=article_id, text=text, meta=meta)


def read_txt(path: Path, max_bytes: int = DEFAULT_MAX_BYTES, removed: list[str] | None = None) -> Article:
    """One scraped page file → one cleaned Article, its id the file's name without suffix."""
    return page_article(read_utf8(path, max_bytes), path.stem, str(path), removed)


def read_jsonl(path: Path, max_bytes: int = DEFAULT_MAX_BYTES) -> list[Article]:
    """Articles of one interchange file (.jsonl, .jsonl.gz, .parquet), text untouched."""
    return list(record_articles(path, max_bytes))


def record_articles(
    path: Path,
    max_bytes: int = DEFAULT_MAX_BYTES,
    on_bad_record: Callable[[InputError], None] | None = None,
    first_seen: dict[str, str] | None = None,
) -> Iterator[Article]:
    """Articles streamed from an interchange file, text untouched; other keys than id/text/quotes/entities
    become metadata. A bad record raises InputError naming the file and line, or goes to ``on_bad_record``;
    ``first_seen`` (id → where) refuses an id used before, here or in earlier inputs."""
    name, first_seen = display_name(path), {} if first_seen is None else first_seen
    for number, record in iter_records(path, max_line_bytes=4 * max_bytes, on_bad_record=on_bad_record):
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
    A bad file or record fails, or with ``skip_bad`` is reported in ``report`` and skipped. Inputs that do
    not exist fail here, before the first article is read."""
    files = expand_inputs(paths)
    return _stream_articles(files, skip_bad, max_bytes, report if report is not None else IngestReport())


def _stream_articles(files: list[Path], skip_bad: bool, max_bytes: int, report: IngestReport) -> Iterator[Article]:
    first_seen: dict[str, str] = {}

    def skip(error: Exception) -> None:
        if not skip_bad:
            raise InputError(str(error)) from error
        report.skipped.append(str(error))
        print(f"skipped: {error}", file=sys.stderr)

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


def is_input(path: Path) -> bool:
    return path.is_file() and (path.suffix == ".txt" or record_suffix(path) is not None)
