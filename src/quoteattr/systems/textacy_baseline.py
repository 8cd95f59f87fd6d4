"""textacy's direct_quotations over the packaged spaCy model, as a baseline system in our schema."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from quoteattr.data.errors import InputError
from quoteattr.data.quotemarks import quote_type, quoted_regions
from quoteattr.data.schema import Article, Quote, Span, as_articles, entities_from_quotes, overlaps_any


def _span(tokens) -> Span | None:
    tokens = list(tokens)
    if not tokens:
        return None
    return (min(t.idx for t in tokens), max(t.idx + len(t.text) for t in tokens))


def _shift(span: Span | None, offset: int) -> Span | None:
    return None if span is None else (span[0] + offset, span[1] + offset)


class TextacyQuotations:
    """Direct quotations only (textacy.extract.triples.direct_quotations); speaker mentions, no entities."""

    name = "textacy"

    def __init__(self) -> None:
        from quoteattr.systems.rules import load_spacy

        self.nlp = load_spacy()

    def _parseable(self, article: Article) -> str:
        """The article's text; one longer than spaCy parses whole is a clear error (the peer baseline is kept as
        textacy runs it; the rules and the model take long articles in pieces)."""
        if len(article.text) > self.nlp.max_length:
            raise InputError(
                f"article {article.id!r}: {len(article.text):,} characters, over the {self.nlp.max_length:,} "
                "the textacy baseline parses; use --system rules or a model checkpoint for it"
            )
        return article.text

    def predict(self, articles: Iterable[Article], batch_size: int = 16) -> Iterator[Article]:
        pairs = ((self._parseable(a), a) for a in as_articles(articles))
        for doc, article in self.nlp.pipe(pairs, as_tuples=True, batch_size=batch_size):
            regions = quoted_regions(article.text)
            quotes: list[Quote] = []
            seen: set[Span] = set()
            for triple, offset in self._triples(doc):
                content = (offset + triple.content.start_char, offset + triple.content.end_char)
                if content in seen or not article.text[content[0] : content[1]].strip():
                    continue
                seen.add(content)
                cue, speaker = _shift(_span(triple.cue), offset), _shift(_span(triple.speaker), offset)
                cue = None if overlaps_any(cue, [content]) else cue
                speaker = None if overlaps_any(speaker, [content]) else speaker
                quotes.append(Quote([content], quote_type(article.text, [content], regions), cue, speaker))
            quotes.sort(key=lambda q: q.spans)
            yield Article(article.id, article.text, article.meta, quotes, entities_from_quotes(quotes))

    def _triples(self, doc):
        """textacy gives up on a whole document with an unbalanced quotation mark; then it runs paragraph
        by paragraph, so one stray mark costs only its paragraph."""
        from textacy.extract.triples import direct_quotations

        try:
            yield from ((triple, 0) for triple in direct_quotations(doc))
            return
        except ValueError:
            pass
        for match in re.finditer(r"[^\n]+", doc.text):
            try:
                yield from ((triple, match.start()) for triple in direct_quotations(self.nlp(match.group())))
            except ValueError:
                continue
