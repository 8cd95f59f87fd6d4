"""Quotation marks: pair them into quoted regions and derive a quote's type from them."""

from __future__ import annotations

import re

from quoteattr.data.schema import Span

OPENERS = ("“", "„", "«", "``")
CLOSERS = ("”", "»")
STRAIGHT = ('"', "''")
"""Marks that open or close by context: the straight double quote, and two apostrophes (the New York
Times' and typewritten archives' double quote; ``` `` ``` opens in text tokenized the Penn Treebank way)."""
_MARK = re.compile(r"''|``|[\"“”„«»]")
_OPEN_CONTEXT = "([{—–-/:"
"""Characters after which a straight mark opens a quotation, besides any space (a no-break space too)."""


def _paragraphs(text: str) -> list[Span]:
    spans = []
    for match in re.finditer(r"[^\n]+", text):
        spans.append((match.start(), match.end()))
    return spans


def quoted_regions(text: str) -> list[Span]:
    """Spans of double-quoted text, marks included; a quote left open at a paragraph's end continues
    when the next paragraph opens with a quotation mark (the news convention for multi-paragraph quotes),
    and otherwise runs to the end of its paragraph. Single quotes nest inside and are not paired."""
    regions: list[Span] = []
    open_at: int | None = None
    paragraphs = _paragraphs(text)
    for index, (start, end) in enumerate(paragraphs):
        continuing = open_at is not None
        for match in _MARK.finditer(text, start, end):
            mark, position = match.group(), match.start()
            if continuing and position == start:
                continue  # the reopening mark of a continued quote
            previous = text[position - 1] if position > start else " "
            opens = mark in OPENERS or (mark in STRAIGHT and (previous.isspace() or previous in _OPEN_CONTEXT))
            if open_at is None and opens:
                open_at = position
            elif open_at is not None and not opens:
                regions.append((open_at, match.end()))
                open_at = None
        if open_at is not None:
            next_start = paragraphs[index + 1][0] if index + 1 < len(paragraphs) else None
            next_opens = next_start is not None and text.startswith(OPENERS + STRAIGHT, next_start)
            if not next_opens:
                regions.append((open_at, end))
                open_at = None
    return regions


def inside_quotation(position: int, regions: list[Span]) -> bool:
    """Whether the character at ``position`` lies in one of the quoted ``regions``."""
    return any(start <= position < end for start, end in regions)


def _word_chars(text: str, span: Span) -> int:
    return sum(1 for char in text[span[0] : span[1]] if char.isalnum())


def quote_type(text: str, spans: list[Span], regions: list[Span] | None = None) -> str:
    """direct when every letter or digit of the content lies inside quotation marks, mixed when some do,
    indirect when none do."""
    regions = quoted_regions(text) if regions is None else regions
    total = sum(_word_chars(text, span) for span in spans)
    inside = 0
    for span in spans:
        for region in regions:
            overlap = (max(span[0], region[0]), min(span[1], region[1]))
            if overlap[0] < overlap[1]:
                inside += _word_chars(text, overlap)
    if total == 0 or inside == 0:
        return "indirect"
    return "direct" if inside == total else "mixed"


def continues_turn(text: str, previous_end: int, start: int) -> bool:
    """True when a quote with no cue of its own carries on the previous quote's turn: it opens the
    paragraph right after the one where the previous quote ended, or the next sentence of the same one."""
    if previous_end < 0 or start < previous_end:
        return False
    between = text[previous_end:start]
    if "\n" in between:
        return between.count("\n") <= 2 and text[start - 1] == "\n"
    return bool(re.search(r"[.!?][\"”’]?\s+$", between))
