"""Articles as token windows for the transformer: BIO role labels, linker targets, and the way back
from window predictions to article-level character spans."""

from __future__ import annotations

import bisect
import math
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


def linker_targets(tokens: ArticleTokens, article: Article, start: int, end: int) -> dict[str, list]:
    """Quotes and speaker mentions inside a window (token indices after [CLS]), which mention each
    quote's speaker is (-1: none in this window), and the paragraph of every window position."""
    sources: list[Span] = []
    for quote in article.quotes:
        found = token_range(tokens.offsets, quote.speaker) if quote.speaker else None
        if found and start <= found[0] and found[1] <= end and found not in sources:
            sources.append(found)
    contents, gold = [], []
    for quote in article.quotes:
        ranges = [r for r in (token_range(tokens.offsets, span) for span in quote.spans) if r]
        inside = [(max(s, start), min(e, end)) for s, e in ranges if s < end and e > start]
        if not inside:
            continue
        contents.append((inside[0][0] - start + 1, inside[-1][1] - start + 1))
        speaker = token_range(tokens.offsets, quote.speaker) if quote.speaker else None
        gold.append(sources.index(speaker) if speaker in sources else -1)
    return {
        "contents": [list(c) for c in contents],
        "sources": [[s - start + 1, e - start + 1] for s, e in sources],
        "gold_source": gold,
        "paragraphs": window_paragraphs(tokens, start, end),
    }


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


_CONTINUED = {
    LABEL2ID[label]: (LABEL2ID[f"B-{label[2:]}"], LABEL2ID[label]) for label in LABELS if label.startswith("I-")
}
"""The tags an inside tag may follow (its own B- and I-); any other tag may follow anything."""
_INSIDE = np.array(list(_CONTINUED), dtype=np.int64)
_OPENING = np.array([opening for opening, _ in _CONTINUED.values()], dtype=np.int64)
_OPENING_OF = np.full(len(LABELS), -1, dtype=np.int64)
_OPENING_OF[_INSIDE] = _OPENING


def viterbi_tags(logits: np.ndarray) -> np.ndarray:
    """The most probable tag sequence that is valid BIO (no I-X without its B-X), from token logits:
    a span's edges are decided with its neighbours instead of token by token.

    Exact, and mostly without a recursion: where the token-by-token best tags are already valid BIO they are
    the answer. The recursion runs only on stretches around an I-X that follows neither B-X nor I-X, each
    bounded by tokens where every B-X scores at least its I-X: there a best sequence can always take a
    non-inside tag (B-X instead of I-X keeps what follows valid and loses nothing), so the stretches
    on either side of such a token are independent."""
    tags = logits.argmax(-1).astype(np.int64)
    previous = np.concatenate(([-1], tags[:-1]))
    opening = _OPENING_OF[tags]
    invalid = np.flatnonzero((opening >= 0) & (previous != opening) & (previous != tags))
    if not len(invalid):
        return tags
    boundaries = np.flatnonzero((logits[:, _OPENING] >= logits[:, _INSIDE]).all(-1))
    done = 0
    for position in invalid:
        if position < done:
            continue  # inside a stretch already decoded
        index = np.searchsorted(boundaries, position)  # an invalid position is never a boundary: its I-X beats its B-X
        before, after = (
            boundaries[index - 1] if index else 0,
            boundaries[index] if index < len(boundaries) else len(tags),
        )
        tags[before:after] = _viterbi_stretch(logits[before:after])
        done = after
    return tags


def _viterbi_stretch(logits: np.ndarray) -> list[int]:
    """The exact recursion over a stretch that starts where no inside tag may open it; on plain floats
    (a handful of tags per token: array calls would cost more than the arithmetic)."""
    shifted = logits - logits.max(-1, keepdims=True)
    scores = (shifted - np.log(np.exp(shifted).sum(-1, keepdims=True))).tolist()
    best = [-math.inf if tag in _CONTINUED else score for tag, score in enumerate(scores[0])]
    back = []
    for row in scores[1:]:
        top = best.index(max(best))
        previous = [top] * len(row)
        for tag, (opening, inside) in _CONTINUED.items():
            previous[tag] = inside if best[inside] > best[opening] else opening
        back.append(previous)
        best = [best[before] + score for before, score in zip(previous, row)]
    tags = [best.index(max(best))]
    for previous in reversed(back):
        tags.append(previous[tags[-1]])
    return tags[::-1]


_ROLE_OF = np.array([-1] + [ROLES.index(label[2:]) for label in LABELS[1:]], dtype=np.int64)
_IS_INSIDE = np.array([label.startswith("I-") for label in LABELS])


def decode_spans(tags: np.ndarray) -> dict[str, list[Span]]:
    """Token spans per role from BIO tag ids (an I- without its B- starts a span): a span runs from a
    token that does not continue the one before it to the last token that continues it."""
    tags = np.asarray(tags, dtype=np.int64)
    roles = _ROLE_OF[tags]
    continues = _IS_INSIDE[tags] & (roles == np.concatenate(([-1], roles[:-1])))
    tagged = roles >= 0
    starts = np.flatnonzero(tagged & ~continues)
    ends = np.flatnonzero(tagged & ~np.concatenate((continues[1:], [False]))) + 1
    spans: dict[str, list[Span]] = {role: [] for role in ROLES}
    for start, end in zip(starts.tolist(), ends.tolist()):
        spans[ROLES[roles[start]]].append((start, end))
    return spans


def clean_content_spans(
    spans: dict[str, list[Span]], tokens: ArticleTokens, text: str, max_gap: int, min_words: int
) -> dict[str, list[Span]]:
    """Join content spans split by a short untagged gap (up to ``max_gap`` tokens, no cue or source, no
    paragraph break) and drop content spans of fewer than ``min_words`` words: the tagger's stray pieces."""
    roles = spans["CUE"] + spans["SOURCE"]
    joined: list[Span] = []
    for start, end in sorted(spans["CONTENT"]):
        if joined:
            left = joined[-1][1]
            gap_text = text[tokens.offsets[left - 1][1] : tokens.offsets[start][0]]
            if start - left <= max_gap and "\n" not in gap_text and not any(left <= s and e <= start for s, e in roles):
                joined[-1] = (joined[-1][0], end)
                continue
        joined.append((start, end))
    words = lambda s, e: len(text[tokens.offsets[s][0] : tokens.offsets[e - 1][1]].split())  # noqa: E731
    return {**spans, "CONTENT": [(s, e) for s, e in joined if words(s, e) >= min_words]}


def char_span(offsets: list[Span], tokens: Span) -> Span:
    return offsets[tokens[0]][0], offsets[tokens[1] - 1][1]
