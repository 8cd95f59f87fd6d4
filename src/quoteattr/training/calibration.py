"""Calibration of the model's scores, fitted on validation at the end of training: Platt scaling of the
quote score (is this a quote with exactly these edges?) and of the speaker score (is this the speaker?),
and the expected calibration error before and after on any split, for the model card.

A score is calibrated only when it can be trusted to help: at least ``MIN_EXAMPLES`` scored predictions to
fit on, and a lower expected calibration error on those same predictions after the fit than before.
Otherwise the raw score is kept and the reason is recorded for the card."""

from __future__ import annotations

from dataclasses import dataclass

from quoteattr.data.schema import Article
from quoteattr.evaluation.confidence import Outcomes, expected_calibration_error, scored_outcomes
from quoteattr.systems.model.attributor import QuoteAttributor
from quoteattr.systems.model.confidence import calibrate, fit_platt

RAW = {"calibration": None}
MIN_EXAMPLES = 100
"""Fewest scored predictions a Platt fit is made from; with fewer, ten-bin calibration error is mostly noise."""


@dataclass
class CalibrationFit:
    """One score's fit on the validation split: the parameters kept (None: raw scores) and why."""

    examples: int
    ece_raw: float
    ece_fitted: float | None
    platt: list[float] | None
    reason: str


def fit_score(scores: list[float], right: list[bool]) -> CalibrationFit:
    """Platt scaling for one score, kept only with enough examples and a lower error on them than raw."""
    ece_raw = expected_calibration_error(scores, right)
    if len(scores) < MIN_EXAMPLES:
        reason = f"raw: {len(scores)} validation examples, fewer than the {MIN_EXAMPLES} a fit needs"
        return CalibrationFit(len(scores), ece_raw, None, None, reason)
    platt = fit_platt(scores, right)
    ece_fitted = expected_calibration_error([calibrate(s, platt) for s in scores], right)
    if ece_fitted >= ece_raw:
        reason = f"raw: Platt scaling did not lower the error on validation ({ece_raw:.3f} → {ece_fitted:.3f})"
        return CalibrationFit(len(scores), ece_raw, ece_fitted, None, reason)
    return CalibrationFit(len(scores), ece_raw, ece_fitted, platt, f"Platt scaling fitted on {len(scores)} examples")


def fit_calibration(attributor: QuoteAttributor, articles: list[Article]) -> dict[str, CalibrationFit]:
    """The fit of ``score`` and ``speaker_score`` on the raw scores of ``articles``."""
    raw = [attributor.attribute(article, analysis, settings=RAW) for article, analysis in attributor.analyse(articles)]
    outcomes: Outcomes = scored_outcomes(articles, raw)
    return {
        "score": fit_score(outcomes.quote_scores, outcomes.quote_right),
        "speaker_score": fit_score(outcomes.speaker_scores, outcomes.speaker_right),
    }


def calibration_settings(fits: dict[str, CalibrationFit]) -> dict[str, list[float] | None]:
    """The checkpoint's ``calibration`` setting: Platt parameters per score, None where the raw score is kept."""
    return {name: fit.platt for name, fit in fits.items()}


def describe_fits(fits: dict[str, CalibrationFit]) -> str:
    """One phrase per score: its Platt parameters, or why its raw score is kept."""
    return "; ".join(
        f"`{name}` slope {fit.platt[0]:.3f}, intercept {fit.platt[1]:.3f}" if fit.platt else f"`{name}` {fit.reason}"
        for name, fit in fits.items()
    )


def calibration_errors(attributor: QuoteAttributor, articles: list[Article]) -> dict[str, float]:
    """Expected calibration error of both scores on ``articles``, raw and with the checkpoint's calibration."""
    raw, calibrated = [], []
    for article, analysis in attributor.analyse(articles):
        raw.append(attributor.attribute(article, analysis, settings=RAW))
        calibrated.append(attributor.attribute(article, analysis))
    before, after = scored_outcomes(articles, raw), scored_outcomes(articles, calibrated)
    return {
        "quotes": len(after.quote_scores),
        "quote_ece_before": expected_calibration_error(before.quote_scores, before.quote_right),
        "quote_ece_after": expected_calibration_error(after.quote_scores, after.quote_right),
        "links": len(after.speaker_scores),
        "speaker_ece_before": expected_calibration_error(before.speaker_scores, before.speaker_right),
        "speaker_ece_after": expected_calibration_error(after.speaker_scores, after.speaker_right),
    }
