"""Find a prediction system by name: every system takes Articles and yields Articles with quotes."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from importlib.metadata import entry_points
from os import PathLike, fspath
from pathlib import Path
from typing import Protocol

from quoteattr.data.errors import InputError
from quoteattr.data.schema import Article, entities_from_quotes


class System(Protocol):
    name: str

    def predict(self, articles: Iterable[Article], batch_size: int = ...) -> Iterator[Article]: ...


SYSTEMS = ("rules", "textacy")
MODEL_ENTRY_POINTS = "quoteattr.models"


def load_system(name: str | PathLike[str], device: str | None = None) -> System:
    """'rules' (the rule baseline), 'textacy' (textacy's direct_quotations), a checkpoint folder, or the
    name of an installed model package (built by `quoteattr package`); ``device`` places a model. The command
    line and ``quoteattr.load`` both load through here, so they know the same names."""
    if not isinstance(name, (str, PathLike)):
        raise TypeError(f"expected a system name or a checkpoint folder, got {type(name).__name__}")
    name = fspath(name)
    if name == "rules":
        from quoteattr.systems.rules import RulesAttributor

        return RulesAttributor()
    if name == "textacy":
        from quoteattr.systems.textacy_baseline import TextacyQuotations

        return TextacyQuotations()
    from quoteattr.systems.model.attributor import QuoteAttributor

    if Path(name).is_dir():
        return QuoteAttributor.from_pretrained(name, device=device)
    for entry_point in entry_points(group=MODEL_ENTRY_POINTS):
        if entry_point.name == name:
            attributor = QuoteAttributor.from_pretrained(entry_point.load()(), device=device)
            attributor.name = name
            return attributor
    installed = sorted(e.name for e in entry_points(group=MODEL_ENTRY_POINTS))
    raise InputError(
        f"unknown system {name!r}: not one of {SYSTEMS}, not a checkpoint folder, not an installed model "
        f"(installed: {installed or 'none'})"
    )


def confident_only(predictions: Iterable[Article], min_score: float, system: str) -> Iterator[Article]:
    """Predictions without the quotes scored below ``min_score``; a system that gives no scores is an error."""
    for article in predictions:
        if any(quote.score is None for quote in article.quotes):
            raise InputError(
                f"{system} gives no scores, so --min-score cannot filter its quotes; use a model checkpoint"
            )
        kept = [quote for quote in article.quotes if quote.score >= min_score]
        yield Article(article.id, article.text, article.meta, kept, entities_from_quotes(kept))
