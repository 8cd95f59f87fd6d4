"""Find a prediction system by name: every system takes Articles and yields Articles with quotes."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Protocol

from quoteattr.jsonl import InputError
from quoteattr.schema import Article


class System(Protocol):
    name: str

    def predict(self, articles: Iterable[Article]) -> Iterator[Article]: ...


SYSTEMS = ("rules", "textacy")


def load_system(name: str) -> System:
    """'rules' is the rule baseline; 'textacy' is textacy's direct_quotations."""
    if name == "rules":
        from quoteattr.rules import RulesAttributor

        return RulesAttributor()
    if name == "textacy":
        from quoteattr.textacy_baseline import TextacyQuotations

        return TextacyQuotations()
    raise InputError(f"unknown system {name!r}; expected one of {SYSTEMS}")
