"""Does choosing what to label pay? An active-learning simulation on PolNeAR train: labels are revealed only
for the articles selected, a small model is trained from scratch on them each round, and dev attribution F1
is compared between strategies with the same seeds (the same first articles, pool, training and dev).

    python training/active_learning.py --train outputs/polnear/dataset/data/train.parquet \
        --validation outputs/polnear/dataset/data/validation.parquet --dev outputs/polnear/dev.jsonl \
        --output outputs/active_learning

Each round: build a dataset of the labelled articles, train with configs/active_learning.yaml, score dev,
predict the rest of the pool and select the next articles (`quoteattr labelstudio push --select` uses the
same selection). The first round's model is trained once for all strategies (in start/). A rerun skips
rounds already done. Writes results.json (this command line and one row per strategy and round, read by
docs/make_results.py), learning_curve.png and a table.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shlex
import subprocess
import sys
from pathlib import Path

from quoteattr.data.readers import read_articles
from quoteattr.data.writers import atomic_writer, write_articles, write_json
from quoteattr.dataset.build import build_from_sources
from quoteattr.evaluation.scoring import evaluate_articles
from quoteattr.labelstudio.selection import STRATEGIES, select_articles
from quoteattr.systems.model.attributor import QuoteAttributor

ROOT = Path(__file__).resolve().parents[1]
REPORTED = ("attribution", "content_overlap", "content_exact")


def train_round(folder: Path, labelled, validation, config: Path) -> Path:
    """A model trained on ``labelled`` alone (the round's own dataset); returns its checkpoint."""
    checkpoint = folder / "model" / "final"
    if checkpoint.is_dir():
        return checkpoint
    write_articles(folder / "train.jsonl", labelled)
    write_articles(folder / "validation.jsonl", validation)
    build_from_sources(
        folder / "dataset", train=str(folder / "train.jsonl"), validation=str(folder / "validation.jsonl")
    )
    command = [
        sys.executable,
        str(ROOT / "training" / "train.py"),
        "--config",
        str(config),
        "--dataset_dir",
        str(folder / "dataset"),
        "--output_dir",
        str(folder / "model"),
    ]
    with open(folder / "train.log", "w", encoding="utf-8") as log:
        result = subprocess.run(
            command, stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "HF_HUB_OFFLINE": "1"}
        )
    if result.returncode != 0:
        raise SystemExit(f"training failed in {folder}; see {folder / 'train.log'}")
    return checkpoint


def select_next(
    strategy: str, attributor: QuoteAttributor, remaining, args: argparse.Namespace, number: int
) -> list[str]:
    """The ids of the articles the round's model selects from what is left of the pool."""
    candidates = list(attributor.predict(remaining)) if strategy != "random" else remaining
    return [a.id for a in select_articles(candidates, args.step, strategy, seed=args.seed + number)]


def simulate(strategy: str, args: argparse.Namespace, initial, pool, validation, dev) -> list[dict]:
    """Rounds of training and selection for one strategy; each round's row is saved as soon as it is done, and a
    rerun with more --rounds extends the curve (the last round done selects its articles then)."""
    rows_path = Path(args.output) / strategy / "rows.json"
    rows = json.loads(rows_path.read_text()) if rows_path.exists() else []
    labelled, remaining = list(initial), list(pool)
    for number in range(args.rounds):
        folder = Path(args.output) / strategy / f"round{number}"
        folder.mkdir(parents=True, exist_ok=True)
        # the first round's articles are the same for every strategy: its model is trained once, in start/
        trained_in = Path(args.output) / "start" if number == 0 else folder
        trained_in.mkdir(parents=True, exist_ok=True)
        done = next((row for row in rows if row["round"] == number), None)
        attributor = None
        if done is None:
            attributor = QuoteAttributor.from_pretrained(
                train_round(trained_in, labelled, validation, Path(args.config)), device="cpu"
            )
            metrics = evaluate_articles(dev, list(attributor.predict(dev)), bootstrap=0)["metrics"]
            done = {
                "strategy": strategy,
                "round": number,
                "labelled": len(labelled),
                "pool": len(pool),
                "selected": [a.id for a in labelled],
                **{f"{name}_f1": metrics[name]["f1"] for name in REPORTED},
            }
            rows.append(done)
            print(
                f"{strategy} round {number}: {len(labelled)} articles, dev attribution F1 {done['attribution_f1']:.3f}",
                flush=True,
            )
        if number + 1 < args.rounds and "next" not in done:
            if len(remaining) < args.step:
                raise SystemExit(
                    f"{strategy} round {number}: {len(remaining)} articles left in the pool, "
                    f"fewer than --step {args.step}; raise --pool"
                )
            attributor = attributor or QuoteAttributor.from_pretrained(
                train_round(trained_in, labelled, validation, Path(args.config)), device="cpu"
            )
            done["next"] = select_next(strategy, attributor, remaining, args, number)
            done["selected_from"] = len(remaining)
        write_json(rows_path, rows)
        chosen = set(done.get("next", []))
        labelled += [a for a in remaining if a.id in chosen]
        remaining = [a for a in remaining if a.id not in chosen]
    return rows


