"""quote_attribution: the quoteattr scorer as an `evaluate` metric.

It ships inside the package: ``evaluate.load(quoteattr.evaluation.METRIC_PATH)`` offline (or the folder
``eval/quote_attribution`` of a source checkout). Predictions and references are interchange records
(one article each, as dicts, JSON strings or ``Article`` objects); the result maps ``ROW_precision``,
``ROW_recall`` and ``ROW_f1`` for every row of ``quoteattr evaluate`` (e.g. ``content_overlap_f1``,
``attribution/direct_recall``), so Trainer's ``compute_metrics`` and the CLI report the same numbers. The keys
are the same whatever the data: a quote type that neither side has scores None (there is nothing to score, and
the CLI's report has no row for it).
"""

import json

import datasets
import evaluate

from quoteattr.data.schema import QUOTE_TYPES, Article
from quoteattr.evaluation.scoring import METRICS, TYPED_METRICS, evaluate_articles

_CITATION = ""
_DESCRIPTION = __doc__
_KWARGS_DESCRIPTION = """
Args:
    predictions: list of predicted articles (interchange records, dict or JSON string).
    references: list of gold articles, same ids and texts, same order or not.
    bootstrap: bootstrap samples for 95% intervals (default 0: none).
Returns:
    dict of ROW_precision / ROW_recall / ROW_f1 (and ROW_f1_low / ROW_f1_high with bootstrap) for every row
    (``ROWS``); None where a quote type has no quote on either side.
"""
ROWS = (*METRICS, *(f"{metric}/{quote_type}" for metric in TYPED_METRICS for quote_type in QUOTE_TYPES))
"""Every row the metric reports, whatever the data."""


def _as_json(record):
    """One record as the JSON string the metric's features hold."""
    if isinstance(record, str):
        return record
    return json.dumps(record.to_dict() if isinstance(record, Article) else record, ensure_ascii=False)


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS_DESCRIPTION)
class QuoteAttribution(evaluate.Metric):
    def _info(self):
        return evaluate.MetricInfo(
            description=_DESCRIPTION,
            citation=_CITATION,
            inputs_description=_KWARGS_DESCRIPTION,
            features=datasets.Features(
                {"predictions": datasets.Value("string"), "references": datasets.Value("string")}
            ),
        )

    def add_batch(self, *, predictions=None, references=None, **kwargs):
        """As evaluate's, with dict or Article records turned into JSON strings first."""
        return super().add_batch(
            predictions=None if predictions is None else [_as_json(p) for p in predictions],
            references=None if references is None else [_as_json(r) for r in references],
            **kwargs,
        )

    def add(self, *, prediction=None, reference=None, **kwargs):
        """As evaluate's, with a dict or Article record turned into a JSON string first."""
        return super().add(
            prediction=None if prediction is None else _as_json(prediction),
            reference=None if reference is None else _as_json(reference),
            **kwargs,
        )

    def _compute(self, predictions, references, bootstrap=0):
        read = lambda records: [Article.from_dict(json.loads(r)) for r in records]  # noqa: E731
        report = evaluate_articles(read(references), read(predictions), bootstrap=bootstrap)
        flat = {}
        for row in ROWS:
            values = report["metrics"].get(row, {})
            for name in ("precision", "recall", "f1"):
                flat[f"{row}_{name}"] = values.get(name)
            if bootstrap:
                flat[f"{row}_f1_low"], flat[f"{row}_f1_high"] = values.get("f1_ci", (None, None))
        return flat
