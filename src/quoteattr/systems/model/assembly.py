"""Role spans → quotes: content fragments grouped into quotes, each quote linked to a source mention and a cue (by
the linker, or the nearest mentions without one) and given a resolved speaker entity."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from quoteattr.data.quotemarks import CLOSERS, OPENERS, STRAIGHT, inside_quotation, quote_type, quoted_regions
from quoteattr.data.schema import Article, Quote, Span, entities_from_quotes, overlaps_any, trimmed_span
from quoteattr.systems.entity_mentions import outside
from quoteattr.systems.mention_resolver import resolve_mentions
from quoteattr.systems.model.decoding_config import DecodingConfig
from quoteattr.systems.model.windows import ArticleTokens, central_window, char_span, token_range

_GAP_CHARS = set(" \t\n,;:—–-\"“”‘’'()")
_SENTENCE_END = set(".!?…")
_SENTENCE_BREAK = re.compile(r"[.!?…][\"”’']*\s|\n")
_EDGE_PUNCTUATION = ' \t\n,;:—–-"“”‘’«»()[]'
"""What a mention never starts or ends with (a period may end one: "Acme Inc.", "the U.S.")."""


def strip_edges(text: str, span: Span) -> Span:
    """A mention without the punctuation and spaces at its edges ("the defendant," → "the defendant"); a mention
    of nothing else is kept as it is."""
    return trimmed_span(text, span, _EDGE_PUNCTUATION) or span


PREVIOUS = "previous"
"""A chooser's answer for a quote whose speaker is the previous quote's (a cue-less continuation)."""
NEAREST_CUE = "nearest"
"""A chooser's cue for a quote when it does not choose cues: the cue nearest the quote's speaker (or the quote)."""
Link = tuple[Span | str | None, float | None, Span | str | None]
"""A chooser's answer for one quote: its source (a token span, ``PREVIOUS`` or None), the probability of that
choice, and its cue (a token span, ``NEAREST_CUE`` or None)."""


@dataclass
class LinkRequest:
    """The quotes (token extents) of one window to link, the source and cue mentions inside it, and each quote's
    previous quote in the text when it lies inside the window (else None)."""

    window: int
    quotes: list[Span]
    candidates: list[Span]
    bounds: Span
    previous: list[Span | None]
    cues: list[Span]


SPEAKER_PRONOUNS = frozenset(
    """i me you he him she her it we us they them myself yourself himself herself itself ourselves yourselves
    themselves one someone somebody anyone anybody everyone everybody nobody noone none other others some many
    few several both all each either neither""".split()
)
"""Stop words that stand for a speaker on their own ("he said", "others warned"): a mention of them speaks."""


@lru_cache(maxsize=1)
def _function_words() -> frozenset[str]:
    from spacy.lang.en.stop_words import STOP_WORDS  # on first use

    return frozenset(STOP_WORDS) - SPEAKER_PRONOUNS


def can_speak(mention: str) -> bool:
    """Whether a source mention could name a speaker: it has a word (letters or digits) that is not a function
    word ("the", "of"; pronouns are not function words here). The tagger now and then tags punctuation (":")
    or a function word as a source, and the linker scores those as surely as names."""
    return any(word not in _function_words() for word in re.findall(r"['‘’]?[^\W_]+", mention.lower()))


def assemble_article(
    article: Article,
    tokens: ArticleTokens,
    windows: list[Span],
    spans: dict[str, list[Span]],
    choose_sources,
    decoding: DecodingConfig,
    given: list[Quote] | None = None,
    context: Callable[[], list[tuple[Span, str]]] | None = None,
    join: Callable[[list[tuple[Span, Span]]], list[float]] | None = None,
) -> Article:
    """Quotes from decoded token spans (or the ``given`` quotes), each linked to a source and a cue by
    ``choose_sources`` (one call for every window's requests, see ``Link``) in the window where the quote sits
    most centrally, with a speaker entity resolved with the article's other people and organisations (``context``, see
    ``resolve_mentions``; those named inside a quote are not antecedents). Content fragments group into quotes
    by ``join`` (the learned joiner's probability for each pair of consecutive fragments, kept at
    ``decoding.join_threshold``) or, for an older checkpoint without one, by the rules of ``_group_fragments``;
    ``decoding`` also says whether edge commas are trimmed (``trim_edge_commas``)."""
    text = article.text
    if given is None and join is not None:
        quote_tokens = joined_fragments(sorted(spans["CONTENT"]), join, decoding.join_threshold)
    elif given is None:
        quote_tokens = _group_fragments(text, tokens, spans)
    else:
        quote_tokens = [[r for r in (token_range(tokens.offsets, s) for s in q.spans) if r] for q in given]
    regions = quoted_regions(text)
    sources, previous_of = _chosen_sources(text, tokens, windows, spans, quote_tokens, choose_sources)
    quotes: list[Quote] = []
    for index, fragments in enumerate(quote_tokens):
        if given:
            content = list(given[index].spans)
        else:
            content = [char_span(tokens.offsets, f) for f in fragments]
            content = trim_edge_commas(text, content, regions) if decoding.trim_commas else content
        kind = given[index].type if given else quote_type(text, content, regions)
        if not fragments:
            quotes.append(Quote(content, kind))
            continue
        source, probability, cue = sources.get(index, (None, None, NEAREST_CUE))
        continues = source == PREVIOUS  # the previous quote's speaker: no mention of its own
        if cue == NEAREST_CUE:
            cue = None if continues else _nearest(spans["CUE"], source or (fragments[0][0], fragments[-1][1]), 25)
        speaker = strip_edges(text, char_span(tokens.offsets, source)) if source and not continues else None
        speaker = None if overlaps_any(speaker, content) else speaker
        cue_chars = char_span(tokens.offsets, cue) if cue else None
        quotes.append(
            Quote(
                content,
                kind,
                None if overlaps_any(cue_chars, content) else cue_chars,
                speaker,
                speaker_score=probability if speaker or continues else None,
            )
        )
    inherits = {index: previous_of[index] for index, (source, *_) in sources.items() if source == PREVIOUS}
    _resolve_entities(text, quotes, inherits, context)
    quotes.sort(key=lambda q: q.spans)
    return Article(article.id, text, article.meta, quotes, entities_from_quotes(quotes))


def _chosen_sources(
    text: str,
    tokens: ArticleTokens,
    windows: list[Span],
    spans: dict[str, list[Span]],
    quote_tokens: list[list[Span]],
    choose_sources,
) -> tuple[dict[int, Link], dict[int, int]]:
    """Each quote's chosen source, probability and cue (``Link``), from one chooser call
    for every window's requests (a quote is linked in the window where it sits most centrally), and each quote's
    previous quote in the text."""
    source_spans = spans["SOURCE"] + spans.get("CANDIDATE", [])
    candidates = sorted(s for s in source_spans if can_speak(text[slice(*char_span(tokens.offsets, s))]))
    extents = {i: (f[0][0], f[-1][1]) for i, f in enumerate(quote_tokens) if f}
    order = sorted(extents, key=lambda i: extents[i])
    previous_of = dict(zip(order[1:], order))
    placed: dict[int, list[int]] = {}
    for index, (start, end) in extents.items():
        placed.setdefault(central_window(windows, start, end), []).append(index)

    def within(index: int | None, bounds: Span) -> Span | None:
        extent = extents.get(index) if index is not None else None
        return extent if extent and bounds[0] <= extent[0] and extent[1] <= bounds[1] else None

    def held(mentions: list[Span], bounds: Span) -> list[Span]:
        return [m for m in mentions if bounds[0] <= m[0] and m[1] <= bounds[1]]

    requests = [
        LinkRequest(
            window,
            [extents[i] for i in indices],
            held(candidates, windows[window]),
            windows[window],
            [within(previous_of.get(i), windows[window]) for i in indices],
            held(spans["CUE"], windows[window]),
        )
        for window, indices in placed.items()
    ]
    sources: dict[int, Link] = {}
    for indices, chosen in zip(placed.values(), choose_sources(requests)):
        for index, (source, probability, cue) in zip(indices, chosen):
            inside = source not in (None, PREVIOUS) and any(s <= source[0] < e for s, e in quote_tokens[index])
            sources[index] = (None, None, cue) if inside else (source, probability, cue)  # a speaker between fragments
    return sources, previous_of


def _resolve_entities(
    text: str, quotes: list[Quote], inherits: dict[int, int], context: Callable[[], list] | None
) -> None:
    """Give each quote its speaker's entity: mentions resolved together (with the article's named people outside
    the quotes as antecedents of pronouns and descriptions); a continuation (``inherits``: quote → its previous
    quote) takes the previous quote's, in text order, so a chain of continuations takes the first speaker."""
    mentions = sorted({q.speaker for q in quotes if q.speaker})
    contents = [span for quote in quotes for span in quote.spans]
    named = None if context is None else outside(context, contents)
    names = dict(zip(mentions, (name for name, _ in resolve_mentions(text, mentions, named))))
    for quote in quotes:
        quote.speaker_entity = names.get(quote.speaker) if quote.speaker else None
    for index in sorted(inherits, key=lambda i: quotes[i].spans):
        quotes[index].speaker_entity = quotes[inherits[index]].speaker_entity
        quotes[index].speaker_score = quotes[index].speaker_score if quotes[index].speaker_entity else None


