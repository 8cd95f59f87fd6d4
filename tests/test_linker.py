"""The speaker linker's scores and the token lookups it is fed with."""

from __future__ import annotations

import random

import torch

from quoteattr.systems.model.modeling import SpeakerLinker, bucket_distance, paragraph_distance, pool_spans
from quoteattr.systems.model.windows import token_range


def concatenated_pair_scores(linker: SpeakerLinker, quote, source, contents, sources, paragraphs) -> torch.Tensor:
    """The pair layer on the features it was defined on: [q, s, q·s, q − s, distance, paragraphs] per pair."""
    q = quote.unsqueeze(2).expand(-1, -1, source.shape[1], -1)
    s = source.unsqueeze(1).expand(-1, quote.shape[1], -1, -1)
    distance = sources[..., 0].unsqueeze(1) - contents[..., 0].unsqueeze(2)
    features = torch.cat(
        [
            q,
            s,
            q * s,
            q - s,
            linker.distance(bucket_distance(distance, linker.distance_buckets)),
            linker.paragraph(paragraph_distance(paragraphs, contents, sources, linker.paragraph_span)),
        ],
        dim=-1,
    )
    return linker.pair(features).squeeze(-1)


def test_pair_scores_computed_by_parts_equal_the_layer_on_concatenated_features():
    torch.manual_seed(0)
    linker = SpeakerLinker(hidden_size=16, inner_size=8, paragraph_span=3)
    hidden = torch.randn(2, 30, 16, requires_grad=True)
    contents = torch.tensor([[[2, 9], [12, 20], [0, 1]], [[5, 7], [21, 29], [3, 4]]])
    sources = torch.tensor([[[0, 2], [10, 12], [25, 27], [1, 2]], [[8, 10], [0, 3], [18, 20], [29, 30]]])
    mask = torch.ones(2, 4, dtype=torch.bool)
    paragraphs = torch.arange(30).div(7, rounding_mode="floor").expand(2, -1)
    scores = linker(hidden, contents, sources, mask, paragraphs)
    expected = concatenated_pair_scores(
        linker, pool_spans(hidden, contents), pool_spans(hidden, sources), contents, sources, paragraphs
    )
    torch.testing.assert_close(scores[..., 1:], expected, rtol=1e-5, atol=1e-5)
    (gradient,) = torch.autograd.grad(scores[..., 1:].sum(), hidden)
    (expected_gradient,) = torch.autograd.grad(expected.sum(), hidden)
    torch.testing.assert_close(gradient, expected_gradient, rtol=1e-4, atol=1e-5)


def test_token_range_finds_the_tokens_a_character_span_overlaps():
    rng = random.Random(0)
    for _ in range(2000):
        offsets, position = [], 0
        for _ in range(rng.randint(0, 10)):
            position += rng.randint(0, 2)
            length = rng.choice([0, 1, 2, 3])  # 0: an empty token, which never counts
            offsets.append((position, position + length))
            position += length
        start = rng.randint(-1, position + 1)
        end = rng.randint(start, position + 2)
        inside = [i for i, (s, e) in enumerate(offsets) if s < end and start < e and e > s]
        assert token_range(offsets, (start, end)) == ((inside[0], inside[-1] + 1) if inside else None)


def test_the_previous_speaker_option_is_a_column_of_its_own_and_closed_without_a_previous_quote():
    from quoteattr.systems.model.windows import PREVIOUS_SPEAKER
    from quoteattr.training.trainer import grown_linker

    torch.manual_seed(0)
    plain = SpeakerLinker(hidden_size=16, inner_size=8, paragraph_span=3)
    shape = {"inner_size": 8, "paragraph_span": 3}
    linker = grown_linker(plain, shape, ["previous_speaker"])
    assert shape["previous_speaker"] and linker.joiner is None
    hidden = torch.randn(1, 30, 16)
    contents = torch.tensor([[[2, 9], [12, 20]]])
    previous = torch.tensor([[[0, 0], [2, 9]]])  # the first quote has no previous quote in the window
    sources = torch.tensor([[[0, 2], [25, 27]]])
    mask = torch.ones(1, 2, dtype=torch.bool)
    paragraphs = torch.arange(30).div(7, rounding_mode="floor").unsqueeze(0)
    scores = linker(hidden, contents, sources, mask, paragraphs, previous)
    assert scores.shape == (1, 2, 4) and linker.first_source == 2
    assert scores[0, 0, 1] == -torch.inf and torch.isfinite(scores[0, 1, 1])
    # the grown linker keeps the plain one's none and pair scores
    torch.testing.assert_close(scores[..., [0, 2, 3]], plain(hidden, contents, sources, mask, paragraphs))
    from quoteattr.systems.model.modeling import QuoteAttributionModel

    gold = torch.tensor([[-1, PREVIOUS_SPEAKER, 0, 1]])
    with_option = QuoteAttributionModel(torch.nn.Identity(), linker).link_columns(gold)
    without = QuoteAttributionModel(torch.nn.Identity(), plain).link_columns(gold)
    assert with_option.tolist() == [[0, 1, 2, 3]] and without.tolist() == [[0, 0, 1, 2]]


