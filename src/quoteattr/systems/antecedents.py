"""Choosing the entity a pronoun or a description speaker refers to: a pair scorer over the mention and each entity
named before it, with a 'none' option and, for a description, a 'new entity' option (the description names an
organisation never named before it: 'the defence ministry'), learned from hand-labelled speaker entities
(``training/train_antecedents.py`` writes the packaged weights). It replaces the rules that took the latest compatible
entity."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

MENTION_KINDS = ("person_pronoun", "group_pronoun", "description")
"""A mention that names nobody: 'he'/'she', 'it'/'they'/'we', or a description ('the company', 'the judge')."""
HEADLINE = "headline"
SCORER_KINDS = (*MENTION_KINDS, HEADLINE)
"""The scorer's weight sets: one per kind of mention, and one for the mentions of a headline ('…, commission says'),
which are resolved after the body, among the entities it names (a cataphor: the first named counts as the nearest)."""
FEATURES = (
    "person",
    "gender_match",
    "head_match",
    "word_overlap",
    "unseen_words",
    "organisation_word",
    "recency",
    "distance",
    "spoke",
    "latest_speaker",
    "mentions",
    "plural",
    "new_entity",
    "new_organisation",
    "new_modified",
    "new_definite",
)
"""What the scorer sees of a (mention, candidate) pair: the candidate is a person; its known gender is a pronoun's
(a known other gender rules a candidate out); the mention's last word, or the share of its words, was seen with the
candidate (in its mentions or just before them: 'Judge Ana Ruiz'), and how many of its words were not ('the
Syrian general' after 'the Russian general'); the mention's last word is an organisation's ('the union') and the
candidate an organisation; how many candidates were mentioned since (log); the characters
since its latest mention (log of hundreds); it was linked as a speaker before; it is the latest speaker; how often it
was mentioned (log); the mention is a plural description ('officials', on every row: a group the article often never
names). The 'new entity' row of a description has only the last four and the plural: it is that row; the
description's last word is an organisation's; it has words before that last one ('the defence ministry', not 'the
ministry'); it is definite ('the', a possessive: 'Westford's highways department'; a bare 'union' is not)."""
SCORER_FILE = "antecedent_scorer.json"

Chooser = Callable[[str, list[str], list[dict[str, float]]], "int | None"]
"""(mention kind, candidates' names, candidates' features) → the index of the chosen candidate, or None. A row
may hold more than ``FEATURES``: ``content_words``, the mention's word count without stopwords (the rules use it)."""


@dataclass(frozen=True)
class AntecedentScorer:
    """A linear score per candidate (weights per mention kind) against a learned score of 'none of them'."""

    weights: dict[str, dict[str, float]]
    none: dict[str, float]

    def scores(self, kind: str, rows: list[dict[str, float]]) -> list[float]:
        weights = self.weights[kind]
        return [sum(weights[name] * row[name] for name in FEATURES) for row in rows]

    def choose(self, kind: str, names: list[str], rows: list[dict[str, float]]) -> int | None:
        """The best-scoring candidate, or None when 'none' outscores it (or there is no candidate)."""
        if not rows:
            return None
        scores = self.scores(kind, rows)
        best = max(range(len(rows)), key=scores.__getitem__)
        return best if scores[best] > self.none[kind] else None

    def to_dict(self) -> dict[str, Any]:
        return {"features": list(FEATURES), "weights": self.weights, "none": self.none}

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> AntecedentScorer:
        if values.get("features") != list(FEATURES):
            raise ValueError(f"antecedent scorer features {values.get('features')} are not {list(FEATURES)}")
        return cls({kind: dict(values["weights"][kind]) for kind in SCORER_KINDS}, dict(values["none"]))


@lru_cache(maxsize=1)
def packaged_scorer() -> AntecedentScorer:
    """The scorer shipped with quoteattr (learned from the embedded gold's train split)."""
    text = resources.files("quoteattr.systems").joinpath(SCORER_FILE).read_text(encoding="utf-8")
    return AntecedentScorer.from_dict(json.loads(text)["scorer"])


def packaged_choice(kind: str, names: list[str], rows: list[dict[str, float]]) -> int | None:
    """The packaged scorer's choice: ``resolve_mentions``' default chooser."""
    return packaged_scorer().choose(kind, names, rows)


def without_new_entity(chooser: Chooser) -> Chooser:
    """``chooser`` among the entities named before a mention only (a description's new-entity row left out)."""

    def choose(kind: str, names: list[str], rows: list[dict[str, float]]) -> int | None:
        if rows and rows[-1]["new_entity"]:  # the new-entity row comes last
            names, rows = names[:-1], rows[:-1]
        return chooser(kind, names, rows)

    return choose


@without_new_entity
def nearest_compatible(kind: str, names: list[str], rows: list[dict[str, float]]) -> int | None:
    """The rules the scorer replaced, as a chooser over the same candidates (those that agree with the mention) and
    the same words seen with them: a pronoun takes the latest candidate ('it', 'they', 'we': the latest
    organisation); a description the latest candidate seen with all of its words (two or more), never a new entity."""
    if kind == "person_pronoun":
        fits = list(range(len(rows)))
    elif kind == "group_pronoun":
        fits = [i for i, row in enumerate(rows) if not row["person"]]
    else:
        fits = [i for i, row in enumerate(rows) if row["word_overlap"] == 1.0 and row["content_words"] >= 2]
    return min(fits, key=lambda i: rows[i]["recency"]) if fits else None
