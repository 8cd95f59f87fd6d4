"""The tagger's CRF: its likelihood, its Viterbi decoding, and a checkpoint that carries its transitions."""

from __future__ import annotations

import itertools

import numpy as np
import torch

from conftest import valid_bio
from quoteattr.systems.model.modeling import TagTransitions
from quoteattr.systems.model.tag_decoding import crf_viterbi_tags
from quoteattr.systems.model.windows import IGNORE, LABEL2ID, LABELS


def sequence_score(emissions: torch.Tensor, transitions: torch.Tensor, tags: tuple[int, ...]) -> torch.Tensor:
    return sum(emissions[i, t] for i, t in enumerate(tags)) + sum(
        transitions[a, b] for a, b in itertools.pairwise(tags)
    )


def test_the_crf_loss_is_the_gold_sequences_negative_log_likelihood_per_token():
    """Against the sum over every tag sequence, on the scored tokens only ([CLS], [SEP] and padding left out)."""
    torch.manual_seed(3)
    crf = TagTransitions()
    crf.raw.data = torch.randn(len(LABELS), len(LABELS)) / crf.SCALE
    logits = torch.randn(3, 6, len(LABELS))
    labels = torch.tensor(
        [[IGNORE, 1, 2, 0, 3, IGNORE], [IGNORE, 0, 5, IGNORE, IGNORE, IGNORE], [IGNORE] * 6]  # the last scores nothing
    )
    total, tokens = torch.tensor(0.0), 0
    for row in range(2):
        scored = [i for i in range(6) if labels[row, i] != IGNORE]
        emissions, gold = logits[row, scored], tuple(labels[row, scored].tolist())
        every = torch.stack(
            [sequence_score(emissions, crf.scores, s) for s in itertools.product(range(len(LABELS)), repeat=len(gold))]
        )
        total = total + torch.logsumexp(every, 0) - sequence_score(emissions, crf.scores, gold)
        tokens += len(gold)
    torch.testing.assert_close(crf.nll(logits, labels), total / tokens)


def test_crf_viterbi_finds_the_best_valid_sequence_under_the_learned_transitions():
    rng = np.random.default_rng(11)
    for _ in range(30):
        n = int(rng.integers(1, 5))
        logits = rng.normal(size=(n, len(LABELS))) * rng.choice([0.5, 3.0])
        transitions = rng.normal(size=(len(LABELS), len(LABELS))) * rng.choice([0.5, 3.0])
        total = lambda s, e=logits, t=transitions: sequence_score(e, t, s)  # noqa: E731
        best = max((s for s in itertools.product(range(len(LABELS)), repeat=n) if valid_bio(s)), key=total)
        found = tuple(int(t) for t in crf_viterbi_tags(logits, transitions))
        assert valid_bio(found) and abs(total(found) - total(best)) < 1e-9


def test_a_checkpoint_with_a_crf_trains_by_its_likelihood_and_decodes_with_its_transitions(tmp_path):
    from quoteattr.systems.model.attributor import QuoteAttributor
    from quoteattr.systems.model.modeling import collate
    from quoteattr.training.arguments import ModelArguments
    from quoteattr.training.trainer import build_model, grown_linker

    tokenizer, model, settings = build_model(ModelArguments(max_length=128, stride=32, tagger_crf=True))
    assert settings["linker"]["tag_transitions"] and model.linker.transitions is not None
    batch = collate(
        [{"input_ids": [101, 7, 8, 9, 102], "labels": [IGNORE, 1, 2, 0, IGNORE], "contents": [], "sources": [],
          "gold_source": []}],
        tokenizer.pad_token_id,
    )  # fmt: skip
    loss = model(**batch)["loss"]
    logits = model.tagger(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
    torch.testing.assert_close(loss, model.linker.transitions.nll(logits, batch["labels"]))

    model.linker.transitions.raw.data = torch.randn(len(LABELS), len(LABELS))
    QuoteAttributor(model, tokenizer, {**settings, "calibration": None}).save_pretrained(tmp_path / "final")
    loaded = QuoteAttributor.from_pretrained(tmp_path / "final", device="cpu")
    np.testing.assert_allclose(loaded.transitions, model.linker.transitions.scores.detach().numpy())
    text = "The mayor said on Monday that the budget for the new bridge was late."
    loaded.transitions[:] = -1e4  # only O → B-CONTENT and into I-CONTENT: decoding must find one quote, all content
    loaded.transitions[:, LABEL2ID["I-CONTENT"]] = loaded.transitions[LABEL2ID["O"], LABEL2ID["B-CONTENT"]] = 0
    assert len(loaded.predict(text).quotes) == 1
    # only O may follow any tag, so no quote (O → O too: were every transition as bad, the random head would decide)
    loaded.transitions[:, 1:] = -1e4
    loaded.transitions[:, LABEL2ID["O"]] = 0
    assert loaded.predict(text).quotes == []

    plain = build_model(ModelArguments(max_length=128, stride=32))[1].linker
    grown = grown_linker(plain, {**settings["linker"], "tag_transitions": False}, ["tag_transitions"])
    assert grown.transitions is not None and not grown.transitions.raw.any()
