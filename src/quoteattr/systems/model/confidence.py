"""Confidence of the model's predictions: a raw score per quote from the tagger's token probabilities, the
linker's probability for its speaker choice, and Platt scaling that turns each into a calibrated
probability (fitted on validation at the end of training, stored in the checkpoint)."""

from __future__ import annotations

import math

import numpy as np

from quoteattr.systems.model.windows import LABEL2ID, Span

CONTENT_BEGIN, CONTENT_INSIDE = LABEL2ID["B-CONTENT"], LABEL2ID["I-CONTENT"]
EPSILON = 1e-6


def log_probabilities(logits: np.ndarray) -> np.ndarray:
    """Per-token log-softmax over the tag labels."""
    shifted = logits - logits.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def quote_score(log_probs: np.ndarray, fragments: list[Span]) -> float:
    """Geometric mean probability of the quote's tag path: B-CONTENT at each fragment's first token,
    I-CONTENT inside, and no I-CONTENT right after it (the edge). Low when either edge or any token is unsure."""
    terms = []
    for start, end in fragments:
        terms.append(log_probs[start, CONTENT_BEGIN])
        terms.extend(log_probs[start + 1 : end, CONTENT_INSIDE])
        if end < len(log_probs):
            terms.append(math.log(max(EPSILON, 1.0 - math.exp(log_probs[end, CONTENT_INSIDE]))))
    return float(math.exp(sum(terms) / len(terms))) if terms else 0.0


def calibrate(raw: float, platt: list[float] | None) -> float:
    """A raw score through Platt scaling (``[slope, intercept]`` on its log-odds); unchanged without one."""
    if not platt:
        return raw
    clipped = min(max(raw, EPSILON), 1 - EPSILON)
    z = platt[0] * math.log(clipped / (1 - clipped)) + platt[1]
    return 1.0 / (1.0 + math.exp(-z)) if z >= 0 else math.exp(z) / (1.0 + math.exp(z))


def fit_platt(raw: list[float], correct: list[bool], steps: int = 100) -> list[float]:
    """Slope and intercept on the log-odds of ``raw`` that minimise the log loss against ``correct``
    (damped Newton steps with a small ridge; identity when there is nothing to fit)."""
    if len(set(correct)) < 2:
        return [1.0, 0.0]
    scores = np.clip(np.asarray(raw, dtype=np.float64), EPSILON, 1 - EPSILON)
    x = np.stack([np.log(scores / (1 - scores)), np.ones_like(scores)], axis=1)
    y = np.asarray(correct, dtype=np.float64)
    ridge = 1e-3 * len(y)

    def loss(weights: np.ndarray) -> float:
        z = x @ weights
        return float(np.sum(np.logaddexp(0.0, z) - y * z) + 0.5 * ridge * weights[0] ** 2)

    weights = np.array([1.0, 0.0])
    for _ in range(steps):
        p = 1.0 / (1.0 + np.exp(-np.clip(x @ weights, -500, 500)))
        gradient = x.T @ (p - y) + ridge * np.array([weights[0], 0.0])
        hessian = (x * (p * (1 - p))[:, None]).T @ x + np.diag([ridge, 1e-6])
        step = np.linalg.solve(hessian, gradient)
        size, current = 1.0, loss(weights)
        while size > 1e-4 and loss(weights - size * step) > current:
            size /= 2
        weights = weights - size * step
        if np.abs(size * step).max() < 1e-8:
            break
    return [float(weights[0]), float(weights[1])]
