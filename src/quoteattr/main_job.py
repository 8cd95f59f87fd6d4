"""The main job (`quoteattr run`) on the embedded data: ingest, build the dataset, train, and compare the
model with the rules baseline."""

from __future__ import annotations

import logging
import time
from pathlib import Path

from quoteattr.data.errors import InputError
from quoteattr.data.readers import ingest
from quoteattr.data.writers import write_articles
from quoteattr.dataset.build import EMBEDDED_LICENCE, build_from_sources
from quoteattr.labelstudio.annotations import DEFAULT_ANNOTATIONS, load_gold

logger = logging.getLogger(__name__)


def run_main_job(
    output: Path,
    raw: Path,
    annotations: Path = DEFAULT_ANNOTATIONS,
    seed: int = 13,
    train_config: Path | None = Path("configs/default.yaml"),
) -> dict:
    """Ingest the raw articles and check them against the gold, build the dataset, train the model with
    ``train_config`` (None: skip), and score the model and the rules baseline side by side on the test split."""
    from quoteattr.dataset.store import load_split_articles
    from quoteattr.evaluation.comparison import compare_systems

    started = time.perf_counter()
    ingested, _ = ingest(sorted(p for p in raw.rglob("*.txt")))
    write_articles(output / "ingested.jsonl", ingested)
    gold = load_gold(annotations)
    if gold.issues:
        raise InputError("annotations could not be converted:\n  " + "\n  ".join(map(str, gold.issues)))
    by_id = {a.id: a for a in ingested}
    for article in gold.articles:
        if article.id in by_id and by_id[article.id].text != article.text:
            raise InputError(f"{annotations}: article {article.id!r} text differs from ingesting its raw page")
    write_articles(output / "gold.jsonl", gold.articles)
    logger.info("ingested %d raw articles; %d labelled articles in %s", len(ingested), len(gold.articles), annotations)

    dataset = output / "dataset"
    stats = build_from_sources(dataset, annotations=annotations, seed=seed, licence=EMBEDDED_LICENCE)
    logger.info(
        "dataset: %s", "; ".join(f"{k} {v['articles']} articles/{v['quotes']} quotes" for k, v in stats.items())
    )

    systems = ["rules"]
    if train_config is not None:
        from quoteattr.training.trainer import train

        logger.info("training with %s ...", train_config)
        checkpoint = train(
            [
                "--config",
                str(train_config),
                "--dataset_dir",
                str(dataset),
                "--output_dir",
                str(output / "model"),
                "--seed",
                str(seed),
            ]
        )
        systems.append(str(checkpoint))
    write_articles(output / "validation_gold.jsonl", load_split_articles(dataset, "validation"))
    test_gold = output / "test_gold.jsonl"
    write_articles(test_gold, load_split_articles(dataset, "test"))
    logger.info("\nthe systems side by side on the embedded test split:")
    reports = compare_systems(test_gold, systems, output / "compare", bootstrap=1000)
    logger.info("\ndone in %.1fs; outputs in %s/", time.perf_counter() - started, output)
    return reports
