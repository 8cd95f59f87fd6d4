"""Scores against gold: which scored predictions were right (for calibration), expected calibration
error, and precision–recall as the score threshold moves (operating points)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from quoteattr.data.schema import Article
from quoteattr.evaluation.scoring import align, evaluate_articles, match_quotes, speaker_is_right

SWEPT_METRICS = ("content_overlap", "attribution")


@dataclass
class Outcomes:
    """Each scored prediction's score and whether it was right: quotes (exact edges) and speaker links
    (the speaker of a quote that matches a gold quote)."""

    quote_scores: list[float]
    quote_right: list[bool]
    speaker_scores: list[float]
    speaker_right: list[bool]


def scored_outcomes(gold: list[Article], pred: list[Article]) -> Outcomes:
    outcomes = Outcomes([], [], [], [])
    pairs, _, _ = align(gold, pred)
    for gold_article, pred_article in pairs:
        exact = {tuple(map(tuple, q.spans)) for q in gold_article.quotes}
        matched = dict((pi, gi) for gi, pi in match_quotes(gold_article.quotes, pred_article.quotes))
        for index, quote in enumerate(pred_article.quotes):
            if quote.score is not None:
                outcomes.quote_scores.append(quote.score)
                outcomes.quote_right.append(tuple(map(tuple, quote.spans)) in exact)
            if quote.speaker_score is not None and index in matched:
                outcomes.speaker_scores.append(quote.speaker_score)
                outcomes.speaker_right.append(speaker_is_right(gold_article.quotes[matched[index]], quote))
    return outcomes


def expected_calibration_error(scores: list[float], right: list[bool], bins: int = 10) -> float:
    """Mean gap between confidence and accuracy over equal-width score bins, weighted by bin size."""
    if not scores:
        return float("nan")
    values, labels = np.asarray(scores), np.asarray(right, dtype=float)
    which = np.minimum((values * bins).astype(int), bins - 1)
    gaps = [
        abs(values[which == b].mean() - labels[which == b].mean()) * (which == b).sum()
        for b in range(bins)
        if (which == b).any()
    ]
    return float(sum(gaps) / len(values))


def has_scores(articles: list[Article]) -> bool:
    return any(q.score is not None for a in articles for q in a.quotes)


def above(articles: list[Article], threshold: float) -> list[Article]:
    """The articles keeping only quotes scored at least ``threshold`` (unscored quotes are dropped)."""
    return [
        Article(a.id, a.text, a.meta, [q for q in a.quotes if q.score is not None and q.score >= threshold], a.entities)
        for a in articles
    ]


def threshold_sweep(
    gold: list[Article], pred: list[Article], points: int = 40, top_share: float = 0.025
) -> list[dict[str, float]]:
    """Precision and recall of content overlap and attribution at thresholds spread over the scores' quantiles,
    up to the one that keeps the top ``top_share`` of quotes (fewer make a precision too noisy to choose by)."""
    scores = sorted(q.score for a in pred for q in a.quotes if q.score is not None)
    quantiles = np.linspace(0, 1 - top_share, points)
    thresholds = sorted({0.0, *np.quantile(scores, quantiles).round(4).tolist()}) if scores else [0.0]
    sweep = []
    for threshold in thresholds:
        metrics = evaluate_articles(gold, above(pred, threshold), bootstrap=0)["metrics"]
        row = {"threshold": threshold}
        for name in SWEPT_METRICS:
            row[f"{name}_precision"], row[f"{name}_recall"] = metrics[name]["precision"], metrics[name]["recall"]
        sweep.append(row)
    return sweep


def operating_point(
    sweep: list[dict[str, float]], target_precision: float, metric: str = "attribution"
) -> dict[str, float] | None:
    """The threshold with the most recall among those whose precision reaches the target (None if none does)."""
    reaching = [row for row in sweep if row[f"{metric}_precision"] >= target_precision]
    return max(reaching, key=lambda row: (row[f"{metric}_recall"], -row["threshold"])) if reaching else None
