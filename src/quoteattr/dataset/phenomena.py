"""Attribution phenomena the gold exercises (pronoun speakers, interrupted quotes, quotation mark styles...),
counted from the labels alone for the dataset card."""

from __future__ import annotations

import re
from collections import Counter

from quoteattr.data.quotemarks import quoted_regions
from quoteattr.data.schema import Article, Quote, overlaps_any

PHENOMENA = {
    "pronoun_speaker": "speaker mention is a personal pronoun (he, she, they...)",
    "pronoun_speaker_named_only_as_non_speaker": "pronoun speaker whose person was not quoted earlier in the article",
    "description_speaker": "speaker mention neither a pronoun nor a name (the ministry, the coach)",
    "apposition_speaker": "speaker mention with an apposition (The port's harbour master, Ines Albuquerque)",
    "no_speaker_mention": "speaker known but not mentioned (continuation quote)",
    "no_cue": "quote without a cue",
    "interrupted": "interrupted quote (several content fragments)",
    "over_paragraphs": "quote over several paragraphs",
    "headline": "quote in the headline (the article's first line)",
    "marks_straight": 'quote with straight double marks (")',
    "marks_curly_double": "quote with curly double marks (“ ”)",
    "marks_curly_single": "quote with curly single marks (‘ ’, not apostrophes)",
    "marks_angle": "quote with angle marks (« » ‹ ›)",
    "unquoted_quotation_marks": "double-quoted region holding no quote (scare quotes, titles)",
}
"""Each phenomenon's key (statistics.json) and its definition (the card's row label). Every count is of quotes,
except unquoted_quotation_marks, which counts double-quoted regions."""

PERSONAL_PRONOUNS = frozenset("i me we us you he him she her it they them".split())
DETERMINERS = frozenset({"The", "A", "An"})

MARKS = {
    "marks_straight": ('"', "''", "``"),
    "marks_curly_double": ("“", "”", "„"),
    "marks_angle": ("«", "»", "‹", "›"),
}
"""Quotation marks of each kind found by their characters (curly single marks need telling from apostrophes)."""


def count_phenomena(articles: list[Article]) -> dict[str, int]:
    """How many quotes of the articles show each phenomenon (a quote may show several), keys as in PHENOMENA."""
    counts: Counter[str] = Counter()
    for article in articles:
        counts.update(_article_phenomena(article))
    return {key: counts[key] for key in PHENOMENA}


def _article_phenomena(article: Article) -> Counter[str]:
    """The phenomena of one article's quotes, in text order, and its quotation regions around no quote."""
    text = article.text
    found: Counter[str] = Counter()
    single_marks = curly_single_marks(text)
    quoted_entities: set[str] = set()
    for quote in sorted(article.quotes, key=lambda q: q.start):
        found.update(_quote_phenomena(text, quote, single_marks))
        if _is_pronoun(text, quote) and quote.speaker_entity and quote.speaker_entity not in quoted_entities:
            found["pronoun_speaker_named_only_as_non_speaker"] += 1
        if quote.speaker_entity:
            quoted_entities.add(quote.speaker_entity)
    contents = [span for quote in article.quotes for span in quote.spans]
    found["unquoted_quotation_marks"] = sum(not overlaps_any(r, contents) for r in quoted_regions(text))
    return found


def _quote_phenomena(text: str, quote: Quote, single_marks: set[int]) -> list[str]:
    """The phenomena one quote shows, but for whether its pronoun speaker was quoted before."""
    found = _speaker_phenomena(text, quote)
    found += [key for key, shown in _shape(text, quote).items() if shown]
    return found + _marks(text, quote, single_marks)


def _marks(text: str, quote: Quote, single_marks: set[int]) -> list[str]:
    """The kinds of quotation mark in a quote's content or touching it (for spans that leave the marks out)."""
    marked = [text[max(0, start - 1) : end + 1] for start, end in quote.spans]
    found = [key for key, marks in MARKS.items() if any(m in fragment for fragment in marked for m in marks)]
    if any(start - 1 <= position <= end for start, end in quote.spans for position in single_marks):
        found.append("marks_curly_single")
    return found


def _shape(text: str, quote: Quote) -> dict[str, bool]:
    """Cue, fragments, paragraphs and headline of a quote."""
    headline_end = text.find("\n")  # -1 without a line break: a one-line text has no headline
    return {
        "no_speaker_mention": quote.speaker is None and quote.speaker_entity is not None,
        "no_cue": quote.cue is None,
        "interrupted": len(quote.spans) > 1,
        "over_paragraphs": "\n" in text[quote.start : quote.end],
        "headline": quote.end <= headline_end,
    }


def _speaker_phenomena(text: str, quote: Quote) -> list[str]:
    """pronoun, description and apposition mentions: a description holds no word of its entity's name."""
    if quote.speaker is None:
        return []
    if _is_pronoun(text, quote):
        return ["pronoun_speaker"]
    mention = text[quote.speaker[0] : quote.speaker[1]]
    found = ["apposition_speaker"] if "," in mention else []
    if not names_entity(mention, quote.speaker_entity):
        found.append("description_speaker")
    return found


def _is_pronoun(text: str, quote: Quote) -> bool:
    return quote.speaker is not None and text[quote.speaker[0] : quote.speaker[1]].strip().lower() in PERSONAL_PRONOUNS


def names_entity(mention: str, entity: str | None) -> bool:
    """Whether the mention holds a capitalised word of the entity's name as written: "Konashenkov", "Ms Lin",
    "the Hawks" name their speaker; "the ministry" of "Defence Ministry" does not."""
    names = {word for word in re.findall(r"\w+", entity or "") if word[0].isupper()} - DETERMINERS
    return any(word in names for word in re.findall(r"\w+", mention))


def curly_single_marks(text: str) -> set[int]:
    """Positions of ‘ and ’ used as quotation marks: every ‘ not after a letter or digit, and the ’ that closes
    it in its paragraph with no letter or digit after it; any other ’ is an apostrophe (don’t, the players’ union)."""
    marks: set[int] = set()
    open_at: int | None = None
    for match in re.finditer("[‘’\n]", text):
        char, position = match.group(), match.start()
        before = text[position - 1] if position else " "
        after = text[position + 1] if position + 1 < len(text) else " "
        if char == "\n":
            open_at = None
        elif char == "‘" and not before.isalnum():
            marks.add(position)
            open_at = position
        elif char == "’" and open_at is not None and not after.isalnum():
            marks.add(position)
            open_at = None
    return marks
