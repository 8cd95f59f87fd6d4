"""Predict over an archive as a Ray Data job: each input file is a shard, a pool of actors (each holding
the system once) reads its shards in parallel, predicts and writes one output shard per input shard.

Output shards are written whole or not at all (temporary file, then rename), each followed by a completion
record (hidden ``.NAME.done.json``) holding the shard's key: the system (a checkpoint by its path, config and
files), the settings that change predictions, and the input file (path, size, modification time). A rerun
skips a shard whose record matches its key and recomputes one whose input changed or that never finished, so a
killed run resumes; shards written by another system or settings are refused unless ``overwrite``. Ids are
checked across every shard before any is written, by local predict's rule. A shard that fails is reported with
its error while the others finish. On one machine Ray starts locally; ``address`` joins a running cluster.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from importlib.metadata import entry_points, version
from pathlib import Path
from typing import Any

from quoteattr.data.errors import InputError
from quoteattr.data.ingest import IngestReport
from quoteattr.data.readers import (
    DEFAULT_MAX_BYTES,
    LINE_BYTES_PER_TEXT_BYTE,
    STDIO,
    expand_inputs,
    iter_articles,
    iter_records,
    read_txt,
    record_article,
    record_suffix,
    unique,
)
from quoteattr.data.schema import Article
from quoteattr.data.writers import write_json, write_predictions
from quoteattr.systems import MODEL_ENTRY_POINTS, SYSTEMS

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
    min_score: float | None = None


@dataclass
class ShardRun:
    """The outcome of a whole sharded run, as written to the output folder's manifest."""

    done: list[dict[str, Any]] = field(default_factory=list)
    skipped_complete: list[str] = field(default_factory=list)
    failed: list[dict[str, str]] = field(default_factory=list)
    seconds: float = 0.0


@dataclass
class ShardPlan:
    """The key of this run, the shards to compute (Ray rows: shard and the key to record once it is whole) and
    the shards already complete."""

    run: dict[str, Any]
    pending: list[dict[str, str]] = field(default_factory=list)
    complete: list[str] = field(default_factory=list)


def shard_output(path: Path, output_dir: Path, output_format: str) -> Path:
    """The output shard of an input shard: its name plus a short hash of its full path (stable across reruns)."""
    digest = hashlib.sha1(str(path.resolve()).encode("utf-8")).hexdigest()[:8]
    stem = path.name.split(".")[0]
    return output_dir / f"{stem}-{digest}{SUFFIXES[output_format]}"


def completion_record(output: Path) -> Path:
    """Where an output shard's key is written once the shard is whole (hidden: reading the folder skips it)."""
    return output.with_name(f".{output.name}.done.json")


def run_key(job: ShardJob) -> dict[str, Any]:
    """What decides a shard's predictions besides its input: the system and the settings that change them
    (batch size and device do not; the output format is in the shard's name)."""
    return {
        "system": system_identity(job.system),
        "min_score": job.min_score,
        "skip_bad": job.skip_bad,
        "max_bytes": job.max_bytes,
    }


def system_identity(system: str) -> dict[str, Any]:
    """A system as ``load_system`` finds it: a built-in one by name and the version of the package holding it,
    a checkpoint folder or an installed model by its checkpoint's files."""
    if system in SYSTEMS:
        return {"name": system, "version": version("quoteattr" if system == "rules" else system)}
    if Path(system).is_dir():
        return checkpoint_identity(Path(system))
    for entry_point in entry_points(group=MODEL_ENTRY_POINTS):
        if entry_point.name == system:
            return {"name": system, **checkpoint_identity(Path(entry_point.load()()))}
    return {"name": system}  # unknown: loading it fails and says so


def checkpoint_identity(folder: Path) -> dict[str, str]:
    """A checkpoint by its resolved path, its config's bytes, and the size and modification time of each of its
    files (hashing gigabytes of weights on every run would cost more than it could catch)."""
    files = sorted(path for path in folder.iterdir() if path.is_file())
    stats = [[path.name, path.stat().st_size, path.stat().st_mtime_ns] for path in files]
    config = folder / "config.json"
    return {
        "checkpoint": str(folder.resolve()),
        "config_sha256": hashlib.sha256(config.read_bytes()).hexdigest() if config.is_file() else "",
        "files_sha256": hashlib.sha256(json.dumps(stats).encode("utf-8")).hexdigest(),
    }


