"""Choose the checkpoint's decoding settings on the validation split: every article goes through the
encoder once, each setting of a small grid is decoded and scored, then each refining option is tried
with the grid's best fixed, and the best is kept in the checkpoint."""

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
REFINING: dict[str, tuple[Any, ...]] = {
    "source_candidate_bias": (0.0, 1.0, 2.0),
    "split_introduced": (False, True),
    "join_wordy_cues": (False, True),
    "min_quote_score": (0.0, 0.5, 0.6, 0.7, 0.8),
    "trim_commas": (False, True),
}
"""Tried one at a time after the grid, the grid's best fixed (``decode_roles``: extra mentions for the linker;
``assemble_article``: a quote introduced by its own cue keeps its fragments to itself; quotations split by a
wordy cue clause are one, a fragment's edge commas outside quotation marks are trimmed; ``attribute``: quotes
whose raw score is below ``min_quote_score`` are dropped)."""
REPORTED = ("content_overlap", "content_exact", "attribution")


def search_decoding(
    attributor: Any,
    gold: list[Article],
    metric: str = "attribution",
    grid: dict[str, tuple[Any, ...]] = DECODING_GRID,
    refining: dict[str, tuple[Any, ...]] = REFINING,
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The setting with the best ``metric`` F1 on ``gold`` (content exact F1 breaks ties): the grid's best,
    then each ``refining`` option in turn; and every setting's row (its values and F1s)."""
    analysed = list(
        tqdm(attributor.analyse(gold), total=len(gold), desc="encoding validation", unit="article", file=sys.stderr)
    )
    first = {key: values[0] for key, values in refining.items()}
    settings = [{**dict(zip(grid, values)), **first} for values in itertools.product(*grid.values())]
    progress = tqdm(
        total=len(settings) + sum(len(values) - 1 for values in refining.values()),
        desc="decoding settings",
        file=sys.stderr,
    )
    rows = [_score(attributor, gold, analysed, setting, progress) for setting in settings]

    def rank(row: dict[str, Any]) -> tuple[float, float]:
        return row[f"{metric}_f1"], row["content_exact_f1"]

    best = max(rows, key=rank)
    for key, values in refining.items():
        trials = [best] + [
            _score(attributor, gold, analysed, {**_setting(best), key: value}, progress) for value in values[1:]
        ]
        rows += trials[1:]
        best = max(trials, key=rank)
    progress.close()
    return _setting(best), rows


def _score(
    attributor: Any, gold: list[Article], analysed: list, setting: dict[str, Any], progress: tqdm
) -> dict[str, Any]:
    predicted = [attributor.attribute(article, analysis, settings=setting) for article, analysis in analysed]
    metrics = evaluate_articles(gold, predicted, bootstrap=0)["metrics"]
    progress.update()
    return {**setting, **{f"{name}_f1": metrics[name]["f1"] for name in REPORTED}}


def _setting(row: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in row.items() if not key.endswith("_f1")}
