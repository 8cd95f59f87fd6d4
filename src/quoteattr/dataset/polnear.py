"""Convert PolNeAR (brat standoff, one ``.ann`` per annotator) into the interchange JSONL.

Content → quote spans (discontinuous fragments kept), Cue → cue, Source → speaker mention,
``Attribution-no-source`` → a quote without speaker; ``Discard``/``Discuss`` are not quotes. Content that goes
on after its own cue's sentence has ended (``"…," he said. "…"``) becomes a cue-less continuation quote, as the
embedded gold labels it. The type follows the quotation marks (quotemarks.quote_type). Speaker entities are
silver: each source mention is resolved from its text by ``mention_resolver`` (the model's resolver), a
continuation takes the entity of the quote it was split from, and the method is recorded in
``meta.speaker_resolution``.
"""

from __future__ import annotations

import csv
import re
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from tqdm import tqdm

from quoteattr.data.errors import InputError
from quoteattr.data.quotemarks import quote_type, quoted_regions
from quoteattr.data.readers import read_utf8
from quoteattr.data.schema import (
    Article,
    Quote,
    SchemaError,
    Span,
    entities_from_quotes,
    overlaps_any,
    validate_article,
)
from quoteattr.dataset.card import ANNOTATOR_AGREEMENT
from quoteattr.systems.mention_resolver import resolve_mentions

ROLES = ("Content", "Cue", "Source")
EVENT_TYPES = ("Attribution", "Attribution-no-source")
SENTENCE_ENDS_BEFORE_NEXT = re.compile(r"[.!?][\"'’”»)]*\s*[\"“‘«']?$")
"""The text from a cue to the next content fragment ends a sentence (the next may open with a quotation mark)."""

Continuation = tuple[Quote, Quote]
"""A quote split at its cue's sentence end and the cue-less continuation split off it."""


@dataclass
class BratAttribution:
    """One E line: its content fragments, cue and source (each possibly missing)."""

    content: list[Span]
    cue: Span | None
    source: Span | None


@dataclass
class ConversionReport:
    """What was converted, what was skipped and why, and annotator agreement where several annotated."""

    articles: int = 0
    quotes: int = 0
    problems: list[str] = field(default_factory=list)
    agreement: list[dict[str, object]] = field(default_factory=list)


def _listed_ranges(ranges: str) -> list[Span]:
    """Fragments in the order brat lists them (its text column follows that order)."""
    return [(int(part.split()[0]), int(part.split()[1])) for part in ranges.split(";")]


def _parse_ranges(ranges: str, where: str) -> list[Span]:
    spans = sorted(_listed_ranges(ranges))
    if not spans:
        raise InputError(f"{where}: no offsets")
    return spans


def parse_ann(path: Path, text: str) -> tuple[list[BratAttribution], list[str]]:
    """Attributions of one .ann file; lines that cannot be used are reported, not fatal."""
    problems: list[str] = []
    spans: dict[str, tuple[str, list[Span]]] = {}
    events: list[tuple[int, str, dict[str, str]]] = []
    if path.stat().st_size == 0:
        return [], []  # an annotator who found no attribution
    for number, line in enumerate(read_utf8(path, 50_000_000).splitlines(), start=1):
        where = f"{path}: line {number}"
        fields = line.split("\t")
        try:
            if line.startswith("T"):
                label, ranges = fields[1].split(" ", 1)
                found = _parse_ranges(ranges, where)
                if any(not 0 <= s < e <= len(text) for s, e in found):
                    problems.append(f"{where}: {label} offsets {ranges} are outside the text")
                    continue
                covered = " ".join(text[s:e] for s, e in _listed_ranges(ranges))
                if len(fields) > 2 and fields[2].split() != covered.split():
                    problems.append(f"{where}: {label} text {fields[2][:40]!r} does not match the article at {ranges}")
                    continue
                spans[fields[0]] = (label, found)
            elif line.startswith("E"):
                trigger, *args = fields[1].split()
                event_type = trigger.split(":")[0]
                roles = dict(arg.split(":", 1) for arg in args)
                events.append((number, event_type, roles))
        except (IndexError, ValueError) as error:
            problems.append(f"{where}: malformed line ({error})")
    attributions = []
    for number, event_type, roles in events:
        if event_type not in EVENT_TYPES:
            continue
        where = f"{path}: line {number}"
        resolved: dict[str, list[Span]] = {}
        for role, ref in roles.items():
            name = role.rstrip("0123456789")
            if name not in ROLES:
                continue
            if ref not in spans:
                problems.append(f"{where}: {name} refers to missing {ref}")
                continue
            resolved.setdefault(name, []).extend(spans[ref][1])
        if "Content" not in resolved:
            problems.append(f"{where}: attribution without content skipped")
            continue
        cue = resolved.get("Cue")
        source = resolved.get("Source") if event_type == "Attribution" else None
        attributions.append(
            BratAttribution(
                content=_merge(resolved["Content"], text),
                cue=(cue[0][0], cue[-1][1]) if cue else None,
                source=(min(s for s, _ in source), max(e for _, e in source)) if source else None,
            )
        )
    return attributions, problems


