"""Quotes as a table people read (one row per quote: its text, type, cue, speaker and entity), as
BookNLP's quote files do; the interchange JSONL stays the format every stage reads."""

from __future__ import annotations

from collections.abc import Iterable
from typing import IO

from quoteattr.data.schema import Article, span_text

COLUMNS = ("article", "start", "end", "type", "quote", "cue", "speaker", "speaker_entity")


def quote_rows(article: Article) -> Iterable[tuple[str, ...]]:
    """One row per quote: where it is, and its parts as text (fragments of an interrupted quote joined by ' … ')."""
    for quote in article.quotes:
        content = " … ".join(article.text[start:end] for start, end in quote.spans)
        yield (
            article.id,
            str(quote.start),
            str(quote.end),
            quote.type,
            content,
            span_text(article.text, quote.cue) or "",
            span_text(article.text, quote.speaker) or "",
            quote.speaker_entity or "",
        )


def _cell(value: str) -> str:
    return " ".join(value.split())  # tabs and line breaks inside a quote would break the row


def write_quote_table(stream: IO[str], articles: Iterable[Article]) -> int:
    """Write the header, then every article's rows; returns how many articles were written."""
    stream.write("\t".join(COLUMNS) + "\n")
    count = 0
    for article in articles:
        for row in quote_rows(article):
            stream.write("\t".join(_cell(value) for value in row) + "\n")
        count += 1
    return count
