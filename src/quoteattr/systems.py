"""Find a prediction system by name: every system takes Articles and yields Articles with quotes."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Protocol

from quoteattr.jsonl import InputError
from quoteattr.schema import Article


class System(Protocol):
    name: str

    def predict(self, articles: Iterable[Article]) -> Iterator[Article]: ...


def load_system(name: str) -> System:
    """'rules' is the rule baseline."""
    if name == "rules":
        from quoteattr.rules import RulesAttributor

        return RulesAttributor()
    raise InputError(f"unknown system {name!r}; expected 'rules'")
