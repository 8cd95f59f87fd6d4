"""The model: one encoder, a BIO tagger for content / cue / source, and a speaker linker that scores
each quote against the source mentions in its window (or none) from the same hidden states; the linker may also
hold the fragment joiner, which scores whether a content fragment continues the quote of the fragment before it, and
a cue scorer of the same shape as the linker, which links each quote to its cue, and the tag transitions of a CRF
trained with the tagger (the tag sequence scored as a whole, not token by token)."""

from __future__ import annotations

import math

import torch
from torch import nn

from quoteattr.systems.model.windows import LABELS, PREVIOUS_SPEAKER


def bucket_distance(distance: torch.Tensor, buckets: int) -> torch.Tensor:
    """Signed log2 buckets of a token distance, shifted to be embedding indices."""
    magnitude = torch.clamp(torch.floor(torch.log2(distance.abs().float() + 1)), max=buckets).long()
    return torch.sign(distance).long() * magnitude + buckets


def pool_spans(hidden: torch.Tensor, spans: torch.Tensor) -> torch.Tensor:
    """Mean of the hidden states over each [start, end) token span: [B, T, H] × [B, N, 2] → [B, N, H]
    (one batched product with each span's averaging weights)."""
    start = spans[..., 0].clamp(min=0)
    end = torch.maximum(spans[..., 1], start + 1).clamp(max=hidden.shape[1])
    positions = torch.arange(hidden.shape[1], device=hidden.device)
    inside = (positions >= start.unsqueeze(-1)) & (positions < end.unsqueeze(-1))  # [B, N, T]
    return torch.bmm(inside.to(hidden.dtype) / (end - start).unsqueeze(-1).to(hidden.dtype), hidden)


def paragraph_at(paragraphs: torch.Tensor, positions: torch.Tensor) -> torch.Tensor:
    """The paragraph index at each token position ([B, T] × [B, N] → [B, N]; positions clamped into the window)."""
    return torch.gather(paragraphs, 1, positions.clamp(0, paragraphs.shape[1] - 1))


def paragraph_distance(
    paragraphs: torch.Tensor, contents: torch.Tensor, sources: torch.Tensor, span: int
) -> torch.Tensor:
    """Paragraphs from each quote to each source ([B, Q, S], clamped to ±``span`` and shifted to be
    embedding indices): counted from the quote's first token for a source before it, else from its last."""
    quote_first = paragraph_at(paragraphs, contents[..., 0]).unsqueeze(2)
    quote_last = paragraph_at(paragraphs, contents[..., 1] - 1).unsqueeze(2)
    source = paragraph_at(paragraphs, sources[..., 0]).unsqueeze(1)
    before = sources[..., 0].unsqueeze(1) < contents[..., 0].unsqueeze(2)
    distance = torch.where(before, source - quote_first, source - quote_last)
    return distance.clamp(-span, span) + span


PREVIOUS_GAP = 3
"""Paragraphs between a quote and the previous one that the previous-speaker option tells apart (more count as 3)."""


class FragmentJoiner(nn.Module):
    """Scores 'the right fragment continues the quote of the left one' for pairs of consecutive content fragments,
    from both fragments' pooled states, the states of what lies between them (a cue, a speaker, a sentence break),
    their token distance and the paragraphs between them: quote assembly learned from gold quotes' fragments."""

    def __init__(self, hidden_size: int, inner_size: int = 256, distance_buckets: int = 10) -> None:
        super().__init__()
        self.distance_buckets = distance_buckets
        self.distance = nn.Embedding(2 * distance_buckets + 1, 32)
        self.paragraph_gap = nn.Embedding(PREVIOUS_GAP + 1, 16)
        self.score = nn.Sequential(nn.Linear(4 * hidden_size + 48, inner_size), nn.GELU(), nn.Linear(inner_size, 1))

    def forward(self, hidden: torch.Tensor, pairs: torch.Tensor, paragraphs: torch.Tensor) -> torch.Tensor:
        """[B, P] logits of joining each pair; ``pairs``: [B, P, 4] the left fragment's and the right one's
        [start, end) token spans; ``paragraphs``: [B, T] paragraph index of every position."""
        left, right = pairs[..., :2], pairs[..., 2:]
        between = torch.stack([left[..., 1], torch.maximum(right[..., 0], left[..., 1] + 1)], dim=-1)
        states = [pool_spans(hidden, span) for span in (left, right, between)]
        gap = paragraph_at(paragraphs, right[..., 0]) - paragraph_at(paragraphs, left[..., 1] - 1)
        gap = gap.clamp(0, PREVIOUS_GAP)
        distance = bucket_distance(right[..., 0] - left[..., 1], self.distance_buckets)
        features = [*states, states[0] * states[1], self.distance(distance), self.paragraph_gap(gap)]
        return self.score(torch.cat(features, dim=-1)).squeeze(-1)


