"""Quotes as a table people read (one row per quote: its text, type, cue, speaker and entity), as
BookNLP's quote files do; the interchange JSONL stays the format every stage reads.

Cells are quoted the csv module's way (a cell holding a tab, a line break or a ``"`` is put in double quotes,
its ``"`` doubled), so ``csv`` and ``pandas.read_csv(sep="\\t")`` read every quote back as written."""

from __future__ import annotations

import csv
from collections.abc import Iterable
from typing import IO

from quoteattr.data.schema import Article, span_text

COLUMNS = ("article", "start_in_text", "end_in_text", "type", "quote", "cue", "speaker", "speaker_entity")
"""The offsets are character offsets into the article's cleaned ``text`` (the interchange records'), not into
a scraped ``.txt`` page, whose site furniture ingesting removes."""


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


def write_quote_table(stream: IO[str], articles: Iterable[Article]) -> int:
    """Write the header, then every article's rows; returns how many articles were written."""
    writer = csv.writer(stream, delimiter="\t", lineterminator="\n")
    writer.writerow(COLUMNS)
    count = 0
    for article in articles:
        writer.writerows(quote_rows(article))
        count += 1
    return count
