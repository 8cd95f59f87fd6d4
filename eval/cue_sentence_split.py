"""Predictions in the embedded gold's convention for a quote its cue sentence interrupts: PolNeAR annotates
`"…," he said. "…"` as one attribution of two fragments, the embedded gold as two quotes, the second a cue-less
continuation of the same speaker. Each predicted quote whose cue stands between two of its fragments, its sentence
ending right before the next fragment, is split there; the part after keeps the speaker entity,
without cue or speaker mention. A diagnostic of how much of a checkpoint's loss is that convention (score the output
with `quoteattr evaluate`), not a step of the pipeline.

    python eval/cue_sentence_split.py --pred outputs/compare-news/outputs_polnear_model_final.jsonl \
        --output outputs/polnear_news_split.jsonl
"""

from __future__ import annotations

import argparse
import re
import sys

from quoteattr.data.errors import exit_status
from quoteattr.data.quotemarks import quote_type, quoted_regions
from quoteattr.data.readers import read_articles
from quoteattr.data.schema import Article, Quote, Span
from quoteattr.data.writers import write_articles

CUE_SENTENCE_REST = re.compile(r"[^.!?]*[.!?][\"'’”»]*\s+")
"""A cue's sentence ending right before the next fragment: ' on Monday. ' in '"…," he said on Monday. "…"'."""


def split_quote(text: str, quote: Quote, regions: list[Span]) -> list[Quote]:
    """The quote, or its fragments up to its cue sentence and a cue-less continuation of the rest."""
    cue = quote.cue
    for index in range(1, len(quote.spans)):
        gap_start, gap_end = quote.spans[index - 1][1], quote.spans[index][0]
        if cue and gap_start <= cue[0] and cue[1] <= gap_end and CUE_SENTENCE_REST.fullmatch(text[cue[1] : gap_end]):
            head, rest = quote.spans[:index], quote.spans[index:]
            first = Quote(head, quote_type(text, head, regions), cue, quote.speaker, quote.speaker_entity)
            return [first, Quote(rest, quote_type(text, rest, regions), speaker_entity=quote.speaker_entity)]
    return [quote]


def split_article(article: Article) -> Article:
    """The article with every quote its cue sentence interrupts split there."""
    regions = quoted_regions(article.text)
    quotes = [part for quote in article.quotes for part in split_quote(article.text, quote, regions)]
    return Article(article.id, article.text, article.meta, quotes, article.entities)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pred", required=True, help="interchange file of predictions")
    parser.add_argument("--output", required=True, help="the split predictions (interchange JSONL)")
    args = parser.parse_args(argv)

    def run() -> int:
        predicted = read_articles(args.pred)
        articles = [split_article(article) for article in predicted]
        write_articles(args.output, articles)
        split = sum(len(a.quotes) for a in articles) - sum(len(a.quotes) for a in predicted)
        print(f"{split} quotes split at their cue sentence; wrote {args.output}")
        return 0

    return exit_status(run)


if __name__ == "__main__":
    sys.exit(main())
