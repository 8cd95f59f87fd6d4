"""Every person and organisation an article names, from spaCy's named entities: the antecedents a pronoun or a
description speaker may have besides the speakers linked so far ("Coach Hana Ito was blunt. '…,' she said.")."""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

from quoteattr.data.quotemarks import inside_quotation
from quoteattr.data.schema import Span

KINDS = {"PERSON": "person", "ORG": "org", "GPE": "org", "NORP": "org"}
"""spaCy labels → the resolver's kinds (a country or a people speaks as a group: "it", "they")."""


@lru_cache(maxsize=1)
def _entity_recogniser():
    """spaCy's packaged pipeline with only what named entities need (loaded once per process)."""
    import spacy

    from quoteattr.systems.rules import SPACY_MODEL

    return spacy.load(SPACY_MODEL, exclude=["parser", "lemmatizer", "attribute_ruler", "tagger", "senter"])


def named_mentions(text: str) -> list[tuple[Span, str]]:
    """(character span, "person" or "org") of every person and organisation named in ``text``, in text order;
    a possessive's ``'s`` is not part of the name."""
    recogniser = _entity_recogniser()
    found = []
    for start in range(0, len(text), recogniser.max_length):
        doc = recogniser(text[start : start + recogniser.max_length])
        for entity in doc.ents:
            if entity.label_ in KINDS:
                end = entity.end_char
                if entity.text.endswith(("'s", "’s")):
                    end -= 2
                if end > entity.start_char:
                    found.append(((start + entity.start_char, start + end), KINDS[entity.label_]))
    return found


def outside(
    context: Callable[[], list[tuple[Span, str]]], contents: list[Span]
) -> Callable[[], list[tuple[Span, str]]]:
    """``context``'s named mentions that start outside ``contents`` (a name inside a quote is not an antecedent; one
    that a quote's edge cuts into, "… Staffan de [Mistura, more than …]", is still the speaker's), still asked for
    only when called."""
    return lambda: [mention for mention in context() if not inside_quotation(mention[0][0], contents)]
