"""The one schema every stage reads and writes: Article, Quote, Entity, with validation.

Offsets are character offsets into ``Article.text``, end-exclusive, everywhere.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

QUOTE_TYPES = ("direct", "indirect", "mixed")

Span = tuple[int, int]


class SchemaError(ValueError):
    """A record breaks the interchange schema; the message says which record and field."""


@dataclass
class Quote:
    """One attributed quote: content fragments, its type, cue, speaker mention and entity."""

    spans: list[Span]
    type: str
    cue: Span | None = None
    speaker: Span | None = None
    speaker_entity: str | None = None
    score: float | None = None
    """How sure the system is that this is a quote with these edges, in [0, 1] (predictions only)."""
    speaker_score: float | None = None
    """How sure the system is of the speaker link, in [0, 1] (predictions with a speaker only)."""

    def to_dict(self) -> dict[str, Any]:
        record = {
            "spans": [list(span) for span in self.spans],
            "type": self.type,
            "cue": list(self.cue) if self.cue else None,
            "speaker": list(self.speaker) if self.speaker else None,
            "speaker_entity": self.speaker_entity,
        }
        record.update(
            {
                key: value
                for key, value in (("score", self.score), ("speaker_score", self.speaker_score))
                if value is not None
            }
        )
        return record

    @property
    def start(self) -> int:
        return self.spans[0][0]

    @property
    def end(self) -> int:
        return self.spans[-1][1]


@dataclass
class Entity:
    """A speaker (person or organisation) with every mention of it in the text."""

    name: str
    mentions: list[Span] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "mentions": [list(span) for span in self.mentions]}


@dataclass
class Article:
    """An article's canonical text, its metadata, its quotes and its speaker entities."""

    id: str
    text: str
    meta: dict[str, Any] = field(default_factory=dict)
    quotes: list[Quote] = field(default_factory=list)
    entities: list[Entity] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "text": self.text,
            "meta": self.meta,
            "quotes": [quote.to_dict() for quote in self.quotes],
            "entities": [entity.to_dict() for entity in self.entities],
        }

    @classmethod
    def from_dict(cls, record: dict[str, Any]) -> Article:
        """Parse and validate one interchange record."""
        if not isinstance(record, dict):
            raise SchemaError(f"record is a {type(record).__name__}, expected an object")
        article_id = record.get("id")
        text = record.get("text")
        if not isinstance(article_id, str) or not article_id:
            raise SchemaError("field 'id' must be a non-empty string")
        if not isinstance(text, str):
            raise SchemaError(f"article {article_id!r}: field 'text' must be a string")
        meta = record.get("meta") or {}
        if not isinstance(meta, dict):
            raise SchemaError(f"article {article_id!r}: field 'meta' must be an object")
        try:
            quotes = [_quote_from_dict(q) for q in record.get("quotes") or []]
            entities = [
                Entity(name=str(e["name"]), mentions=[_span(m) for m in e.get("mentions") or []])
                for e in record.get("entities") or []
            ]
        except (KeyError, TypeError, ValueError) as error:
            raise SchemaError(f"article {article_id!r}: malformed quote or entity: {error}") from error
        article = cls(id=article_id, text=text, meta=meta, quotes=quotes, entities=entities)
        validate_article(article)
        return article


def _span(value: Any) -> Span:
    if not isinstance(value, (list, tuple)) or len(value) != 2:
        raise ValueError(f"span {value!r} is not a [start, end] pair")
    start, end = value
    if not isinstance(start, int) or not isinstance(end, int) or isinstance(start, bool):
        raise ValueError(f"span {value!r} has non-integer offsets")
    return (start, end)


def _quote_from_dict(record: dict[str, Any]) -> Quote:
    return Quote(
        spans=[_span(s) for s in record["spans"]],
        type=record["type"],
        cue=_span(record["cue"]) if record.get("cue") else None,
        speaker=_span(record["speaker"]) if record.get("speaker") else None,
        speaker_entity=record.get("speaker_entity"),
        score=_probability(record.get("score"), "score"),
        speaker_score=_probability(record.get("speaker_score"), "speaker_score"),
    )


