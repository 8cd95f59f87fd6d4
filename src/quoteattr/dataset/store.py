"""The dataset on disk: a Hugging Face DatasetDict saved with save_to_disk and as Parquet, its splits, and rows ↔
Articles."""

from __future__ import annotations

import json
import random
import shutil
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

from datasets import Dataset, DatasetDict

from quoteattr.data.readers import row_to_article
from quoteattr.data.schema import QUOTE_TYPES, Article
from quoteattr.data.writers import arrow_features, article_to_row, plain_permissions
from quoteattr.dataset.card import dataset_card, split_agreement
from quoteattr.dataset.phenomena import count_phenomena

SPLITS = ("train", "validation", "test")

FEATURES = arrow_features()


def split_articles(
    articles: list[Article], seed: int, ratios: tuple[float, float] = (0.7, 0.1)
) -> dict[str, list[Article]]:
    """Shuffle articles with a seed and cut them into train/validation/test (each article in one split)."""
    ordered = sorted(articles, key=lambda a: a.id)
    random.Random(seed).shuffle(ordered)
    n = len(ordered)
    n_validation = max(1, round(n * ratios[1])) if n >= 3 else 0
    n_test = max(1, n - round(n * ratios[0]) - n_validation) if n >= 3 else 0
    n_train = n - n_validation - n_test
    return {
        "train": ordered[:n_train],
        "validation": ordered[n_train : n_train + n_validation],
        "test": ordered[n_train + n_validation :],
    }


def carve_validation(articles: list[Article], fraction: float, seed: int) -> tuple[list[Article], list[Article]]:
    """Split ``fraction`` of the articles off as a validation slice (seeded, by article): the rest, the slice."""
    if not 0 < fraction < 1:
        raise ValueError(f"validation fraction must lie between 0 and 1, got {fraction}")
    ordered = sorted(articles, key=lambda a: a.id)
    random.Random(seed).shuffle(ordered)
    n_validation = max(1, round(len(ordered) * fraction))
    return ordered[n_validation:], ordered[:n_validation]


def build_dataset(splits: dict[str, list[Article]]) -> DatasetDict:
    return DatasetDict(
        {
            name: Dataset.from_list([article_to_row(a) for a in articles], features=FEATURES)
            for name, articles in splits.items()
        }
    )


def split_statistics(splits: dict[str, list[Article]]) -> dict[str, dict[str, Any]]:
    """Articles, quotes, quotes per type and the attribution phenomena (``phenomena``) in each split."""
    stats = {}
    for name, articles in splits.items():
        types = Counter(q.type for a in articles for q in a.quotes)
        stats[name] = {
            "articles": len(articles),
            "quotes": sum(types.values()),
            **{t: types.get(t, 0) for t in QUOTE_TYPES},
            "with_speaker_entity": sum(1 for a in articles for q in a.quotes if q.speaker_entity),
            "phenomena": count_phenomena(articles),
        }
    return stats


def save_dataset(
    splits: dict[str, list[Article]],
    output: str | Path,
    sources: list[str],
    licence: str,
    seed: int | None,
    split_note: str | None = None,
) -> DatasetDict:
    """Write ``hf/`` (save_to_disk), ``data/*.parquet`` and ``README.md`` into a temp dir, then move it into place."""
    from datasets.utils.logging import disable_progress_bar

    disable_progress_bar()  # a few small splits: the bars would be noise
    output = Path(output)
    dataset = build_dataset(splits)
    output.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{output.name}.", dir=output.parent))
    plain_permissions(staging, directory=True)
    try:
        dataset.save_to_disk(str(staging / "hf"))
        (staging / "data").mkdir()
        for name, split in dataset.items():
            split.to_parquet(str(staging / "data" / f"{name}.parquet"))
        stats = split_statistics(splits)
        (staging / "README.md").write_text(
            dataset_card(stats, sources, licence, seed, split_note, split_agreement(splits)), encoding="utf-8"
        )
        (staging / "statistics.json").write_text(json.dumps(stats, indent=2) + "\n", encoding="utf-8")
        if output.exists():
            old = output.with_name(f".{output.name}.old")
            shutil.rmtree(old, ignore_errors=True)
            output.rename(old)
            staging.rename(output)
            shutil.rmtree(old)
        else:
            staging.rename(output)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return dataset


def load_split_articles(path: str | Path, split: str) -> list[Article]:
    """Articles of one split from a dataset written by ``save_dataset``."""
    from datasets import load_from_disk

    return [row_to_article(row) for row in load_from_disk(str(Path(path) / "hf"))[split]]
