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
from quoteattr.systems.model.attributor import Analysis, QuoteAttributor
from quoteattr.systems.model.confidence import calibrate, fit_platt
from quoteattr.systems.model.decoding_config import DecodingConfig

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


def every_quote(attributor: QuoteAttributor) -> DecodingConfig:
    """The attributor's decoding without its quote-score threshold: calibration sees every quote it decodes."""
    return attributor.decoding.replace(min_quote_score=0.0)


def fit_calibration(
    attributor: QuoteAttributor, articles: list[Article], analysed: list | None = None
) -> dict[str, CalibrationFit]:
    """The fit of ``score`` and ``speaker_score`` on the raw scores of ``articles`` (``analysed``: their analyses,
    when already made)."""
    pairs = analysed if analysed is not None else attributor.analyse(articles)
    decoding = every_quote(attributor)
    raw = [attributor.attribute(article, analysis, decoding=decoding, calibrated=False) for article, analysis in pairs]
    outcomes: Outcomes = scored_outcomes(articles, raw)
    return {
        "score": fit_score(outcomes.quote_scores, outcomes.quote_right),
        "speaker_score": fit_score(outcomes.speaker_scores, outcomes.speaker_right),
    }


def calibration_settings(fits: dict[str, CalibrationFit]) -> dict[str, list[float] | None]:
    """The checkpoint's ``calibration`` setting: Platt parameters per score, None where the raw score is kept."""
    return {name: fit.platt for name, fit in fits.items()}


def keep_continued(fits: dict[str, CalibrationFit], previous: dict | None) -> dict[str, CalibrationFit]:
    """A checkpoint (continued in training, or searched again) keeps its own calibration of a score that the new
    validation articles have too few examples to fit again (it was fitted on more)."""
    kept = dict(fits)
    for name, fit in fits.items():
        platt = (previous or {}).get(name)
        if fit.platt is None and fit.examples < MIN_EXAMPLES and platt:
            reason = (
                f"the continued checkpoint's Platt scaling ({fit.examples} validation examples are too few to refit)"
            )
            kept[name] = CalibrationFit(fit.examples, fit.ece_raw, None, platt, reason)
    return kept


def describe_fits(fits: dict[str, CalibrationFit]) -> str:
    """One phrase per score: its Platt parameters, or why its raw score is kept."""
    return "; ".join(
        f"`{name}` slope {fit.platt[0]:.3f}, intercept {fit.platt[1]:.3f}" if fit.platt else f"`{name}` {fit.reason}"
        for name, fit in fits.items()
    )


def scored_both_ways(attributor: QuoteAttributor, article: Article, analysis: Analysis) -> tuple[Article, Article]:
    """Every quote the checkpoint decodes in an analysed article (whatever the threshold), with raw scores and with
    the checkpoint's calibration."""
    decoding = every_quote(attributor)
    raw = attributor.attribute(article, analysis, decoding=decoding, calibrated=False)
    return raw, attributor.attribute(article, analysis, decoding=decoding)


def calibration_report(articles: list[Article], raw: list[Article], calibrated: list[Article]) -> dict[str, float]:
    """Expected calibration error of both scores on ``articles``, raw and calibrated (see ``scored_both_ways``)."""
    before, after = scored_outcomes(articles, raw), scored_outcomes(articles, calibrated)
    return {
        "quotes": len(after.quote_scores),
        "quote_ece_before": expected_calibration_error(before.quote_scores, before.quote_right),
        "quote_ece_after": expected_calibration_error(after.quote_scores, after.quote_right),
        "links": len(after.speaker_scores),
        "speaker_ece_before": expected_calibration_error(before.speaker_scores, before.speaker_right),
        "speaker_ece_after": expected_calibration_error(after.speaker_scores, after.speaker_right),
    }


def calibration_errors(attributor: QuoteAttributor, articles: list[Article]) -> dict[str, float]:
    """Expected calibration error of both scores on ``articles``, raw and with the checkpoint's calibration (on
    every quote decoded, whatever the threshold)."""
    pairs = [scored_both_ways(attributor, article, analysis) for article, analysis in attributor.analyse(articles)]
    return calibration_report(articles, [raw for raw, _ in pairs], [calibrated for _, calibrated in pairs])
