"""Predict over an archive as a Ray Data job: each input file is a shard, a pool of actors (each holding
the system once) reads its shards in parallel, predicts and writes one output shard per input shard.

Output shards are written whole or not at all (temporary file, then rename), so a rerun skips every
shard whose output exists and redoes the rest; a shard that fails is reported with its error while the
others finish. On one machine Ray starts locally; ``address`` joins a running cluster (`ray start`).
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from quoteattr.data.errors import InputError
from quoteattr.data.ingest import IngestReport
from quoteattr.data.readers import DEFAULT_MAX_BYTES, STDIO, expand_inputs, iter_articles
from quoteattr.data.writers import write_json, write_predictions

MANIFEST = "manifest.json"
SUFFIXES = {"jsonl": ".jsonl", "parquet": ".parquet", "tsv": ".tsv"}


@dataclass
class ShardJob:
    """What each actor needs to run a shard: the system, how to read and where to write."""

    system: str
    output_dir: str
    output_format: str = "jsonl"
    batch_size: int = 32
    device: str | None = None
    skip_bad: bool = False
    max_bytes: int = DEFAULT_MAX_BYTES


@dataclass
class ShardRun:
    """The outcome of a whole sharded run, as written to the output folder's manifest."""

    done: list[dict[str, Any]] = field(default_factory=list)
    skipped_complete: list[str] = field(default_factory=list)
    failed: list[dict[str, str]] = field(default_factory=list)
    seconds: float = 0.0


def shard_output(path: Path, output_dir: Path, output_format: str) -> Path:
    """The output shard of an input shard: its name plus a short hash of its full path (stable across reruns)."""
    digest = hashlib.sha1(str(path.resolve()).encode("utf-8")).hexdigest()[:8]
    stem = path.name.split(".")[0]
    return output_dir / f"{stem}-{digest}{SUFFIXES[output_format]}"


class ShardPredictor:
    """A Ray actor: loads the system once, then predicts shard after shard."""

    def __init__(self, job: ShardJob) -> None:
        from quoteattr.systems import load_system

        self.job = job
        self.system = load_system(job.system, device=job.device)

    def __call__(self, batch: dict[str, Any]) -> dict[str, list]:
        results: dict[str, list] = {"shard": [], "output": [], "articles": [], "skipped": [], "error": []}
        for shard in batch["shard"]:
            shard = str(shard)
            target = shard_output(Path(shard), Path(self.job.output_dir), self.job.output_format)
            report = IngestReport()
            try:
                articles = iter_articles(
                    [shard], skip_bad=self.job.skip_bad, max_bytes=self.job.max_bytes, report=report
                )
                count = write_predictions(
                    target, self.system.predict(articles, batch_size=self.job.batch_size), self.job.output_format
                )
                error = ""
            except Exception as failure:  # noqa: BLE001 - one bad shard must not stop the others; it is reported
                count, error = (
                    0,
                    f"{type(failure).__name__}: {failure}" if not isinstance(failure, InputError) else str(failure),
                )
            results["shard"].append(shard)
            results["output"].append(str(target) if not error else "")
            results["articles"].append(count)
            results["skipped"].append(json.dumps(report.skipped))
            results["error"].append(error)
        return results


def predict_with_ray(
    inputs: list[str],
    job: ShardJob,
    num_workers: int = 2,
    cpus_per_worker: float = 0.5,
    gpus_per_worker: float = 0.0,
    address: str | None = None,
) -> ShardRun:
    """Run ``job`` over every input shard not already done; returns (and writes to the manifest) what happened."""
    import ray

    if STDIO in inputs:
        raise InputError("the Ray engine reads files (each one a shard), not standard input")
    started = time.perf_counter()
    output_dir = Path(job.output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    for stale in output_dir.glob(".*.tmp"):  # left by a run that was killed mid-shard
        stale.unlink()
    run = ShardRun()
    pending = []
    for shard in expand_inputs(inputs):
        if shard_output(shard, output_dir, job.output_format).exists():
            run.skipped_complete.append(str(shard))
        else:
            pending.append(str(shard))
    if pending:
        ray.init(
            address=address,
            include_dashboard=False,
            ignore_reinit_error=True,
            log_to_driver=False,
            logging_level="ERROR",
            configure_logging=True,
        )
        try:
            shards = ray.data.from_items([{"shard": shard} for shard in pending], override_num_blocks=len(pending))
            resources = {"num_cpus": cpus_per_worker, **({"num_gpus": gpus_per_worker} if gpus_per_worker else {})}
            outcomes = shards.map_batches(
                ShardPredictor,
                fn_constructor_args=(job,),
                batch_size=1,
                concurrency=min(num_workers, len(pending)),
                **resources,
            ).take_all()
        finally:
            ray.shutdown()
        for outcome in sorted(outcomes, key=lambda row: row["shard"]):
            if outcome["error"]:
                run.failed.append({"shard": outcome["shard"], "error": outcome["error"]})
            else:
                run.done.append(
                    {
                        "shard": outcome["shard"],
                        "output": outcome["output"],
                        "articles": int(outcome["articles"]),
                        "skipped": json.loads(outcome["skipped"]),
                    }
                )
    run.seconds = time.perf_counter() - started
    write_json(output_dir / MANIFEST, {"system": job.system, **asdict(run)})
    return run
