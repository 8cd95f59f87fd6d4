"""Scoring every system the same way: the scorer, its `evaluate` metric module, reports, and side-by-side comparison."""

from pathlib import Path

METRIC_PATH = str(Path(__file__).with_name("quote_attribution.py"))
"""The packaged `evaluate` metric module: ``evaluate.load(METRIC_PATH)`` works offline from any install."""
