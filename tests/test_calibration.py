"""Calibration is kept only where it helps: enough validation examples, and a lower error on them after the fit."""

from __future__ import annotations

import random

from quoteattr.evaluation.confidence import expected_calibration_error
from quoteattr.systems.model.confidence import calibrate
from quoteattr.training.calibration import MIN_EXAMPLES, calibration_settings, describe_fits, fit_score


def overconfident(count: int, seed: int = 3) -> tuple[list[float], list[bool]]:
    """Scores near 0.9 for predictions right about half the time."""
    generator = random.Random(seed)
    scores = [generator.uniform(0.8, 0.99) for _ in range(count)]
    return scores, [generator.random() < 0.5 for _ in scores]


def test_too_few_examples_keep_the_raw_score():
    scores, right = overconfident(MIN_EXAMPLES - 1)
    fit = fit_score(scores, right)
    assert fit.platt is None and fit.examples == MIN_EXAMPLES - 1 and "fewer than" in fit.reason
    assert calibration_settings({"score": fit}) == {"score": None}
    assert calibrate(0.93, None) == 0.93  # what predict then reports


def test_a_fit_that_helps_is_kept_and_lowers_the_error():
    scores, right = overconfident(400)
    fit = fit_score(scores, right)
    assert fit.platt is not None and fit.ece_fitted < fit.ece_raw
    calibrated = [calibrate(s, fit.platt) for s in scores]
    assert expected_calibration_error(calibrated, right) == fit.ece_fitted
    assert describe_fits({"score": fit}).startswith("`score` slope ")


def test_a_fit_that_does_not_lower_the_error_is_not_shipped():
    # already calibrated scores: a score of p is right with probability p, binned finely enough that Platt cannot help
    generator = random.Random(5)
    scores = [generator.random() for _ in range(2000)]
    right = [generator.random() < s for s in scores]
    fit = fit_score(scores, right)
    if fit.platt is None:
        assert fit.ece_fitted >= fit.ece_raw and "did not lower" in fit.reason
    else:
        assert fit.ece_fitted < fit.ece_raw  # kept only because it helped on these very examples
