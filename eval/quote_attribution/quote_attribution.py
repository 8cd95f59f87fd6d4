"""quote_attribution: the quoteattr scorer as an `evaluate` metric.

Load it offline with ``evaluate.load("eval/quote_attribution")``. Predictions and references are
interchange records (one article each, as dicts or JSON strings); the result maps ``ROW_precision``,
``ROW_recall`` and ``ROW_f1`` for every row of ``quoteattr evaluate`` (e.g. ``content_overlap_f1``,
``attribution/direct_recall``), so Trainer's ``compute_metrics`` and the CLI report the same numbers.
"""

import json

import datasets
import evaluate

from quoteattr.schema import Article
from quoteattr.scoring import evaluate_articles

_CITATION = ""
_DESCRIPTION = __doc__
_KWARGS_DESCRIPTION = """
Args:
    predictions: list of predicted articles (interchange records, dict or JSON string).
    references: list of gold articles, same ids and texts, same order or not.
    bootstrap: bootstrap samples for 95% intervals (default 0: none).
Returns:
    dict of ROW_precision / ROW_recall / ROW_f1 (and ROW_f1_low / ROW_f1_high with bootstrap).
"""


def _article(record):
    return Article.from_dict(json.loads(record) if isinstance(record, str) else record)


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS_DESCRIPTION)
class QuoteAttribution(evaluate.Metric):
    def _info(self):
        return evaluate.MetricInfo(
            description=_DESCRIPTION,
            citation=_CITATION,
            inputs_description=_KWARGS_DESCRIPTION,
            features=datasets.Features({"predictions": datasets.Value("string"), "references": datasets.Value("string")}),
        )

    def _compute(self, predictions, references, bootstrap=0):
        report = evaluate_articles(
            [_article(r) for r in references], [_article(p) for p in predictions], bootstrap=bootstrap
        )
        flat = {}
        for row, values in report["metrics"].items():
            for name in ("precision", "recall", "f1"):
                flat[f"{row}_{name}"] = values[name]
            if "f1_ci" in values:
                flat[f"{row}_f1_low"], flat[f"{row}_f1_high"] = values["f1_ci"]
        return flat
