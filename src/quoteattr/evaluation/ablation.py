"""What the ablation scripts in eval/ share: the F1s of one variant of a checkpoint's decoding on gold articles, and
their command line (``--checkpoint``, ``--gold``, ``--output``)."""

from __future__ import annotations

import argparse
from collections.abc import Callable

from quoteattr.data.errors import exit_status
from quoteattr.data.schema import Article
from quoteattr.data.writers import show_result
from quoteattr.evaluation.scoring import evaluate_articles


def variant_f1s(gold: list[Article], predicted: list[Article], reported: tuple[str, ...]) -> dict[str, float]:
    """The ``reported`` F1s of one variant's predictions (no bootstrap), unrounded: a table rounds them once, as it
    rounds ``compare``'s (0.95348 is 0.953 in both, not 0.9535 and then 0.954)."""
    metrics = evaluate_articles(gold, predicted, bootstrap=0)["metrics"]
    return {name: metrics[name]["f1"] for name in reported}


def ablation_main(
    script: str, description: str, report: Callable[[str, str], dict], argv: list[str] | None = None
) -> int:
    """Parse an ablation script's arguments, print ``report(checkpoint, gold)`` as JSON (written with its command
    to ``--output`` too); bad input is one error line and status 2."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--checkpoint", required=True)
    parser.add_argument("--gold", required=True)
    parser.add_argument("--output", help="also write the result here, with its command (docs/make_results.py)")
    args = parser.parse_args(argv)
    return exit_status(lambda: show_result(report(args.checkpoint, args.gold), args.output, script, argv))