def test_the_fragment_joiner_scores_each_pair_and_its_loss_joins_the_model_loss():
    from quoteattr.systems.model.assembly import joined_fragments
    from quoteattr.systems.model.modeling import QuoteAttributionModel, collate
    from quoteattr.training.trainer import grown_linker

    torch.manual_seed(0)
    plain = SpeakerLinker(hidden_size=16, inner_size=8, paragraph_span=3)
    linker = grown_linker(plain, {"inner_size": 8, "paragraph_span": 3}, ["fragment_joiner"])
    hidden = torch.randn(1, 30, 16)
    paragraphs = torch.arange(30).div(7, rounding_mode="floor").unsqueeze(0)
    pairs = torch.tensor([[[2, 9, 12, 20], [12, 20, 22, 23]]])
    logits = linker.joiner(hidden, pairs, paragraphs)
    assert logits.shape == (1, 2) and torch.isfinite(logits).all()
    torch.testing.assert_close(linker.joiner(hidden, pairs[:, 1:], paragraphs)[0, 0], logits[0, 1])  # pairs alone

    batch = collate(
        [
            {
                "input_ids": list(range(30)),
                "contents": [[2, 9], [12, 20]],
                "sources": [],
                "gold_source": [-1, -1],
                "joins": [[2, 9, 12, 20, 1]],
            }
        ],
        pad_token_id=0,
    )
    assert batch["joins"].tolist() == [[[2, 9, 12, 20]]] and batch["joined"].tolist() == [[1]]

    class Tagger(torch.nn.Module):
        def forward(self, input_ids, attention_mask, labels, output_hidden_states):
            return type("Output", (), {"logits": hidden, "loss": torch.tensor(0.0), "hidden_states": [hidden]})

    loss = QuoteAttributionModel(Tagger(), linker)(**batch)["loss"]
    expected = torch.nn.functional.binary_cross_entropy_with_logits(logits[0, :1], torch.ones(1))
    no_speaker = torch.nn.functional.cross_entropy(
        linker(hidden, batch["contents"], batch["sources"], batch["source_mask"], batch["paragraphs"])[0],
        torch.zeros(2, dtype=torch.long),
    )
    torch.testing.assert_close(loss, expected + no_speaker)

    probabilities = {((0, 2), (3, 5)): 0.9, ((3, 5), (8, 9)): 0.2, ((8, 9), (10, 12)): 0.6}
    join = lambda found: [probabilities[pair] for pair in found]  # noqa: E731
    fragments = [(0, 2), (3, 5), (8, 9), (10, 12)]
    assert joined_fragments(fragments, join, 0.5) == [[(0, 2), (3, 5)], [(8, 9), (10, 12)]]
    assert joined_fragments(fragments, join, 0.95) == [[fragment] for fragment in fragments]
    assert joined_fragments([], join, 0.5) == []


def test_the_joiner_sees_at_inference_the_pairs_it_learns_from(untrained_checkpoint):
    """The pairs of gold fragments the attributor scores are the training pairs of the window it picks: the same
    window positions, a fragment cut where the window cuts it."""
    from quoteattr.data.schema import Article, Quote
    from quoteattr.systems.model.attributor import QuoteAttributor
    from quoteattr.systems.model.windows import join_targets, token_range

    attributor = QuoteAttributor.from_pretrained(untrained_checkpoint, device="cpu")
    part = '"We will rebuild every house on this street and the next one," the mayor said, "and soon." '
    text = part * 12
    spans = [(m.start(), m.end()) for m in __import__("re").finditer(r'"[^"]*"', text)]
    quotes = [Quote([spans[i], spans[i + 1]], "direct") for i in range(0, len(spans), 2)]
    [(article, analysis)] = attributor.analyse([Article("a", text, quotes=quotes)])
    assert len(analysis.windows) > 1
    seen = []

    class Recorder(torch.nn.Module):
        def forward(self, hidden, pairs, paragraphs):
            seen.append(pairs)
            return torch.zeros(pairs.shape[:2])

    attributor.linker.joiner = Recorder()
    fragments = sorted(token_range(analysis.tokens.offsets, s) for s in spans)
    assert attributor._joiner(analysis)(list(zip(fragments, fragments[1:]))) == [0.5] * (len(fragments) - 1)
    scored = {tuple(row) for batch in seen for window in batch.tolist() for row in window if row != [0, 1, 1, 2]}
    learned = {
        tuple(row[:4]) for start, end in analysis.windows for row in join_targets(analysis.tokens, quotes, start, end)
    }
    assert len(scored) == len(fragments) - 1 and scored <= learned


