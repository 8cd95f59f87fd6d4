"""quote_attribution: the quoteattr scorer as an `evaluate` metric, loadable from a source checkout with
``evaluate.load("eval/quote_attribution")``. The metric itself ships in the package
(``quoteattr/evaluation/quote_attribution.py``); this folder only points at it.
"""

from quoteattr.evaluation.quote_attribution import QuoteAttribution

__all__ = ["QuoteAttribution"]
