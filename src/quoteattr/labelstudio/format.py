"""Exact conversion between the schema and Label Studio results (the labelling config in
``labelstudio/labelling_config.xml``): QUOTE/CUE/SPEAKER/MENTION regions, relations ``cue``, ``speaker`` and
``continues`` (discontinuous content), a per-region ``quote_type`` choice and ``entity`` text. A predicted
quote's ``score`` rides on its first QUOTE region and its ``speaker_score`` on its ``quote_type`` choice (both
per quote, as Label Studio's result ``score``), so predictions keep them both ways."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from quoteattr.data.schema import Article, Entity, Quote, SchemaError, Span, validate_article

LABEL_FIELD = "label"
TYPE_FIELD = "quote_type"
ENTITY_FIELD = "entity"
TEXT_FIELD = "text"
LABELS = ("QUOTE", "CUE", "SPEAKER", "MENTION")
RELATIONS = ("cue", "speaker", "continues")


@dataclass
class ConversionIssue:
    """A part of an export that could not be converted; the rest of the task still converts."""

    task_id: Any
    region_id: str | None
    message: str

    def __str__(self) -> str:
        region = f", region {self.region_id}" if self.region_id else ""
        return f"task {self.task_id}{region}: {self.message}"


@dataclass
class _Region:
    id: str
    label: str
    span: Span
    quote_type: str | None = None
    entity: str | None = None
    links: dict[str, list[str]] = field(default_factory=dict)
    score: float | None = None
    choice_score: float | None = None


def _region(span: Span, text: str, extra: dict[str, Any]) -> dict[str, Any]:
    return {"start": span[0], "end": span[1], "text": text[span[0] : span[1]], **extra}


class _ResultsBuilder:
    """Label Studio results for one article, each region added once and given a short id."""

    def __init__(self, article: Article) -> None:
        self.text = article.text
        self.results: list[dict[str, Any]] = []
        self.region_ids: dict[tuple[str, Span, int], str] = {}
        self.owner = {mention: entity.name for entity in article.entities for mention in entity.mentions}

    def add_region(self, label: str, span: Span, quote_index: int = -1, score: float | None = None) -> str:
        """Id of the region, adding it (and its entity name, for an entity mention) the first time."""
        key = (label, span, quote_index)  # QUOTE regions belong to their quote; cues and speakers are shared
        if key not in self.region_ids:
            region_id = f"{label[0].lower()}{len(self.region_ids)}"
            self.region_ids[key] = region_id
            self.results.append(
                {
                    "id": region_id,
                    "from_name": LABEL_FIELD,
                    "to_name": TEXT_FIELD,
                    "type": "labels",
                    "value": _region(span, self.text, {"labels": [label]}),
                    **({"score": score} if score is not None else {}),
                }
            )
            if label in ("SPEAKER", "MENTION") and span in self.owner:
                self.add_entity(region_id, span, self.owner[span])
        return self.region_ids[key]

    def add_entity(self, region_id: str, span: Span, name: str) -> None:
        """The ``entity`` text of a region."""
        self.results.append(
            {
                "id": region_id,
                "from_name": ENTITY_FIELD,
                "to_name": TEXT_FIELD,
                "type": "textarea",
                "value": _region(span, self.text, {"text": [name]}),
            }
        )

    def add_choice(self, region_id: str, quote: Quote) -> None:
        """The ``quote_type`` choice on a quote's first region, carrying its speaker score."""
        self.results.append(
            {
                "id": region_id,
                "from_name": TYPE_FIELD,
                "to_name": TEXT_FIELD,
                "type": "choices",
                "value": _region(quote.spans[0], self.text, {"choices": [quote.type]}),
                **({"score": quote.speaker_score} if quote.speaker_score is not None else {}),
            }
        )

    def relate(self, source: str, target: str, label: str) -> None:
        """A relation between two regions."""
        self.results.append(
            {"type": "relation", "from_id": source, "to_id": target, "direction": "right", "labels": [label]}
        )

    def add_quote(self, index: int, quote: Quote) -> None:
        """A quote's regions, its type choice, and its fragment, cue and speaker relations."""
        head = self.add_region("QUOTE", quote.spans[0], index, quote.score)
        self.add_choice(head, quote)
        previous = head
        for fragment in quote.spans[1:]:
            fragment_id = self.add_region("QUOTE", fragment, index)
            self.relate(previous, fragment_id, "continues")
            previous = fragment_id
        if quote.cue:
            self.relate(head, self.add_region("CUE", quote.cue), "cue")
        if quote.speaker:
            self.relate(head, self.add_region("SPEAKER", quote.speaker), "speaker")
        elif quote.speaker_entity:
            self.add_entity(head, quote.spans[0], quote.speaker_entity)

    def add_mentions(self, entities: list[Entity]) -> None:
        """MENTION regions for entity mentions that are not already a speaker region."""
        for entity in entities:
            for mention in entity.mentions:
                if ("SPEAKER", mention, -1) not in self.region_ids:
                    self.add_region("MENTION", mention)


