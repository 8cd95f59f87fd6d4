"""Speaker entity and attribution F1 of a checkpoint on gold articles with each step around its speaker choice
turned off in turn: the linker's previous-speaker option (a cue-less continuation takes the previous quote's
speaker) and the named people and organisations offered to pronouns as antecedents. Same articles, same
encoder pass; only the step differs.

    python eval/linker_ablation.py --checkpoint outputs/finetuned/final --gold outputs/test_gold.jsonl
"""

from __future__ import annotations

import sys
from dataclasses import replace

import torch

from quoteattr.data.readers import read_articles
from quoteattr.evaluation.ablation import ablation_main, variant_f1s
from quoteattr.systems.model.attributor import QuoteAttributor

REPORTED = ("speaker_entity", "attribution", "content_overlap")


def closed_previous_option(linker: torch.nn.Module) -> None:
    """Make the linker's previous-speaker column score -inf: it is never chosen."""
    score = linker._previous_column
    linker._previous_column = lambda *args: torch.full_like(score(*args), -torch.inf)


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
    rows["without named people as pronoun antecedents"] = scores(attributor, gold, analysed, without_named=True)
    if attributor.linker.previous_speaker:
        closed_previous_option(attributor.linker)
        rows["without the previous-speaker option"] = scores(attributor, gold, analysed)
    return {"checkpoint": checkpoint, "gold": gold_path, "variants": rows}


if __name__ == "__main__":
    sys.exit(main())