def plot(rows: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(1, 2, figsize=(10, 4.2))
    for axis, metric in zip(axes, ("attribution_f1", "content_overlap_f1")):
        for strategy in dict.fromkeys(row["strategy"] for row in rows):
            points = sorted((row["labelled"], row[metric]) for row in rows if row["strategy"] == strategy)
            axis.plot(*zip(*points), marker="o", label=strategy)
        axis.set_xlabel("labelled articles")
        axis.set_ylabel(f"dev {metric.removesuffix('_f1').replace('_', ' ')} F1")
        axis.grid(alpha=0.3)
        axis.legend()
    figure.suptitle("Active learning on PolNeAR train: dev F1 by articles labelled")
    figure.tight_layout()
    with atomic_writer(path, "wb") as stream:
        figure.savefig(stream, format="png", dpi=110)
    plt.close(figure)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--train", required=True, help="the articles whose labels can be revealed")
    parser.add_argument(
        "--validation", required=True, help="articles the trainer validates on (its first --validation-articles)"
    )
    parser.add_argument("--dev", required=True, help="where each round is scored (its first --dev-articles)")
    parser.add_argument("--output", default="outputs/active_learning")
    parser.add_argument("--config", default=str(ROOT / "configs" / "active_learning.yaml"))
    parser.add_argument("--strategies", nargs="+", choices=STRATEGIES, default=list(STRATEGIES))
    parser.add_argument("--start", type=int, default=25, help="articles labelled at random before the first round")
    parser.add_argument("--step", type=int, default=25, help="articles selected per round")
    parser.add_argument(
        "--rounds",
        type=int,
        default=6,
        help="rounds of training; the last has --start + (rounds - 1) × --step articles",
    )
    parser.add_argument("--pool", type=int, default=200, help="unlabelled articles to select from")
    parser.add_argument("--validation-articles", type=int, default=10)
    parser.add_argument("--dev-articles", type=int, default=42)
    parser.add_argument("--seed", type=int, default=13)
    args = parser.parse_args()

    articles = read_articles(args.train)
    random.Random(args.seed).shuffle(articles)
    initial, pool = articles[: args.start], articles[args.start : args.start + args.pool]
    validation = read_articles(args.validation)[: args.validation_articles]
    dev = read_articles(args.dev)[: args.dev_articles]
    rows = [row for strategy in args.strategies for row in simulate(strategy, args, initial, pool, validation, dev)]
    write_json(Path(args.output) / "results.json", {"command": shlex.join(["python", *sys.argv]), "rows": rows})
    plot(rows, Path(args.output) / "learning_curve.png")
    print("\n| labelled | " + " | ".join(f"{s} attribution F1" for s in args.strategies) + " |")
    print("|---|" + "---|" * len(args.strategies))
    for size in sorted({row["labelled"] for row in rows}):
        cells = [
            next((f"{r['attribution_f1']:.3f}" for r in rows if r["strategy"] == s and r["labelled"] == size), "–")
            for s in args.strategies
        ]
        print(f"| {size} | " + " | ".join(cells) + " |")
    print(f"wrote {Path(args.output) / 'results.json'} and {Path(args.output) / 'learning_curve.png'}")


if __name__ == "__main__":
    main()
