"""Clean scraped news pages: site furniture (donation, sharing, cookie, copyright and navigation lines)
removed and reported, the header read as metadata (outlet, date, byline, sections, headline).
``readers`` reads the pages and every other input."""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from quoteattr.data.errors import InputError
from quoteattr.data.schema import Article

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
