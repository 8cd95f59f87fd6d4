"""quoteattr: quote attribution for news — ingest, annotate, build datasets, train, evaluate."""

from __future__ import annotations

from pathlib import Path

from quoteattr.data.schema import Article, Entity, Quote

__all__ = ["Article", "Entity", "Quote", "load"]


def load(path: str | Path):
    """Load a trained checkpoint folder (offline) as a QuoteAttributor."""
    from quoteattr.systems.model.attributor import QuoteAttributor

    return QuoteAttributor.from_pretrained(path)