def input_key(shard: Path, repeats: dict[str, str]) -> dict[str, Any]:
    """A shard's input: the file by path, size and modification time, and the ids it skips because an earlier
    shard used them (``repeated_ids``)."""
    stat = shard.stat()
    return {"path": str(shard.resolve()), "size": stat.st_size, "mtime_ns": stat.st_mtime_ns, "repeats": repeats}


def read_record(output: Path) -> dict[str, Any] | None:
    """The completion record of an output shard that exists; None when there is none to trust (the shard never
    finished, or was written before records were kept)."""
    try:
        return json.loads(completion_record(output).read_text(encoding="utf-8")) if output.exists() else None
    except (OSError, ValueError):
        return None


def plan_shards(
    shards: list[Path], job: ShardJob, repeats: dict[str, dict[str, str]], overwrite: bool = False
) -> ShardPlan:
    """Complete: the record matches this run and the input as it is now. Recomputed: the input changed, or the
    shard never finished. Written by another system or settings: refused (one folder would mix two runs) unless
    ``overwrite``, so nothing is replaced by mistake."""
    plan, conflicts = ShardPlan(run_key(job)), []
    for shard in shards:
        output = shard_output(shard, Path(job.output_dir), job.output_format)
        key = {"run": plan.run, "input": input_key(shard, repeats.get(str(shard), {}))}
        record = read_record(output)
        if record and record.get("run") != plan.run and not overwrite:
            conflicts.append((output, record.get("run") or {}))
        elif record and record.get("run") == plan.run and record.get("input") == key["input"]:
            plan.complete.append(str(shard))
        else:
            plan.pending.append({"shard": str(shard), "key": json.dumps(key)})
    if conflicts:
        output, old = conflicts[0]
        names = sorted(old.keys() | plan.run.keys())
        changed = ", ".join(name for name in names if old.get(name) != plan.run.get(name))
        more = f" (as are {len(conflicts) - 1} more shards)" if len(conflicts) > 1 else ""
        raise InputError(
            f"{output}: written with another {changed} than this run{more}; "
            "rerun with --overwrite to recompute it, or choose another --output"
        )
    return plan


def readable_articles(shard: Path, max_bytes: int) -> Iterator[tuple[Article, str]]:
    """(article, where) of each record of a shard that reads as an article, as local predict reads it; bad
    records and unreadable files are passed over, since the shard's own run reports them."""
    try:
        if not record_suffix(shard):
            yield read_txt(shard, max_bytes), str(shard)
            return
        for number, record in iter_records(shard, LINE_BYTES_PER_TEXT_BYTE * max_bytes, lambda _error: None):
            where = f"{shard}: line {number}"
            try:
                article = record_article(record, where, max_bytes)
            except InputError:
                continue
            yield article, where
    except (InputError, OSError):
        return


def repeated_ids(shards: list[Path], skip_bad: bool, max_bytes: int) -> dict[str, dict[str, str]]:
    """Local predict's rule for ids, applied before any shard is written: an id read before (in the same shard or
    an earlier one) is an error, or with ``skip_bad`` is skipped. Returns, per shard, the ids first read in an
    earlier shard → the error to report when skipping them; each shard's reader skips repeats within it."""
    first_seen: dict[str, str] = {}
    repeats: dict[str, dict[str, str]] = {}
    for shard in shards:
        own: set[str] = set()
        for article, where in readable_articles(shard, max_bytes):
            try:
                unique(article, where, first_seen)
            except InputError as error:
                if not skip_bad:
                    raise
                if article.id not in own:
                    repeats.setdefault(str(shard), {}).setdefault(article.id, str(error))
                continue
            own.add(article.id)
    return repeats


def without_repeats(articles: Iterable[Article], repeats: dict[str, str], report: IngestReport) -> Iterator[Article]:
    """``articles`` less those whose id an earlier shard used, each reported as skipped (as local predict does
    with ``skip_bad``; without it ``repeated_ids`` refused them before the run)."""
    for article in articles:
        if article.id in repeats:
            report.skipped.append(repeats[article.id])
        else:
            yield article