def article_to_results(article: Article) -> list[dict[str, Any]]:
    """Label Studio result list for an article's quotes and entities (for predictions or annotations)."""
    builder = _ResultsBuilder(article)
    for index, quote in enumerate(article.quotes):
        builder.add_quote(index, quote)
    builder.add_mentions(article.entities)
    return builder.results


def results_to_article(
    task_id: Any, article_id: str, text: str, meta: dict[str, Any], results: list[dict[str, Any]]
) -> tuple[Article, list[ConversionIssue]]:
    """Rebuild an Article from Label Studio results; malformed parts become issues, not crashes."""
    issues: list[ConversionIssue] = []
    regions, extras, relations = _split_results(task_id, text, results, issues)
    _apply_extras(task_id, extras, regions, issues)
    continues = _apply_relations(task_id, relations, regions, issues)
    quotes: list[Quote] = []
    for head_id, parts in _quote_fragments(regions, continues).items():
        quote = _build_quote(task_id, head_id, parts, regions, issues)
        if quote is not None:
            quotes.append(quote)
    article = canonical(Article(article_id, text, meta, quotes, _collect_entities(regions, quotes)))
    try:
        validate_article(article)
    except SchemaError as error:
        issues.append(ConversionIssue(task_id, None, str(error)))
    return article, issues


def _split_results(
    task_id: Any, text: str, results: list[dict[str, Any]], issues: list[ConversionIssue]
) -> tuple[dict[str, _Region], list[dict[str, Any]], list[dict[str, Any]]]:
    """Parsed label regions by id, the choice/textarea items and the relations, in export order."""
    regions: dict[str, _Region] = {}
    extras: list[dict[str, Any]] = []
    relations: list[dict[str, Any]] = []
    for item in results:
        if not isinstance(item, dict):
            issues.append(ConversionIssue(task_id, None, f"result item is not an object: {item!r}"))
        elif item.get("type") == "relation":
            relations.append(item)
        elif item.get("type") == "labels":
            region = _parse_region(task_id, text, item, issues)
            if region is not None:
                regions[region.id] = region
        elif item.get("type") in ("choices", "textarea"):
            extras.append(item)
        else:
            issues.append(ConversionIssue(task_id, item.get("id"), f"unknown result type {item.get('type')!r}"))
    return regions, extras, relations


def _apply_extras(
    task_id: Any, extras: list[dict[str, Any]], regions: dict[str, _Region], issues: list[ConversionIssue]
) -> None:
    """Set each region's quote type (with its score) and entity name from the choice and textarea items."""
    for item in extras:
        region = regions.get(item.get("id"))
        value = item.get("value") or {}
        if region is None:
            issues.append(
                ConversionIssue(task_id, item.get("id"), f"{item.get('from_name')} given for a missing region")
            )
        elif item["type"] == "choices" and value.get("choices"):
            region.quote_type = value["choices"][0]
            region.choice_score = _score(item)
        elif item["type"] == "textarea" and value.get("text"):
            name = " ".join(str(v) for v in value["text"]).strip()
            region.entity = name or None


def _apply_relations(
    task_id: Any, relations: list[dict[str, Any]], regions: dict[str, _Region], issues: list[ConversionIssue]
) -> dict[str, str]:
    """Record cue and speaker links on QUOTE regions; return each continuing fragment's previous fragment."""
    continues: dict[str, str] = {}
    for relation in relations:
        source, target = regions.get(relation.get("from_id")), regions.get(relation.get("to_id"))
        labels = relation.get("labels") or []
        where = f"relation {relation.get('from_id')}→{relation.get('to_id')}"
        if source is None or target is None:
            issues.append(ConversionIssue(task_id, where, "relation points at a missing region"))
            continue
        if len(labels) != 1 or labels[0] not in RELATIONS:
            issues.append(ConversionIssue(task_id, where, f"relation label {labels!r} is not one of {RELATIONS}"))
            continue
        if source.label != "QUOTE":
            source, target = target, source
        if source.label != "QUOTE":
            issues.append(ConversionIssue(task_id, where, "relation does not start at a QUOTE region"))
            continue
        if labels[0] == "continues":
            if target.label != "QUOTE":
                issues.append(ConversionIssue(task_id, where, "'continues' must link two QUOTE regions"))
                continue
            first, second = sorted((source, target), key=lambda r: r.span)
            continues[second.id] = first.id
        else:
            source.links.setdefault(labels[0], []).append(target.id)
    return continues


def _head_of(region_id: str, continues: dict[str, str]) -> str:
    """The first fragment of the quote a QUOTE region belongs to (following ``continues``, safe from cycles)."""
    seen = set()
    while region_id in continues and region_id not in seen:
        seen.add(region_id)
        region_id = continues[region_id]
    return region_id