def test_the_cue_scorer_links_each_quote_to_a_cue_of_its_window_and_its_loss_joins_the_model_loss():
    from quoteattr.systems.model.modeling import QuoteAttributionModel, collate
    from quoteattr.training.trainer import grown_linker

    torch.manual_seed(0)
    plain = SpeakerLinker(hidden_size=16, inner_size=8, paragraph_span=3)
    linker = grown_linker(plain, {"inner_size": 8, "paragraph_span": 3}, ["cues"])
    assert linker.cue_scorer is not None and linker.joiner is None
    hidden = torch.randn(1, 30, 16)
    batch = collate(
        [
            {
                "input_ids": list(range(30)),
                "contents": [[2, 9], [12, 20]],
                "sources": [],
                "gold_source": [-1, -1],
                "cues": [[10, 11], [22, 23]],
                "gold_cue": [1, -1],
            }
        ],
        pad_token_id=0,
    )
    assert batch["cues"].tolist() == [[[10, 11], [22, 23]]] and batch["gold_cue"].tolist() == [[1, -1]]

    class Tagger(torch.nn.Module):
        def forward(self, input_ids, attention_mask, labels, output_hidden_states):
            return type("Output", (), {"logits": hidden, "loss": torch.tensor(0.0), "hidden_states": [hidden]})

    loss = QuoteAttributionModel(Tagger(), linker)(**batch)["loss"]
    no_speaker = torch.nn.functional.cross_entropy(
        linker(hidden, batch["contents"], batch["sources"], batch["source_mask"], batch["paragraphs"])[0],
        torch.zeros(2, dtype=torch.long),
    )
    cue_scores = linker.cue_scorer(hidden, batch["contents"], batch["cues"], batch["cue_mask"], batch["paragraphs"])
    assert cue_scores.shape == (1, 2, 3)  # none, then each cue
    cue_loss = torch.nn.functional.cross_entropy(cue_scores[0], torch.tensor([2, 0]))
    torch.testing.assert_close(loss, no_speaker + cue_loss)


def test_a_quote_takes_the_cue_the_scorer_links_not_the_nearest(untrained_checkpoint):
    from quoteattr.data.schema import Article
    from quoteattr.systems.model.assembly import assemble_article
    from quoteattr.systems.model.attributor import QuoteAttributor
    from quoteattr.systems.model.windows import char_span

    attributor = QuoteAttributor.from_pretrained(untrained_checkpoint, device="cpu")
    text = '"We will rebuild," the mayor said on Monday, as officials warned of delays.'
    article = Article("a", text)
    [(_, analysis)] = attributor.analyse([article])

    def word(found: str) -> int:
        return next(i for i, (start, end) in enumerate(analysis.tokens.offsets) if text[start:end] == found)

    content = (word('"'), word(",") + 1)
    said, warned = (word("said"), word("said") + 1), (word("warned"), word("warned") + 1)
    spans = {"CONTENT": [content], "CUE": [said, warned], "SOURCE": [(word("mayor"), word("mayor") + 1)]}

    class FarthestCue(torch.nn.Module):
        def forward(self, hidden, contents, cues, cue_mask, paragraphs):
            columns = torch.full((*contents.shape[:2], 1 + cues.shape[1]), -1.0)
            columns[..., -1] = 1.0  # the last cue of the window
            return columns

    attributor.linker.cue_scorer = FarthestCue()
    choose = attributor._linker_choice(analysis.tokens, analysis.hidden)
    quoted = assemble_article(article, analysis.tokens, analysis.windows, spans, choose, attributor.decoding)
    assert quoted.quotes[0].cue == char_span(analysis.tokens.offsets, warned)
    attributor.linker.cue_scorer = None  # a checkpoint without a cue scorer: the cue nearest the speaker
    choose = attributor._linker_choice(analysis.tokens, analysis.hidden)
    quoted = assemble_article(article, analysis.tokens, analysis.windows, spans, choose, attributor.decoding)
    assert quoted.quotes[0].cue == char_span(analysis.tokens.offsets, said)
