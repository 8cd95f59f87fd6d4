"""Peak memory and speed of `quoteattr ingest` and `quoteattr predict` as the input grows: both stream, so
peak resident memory and time per article should stay flat from 1k to 20k articles.

    python training/benchmark_streaming.py --system rules --sizes 1000 5000 20000 --ray-shards 8

Each size replicates the source articles (default: the embedded starter articles) under new ids into one
.jsonl.gz file, then runs each command in a fresh process and reads that process's peak resident memory.
A one-article run of each command measures start-up (imports, loading the system), which the per-article
times leave out. With ``--ray-shards N`` the largest input is also split into N shards and predicted with
``--engine ray`` (its time includes starting Ray and its actors; the memory shown is the driver's).
``--output FILE.json`` also writes the numbers and the command line (for ``docs/make_results.py``).
"""

from __future__ import annotations

import argparse
import gzip
import json
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path

from quoteattr.data.readers import iter_articles

ROOT = Path(__file__).resolve().parents[1]
CHILD = """
import json, resource, sys, time
from quoteattr.cli import main
started = time.perf_counter()
status = main(sys.argv[1:])
seconds = time.perf_counter() - started
peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"status": status, "seconds": seconds, "peak_mb": peak_mb}))
"""


def write_replicas(source: list[dict], count: int, path: Path) -> None:
    """``count`` articles cycled from ``source``, each under a new id, streamed into a gzipped JSONL file."""
    with gzip.open(path, "wt", encoding="utf-8") as stream:
        for number in range(count):
            record = source[number % len(source)]
            stream.write(json.dumps({"id": f"{number:07d}-{record['id']}", "text": record["text"]}) + "\n")


def write_shards(source: list[dict], count: int, shards: int, folder: Path) -> None:
    """The same ``count`` articles as ``write_replicas``, dealt into ``shards`` gzipped JSONL files."""
    folder.mkdir()
    streams = [gzip.open(folder / f"shard{n:03d}.jsonl.gz", "wt", encoding="utf-8") for n in range(shards)]
    for number in range(count):
        record = source[number % len(source)]
        streams[number * shards // count].write(
            json.dumps({"id": f"{number:07d}-{record['id']}", "text": record["text"]}) + "\n"
        )
    for stream in streams:
        stream.close()


def measure(command: list[str]) -> dict:
    result = subprocess.run([sys.executable, "-c", CHILD, *command], capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{result.stderr[-2000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--system", default="rules", help="any `quoteattr predict --system` value")
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 5000, 20000])
    parser.add_argument(
        "--source",
        default=str(ROOT / "data" / "raw" / "starter"),
        help="articles to replicate (any input predict takes)",
    )
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument(
        "--ray-shards", type=int, default=0, help="also run the largest size as this many shards on Ray"
    )
    parser.add_argument("--ray-workers", type=int, default=2)
    parser.add_argument("--output", help="also write the measured numbers and this command line to this JSON file")
    args = parser.parse_args()

    source = [{"id": a.id, "text": a.text} for a in iter_articles([args.source])]
    mean_chars = sum(len(r["text"]) for r in source) / len(source)
    print(f"source: {len(source)} articles from {args.source}, {mean_chars:.0f} characters each on average")
    rows, ray_row = [], None
    with tempfile.TemporaryDirectory() as work:
        for size in [1, *args.sizes]:
            articles = Path(work) / f"{size}.jsonl.gz"
            write_replicas(source, size, articles)
            for name, command in (
                ("ingest", ["ingest", str(articles), "--output", str(Path(work) / f"{size}-ingested.jsonl")]),
                (
                    f"predict {args.system}",
                    [
                        "predict",
                        "--system",
                        args.system,
                        str(articles),
                        "--batch-size",
                        str(args.batch_size),
                        "--output",
                        str(Path(work) / f"{size}-predicted.jsonl.gz"),
                    ],
                ),
            ):
                result = measure(command)
                rows.append({"command": name, "articles": size, **result})
                print(
                    f"  {name}: {size} articles in {result['seconds']:.1f} s, peak {result['peak_mb']:.0f} MB",
                    flush=True,
                )
        if args.ray_shards:
            size = max(args.sizes)
            write_shards(source, size, args.ray_shards, Path(work) / "shards")
            ray_run = measure(
                [
                    "predict",
                    "--engine",
                    "ray",
                    "--system",
                    args.system,
                    str(Path(work) / "shards"),
                    "--num-workers",
                    str(args.ray_workers),
                    "--batch-size",
                    str(args.batch_size),
                    "--output",
                    str(Path(work) / "sharded"),
                ]
            )
            print(
                f"  predict {args.system} on Ray: {size} articles in {args.ray_shards} shards, "
                f"{args.ray_workers} workers: "
                f"{ray_run['seconds']:.1f} s, {size / ray_run['seconds']:.1f} articles/s (start-up included), "
                f"driver peak {ray_run['peak_mb']:.0f} MB",
                flush=True,
            )
            ray_row = {
                "articles": size,
                "shards": args.ray_shards,
                "workers": args.ray_workers,
                "seconds": ray_run["seconds"],
                "articles_per_second": size / ray_run["seconds"],
                "driver_peak_mb": ray_run["peak_mb"],
            }

    startup = {r["command"]: r["seconds"] for r in rows if r["articles"] == 1}
    print(
        "\n| command | articles | seconds | start-up s | articles/s after start-up | ms/article | vs smallest "
        "| peak MB | vs smallest |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    measured = [r for r in rows if r["articles"] > 1]
    table = []
    for row in measured:
        first = next(r for r in measured if r["command"] == row["command"])
        per_article = (row["seconds"] - startup[row["command"]]) / (row["articles"] - 1)
        first_per_article = (first["seconds"] - startup[row["command"]]) / (first["articles"] - 1)
        print(
            f"| {row['command']} | {row['articles']} | {row['seconds']:.1f} | {startup[row['command']]:.1f} | "
            f"{1 / per_article:.1f} | {1000 * per_article:.2f} | {per_article / first_per_article:.2f}× | "
            f"{row['peak_mb']:.0f} | {row['peak_mb'] / first['peak_mb']:.2f}× |"
        )
        table.append(
            {
                "command": row["command"],
                "articles": row["articles"],
                "seconds": row["seconds"],
                "startup_seconds": startup[row["command"]],
                "articles_per_second": 1 / per_article,
                "ms_per_article": 1000 * per_article,
                "time_vs_smallest": per_article / first_per_article,
                "peak_mb": row["peak_mb"],
                "peak_vs_smallest": row["peak_mb"] / first["peak_mb"],
            }
        )
    if args.output:
        result = {
            "command": shlex.join(["python", *sys.argv]),
            "system": args.system,
            "source": args.source,
            "source_articles": len(source),
            "mean_characters": mean_chars,
            "measurements": rows,
            "table": table,
            "ray": ray_row,
        }
        Path(args.output).write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
        print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
