"""Fitting the antecedent scorer on hand-labelled speaker entities: every pronoun or description speaker of the gold
articles, its candidates as the resolver sees them (speakers before it and the article's named people and
organisations outside quotes, and for a description the new entity it would name), and the candidate the gold names, or
none; scored by entity F1 given gold mentions."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache

import torch

from quoteattr.data.schema import Article, Span
from quoteattr.evaluation.scoring import normalised_name, prf, same_entity
from quoteattr.systems.antecedents import FEATURES, SCORER_KINDS, AntecedentScorer, Chooser
from quoteattr.systems.entity_mentions import named_mentions, outside
from quoteattr.systems.mention_resolver import mention_kind, resolution_order, resolve_mentions

L2_CHOICES = (0.001, 0.01, 0.1)
"""Weight penalties tried; the one with the best validation F1 is kept."""
FOLDS = 5
"""Folds of the cross-validated F1 (every gold article scored by a scorer fitted without it)."""


@dataclass(frozen=True)
class Example:
    """One mention to resolve: its kind, its candidates' features, and the gold candidate (None: none of them)."""

    kind: str
    rows: list[dict[str, float]]
    target: int | None


def speaker_mentions(article: Article) -> tuple[list[Span], dict[Span, str | None]]:
    """The gold speaker mentions in text order, and the entity the gold gives each."""
    entities = {quote.speaker: quote.speaker_entity for quote in article.quotes if quote.speaker}
    return sorted(entities), entities


def outside_quotes(article: Article) -> Callable[[], list[tuple[Span, str]]]:
    """The article's named people and organisations outside its gold quotes (as the model's resolver gets them)."""
    return outside(lambda: list(_named_in(article.text)), [span for quote in article.quotes for span in quote.spans])


@lru_cache(maxsize=1024)
def _named_in(text: str) -> tuple[tuple[Span, str], ...]:
    """spaCy's entities of an article, found once however many fits and choosers score it."""
    return tuple(named_mentions(text))


class _GoldChoice:
    """A chooser that records each choice's features and picks the candidate the gold names (teacher forcing)."""

    def __init__(self, gold_names: list[str | None]) -> None:
        self.pending = list(gold_names)
        self.examples: list[Example] = []

    def __call__(self, kind: str, names: list[str], rows: list[dict[str, float]]) -> int | None:
        gold = self.pending.pop(0)
        new = [bool(row["new_entity"]) for row in rows]
        exact = [i for i, name in enumerate(names) if gold and name.lower() == gold.lower()]
        named = [i for i, name in enumerate(names) if gold and not new[i] and same_entity(name, gold)]
        own = [i for i, name in enumerate(names) if gold and new[i] and normalised_name(name) == normalised_name(gold)]
        matching = exact or named or own  # a new entity only when its own name is the gold's, not a part of it
        target = matching[0] if matching else None
        self.examples.append(Example(kind, rows, target))
        return target


def gold_examples(articles: Iterable[Article]) -> list[Example]:
    """Every pronoun and description speaker mention of ``articles`` as a training example."""
    examples = []
    for article in articles:
        mentions, entities = speaker_mentions(article)
        in_order = [mentions[i] for i in resolution_order(article.text, mentions)]  # as the chooser is asked
        needing = [entities[m] for m in in_order if mention_kind(article.text[m[0] : m[1]]) != "name"]
        recorder = _GoldChoice(needing)
        resolve_mentions(article.text, mentions, outside_quotes(article), recorder)
        examples.extend(recorder.examples)
    return examples


def fit(examples: list[Example], l2: float, steps: int = 300) -> AntecedentScorer:
    """Weights per mention kind and a 'none' score per kind, by cross-entropy over none and the candidates."""
    weights = torch.zeros(len(SCORER_KINDS), len(FEATURES), requires_grad=True)
    none = torch.zeros(len(SCORER_KINDS), requires_grad=True)
    batches = [
        (
            SCORER_KINDS.index(e.kind),
            torch.tensor([[row[name] for name in FEATURES] for row in e.rows]).reshape(-1, len(FEATURES)),
            0 if e.target is None else e.target + 1,
        )
        for e in examples
    ]
    optimiser = torch.optim.LBFGS([weights, none], max_iter=steps, line_search_fn="strong_wolfe")

    def loss() -> torch.Tensor:
        optimiser.zero_grad()
        total = l2 * weights.pow(2).sum()
        for kind, features, target in batches:
            scores = torch.cat([none[kind : kind + 1], features @ weights[kind]])
            total = total + torch.nn.functional.cross_entropy(scores.unsqueeze(0), torch.tensor([target])) / len(
                batches
            )
        total.backward()
        return total

    optimiser.step(loss)
    return AntecedentScorer(
        {kind: dict(zip(FEATURES, map(float, weights[k].detach().tolist()))) for k, kind in enumerate(SCORER_KINDS)},
        {kind: float(none[k].detach()) for k, kind in enumerate(SCORER_KINDS)},
    )


def entity_f1s(articles: Iterable[Article], chooser: Chooser) -> dict[str, float]:
    """Speaker entity F1 of the resolver on the gold speaker mentions, by the mention's kind ('pronoun' for both
    pronoun kinds, 'description', 'name') and over all: a mention counts where gold or resolver names an entity."""
    return _f1s(_entity_counts(articles, chooser))


def cross_validated_f1s(
    articles: list[Article],
    choosers_of: dict[str, Callable[[AntecedentScorer], Chooser]],
    l2: float,
    folds: int = FOLDS,
) -> dict[str, dict[str, float]]:
    """``entity_f1s`` of each named chooser with every article scored out of sample: the articles (by id) cut into
    ``folds`` folds, each resolved by ``choosers_of[name]`` of a scorer fitted on the other folds, the counts pooled."""
    ordered = sorted(articles, key=lambda article: article.id)
    counts: dict[str, Counter[tuple[str, str]]] = {name: Counter() for name in choosers_of}
    for fold in range(folds):
        held_out = ordered[fold::folds]
        scorer = fit(gold_examples([article for index, article in enumerate(ordered) if index % folds != fold]), l2)
        for name, chooser_of in choosers_of.items():
            counts[name] += _entity_counts(held_out, chooser_of(scorer))
    return {name: _f1s(pooled) for name, pooled in counts.items()}


def _entity_counts(articles: Iterable[Article], chooser: Chooser) -> Counter[tuple[str, str]]:
    counts: Counter[tuple[str, str]] = Counter()
    for article in articles:
        mentions, entities = speaker_mentions(article)
        resolved = resolve_mentions(article.text, mentions, outside_quotes(article), chooser)
        for mention, (name, method) in zip(mentions, resolved):
            kind = "description" if method == "unresolved" else method  # "name", "pronoun" or "description"
            gold = entities[mention]
            right = bool(name and gold and same_entity(name, gold))
            for group in (kind, "all"):
                counts[group, "right"] += right
                counts[group, "predicted"] += bool(name)
                counts[group, "gold"] += bool(gold)
    return counts


def _f1s(counts: Counter[tuple[str, str]]) -> dict[str, float]:
    groups = ("pronoun", "description", "name", "all")
    return {group: prf(*(counts[group, key] for key in ("right", "right", "predicted", "gold")))[2] for group in groups}