def _quote_fragments(regions: dict[str, _Region], continues: dict[str, str]) -> dict[str, list[_Region]]:
    """QUOTE regions grouped by the id of their quote's first fragment."""
    fragments: dict[str, list[_Region]] = {}
    for region in regions.values():
        if region.label == "QUOTE":
            fragments.setdefault(_head_of(region.id, continues), []).append(region)
    return fragments


def _build_quote(
    task_id: Any, head_id: str, parts: list[_Region], regions: dict[str, _Region], issues: list[ConversionIssue]
) -> Quote | None:
    """The quote made of a head's fragments, or None (with an issue) when it has no type."""
    parts.sort(key=lambda r: r.span)
    head = regions[head_id]
    links: dict[str, list[str]] = {}
    for part in parts:
        for role, targets in part.links.items():
            links.setdefault(role, []).extend(targets)
    quote_type = next((p.quote_type for p in parts if p.quote_type), None)
    if quote_type is None:
        issues.append(ConversionIssue(task_id, head_id, "quote has no type; choose direct, indirect or mixed"))
        return None
    cue = _single(task_id, head_id, "cue", links, regions, issues)
    speaker = _single(task_id, head_id, "speaker", links, regions, issues)
    entity = head.entity or (speaker.entity if speaker else None)
    return Quote(
        spans=[p.span for p in parts],
        type=quote_type,
        cue=cue.span if cue else None,
        speaker=speaker.span if speaker else None,
        speaker_entity=entity,
        score=head.score,
        speaker_score=head.choice_score if speaker else None,
    )


def _collect_entities(regions: dict[str, _Region], quotes: list[Quote]) -> list[Entity]:
    """Entities named on SPEAKER/MENTION regions, plus each quote's speaker mention under its entity."""
    entities: dict[str, Entity] = {}
    for region in regions.values():
        if region.label in ("SPEAKER", "MENTION") and region.entity:
            entity = entities.setdefault(region.entity, Entity(region.entity))
            if region.span not in entity.mentions:
                entity.mentions.append(region.span)
    for quote in quotes:
        if quote.speaker and quote.speaker_entity and quote.speaker_entity not in entities:
            entities[quote.speaker_entity] = Entity(quote.speaker_entity, [quote.speaker])
        elif quote.speaker and quote.speaker_entity and quote.speaker not in entities[quote.speaker_entity].mentions:
            entities[quote.speaker_entity].mentions.append(quote.speaker)
    return list(entities.values())


def canonical(article: Article) -> Article:
    """Quotes in text order, entities by first mention with sorted mentions: one order for comparisons."""
    for entity in article.entities:
        entity.mentions.sort()
    article.entities = sorted((e for e in article.entities if e.mentions), key=lambda e: (e.mentions[0], e.name))
    article.quotes.sort(key=lambda q: (q.spans, q.cue or (-1, -1), q.speaker or (-1, -1), q.type))
    return article


def _single(
    task_id: Any,
    head_id: str,
    role: str,
    links: dict[str, list[str]],
    regions: dict[str, _Region],
    issues: list[ConversionIssue],
) -> _Region | None:
    targets = list(dict.fromkeys(links.get(role, [])))
    expected = "CUE" if role == "cue" else "SPEAKER"
    found = [regions[t] for t in targets if regions[t].label == expected]
    if len(found) != len(targets):
        issues.append(
            ConversionIssue(task_id, head_id, f"'{role}' relation points at a region not labelled {expected}")
        )
    if len(found) > 1:
        issues.append(ConversionIssue(task_id, head_id, f"quote has {len(found)} {role}s; kept the first"))
    return found[0] if found else None


def _parse_region(task_id: Any, text: str, item: dict[str, Any], issues: list[ConversionIssue]) -> _Region | None:
    region_id = item.get("id")
    value = item.get("value")
    if not region_id or not isinstance(value, dict):
        issues.append(ConversionIssue(task_id, region_id, "region has no id or no 'value'"))
        return None
    labels = value.get("labels") or []
    start, end = value.get("start"), value.get("end")
    if len(labels) != 1 or labels[0] not in LABELS:
        issues.append(ConversionIssue(task_id, region_id, f"unknown label {labels!r}; expected one of {LABELS}"))
        return None
    if not isinstance(start, int) or not isinstance(end, int) or not 0 <= start < end <= len(text):
        issues.append(
            ConversionIssue(task_id, region_id, f"offsets [{start}, {end}] are outside the text (length {len(text)})")
        )
        return None
    if "text" in value and value["text"] != text[start:end]:
        issues.append(
            ConversionIssue(
                task_id, region_id, f"region text {value['text']!r} does not match the text at [{start}, {end}]"
            )
        )
        return None
    return _Region(region_id, labels[0], (start, end), score=_score(item))


def _score(item: dict[str, Any]) -> float | None:
    """A result's ``score`` when it is a probability (predictions carry one; reviewers' results do not)."""
    score = item.get("score")
    return float(score) if isinstance(score, (int, float)) and not isinstance(score, bool) and 0 <= score <= 1 else None
