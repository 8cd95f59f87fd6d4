"""Choose the checkpoint's decoding settings on the validation split: every article goes through the
encoder once, each setting of a small grid is decoded and scored, and the best is kept in the checkpoint."""

from __future__ import annotations

import itertools
import sys
from typing import Any

from tqdm import tqdm

from quoteattr.data.schema import Article
from quoteattr.evaluation.scoring import evaluate_articles

DECODING_GRID: dict[str, tuple[Any, ...]] = {
    "decoding": ("argmax", "viterbi"),
    "content_gap_tokens": (0, 4),
    "min_content_words": (1, 3),
    "join_across_sentences": (False, True),
    "snap_to_marks": (None, 1),
    "continuation": (False, True),
}
"""Each option is described where it acts: ``decode_roles`` (decoding, gap, minimum words) and
``assemble_article`` (joining, snapping, continuation)."""
REPORTED = ("content_overlap", "content_exact", "attribution")


def search_decoding(
    attributor: Any, gold: list[Article], metric: str = "attribution", grid: dict[str, tuple[Any, ...]] = DECODING_GRID
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The grid setting with the best ``metric`` F1 on ``gold`` (content exact F1 breaks ties), and every
    setting's row (its values and F1s)."""
    analysed = list(tqdm(attributor.analyse(gold), total=len(gold), desc="encoding validation", unit="article", file=sys.stderr))
    rows = []
    for values in tqdm(list(itertools.product(*grid.values())), desc="decoding settings", file=sys.stderr):
        setting = dict(zip(grid, values))
        predicted = [attributor.attribute(article, analysis, settings=setting) for article, analysis in analysed]
        metrics = evaluate_articles(gold, predicted, bootstrap=0)["metrics"]
        rows.append({**setting, **{f"{name}_f1": metrics[name]["f1"] for name in REPORTED}})
    best = max(rows, key=lambda row: (row[f"{metric}_f1"], row["content_exact_f1"]))
    return {key: best[key] for key in grid}, rows
