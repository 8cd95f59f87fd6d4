"""Speaker entity and attribution F1 of a checkpoint on gold articles with each step around its speaker choice
turned off in turn: the learned antecedent scorer (replaced by the rules it replaced: the latest compatible
entity), the named people and organisations offered to pronouns and descriptions as antecedents, and the linker's
previous-speaker option (a cue-less continuation takes the previous quote's speaker). Same articles, same encoder
pass; only the step differs.

    python eval/linker_ablation.py --checkpoint outputs/finetuned/final --gold outputs/test_gold.jsonl
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from functools import partial
from unittest import mock

import torch

from quoteattr.data.readers import read_articles
from quoteattr.evaluation.ablation import ablation_main, variant_f1s
from quoteattr.systems import mention_resolver
from quoteattr.systems.antecedents import nearest_compatible
from quoteattr.systems.model import assembly
from quoteattr.systems.model.attributor import QuoteAttributor

REPORTED = ("speaker_entity", "attribution", "content_overlap")


def closed_previous_option(linker: torch.nn.Module) -> None:
    """Make the linker's previous-speaker column score -inf: it is never chosen."""
    score = linker._previous_column
    linker._previous_column = lambda *args: torch.full_like(score(*args), -torch.inf)


@contextmanager
def antecedents_by_rule() -> Iterator[None]:
    """Speaker entities resolved, inside the block, by the rules the antecedent scorer replaced."""
    rules = partial(mention_resolver.resolve_mentions, chooser=nearest_compatible)
    with mock.patch.object(assembly, "resolve_mentions", rules):
        yield


def scores(attributor: QuoteAttributor, gold: list, analysed: list, without_named: bool = False) -> dict[str, float]:
    predicted = [
        attributor.attribute(article, replace(analysis, named=[]) if without_named else analysis)
        for article, analysis in analysed
    ]
    return variant_f1s(gold, predicted, REPORTED)


def main(argv: list[str] | None = None) -> int:
    return ablation_main("eval/linker_ablation.py", __doc__.split("\n\n")[0], report, argv)


def report(checkpoint: str, gold_path: str) -> dict:
    """The F1s of each variant."""
    gold = read_articles(gold_path)
    attributor = QuoteAttributor.from_pretrained(checkpoint)
    analysed = list(attributor.analyse(gold))
    rows = {"checkpoint as shipped": scores(attributor, gold, analysed)}
    with antecedents_by_rule():
        rows["the latest compatible antecedent instead of the learned scorer"] = scores(attributor, gold, analysed)
    rows["without named people as antecedents"] = scores(attributor, gold, analysed, without_named=True)
    if attributor.linker.previous_speaker:
        closed_previous_option(attributor.linker)
        rows["without the previous-speaker option"] = scores(attributor, gold, analysed)
    return {"checkpoint": checkpoint, "gold": gold_path, "variants": rows}


if __name__ == "__main__":
    sys.exit(main())