class ShardPredictor:
    """A Ray actor: loads the system once, then predicts shard after shard."""

    def __init__(self, job: ShardJob) -> None:
        from quoteattr.systems import load_system

        self.job = job
        self.system = load_system(job.system, device=job.device)

    def __call__(self, batch: dict[str, Any]) -> dict[str, list]:
        results: dict[str, list] = {"shard": [], "output": [], "articles": [], "skipped": [], "error": []}
        for shard, key in zip(batch["shard"], batch["key"], strict=True):
            shard, key = str(shard), json.loads(str(key))
            target = shard_output(Path(shard), Path(self.job.output_dir), self.job.output_format)
            completion_record(target).unlink(missing_ok=True)  # from now on the old output is not complete
            report = IngestReport()
            try:
                count = write_predictions(
                    target, self.predictions(shard, key["input"]["repeats"], report), self.job.output_format
                )
                write_json(completion_record(target), {**key, "articles": count})
                error = ""
            except Exception as failure:  # noqa: BLE001 - one bad shard must not stop the others; it is reported
                target.unlink(missing_ok=True)  # a failed shard leaves no output, not even an older one
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

    def predictions(self, shard: str, repeats: dict[str, str], report: IngestReport) -> Iterator[Article]:
        """The shard's predictions as local predict makes them: ids used by an earlier shard skipped, quotes
        scored under ``min_score`` dropped."""
        articles = iter_articles([shard], skip_bad=self.job.skip_bad, max_bytes=self.job.max_bytes, report=report)
        predictions = self.system.predict(without_repeats(articles, repeats, report), batch_size=self.job.batch_size)
        if self.job.min_score is None:
            return predictions
        from quoteattr.systems import confident_only

        return confident_only(predictions, self.job.min_score, self.system.name)


def run_on_ray(
    rows: list[dict[str, str]],
    job: ShardJob,
    num_workers: int,
    cpus_per_worker: float,
    gpus_per_worker: float,
    address: str | None,
) -> list[dict[str, Any]]:
    """The outcome of each row's shard, computed by a pool of actors on a local or joined Ray instance (or on the
    caller's, when this process has already started or joined one: it is left running)."""
    import ray

    ours = not ray.is_initialized()
    if ours:
        ray.init(
            address=address,
            include_dashboard=False,
            log_to_driver=False,
            logging_level="ERROR",
            configure_logging=True,
        )
    try:
        shards = ray.data.from_items(rows, override_num_blocks=len(rows))
        resources = {"num_cpus": cpus_per_worker, **({"num_gpus": gpus_per_worker} if gpus_per_worker else {})}
        return shards.map_batches(
            ShardPredictor,
            fn_constructor_args=(job,),
            batch_size=1,
            compute=ray.data.ActorPoolStrategy(size=min(num_workers, len(rows))),
            **resources,
        ).take_all()
    finally:
        if ours:
            ray.shutdown()


def predict_with_ray(
    inputs: list[str],
    job: ShardJob,
    num_workers: int = 2,
    cpus_per_worker: float = 0.5,
    gpus_per_worker: float = 0.0,
    address: str | None = None,
    overwrite: bool = False,
) -> ShardRun:
    """Run ``job`` over every input shard not already complete; returns (and writes to the manifest) what
    happened. Repeated ids, and shards written by another system or settings (unless ``overwrite``), are refused
    before anything is written."""
    if STDIO in inputs:
        raise InputError("the Ray engine reads files (each one a shard), not standard input")
    started = time.perf_counter()
    shards = expand_inputs(inputs)
    plan = plan_shards(shards, job, repeated_ids(shards, job.skip_bad, job.max_bytes), overwrite)
    output_dir = Path(job.output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    for stale in output_dir.glob(".*.tmp"):  # left by a run that was killed mid-shard
        stale.unlink()
    run = ShardRun(skipped_complete=plan.complete)
    if plan.pending:
        outcomes = run_on_ray(plan.pending, job, num_workers, cpus_per_worker, gpus_per_worker, address)
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
    write_json(output_dir / MANIFEST, {"system": job.system, "key": plan.run, **asdict(run)})
    return run