def _probability(value: Any, name: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= value <= 1.0:
        raise ValueError(f"{name} {value!r} is not a number in [0, 1]")
    return float(value)


def _overlaps(a: Span, b: Span) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def overlaps_any(span: Span | None, spans: list[Span]) -> bool:
    """True when the span shares a character with any of the spans (a cue or speaker inside content)."""
    return span is not None and any(_overlaps(span, other) for other in spans)


def validate_article(article: Article) -> None:
    """Raise SchemaError unless every span is inside the text and the quote structure is sound."""
    where = f"article {article.id!r}"
    n = len(article.text)

    def check_span(span: Span, what: str) -> None:
        start, end = span
        if not 0 <= start < end <= n:
            raise SchemaError(f"{where}: {what} {list(span)} is outside the text (length {n}) or empty")

    mention_owner: dict[Span, str] = {}
    for entity in article.entities:
        if not entity.name.strip():
            raise SchemaError(f"{where}: an entity has an empty name")
        for mention in entity.mentions:
            check_span(mention, f"mention of entity {entity.name!r}")
            if mention in mention_owner and mention_owner[mention] != entity.name:
                raise SchemaError(f"{where}: mention {list(mention)} belongs to two entities")
            mention_owner[mention] = entity.name

    for index, quote in enumerate(article.quotes):
        what = f"quote {index}"
        if quote.type not in QUOTE_TYPES:
            raise SchemaError(f"{where}: {what} has type {quote.type!r}, expected one of {QUOTE_TYPES}")
        if not quote.spans:
            raise SchemaError(f"{where}: {what} has no content span")
        for span in quote.spans:
            check_span(span, f"{what} content span")
        ordered = sorted(quote.spans)
        if ordered != quote.spans:
            raise SchemaError(f"{where}: {what} content spans are not in text order")
        for left, right in zip(ordered, ordered[1:]):
            if left[1] > right[0]:
                raise SchemaError(f"{where}: {what} content spans {list(left)} and {list(right)} overlap")
        for role in ("cue", "speaker"):
            span = getattr(quote, role)
            if span is None:
                continue
            check_span(span, f"{what} {role}")
            if any(_overlaps(span, content) for content in quote.spans):
                raise SchemaError(f"{where}: {what} {role} {list(span)} lies inside its content")
        if quote.speaker_entity is not None and not str(quote.speaker_entity).strip():
            raise SchemaError(f"{where}: {what} has an empty speaker_entity; use null")
        if quote.speaker and mention_owner.get(quote.speaker) != quote.speaker_entity:
            raise SchemaError(
                f"{where}: {what} speaker {list(quote.speaker)} names entity {quote.speaker_entity!r} but is "
                f"listed as a mention of {mention_owner.get(quote.speaker)!r}"
            )


def as_article(item: str | Article, index: int) -> Article:
    """An Article as given, or one made from plain text (id ``text-INDEX``)."""
    if isinstance(item, Article):
        return item
    if isinstance(item, str):
        return Article(f"text-{index}", item)
    raise SchemaError(f"input {index}: expected a string or an Article, got {type(item).__name__}")


def as_articles(items: Iterable[str | Article]) -> Iterator[Article]:
    """Articles from a text, an Article or an iterable of them (``as_article`` each); anything else is a
    TypeError that says what ``predict`` takes, instead of Python's "'NoneType' object is not iterable"."""
    if isinstance(items, str | Article):
        items = [items]
    if isinstance(items, bytes) or not isinstance(items, Iterable):
        raise TypeError(f"predict takes a text, an Article or an iterable of them, not {type(items).__name__}")
    return (as_article(item, index) for index, item in enumerate(items))


def trimmed_span(text: str, span: Span, characters: str) -> Span | None:
    """``span`` without any of ``characters`` at its edges; None when nothing else is in it."""
    start, end = span
    while start < end and text[start] in characters:
        start += 1
    while end > start and text[end - 1] in characters:
        end -= 1
    return (start, end) if start < end else None


def span_text(text: str, span: Span | None) -> str | None:
    """The text a span covers, or None."""
    return None if span is None else text[span[0] : span[1]]


def entities_from_quotes(quotes: list[Quote]) -> list[Entity]:
    """Group speaker mentions by their entity, in order of first mention."""
    by_name: dict[str, Entity] = {}
    for quote in sorted(quotes, key=lambda q: q.speaker or (1 << 62, 0)):
        if quote.speaker and quote.speaker_entity:
            entity = by_name.setdefault(quote.speaker_entity, Entity(quote.speaker_entity))
            if quote.speaker not in entity.mentions:
                entity.mentions.append(quote.speaker)
    for entity in by_name.values():
        entity.mentions.sort()
    return sorted(by_name.values(), key=lambda e: e.mentions[0])
