"""The main job (`quoteattr run`) on the embedded data: ingest, build the dataset, train, and compare the
model with the rules baseline."""

from __future__ import annotations

import time
from pathlib import Path

from quoteattr.data.ingest import ingest
from quoteattr.data.jsonl import InputError, write_articles
from quoteattr.dataset.build import EMBEDDED_LICENCE, build_from_sources
from quoteattr.labelstudio.annotations import DEFAULT_ANNOTATIONS, load_gold


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
    print(f"ingested {len(ingested)} raw articles; {len(gold.articles)} labelled articles in {annotations}")

    dataset = output / "dataset"
    stats = build_from_sources(dataset, annotations=annotations, seed=seed, licence=EMBEDDED_LICENCE)
    print("dataset: " + "; ".join(f"{k} {v['articles']} articles/{v['quotes']} quotes" for k, v in stats.items()))

    systems = ["rules"]
    if train_config is not None:
        from quoteattr.training.trainer import train

        print(f"training with {train_config} ...", flush=True)
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
    test_gold = output / "test_gold.jsonl"
    write_articles(test_gold, load_split_articles(dataset, "test"))
    print("\nthe systems side by side on the embedded test split:")
    reports = compare_systems(test_gold, systems, output / "compare", bootstrap=1000)
    print(f"\ndone in {time.perf_counter() - started:.1f}s; outputs in {output}/")
    return reports