def trim_edge_commas(text: str, content: list[Span], regions: list[Span]) -> list[Span]:
    """Fragments without the commas and semicolons (and the spaces by them) at their edges that lie outside
    every quotation: reported speech ends before the comma of the clause that follows it."""
    trimmed = []
    for start, end in content:
        while end - start > 1 and (
            text[end - 1].isspace() or text[end - 1] in ",;" and not inside_quotation(end - 1, regions)
        ):
            end -= 1
        while end - start > 1 and (
            text[start].isspace() or text[start] in ",;" and not inside_quotation(start, regions)
        ):
            start += 1
        trimmed.append((start, end))
    return trimmed


def joined_fragments(
    fragments: list[Span], join: Callable[[list[tuple[Span, Span]]], list[float]], threshold: float
) -> list[list[Span]]:
    """Fragments (in text order) grouped into quotes: each joins the quote before it when the joiner's probability
    for the pair reaches ``threshold``."""
    quotes: list[list[Span]] = []
    probabilities = join(list(zip(fragments, fragments[1:])))
    for index, fragment in enumerate(fragments):
        if index and probabilities[index - 1] >= threshold:
            quotes[-1].append(fragment)
        else:
            quotes.append([fragment])
    return quotes


def _group_fragments(text: str, tokens: ArticleTokens, spans: dict[str, list[Span]]) -> list[list[Span]]:
    """Content spans become quotes by rule (for older checkpoints without a fragment joiner): two fragments are one
    quote when only a cue or source interrupts them ("…," he said, "…"), also when the cue ends its sentence
    between two quotations ("…," he said. "…") or its clause has other words ("…," Guan told reporters on Monday.
    "…"); a quote whose own cue or source comes before it in its sentence ("X said that …") keeps its fragments to
    itself, since a cue after it starts another attribution ("…, Y said: …")."""
    roles = sorted((s, e, role) for role in ("CONTENT", "CUE", "SOURCE") for s, e in spans[role])
    quotes: list[list[Span]] = []
    introduced: list[bool] = []
    for index, (start, end, role) in enumerate(roles):
        if role != "CONTENT":
            continue
        if quotes and not introduced[-1] and _interruption(text, tokens, quotes[-1][-1][1], start, roles):
            quotes[-1].append((start, end))
            continue
        quotes.append([(start, end)])
        before = roles[index - 1] if index else None
        introduced.append(
            before is not None
            and before[2] != "CONTENT"
            and not _SENTENCE_BREAK.search(text[tokens.offsets[before[1] - 1][1] : tokens.offsets[start][0]])
        )
    return quotes