def _merge(spans: list[Span], text: str) -> list[Span]:
    """Sort fragments and join those separated only by whitespace."""
    merged: list[Span] = []
    for start, end in sorted(spans):
        if merged and (start <= merged[-1][1] or not text[merged[-1][1] : start].strip()):
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def read_metadata(root: Path) -> dict[str, dict[str, str]]:
    """metadata.tsv rows by article name (looked for in the compartment folder and its parent)."""
    for candidate in (root / "metadata.tsv", root.parent / "metadata.tsv"):
        if candidate.exists():
            with candidate.open(encoding="utf-8", newline="") as stream:
                return {row["filename"]: row for row in csv.DictReader(stream, delimiter="\t")}
    return {}


def choose_annotator(article: str, annotators: list[str], metadata: dict[str, dict[str, str]]) -> str:
    """The documented rule: the first annotator listed in metadata.tsv; else the first in sort order."""
    listed = [a.strip() for a in metadata.get(article, {}).get("annotators", "").replace(";", ",").split(",")]
    for annotator in listed:
        if annotator in annotators:
            return annotator
    return sorted(annotators)[0]


def to_article(
    article_id: str, text: str, attributions: list[BratAttribution], meta: dict[str, object]
) -> tuple[Article, list[Continuation]]:
    """One annotator's article, and the continuations split off its quotes at their cue's sentence end."""
    regions = quoted_regions(text)
    quotes: list[Quote] = []
    continuations: list[Continuation] = []
    for attribution in attributions:
        cue = attribution.cue
        source = attribution.source
        if overlaps_any(cue, attribution.content):
            cue = None
        if overlaps_any(source, attribution.content):
            source = None
        split = _cue_sentence_split(text, attribution.content, cue)
        first, rest = attribution.content[:split], attribution.content[split:]
        head = Quote(first, quote_type(text, first, regions), cue, source)
        quotes.append(head)
        if rest:
            continuation = Quote(rest, quote_type(text, rest, regions))
            quotes.append(continuation)
            continuations.append((head, continuation))
    quotes.sort(key=lambda q: (q.spans, q.cue or (-1, -1)))
    return Article(article_id, text, meta, quotes), continuations


def _cue_sentence_split(text: str, content: list[Span], cue: Span | None) -> int:
    """How many fragments come before the gap that holds the cue and ends the cue's sentence (all when none): the gap
    ends in a sentence's final mark, closing marks and an opening one ("…," said Mr. Lee, an aide. "…"), wherever
    the source is (its span may hold the period: "of Springfield, Ill.")."""
    if cue is None:
        return len(content)
    for index, ((_, gap_start), (gap_end, _)) in enumerate(zip(content, content[1:]), start=1):
        if gap_start <= cue[0] < cue[1] <= gap_end and SENTENCE_ENDS_BEFORE_NEXT.search(text, cue[1], gap_end):
            return index
    return len(content)


def convert_compartment(
    folder: str | Path, resolve_speakers: bool = True, progress: bool = True
) -> tuple[list[Article], ConversionReport]:
    """Every article of a compartment folder (``text/*.txt`` + ``attributions/*.ann``)."""
    folder = Path(folder)
    text_dir, ann_dir = folder / "text", folder / "attributions"
    if not text_dir.is_dir() or not ann_dir.is_dir():
        raise InputError(f"{folder}: expected text/ and attributions/ folders (a PolNeAR compartment)")
    metadata = read_metadata(folder)
    by_article = _annotations_by_article(ann_dir)
    report = ConversionReport()
    articles: list[Article] = []
    for name in tqdm(sorted(by_article), desc=f"reading {folder.name}", disable=not progress, file=sys.stderr):
        article = _convert_article(folder, name, by_article[name], metadata, report, resolve_speakers)
        if article is not None:
            articles.append(article)
    valid = _valid_articles(articles, text_dir, report)
    report.articles = len(valid)
    report.quotes = sum(len(a.quotes) for a in valid)
    return valid, report


