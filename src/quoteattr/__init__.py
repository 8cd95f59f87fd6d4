"""quoteattr: quote attribution for news — ingest, annotate, build datasets, train, evaluate.

The public API is ``__all__``: ``load`` a system by the names ``quoteattr predict --system`` takes, and the
``Article``, ``Quote`` and ``Entity`` records every system reads and writes."""

from quoteattr.data.schema import Article, Entity, Quote
from quoteattr.systems import load_system as load

__all__ = ["Article", "Entity", "Quote", "load"]


def __dir__() -> list[str]:
    """Only the public API: the subpackages an import loads (``data``, ``systems``) are not part of it."""
    return sorted(__all__)