def _interruption(text: str, tokens: ArticleTokens, left: int, right: int, roles: list) -> bool:
    between = [(s, e, r) for s, e, r in roles if s >= left and e <= right]
    if not any(r in ("CUE", "SOURCE") for _, _, r in between) or any(r == "CONTENT" for _, _, r in between):
        return False
    gap_text = text[tokens.offsets[left - 1][1] : tokens.offsets[right][0]]
    if "\n" in gap_text:
        return False
    covered = {i for s, e, _ in between for i in range(s, e)}
    gap = [i for i in range(left, right) if i not in covered]
    if all(set(text[tokens.offsets[i][0] : tokens.offsets[i][1]]) <= _GAP_CHARS for i in gap):
        return True
    if not (
        _quotation_edge(text, tokens.offsets[left - 1][1], closing=True)
        and _quotation_edge(text, tokens.offsets[right][0], closing=False)
    ):
        return False
    # "…," Guan told reporters on Monday. "…": one cue clause with other words between two quotations of one turn
    if any(r == "CUE" for _, _, r in between) and not _SENTENCE_BREAK.search(gap_text.strip()):
        return True
    # "…," he said. "…": the cue's sentence ends between two quotations of one turn
    return all(set(text[tokens.offsets[i][0] : tokens.offsets[i][1]]) <= _GAP_CHARS | _SENTENCE_END for i in gap)


def _quotation_edge(text: str, position: int, closing: bool) -> bool:
    """A closing quotation mark at or just after ``position`` (closing), or an opening one at or just before
    it: the marks of ``quotemarks`` (a two-character mark, such as two apostrophes, is looked for one wider)."""
    marks = CLOSERS + STRAIGHT if closing else OPENERS + STRAIGHT
    nearby = text[max(0, position - 1) : position + 2] if closing else text[max(0, position - 2) : position + 1]
    wider = text[max(0, position - 2) : position + 3] if closing else text[max(0, position - 3) : position + 2]
    return any(mark in (nearby if len(mark) == 1 else wider) for mark in marks)


def _nearest(spans: list[Span], anchor: Span, limit: int) -> Span | None:
    def distance(span: Span) -> int:
        return max(0, span[0] - anchor[1], anchor[0] - span[1])

    close = [s for s in spans if distance(s) <= limit]
    return min(close, key=distance) if close else None
