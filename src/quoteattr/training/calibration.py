"""Calibration of the model's scores, fitted on validation at the end of training: Platt scaling of the
quote score (is this a quote with exactly these edges?) and of the speaker score (is this the speaker?),
and the expected calibration error before and after on any split, for the model card."""

from __future__ import annotations

from quoteattr.data.schema import Article
from quoteattr.evaluation.confidence import expected_calibration_error, scored_outcomes
from quoteattr.systems.model.attributor import QuoteAttributor
from quoteattr.systems.model.confidence import fit_platt

RAW = {"calibration": None}


def fit_calibration(attributor: QuoteAttributor, articles: list[Article]) -> dict[str, list[float]]:
    """Platt parameters for ``score`` and ``speaker_score``, fitted on the raw scores of ``articles``."""
    raw = [attributor.attribute(article, analysis, settings=RAW) for article, analysis in attributor.analyse(articles)]
    outcomes = scored_outcomes(articles, raw)
    return {
        "score": fit_platt(outcomes.quote_scores, outcomes.quote_right),
        "speaker_score": fit_platt(outcomes.speaker_scores, outcomes.speaker_right),
    }


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
