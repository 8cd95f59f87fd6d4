"""Articles as token windows for the transformer: BIO role labels, linker targets, and the way back
from window predictions to article-level character spans."""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass

import numpy as np

from quoteattr.data.schema import Article, Span

ROLES = ("CONTENT", "CUE", "SOURCE")
LABELS = ["O"] + [f"{prefix}-{role}" for role in ROLES for prefix in ("B", "I")]
LABEL2ID = {label: index for index, label in enumerate(LABELS)}
IGNORE = -100
PARAGRAPH_MARKER = "¶"
"""Stands in for each line break when a text is tokenized, so the encoder sees paragraph breaks (a
BERT tokenizer drops whitespace); one character for one, so every offset stays valid."""


@dataclass
class ArticleTokens:
    """Token ids of a whole article (no special tokens) with their character offsets and the
    paragraph (0, 1, …) each token sits in."""

    ids: list[int]
    offsets: list[Span]
    paragraphs: list[int]


def tokenize(tokenizer, text: str, paragraph_marker: str | None = None) -> ArticleTokens:
    """Tokens of ``text``; with ``paragraph_marker``, line breaks become marker tokens the encoder sees."""
    shown = text.replace("\n", paragraph_marker) if paragraph_marker else text
    encoded = tokenizer(shown, add_special_tokens=False, return_offsets_mapping=True, verbose=False)
    offsets = [tuple(o) for o in encoded["offset_mapping"]]
    breaks = [m.start() for m in re.finditer(r"\n+", text)]
    return ArticleTokens(list(encoded["input_ids"]), offsets, [bisect.bisect_right(breaks, s) for s, _ in offsets])


def window_bounds(n_tokens: int, size: int, stride: int) -> list[Span]:
    """[start, end) token ranges of at most ``size`` tokens, consecutive windows sharing ``stride`` tokens."""
    if n_tokens <= size:
        return [(0, n_tokens)]
    step = max(1, size - stride)
    bounds = []
    start = 0
    while True:
        end = min(start + size, n_tokens)
        bounds.append((start, end))
        if end == n_tokens:
            return bounds
        start += step


def token_range(offsets: list[Span], span: Span) -> Span | None:
    """Tokens whose characters overlap a character span, as [first, last + 1) (offsets are in text order, so
    both edges are found by bisection; empty tokens never count)."""
    first = bisect.bisect_right(offsets, span[0], key=lambda offset: offset[1])
    last = bisect.bisect_left(offsets, span[1], key=lambda offset: offset[0]) - 1
    while first <= last and offsets[first][0] == offsets[first][1]:
        first += 1
    while last >= first and offsets[last][0] == offsets[last][1]:
        last -= 1
    return (first, last + 1) if first <= last else None


def token_labels(tokens: ArticleTokens, article: Article) -> list[int]:
    """BIO label id per token; every content fragment, cue and speaker mention of every quote."""
    labels = [LABEL2ID["O"]] * len(tokens.ids)
    for quote in article.quotes:
        roles = [("CONTENT", span) for span in quote.spans]
        roles += [(role, span) for role, span in (("CUE", quote.cue), ("SOURCE", quote.speaker)) if span]
        for role, span in roles:
            found = token_range(tokens.offsets, span)
            if found is None:
                continue
            start, end = found
            if labels[start] != LABEL2ID["O"] and not LABELS[labels[start]].endswith(role):
                continue  # a token has one role; the first quote to claim it keeps it
            labels[start] = LABEL2ID[f"B-{role}"]
            for index in range(start + 1, end):
                labels[index] = LABEL2ID[f"I-{role}"]
    return labels


def window_paragraphs(tokens: ArticleTokens, start: int, end: int) -> list[int]:
    """Paragraph index of every position of a window, [CLS] and [SEP] included."""
    inside = tokens.paragraphs[start:end] or [0]
    return [inside[0], *inside, inside[-1]]


PREVIOUS_SPEAKER = -2
"""``gold_source`` of a quote whose speaker is the previous quote's, with no mention of its own (a cue-less
continuation: '"…," she said. "…"'); -1 is no speaker in the window, 0… a source mention."""


