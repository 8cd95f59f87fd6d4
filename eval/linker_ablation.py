"""Speaker entity and attribution F1 of a checkpoint on gold articles with each step around its speaker choice
turned off in turn: the linker's previous-speaker option (a cue-less continuation takes the previous quote's
speaker) and the named people and organisations offered to pronouns as antecedents. Same articles, same
encoder pass; only the step differs.

    python eval/linker_ablation.py --checkpoint outputs/finetuned/final --gold outputs/test_gold.jsonl
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace

import torch

from quoteattr.data.errors import InputError
from quoteattr.data.readers import read_articles
from quoteattr.evaluation.scoring import evaluate_articles
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
    metrics = evaluate_articles(gold, predicted, bootstrap=0)["metrics"]
    return {name: round(metrics[name]["f1"], 4) for name in REPORTED}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--checkpoint", required=True)
    parser.add_argument("--gold", required=True)
    args = parser.parse_args(argv)
    try:
        gold = read_articles(args.gold)
        attributor = QuoteAttributor.from_pretrained(args.checkpoint)
    except InputError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    analysed = list(attributor.analyse(gold))
    rows = {"checkpoint as shipped": scores(attributor, gold, analysed)}
    rows["without named people as pronoun antecedents"] = scores(attributor, gold, analysed, without_named=True)
    if attributor.linker.previous_speaker:
        closed_previous_option(attributor.linker)
        rows["without the previous-speaker option"] = scores(attributor, gold, analysed)
    print(json.dumps({"checkpoint": args.checkpoint, "gold": args.gold, "rows": rows}, indent=1))
    print("\n| " + " | ".join(["variant", *(f"{name} F1" for name in REPORTED)]) + " |")
    print("|" + "---|" * (len(REPORTED) + 1))
    for variant, values in rows.items():
        print(f"| {variant} | " + " | ".join(f"{values[name]:.3f}" for name in REPORTED) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