def _annotations_by_article(ann_dir: Path) -> dict[str, dict[str, Path]]:
    """The ``.ann`` files of each article by annotator (files are named ``<article>_<annotator>.ann``)."""
    by_article: dict[str, dict[str, Path]] = {}
    for ann in sorted(ann_dir.glob("*.ann")):
        name, _, annotator = ann.stem.rpartition("_")
        by_article.setdefault(name, {})[annotator] = ann
    return by_article


def _article_meta(compartment: str, annotator: str, row: dict[str, str]) -> dict[str, object]:
    """An article's meta: corpus, compartment, kept annotator and the metadata.tsv fields it has."""
    return {
        "corpus": "PolNeAR",
        "compartment": compartment,
        "annotator": annotator,
        **{k: row[k] for k in ("publisher", "publication_date", "title", "author") if row.get(k)},
    }


def _convert_article(
    folder: Path,
    name: str,
    annotators: dict[str, Path],
    metadata: dict[str, dict[str, str]],
    report: ConversionReport,
    resolve_speakers: bool,
) -> Article | None:
    """The kept annotator's version of one article, with agreement to the others; None when none could be read."""
    text_path = folder / "text" / f"{name}.txt"
    try:
        text = read_utf8(text_path, 10_000_000)
    except (InputError, OSError) as error:
        report.problems.append(f"{text_path}: skipped ({error})")
        return None
    kept = choose_annotator(name, list(annotators), metadata)
    meta = _article_meta(folder.name, kept, metadata.get(name, {}))
    versions = _annotator_versions(name, text, annotators, meta, report, resolve_speakers)
    if kept not in versions:
        if not versions:
            return None
        kept = sorted(versions)[0]
    article = versions[kept]
    article.meta["annotator"] = kept
    _record_agreement(name, kept, article, versions, report)
    return article


def _annotator_versions(
    name: str,
    text: str,
    annotators: dict[str, Path],
    meta: dict[str, object],
    report: ConversionReport,
    resolve_speakers: bool,
) -> dict[str, Article]:
    """One article per annotator whose .ann file could be read, each with a copy of ``meta`` and, with
    ``resolve_speakers``, its speaker entities (so that agreement sees who a continuation's speaker is too); problems
    go to the report."""
    versions: dict[str, Article] = {}
    for annotator, path in annotators.items():
        try:
            attributions, problems = parse_ann(path, text)
        except (InputError, OSError) as error:
            report.problems.append(f"{path}: skipped ({error})")
            continue
        report.problems.extend(problems)
        article, continuations = to_article(name, text, attributions, dict(meta))
        if resolve_speakers:
            resolve_speaker_entities(article, continuations)
        versions[annotator] = article
    return versions


def _record_agreement(
    name: str, kept: str, article: Article, versions: dict[str, Article], report: ConversionReport
) -> None:
    """Score every other annotator's version against the kept one, in the article's meta and the report."""
    from quoteattr.evaluation.scoring import agreement_counts, pooled_agreement

    for annotator, other in versions.items():
        if annotator != kept:
            counts = agreement_counts(article, other)
            article.meta.setdefault(ANNOTATOR_AGREEMENT, []).append({"other": annotator, **counts})
            report.agreement.append(
                {"article": name, "kept": kept, "other": annotator, **pooled_agreement([counts]), "counts": counts}
            )


def _valid_articles(articles: list[Article], text_dir: Path, report: ConversionReport) -> list[Article]:
    """The articles that pass schema validation; the others are reported as skipped."""
    valid = []
    for article in articles:
        try:
            validate_article(article)
        except SchemaError as error:
            report.problems.append(f"{text_dir / article.id}.txt: skipped ({error})")
            continue
        valid.append(article)
    return valid


def resolve_speaker_entities(article: Article, continuations: list[Continuation]) -> None:
    """Silver speaker entities from the source mentions (mention_resolver), with the method counted in meta; each
    continuation (a quote of ``article``) takes the entity of the quote it was split from."""
    mentions = sorted({q.speaker for q in article.quotes if q.speaker})
    resolved = dict(zip(mentions, resolve_mentions(article.text, mentions)))
    for quote in article.quotes:
        quote.speaker_entity = resolved[quote.speaker][0] if quote.speaker else None
    for head, continuation in continuations:
        continuation.speaker_entity = head.speaker_entity
    article.entities = entities_from_quotes(article.quotes)
    methods = Counter(method for _, method in resolved.values())
    article.meta["silver_speaker_entities"] = True
    article.meta["speaker_resolution"] = dict(sorted(methods.items()))