class TagTransitions(nn.Module):
    """A linear-chain CRF over the tagger's logits: a learned score for each tag following each other tag, trained by
    the sequence's negative log-likelihood (so a span's edges are learned with its neighbours' tags), decoded by
    Viterbi with the same scores. The scores are held ``SCALE`` times smaller than they act: Adam's steps move them
    that much faster than the encoder's weights at the same learning rate, as a table learned from zero needs."""

    SCALE = 50.0

    def __init__(self) -> None:
        super().__init__()
        self.raw = nn.Parameter(torch.zeros(len(LABELS), len(LABELS)))

    @property
    def scores(self) -> torch.Tensor:
        """[from, to] transition scores."""
        return self.SCALE * self.raw

    def nll(self, logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """The mean negative log-likelihood per scored token of the gold tags; ``labels`` -100 outside each
        sequence's scored tokens, which must be contiguous ([CLS] before them, [SEP] and padding after)."""
        mask = labels >= 0
        first = mask.float().argmax(1)  # where each sequence's scored tokens start
        lengths = mask.sum(1)
        keep = lengths > 0
        logits, labels, first, lengths = logits[keep].float(), labels[keep], first[keep], lengths[keep]
        positions = (first.unsqueeze(1) + torch.arange(logits.shape[1], device=logits.device)).clamp(
            max=logits.shape[1] - 1
        )
        emissions = torch.gather(logits, 1, positions.unsqueeze(-1).expand(-1, -1, logits.shape[-1]))
        tags = torch.gather(labels, 1, positions).clamp(min=0)
        inside = torch.arange(logits.shape[1], device=logits.device).unsqueeze(0) < lengths.unsqueeze(1)
        transitions = self.scores
        gold = torch.gather(emissions, 2, tags.unsqueeze(-1)).squeeze(-1)
        gold = gold + torch.cat([torch.zeros_like(gold[:, :1]), transitions[tags[:, :-1], tags[:, 1:]]], dim=1)
        gold = (gold * inside).sum(1)
        alpha = emissions[:, 0]
        for step in range(1, emissions.shape[1]):
            moved = torch.logsumexp(alpha.unsqueeze(2) + transitions, dim=1) + emissions[:, step]
            alpha = torch.where(inside[:, step].unsqueeze(1), moved, alpha)
        return (torch.logsumexp(alpha, dim=1) - gold).sum() / lengths.sum()


class SpeakerLinker(nn.Module):
    """Scores (quote, source mention) pairs and a 'no speaker here' option for every quote, from the
    pooled states, their token distance and (``paragraph_span`` > 0) the paragraphs between them; with
    ``previous_speaker``, also 'the previous quote's speaker' (a cue-less continuation), from both quotes'
    states and the paragraphs between them. Columns: none, [previous,] then the sources. With
    ``fragment_joiner``, it holds the ``FragmentJoiner`` too (``joiner``; saved with it); with ``cues``, a second
    linker that scores each quote against the cue mentions of its window, or none (``cue_scorer``); with
    ``tag_transitions``, the tagger's CRF (``transitions``, a ``TagTransitions``)."""

    def __init__(
        self,
        hidden_size: int,
        inner_size: int = 256,
        distance_buckets: int = 10,
        paragraph_span: int = 0,
        previous_speaker: bool = False,
        fragment_joiner: bool = False,
        cues: bool = False,
        tag_transitions: bool = False,
    ) -> None:
        super().__init__()
        self.transitions = TagTransitions() if tag_transitions else None
        self.distance_buckets = distance_buckets
        self.paragraph_span = paragraph_span
        self.previous_speaker = previous_speaker
        self.first_source = 2 if previous_speaker else 1
        self.joiner = FragmentJoiner(hidden_size, inner_size, distance_buckets) if fragment_joiner else None
        self.cue_scorer = SpeakerLinker(hidden_size, inner_size, distance_buckets, paragraph_span) if cues else None
        if previous_speaker:
            self.previous_gap = nn.Embedding(PREVIOUS_GAP + 1, 16)
            self.previous = nn.Sequential(
                nn.Linear(3 * hidden_size + 16, inner_size), nn.GELU(), nn.Linear(inner_size, 1)
            )
        self.distance = nn.Embedding(2 * distance_buckets + 1, 32)
        extra = 32
        if paragraph_span:
            self.paragraph = nn.Embedding(2 * paragraph_span + 1, 16)
            extra += 16
        self.pair = nn.Sequential(nn.Linear(4 * hidden_size + extra, inner_size), nn.GELU(), nn.Linear(inner_size, 1))
        self.none = nn.Sequential(nn.Linear(hidden_size, inner_size), nn.GELU(), nn.Linear(inner_size, 1))

    def forward(
        self,
        hidden: torch.Tensor,
        contents: torch.Tensor,
        sources: torch.Tensor,
        source_mask: torch.Tensor,
        paragraphs: torch.Tensor | None = None,
        previous: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """[B, Q, first_source + S] scores; column 0 is 'none', padded sources score -inf. ``paragraphs``: [B, T]
        paragraph index of every position (needed when the linker was built with ``paragraph_span``);
        ``previous``: [B, Q, 2] the previous quote's token span ([0, 0]: none in the window; needed with
        ``previous_speaker``)."""
        quote = pool_spans(hidden, contents)  # [B, Q, H]
        columns = [self.none(quote)]  # [B, Q, 1]
        if self.previous_speaker:
            if previous is None:
                raise ValueError("this linker scores the previous quote's speaker: pass each quote's previous quote")
            columns.append(self._previous_column(hidden, quote, contents, previous, paragraphs))
        if sources.shape[1] == 0:
            return torch.cat(columns, dim=-1)
        source = pool_spans(hidden, sources)  # [B, S, H]
        distance = sources[..., 0].unsqueeze(1) - contents[..., 0].unsqueeze(2)  # [B, Q, S]
        embedded = [(self.distance, bucket_distance(distance, self.distance_buckets))]
        if self.paragraph_span:
            if paragraphs is None:
                raise ValueError("this linker uses paragraph distances: pass the paragraph index of every position")
            embedded.append((self.paragraph, paragraph_distance(paragraphs, contents, sources, self.paragraph_span)))
        pair = self.pair[2](self.pair[1](self._pair_inner(quote, source, embedded))).squeeze(-1)  # [B, Q, S]
        pair = pair.masked_fill(~source_mask.unsqueeze(1), -math.inf)
        return torch.cat([*columns, pair], dim=-1)

    def _previous_column(
        self,
        hidden: torch.Tensor,
        quote: torch.Tensor,
        contents: torch.Tensor,
        previous: torch.Tensor,
        paragraphs: torch.Tensor | None,
    ) -> torch.Tensor:
        """[B, Q, 1] scores of 'the previous quote's speaker'; -inf where there is no previous quote."""
        before = pool_spans(hidden, previous)
        gap = torch.zeros(previous.shape[:2], dtype=torch.long, device=previous.device)
        if paragraphs is not None:
            gap = (paragraph_at(paragraphs, contents[..., 0]) - paragraph_at(paragraphs, previous[..., 1] - 1)).clamp(
                0, PREVIOUS_GAP
            )
        features = torch.cat([quote, before, quote * before, self.previous_gap(gap)], dim=-1)
        exists = previous[..., 1] > previous[..., 0]
        return self.previous(features).masked_fill(~exists.unsqueeze(-1), -math.inf)

    def _pair_inner(
        self, quote: torch.Tensor, source: torch.Tensor, embedded: list[tuple[nn.Embedding, torch.Tensor]]
    ) -> torch.Tensor:
        """The pair layer's first linear map of [q, s, q·s, q − s, embeddings…] ([B, Q, S, inner]), computed
        by parts: the quote and source terms once per quote and per source, the embeddings' through their
        tables, only q·s per pair (the same sum as on the concatenated features, without building them)."""
        weight, hidden_size = self.pair[0].weight, quote.shape[-1]
        w_quote, w_source, w_product, w_difference, w_embedded = weight.split(
            [hidden_size] * 4 + [weight.shape[1] - 4 * hidden_size], dim=1
        )
        inner = (quote @ (w_quote + w_difference).T + self.pair[0].bias).unsqueeze(2) + (
            source @ (w_source - w_difference).T
        ).unsqueeze(1)
        inner = inner + (quote.unsqueeze(2) * source.unsqueeze(1)) @ w_product.T
        for (embedding, index), w in zip(embedded, w_embedded.split([e.embedding_dim for e, _ in embedded], dim=1)):
            inner = inner + nn.functional.embedding(index, embedding.weight @ w.T)
        return inner


class QuoteAttributionModel(nn.Module):
    """Tagger and linker trained together; the loss is the tagger's plus ``linker_weight`` × the linker's (and the
    fragment joiner's and the cue scorer's, when the linker has them)."""

    def __init__(self, tagger: nn.Module, linker: SpeakerLinker, linker_weight: float = 1.0) -> None:
        super().__init__()
        self.tagger = tagger
        self.linker = linker
        self.linker_weight = linker_weight

    @property
    def config(self):
        return self.tagger.config

    def forward(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor,
        labels: torch.Tensor | None = None,
        contents: torch.Tensor | None = None,
        content_mask: torch.Tensor | None = None,
        sources: torch.Tensor | None = None,
        source_mask: torch.Tensor | None = None,
        gold_source: torch.Tensor | None = None,
        paragraphs: torch.Tensor | None = None,
        previous: torch.Tensor | None = None,
        joins: torch.Tensor | None = None,
        joined: torch.Tensor | None = None,
        join_mask: torch.Tensor | None = None,
        cues: torch.Tensor | None = None,
        cue_mask: torch.Tensor | None = None,
        gold_cue: torch.Tensor | None = None,
    ) -> dict[str, torch.Tensor]:
        transitions = self.linker.transitions
        output = self.tagger(
            input_ids=input_ids,
            attention_mask=attention_mask,
            labels=labels if transitions is None else None,
            output_hidden_states=True,
        )
        result = {"logits": output.logits}
        loss = output.loss if transitions is None or labels is None else transitions.nll(output.logits, labels)
        hidden = output.hidden_states[-1]
        if loss is not None and contents is not None and content_mask is not None and bool(content_mask.any()):
            scores = self.linker(hidden, contents, sources, source_mask, paragraphs, previous)
            link_loss = nn.functional.cross_entropy(scores[content_mask], self.link_columns(gold_source)[content_mask])
            loss = loss + self.linker_weight * link_loss
            if self.linker.cue_scorer is not None and cues is not None:
                cue_scores = self.linker.cue_scorer(hidden, contents, cues, cue_mask, paragraphs)
                cue_loss = nn.functional.cross_entropy(cue_scores[content_mask], (gold_cue + 1)[content_mask])
                loss = loss + self.linker_weight * cue_loss
        if loss is not None and self.linker.joiner is not None and join_mask is not None and bool(join_mask.any()):
            logits = self.linker.joiner(hidden, joins, paragraphs)
            join_loss = nn.functional.binary_cross_entropy_with_logits(logits[join_mask], joined[join_mask].float())
            loss = loss + self.linker_weight * join_loss
        if loss is not None:
            result["loss"] = loss
        return result

    def link_columns(self, gold_source: torch.Tensor) -> torch.Tensor:
        """The linker column of each gold choice: a source index → its column, -1 → 'none', ``PREVIOUS_SPEAKER``
        → 'previous' (or 'none' for a linker without that option: its speaker is not in the window)."""
        previous = 1 if self.linker.previous_speaker else 0
        return torch.where(
            gold_source >= 0,
            gold_source + self.linker.first_source,
            torch.where(gold_source == PREVIOUS_SPEAKER, previous, 0),
        )


def collate(features: list[dict], pad_token_id: int) -> dict[str, torch.Tensor]:
    """Pad token sequences and the variable-length quote / source lists of a batch."""
    length = max(len(f["input_ids"]) for f in features)
    n_quotes = max(1, max(len(f["contents"]) for f in features))
    n_sources = max(len(f["sources"]) for f in features)
    n_joins = max(len(f.get("joins", [])) for f in features)
    n_cues = max(len(f.get("cues", [])) for f in features)
    batch = {
        "input_ids": torch.full((len(features), length), pad_token_id, dtype=torch.long),
        "attention_mask": torch.zeros((len(features), length), dtype=torch.long),
        "labels": torch.full((len(features), length), -100, dtype=torch.long),
        "contents": torch.zeros((len(features), n_quotes, 2), dtype=torch.long),
        "content_mask": torch.zeros((len(features), n_quotes), dtype=torch.bool),
        "sources": torch.zeros((len(features), n_sources, 2), dtype=torch.long),
        "source_mask": torch.zeros((len(features), n_sources), dtype=torch.bool),
        "gold_source": torch.full((len(features), n_quotes), -1, dtype=torch.long),
        "paragraphs": torch.zeros((len(features), length), dtype=torch.long),
        "previous": torch.zeros((len(features), n_quotes, 2), dtype=torch.long),
        "joins": torch.zeros((len(features), n_joins, 4), dtype=torch.long),
        "joined": torch.zeros((len(features), n_joins), dtype=torch.long),
        "join_mask": torch.zeros((len(features), n_joins), dtype=torch.bool),
        "cues": torch.zeros((len(features), n_cues, 2), dtype=torch.long),
        "cue_mask": torch.zeros((len(features), n_cues), dtype=torch.bool),
        "gold_cue": torch.full((len(features), n_quotes), -1, dtype=torch.long),
    }
    for row, feature in enumerate(features):
        n = len(feature["input_ids"])
        batch["input_ids"][row, :n] = torch.tensor(feature["input_ids"])
        batch["attention_mask"][row, :n] = 1
        if "paragraphs" in feature:
            batch["paragraphs"][row, :n] = torch.tensor(feature["paragraphs"])
        if "labels" in feature:
            batch["labels"][row, :n] = torch.tensor(feature["labels"])
        for index, (span, gold) in enumerate(zip(feature["contents"], feature["gold_source"])):
            batch["contents"][row, index] = torch.tensor(span)
            if "previous" in feature:
                batch["previous"][row, index] = torch.tensor(feature["previous"][index])
            batch["content_mask"][row, index] = True
            batch["gold_source"][row, index] = gold
        for index, span in enumerate(feature["sources"]):
            batch["sources"][row, index] = torch.tensor(span)
            batch["source_mask"][row, index] = True
        for index, (*pair, same) in enumerate(feature.get("joins", [])):
            batch["joins"][row, index] = torch.tensor(pair)
            batch["joined"][row, index] = same
            batch["join_mask"][row, index] = True
        for index, span in enumerate(feature.get("cues", [])):
            batch["cues"][row, index] = torch.tensor(span)
            batch["cue_mask"][row, index] = True
        for index, gold in enumerate(feature.get("gold_cue", [])):
            batch["gold_cue"][row, index] = gold
    return batch