def linker_targets(tokens: ArticleTokens, article: Article, start: int, end: int) -> dict[str, list]:
    """Quotes and speaker mentions inside a window (token indices after [CLS]), which mention each quote's
    speaker is (-1: none in this window; ``PREVIOUS_SPEAKER``: the previous quote's speaker), the cue mentions
    inside it and which is each quote's (-1: none in this window), the previous quote's extent inside the window
    ([0, 0]: none), the paragraph of every window position, and the fragment joiner's examples (``join_targets``)."""
    quotes = sorted(article.quotes, key=lambda quote: quote.spans)
    sources = mentions_inside([q.speaker for q in quotes], tokens, start, end)
    cues = mentions_inside([q.cue for q in quotes], tokens, start, end)
    contents, gold, gold_cue, previous = [], [], [], []
    extents: list[Span | None] = []  # each quote's extent inside the window, in text order
    for index, quote in enumerate(quotes):
        ranges = [r for r in (token_range(tokens.offsets, span) for span in quote.spans) if r]
        inside = [(max(s, start), min(e, end)) for s, e in ranges if s < end and e > start]
        extents.append((inside[0][0] - start + 1, inside[-1][1] - start + 1) if inside else None)
        if not inside:
            continue
        contents.append(extents[-1])
        before = extents[index - 1] if index else None
        previous.append(list(before) if before else [0, 0])
        speaker = token_range(tokens.offsets, quote.speaker) if quote.speaker else None
        continues = (
            before is not None
            and quote.speaker is None
            and quote.speaker_entity is not None
            and quote.speaker_entity == quotes[index - 1].speaker_entity
        )
        gold.append(sources.index(speaker) if speaker in sources else PREVIOUS_SPEAKER if continues else -1)
        cue = token_range(tokens.offsets, quote.cue) if quote.cue else None
        gold_cue.append(cues.index(cue) if cue in cues else -1)
    return {
        "contents": [list(c) for c in contents],
        "sources": [[s - start + 1, e - start + 1] for s, e in sources],
        "gold_source": gold,
        "cues": [[s - start + 1, e - start + 1] for s, e in cues],
        "gold_cue": gold_cue,
        "previous": previous,
        "paragraphs": window_paragraphs(tokens, start, end),
        "joins": join_targets(tokens, quotes, start, end),
    }


def mentions_inside(mentions: list[Span | None], tokens: ArticleTokens, start: int, end: int) -> list[Span]:
    """The distinct token extents of the given character spans (None: no mention) that lie inside [start, end), in
    the order given."""
    inside: list[Span] = []
    for mention in mentions:
        found = token_range(tokens.offsets, mention) if mention else None
        if found and start <= found[0] and found[1] <= end and found not in inside:
            inside.append(found)
    return inside


def join_targets(tokens: ArticleTokens, quotes: list, start: int, end: int) -> list[list[int]]:
    """Each pair of consecutive content fragments (every quote's, in text order) whose gap lies inside a window,
    both cut to the window as the joiner sees them at inference (``joiner_pair``), as [left start, left end,
    right start, right end, 1 if both belong to one quote else 0], window positions."""
    fragments = sorted(
        (found, number)
        for number, quote in enumerate(quotes)
        for found in (token_range(tokens.offsets, span) for span in quote.spans)
        if found
    )
    pairs = []
    for (left, one), (right, other) in zip(fragments, fragments[1:]):
        cut = joiner_pair(left, right, (start, end))
        if cut is not None:
            pairs.append([*(position - start + 1 for position in cut), int(one == other)])
    return pairs


def joiner_pair(left: Span, right: Span, window: Span) -> tuple[int, int, int, int] | None:
    """Two consecutive fragments cut to a window that holds the end of the first and the start of the second
    (token indices), or None when it does not hold both (or they overlap)."""
    if not (window[0] < left[1] <= right[0] < window[1]):
        return None
    return max(left[0], window[0]), left[1], right[0], min(right[1], window[1])


def central_window(windows: list[Span], start: int, end: int) -> int:
    """The window in which tokens [start, end) sit most centrally (farthest from its nearer edge)."""
    return max(range(len(windows)), key=lambda w: min(start - windows[w][0], windows[w][1] - end))


def merge_window_logits(n_tokens: int, windows: list[Span], logits: list[np.ndarray]) -> np.ndarray:
    """Article-level token logits: each token takes the window in which it lies farthest from an edge,
    so a quote crossing a window edge is read where its context is whole."""
    merged = np.zeros((n_tokens, logits[0].shape[-1]), dtype=np.float32)
    best_margin = np.full(n_tokens, -1)
    for (start, end), window_logits in zip(windows, logits):
        positions = np.arange(start, end)
        margin = np.minimum(positions - start, end - 1 - positions)
        better = margin > best_margin[start:end]
        merged[start:end][better] = window_logits[: end - start][better]
        best_margin[start:end][better] = margin[better]
    return merged


def char_span(offsets: list[Span], tokens: Span) -> Span:
    return offsets[tokens[0]][0], offsets[tokens[1] - 1][1]
