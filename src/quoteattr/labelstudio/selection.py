"""Which unlabelled articles to send for review first (active learning): those whose predictions the model is
least sure of, or those where it expects the most errors, or a random draw as the baseline to beat."""

from __future__ import annotations

import random

from quoteattr.data.errors import InputError
from quoteattr.data.schema import Article

STRATEGIES = ("uncertainty", "expected-errors", "random")


def decision_scores(article: Article) -> list[float]:
    """Every scored decision of an article's prediction: each quote's score and each speaker link's score."""
    return [q.score for q in article.quotes if q.score is not None] + [
        q.speaker_score for q in article.quotes if q.speaker_score is not None
    ]


def uncertainty(article: Article) -> float:
    """How many of the article's decisions sit near a coin toss: the sum of 1 - |2p - 1| over them."""
    return sum(1.0 - abs(2.0 * p - 1.0) for p in decision_scores(article))


def expected_errors(article: Article) -> float:
    """The expected number of wrong quotes and wrong links in the article: the sum of 1 - p."""
    return sum(1.0 - p for p in decision_scores(article))


def select_articles(predictions: list[Article], count: int, strategy: str, seed: int = 0) -> list[Article]:
    """``count`` articles to review, by ``strategy``; ties (and ``random``) are broken with ``seed``."""
    if strategy not in STRATEGIES:
        raise InputError(f"unknown selection strategy {strategy!r}; choose from {STRATEGIES}")
    shuffled = list(predictions)
    random.Random(seed).shuffle(shuffled)
    if strategy == "random" or not shuffled:
        return shuffled[:count]
    if not any(q.score is not None for a in predictions for q in a.quotes):
        raise InputError(
            f"--strategy {strategy} needs a system that scores its predictions (a model checkpoint), "
            "not one without scores"
        )
    value = uncertainty if strategy == "uncertainty" else expected_errors
    return sorted(shuffled, key=value, reverse=True)[:count]
