"""Tag scores → role spans: the BIO decoders (token by token, or the best valid sequence), then the content
spans' clean-up (short gaps filled, stray pieces dropped) and the extra source candidates for the linker."""

from __future__ import annotations

import math

import numpy as np

from quoteattr.data.schema import Span, overlaps_any
from quoteattr.systems.model.decoding_config import DecodingConfig
from quoteattr.systems.model.windows import LABEL2ID, LABELS, ROLES, ArticleTokens

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


_FORBIDDEN = np.zeros((len(LABELS), len(LABELS)))
for _inside, _allowed in _CONTINUED.items():
    _FORBIDDEN[[tag for tag in range(len(LABELS)) if tag not in _allowed], _inside] = -math.inf
"""[from, to]: -inf where an inside tag would follow a tag other than its own B- and I-."""


def crf_viterbi_tags(logits: np.ndarray, transitions: np.ndarray) -> np.ndarray:
    """The best valid BIO sequence under a CRF: the tagger's logits as emission scores plus its learned
    [from, to] transition scores (``TagTransitions``); no inside tag opens the article."""
    allowed = transitions + _FORBIDDEN
    score = logits[0] + np.where(_OPENING_OF >= 0, -math.inf, 0.0)
    back = np.empty((max(len(logits) - 1, 0), len(LABELS)), dtype=np.int64)
    for position in range(1, len(logits)):
        total = score[:, None] + allowed
        back[position - 1] = total.argmax(0)
        score = total.max(0) + logits[position]
    tags = [int(score.argmax())]
    for previous in back[::-1]:
        tags.append(int(previous[tags[-1]]))
    return np.array(tags[::-1], dtype=np.int64)


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


def decode_roles(
    text: str,
    tokens: ArticleTokens,
    logits: np.ndarray,
    decoding: DecodingConfig,
    transitions: np.ndarray | None = None,
) -> dict[str, list[Span]]:
    """BIO decoding (the best valid sequence with ``tags: viterbi``, under the CRF's ``transitions`` when the
    checkpoint has them, or token by token), then short
    gaps inside content filled and stray fragments dropped. With ``source_candidate_bias`` > 0, the source
    mentions a decoding with that much more weight on SOURCE tags finds besides (clear of every decoded
    span) come back as ``CANDIDATE``: more mentions for the linker to choose from, not speakers by themselves."""

    def decode(scores: np.ndarray) -> dict[str, list[Span]]:
        if decoding.tags == "argmax":
            return decode_spans(scores.argmax(-1))
        return decode_spans(viterbi_tags(scores) if transitions is None else crf_viterbi_tags(scores, transitions))

    spans = clean_content_spans(decode(logits), tokens, text, decoding.content_gap_tokens, decoding.min_content_words)
    if decoding.source_candidate_bias:
        favoured = logits.copy()
        favoured[:, [LABEL2ID["B-SOURCE"], LABEL2ID["I-SOURCE"]]] += decoding.source_candidate_bias
        decoded = [s for found in spans.values() for s in found]
        spans["CANDIDATE"] = [s for s in decode(favoured)["SOURCE"] if not overlaps_any(s, decoded)]
    return spans
