"""Learn the antecedent scorer (which entity a pronoun or description speaker refers to) from the hand-labelled
speaker entities of the embedded gold's train split, keep the weight penalty that scores best on its validation
split, and report speaker entity F1 given gold mentions beside the rules it replaced (the latest compatible entity)
and beside itself without its new-entity option (a description naming an organisation never named before it), on the
validation and test splits and cross-validated over every gold article (with the penalty kept).

    python training/train_antecedents.py --output src/quoteattr/systems/antecedent_scorer.json
"""

from __future__ import annotations

import argparse
import shlex
import sys

from quoteattr.data.errors import InputError, exit_status
from quoteattr.data.writers import show_result, write_json
from quoteattr.dataset.store import split_articles
from quoteattr.labelstudio.annotations import load_gold
from quoteattr.systems.antecedents import nearest_compatible, without_new_entity
from quoteattr.training.antecedents import FOLDS, L2_CHOICES, cross_validated_f1s, entity_f1s, fit, gold_examples

SCRIPT = "training/train_antecedents.py"


def report(annotations: str, output: str, seed: int, argv: list[str]) -> dict:
    """Fit on train, choose the penalty on validation, write the scorer; each variant's F1s on validation, test and
    cross-validated over every gold article."""
    articles = load_gold(annotations).articles
    splits = split_articles(articles, seed)
    if not all(splits.values()):
        raise InputError(f"{annotations}: {len(articles)} gold articles leave a split empty")
    examples = gold_examples(splits["train"])
    if not examples:
        raise InputError(f"{annotations}: no pronoun or description speaker in the train split to learn from")
    fitted = {l2: fit(examples, l2) for l2 in L2_CHOICES}
    l2, scorer = max(fitted.items(), key=lambda item: entity_f1s(splits["validation"], item[1].choose)["all"])
    write_json(
        output,
        {
            "command": shlex.join(["python", SCRIPT, *argv]),
            "trained_on": f"{annotations}: train split (seed {seed}), {len(examples)} mentions",
            "l2": l2,
            "scorer": scorer.to_dict(),
        },
    )
    variants = {
        "latest compatible entity (the rules replaced)": lambda scorer: nearest_compatible,
        "learned scorer, no new entities": lambda scorer: without_new_entity(scorer.choose),
        "learned scorer": lambda scorer: scorer.choose,
    }
    folded = cross_validated_f1s(articles, variants, l2)
    rows = {
        name: {
            f"{group}_{split}": value
            for split in ("validation", "test")
            for group, value in entity_f1s(splits[split], chooser_of(scorer)).items()
            if group in ("pronoun", "description", "all")
        }
        | {f"{group}_{FOLDS}-fold": folded[name][group] for group in ("pronoun", "description", "all")}
        for name, chooser_of in variants.items()
    }
    return {
        "checkpoint": "the speaker resolver (any checkpoint)",
        "gold": f"{annotations}, gold speaker mentions",
        "variants": rows,
    }


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--annotations", default="data/annotations", help="Label Studio exports (default: %(default)s)")
    parser.add_argument("--output", required=True, help="the scorer's JSON (the package's: src/quoteattr/systems/)")
    parser.add_argument("--seed", type=int, default=13, help="`quoteattr build`'s split seed (%(default)s)")
    parser.add_argument("--results", help="also write the F1s here, with the command (docs/make_results.py)")
    args = parser.parse_args(argv)
    return exit_status(
        lambda: show_result(report(args.annotations, args.output, args.seed, argv), args.results, SCRIPT, argv)
    )


if __name__ == "__main__":
    sys.exit(main())
