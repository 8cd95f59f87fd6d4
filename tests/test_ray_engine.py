"""`quoteattr predict --engine ray`: the same predictions as one process, one output shard per input shard, a
rerun after a kill redoes only what is missing, a bad shard is reported (slow: on a real local Ray instance);
a shard counts as complete only for the same system, settings and input, and ids are checked across shards
before anything is written (fast: the keys, the plan and the actor, run in this process without Ray)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest

from conftest import ROOT, SEED
from quoteattr.cli import main
from quoteattr.data.errors import InputError
from quoteattr.data.ingest import IngestReport
from quoteattr.data.readers import read_articles, read_txt
from quoteattr.data.schema import Article
from quoteattr.systems import ray_engine
from quoteattr.systems.ray_engine import (
    ShardJob,
    ShardPredictor,
    checkpoint_identity,
    completion_record,
    plan_shards,
    repeated_ids,
    run_key,
    shard_output,
    system_identity,
    without_repeats,
)

SHARDS = 4
STARTER = sorted((ROOT / "data" / "raw" / "starter").glob("*.txt"))


@pytest.fixture
def shards(tmp_path: Path) -> Path:
    """Four .jsonl shards of the embedded starter articles (the last one gzipped)."""
    import gzip

    articles = [read_txt(p) for p in sorted((ROOT / "data" / "raw" / "starter").glob("*.txt"))]
    folder = tmp_path / "archive"
    folder.mkdir()
    for number in range(SHARDS):
        lines = "".join(
            json.dumps({"id": f"{number}-{a.id}", "text": a.text}) + "\n"
            for a in articles[number * 7 : (number + 1) * 7]
        )
        if number == SHARDS - 1:
            (folder / f"shard{number}.jsonl.gz").write_bytes(gzip.compress(lines.encode("utf-8")))
        else:
            (folder / f"shard{number}.jsonl").write_text(lines, encoding="utf-8")
    return folder


def ray_command(inputs: Path, output: Path, *extra: str) -> list[str]:
    return [
        "predict",
        "--engine",
        "ray",
        "--system",
        "rules",
        str(inputs),
        "--output",
        str(output),
        "--num-workers",
        "2",
        *extra,
    ]


def sharded_predictions(output: Path) -> list[dict]:
    manifest = json.loads((output / "manifest.json").read_text())
    assert not manifest["failed"]
    outputs = sorted(output.glob("shard*.jsonl"))
    assert len(outputs) == SHARDS
    by_shard = {path.name.split("-")[0]: path for path in outputs}
    return [a.to_dict() for name in sorted(by_shard) for a in read_articles(by_shard[name])]


def single_process(shards: Path, tmp_path: Path) -> list[dict]:
    single = tmp_path / "single.jsonl"
    assert main(["predict", "--system", "rules", str(shards), "--output", str(single)]) == 0
    return [a.to_dict() for a in read_articles(single)]


@pytest.fixture(scope="module")
def ray_address() -> Iterator[str]:
    """One local Ray instance for this module's runs, started in this process: the runs in this process use it as it
    is (and leave it running), a run in a subprocess joins it by this address. A run that starts Ray itself is
    README's command (test_readme.py)."""
    import ray

    context = ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level="ERROR")
    try:
        yield context.address_info["gcs_address"]
    finally:
        ray.shutdown()


def joining() -> dict[str, str]:
    """The environment of a subprocess that joins the module's Ray instance: this process's as it is now (starting
    Ray put the instance's credentials in it)."""
    return {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"}


@pytest.mark.slow  # on the module's Ray instance
def test_on_ray_a_bad_shard_is_reported_a_rerun_redoes_what_changed_and_predictions_equal_one_process(
    shards: Path, tmp_path: Path, capsys, ray_address: str
):
    bad = shards / "shard1.jsonl"
    good_text = bad.read_text(encoding="utf-8")
    bad.write_text(good_text + '{"id": "broken", "text": \n', encoding="utf-8")
    output = tmp_path / "out"
    assert main(ray_command(shards, output)) == 1
    assert __import__("ray").is_initialized()  # the caller's Ray instance is left running
    captured = capsys.readouterr()
    assert f"failed shard: {bad}: line 8, column 26: invalid JSON" in captured.err and "1 failed" in captured.out
    manifest = json.loads((output / "manifest.json").read_text())
    assert [f["shard"] for f in manifest["failed"]] == [str(bad)] and len(manifest["done"]) == SHARDS - 1
    assert len(list(output.glob("shard*.jsonl"))) == SHARDS - 1  # no output for the bad shard, not even a part

    bad.write_text(good_text, encoding="utf-8")  # fixed: the rerun does that shard alone
    assert main(ray_command(shards, output)) == 0
    manifest = json.loads((output / "manifest.json").read_text())
    assert [d["shard"] for d in manifest["done"]] == [str(bad)] and len(manifest["skipped_complete"]) == SHARDS - 1
    assert sharded_predictions(output) == single_process(shards, tmp_path)
    capsys.readouterr()

    assert main(ray_command(shards, output)) == 0  # everything done: nothing to redo, Ray not even started
    assert f"0 shards (0 articles) written to {output} in" in capsys.readouterr().out

    with (shards / "shard0.jsonl").open("a", encoding="utf-8") as grown:
        grown.write(json.dumps({"id": "grown", "text": read_txt(STARTER[0]).text}) + "\n")
    assert main(ray_command(shards, output)) == 0
    out = capsys.readouterr().out
    assert "1 shards (8 articles) written" in out and f"{SHARDS - 1} already complete" in out
    assert sharded_predictions(output) == single_process(shards, tmp_path)

    textacy = ray_command(shards, output)
    textacy[textacy.index("rules")] = "textacy"
    assert main(textacy) == 2
    assert "written with another system than this run" in capsys.readouterr().err
    assert json.loads((output / "manifest.json").read_text())["system"] == "rules"


@pytest.mark.slow  # joins the module's Ray instance
def test_killed_run_resumes_where_it_stopped(shards: Path, tmp_path: Path, ray_address: str):
    output = tmp_path / "out"
    joined = ["--address", ray_address]
    command = [sys.executable, "-m", "quoteattr.cli", *ray_command(shards, output)[:-2], "--num-workers", "1", *joined]
    log = tmp_path / "killed.log"
    with log.open("wb") as console:
        process = subprocess.Popen(command, env=joining(), stdout=console, stderr=console, start_new_session=True)
    deadline = time.monotonic() + 300
    while not list(output.glob(".shard*.done.json")):  # a shard is complete once its record is written
        ended = process.poll() is not None or time.monotonic() > deadline
        assert not ended, f"the run ended before its first shard:\n{log.read_text(errors='replace')[-2000:]}"
        time.sleep(0.1)
    os.killpg(process.pid, signal.SIGKILL)  # killed mid-run
    process.wait()
    done_before = {p.name for p in output.glob(".shard*.done.json")}
    assert 1 <= len(done_before) and not (output / "manifest.json").exists()

    resumed = subprocess.run(
        [sys.executable, "-m", "quoteattr.cli", *ray_command(shards, output, *joined)],
        env=joining(),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    manifest = json.loads((output / "manifest.json").read_text())
    assert (
        len(manifest["skipped_complete"]) >= len(done_before)
        and len(manifest["done"]) + len(manifest["skipped_complete"]) == SHARDS
    )
    assert not list(output.glob(".*.tmp"))
    assert sharded_predictions(output) == single_process(shards, tmp_path)


def write_pages(path: Path, pages: list[Path], extra: str = "") -> Path:
    """A .jsonl shard of starter pages (ids: their names), then ``extra`` lines as they are."""
    lines = "".join(json.dumps({"id": page.stem, "text": read_txt(page).text}) + "\n" for page in pages)
    path.write_text(lines + extra, encoding="utf-8")
    return path


@pytest.fixture
def two_shards(tmp_path: Path) -> Path:
    """Two .jsonl shards of two starter articles each."""
    folder = tmp_path / "archive"
    folder.mkdir()
    write_pages(folder / "a.jsonl", STARTER[:2])
    write_pages(folder / "b.jsonl", STARTER[2:4])
    return folder


@pytest.fixture
def in_process(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pending shards computed by the Ray actor in this process, so the fast tier starts no Ray."""

    def run(rows: list[dict[str, str]], job: ShardJob, *_ray_settings) -> list[dict]:
        results = ShardPredictor(job)({"shard": [row["shard"] for row in rows], "key": [row["key"] for row in rows]})
        return [dict(zip(results, values, strict=True)) for values in zip(*results.values(), strict=True)]

    monkeypatch.setattr(ray_engine, "run_on_ray", run)


def ray_predict(*arguments: str | Path) -> int:
    return main(["predict", "--engine", "ray", *map(str, arguments)])


def manifest(output: Path) -> dict:
    return json.loads((output / "manifest.json").read_text())


def test_run_key_follows_the_system_and_the_settings_that_change_predictions():
    job = ShardJob("rules", "out")
    assert run_key(job) == run_key(ShardJob("rules", "elsewhere", batch_size=4, device="cpu"))
    assert system_identity("rules")["name"] == "rules"
    for other in (
        ShardJob("textacy", "out"),
        ShardJob("rules", "out", min_score=0.5),
        ShardJob("rules", "out", skip_bad=True),
        ShardJob("rules", "out", max_bytes=1000),
    ):
        assert run_key(other) != run_key(job)


def test_a_checkpoint_is_known_by_its_path_config_and_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    checkpoint = tmp_path / "model"
    checkpoint.mkdir()
    (checkpoint / "config.json").write_text('{"quoteattr": {}}', encoding="utf-8")
    weights = checkpoint / "model.safetensors"
    weights.write_bytes(b"0" * 64)
    before = system_identity(str(checkpoint))
    assert before == checkpoint_identity(checkpoint) and before["checkpoint"] == str(checkpoint.resolve())

    (checkpoint / "config.json").write_text('{"quoteattr": {"linker": {}}}', encoding="utf-8")
    edited = checkpoint_identity(checkpoint)
    assert edited["config_sha256"] != before["config_sha256"]
    written = weights.stat()
    os.utime(weights, ns=(written.st_atime_ns, written.st_mtime_ns + 10**9))  # retrained: same size, later
    assert checkpoint_identity(checkpoint)["files_sha256"] != edited["files_sha256"]
    assert checkpoint_identity(shutil.copytree(checkpoint, tmp_path / "copy"))["checkpoint"] != edited["checkpoint"]

    installed = SimpleNamespace(name="news", load=lambda: lambda: str(checkpoint))  # as `quoteattr package` makes
    monkeypatch.setattr(ray_engine, "entry_points", lambda group: [installed])
    assert system_identity("news") == {"name": "news", **checkpoint_identity(checkpoint)}
    assert system_identity("unknown") == {"name": "unknown"}


def test_a_rerun_recomputes_shards_of_another_system_input_or_settings(two_shards: Path, tmp_path: Path, in_process):
    output = tmp_path / "out"

    def run(*extra: str) -> int:
        return ray_predict(two_shards, "--output", output, *extra)

    assert run() == 0 and run() == 0  # the rerun finds both shards complete
    assert manifest(output)["skipped_complete"] == [str(two_shards / "a.jsonl"), str(two_shards / "b.jsonl")]
    first = shard_output(two_shards / "a.jsonl", output, "jsonl")
    rules_outputs = {path.name: path.read_bytes() for path in output.glob("*.jsonl")}

    with pytest.raises(InputError, match="written with another system than this run \\(as are 1 more shards\\)"):
        ray_engine.predict_with_ray([str(two_shards)], ShardJob("textacy", str(output)))
    assert {path.name: path.read_bytes() for path in output.glob("*.jsonl")} == rules_outputs
    assert manifest(output)["system"] == "rules"

    assert run("--system", "textacy", "--overwrite") == 0
    assert manifest(output)["system"] == "textacy" and len(manifest(output)["done"]) == 2
    assert {path.name: path.read_bytes() for path in output.glob("*.jsonl")} != rules_outputs
    assert json.loads(completion_record(first).read_text())["run"]["system"]["name"] == "textacy"

    write_pages(two_shards / "a.jsonl", STARTER[:2] + STARTER[4:7])  # grown from 2 articles to 5
    assert run("--system", "textacy") == 0
    assert [(d["shard"], d["articles"]) for d in manifest(output)["done"]] == [(str(two_shards / "a.jsonl"), 5)]
    assert len(read_articles(first)) == 5

    touched = (two_shards / "b.jsonl").stat()  # rewritten with the same size: a later modification time
    os.utime(two_shards / "b.jsonl", ns=(touched.st_atime_ns, touched.st_mtime_ns + 10**9))
    assert run("--system", "textacy") == 0
    assert [d["shard"] for d in manifest(output)["done"]] == [str(two_shards / "b.jsonl")]

    assert run("--system", "textacy", "--batch-size", "3") == 0  # batch size does not change predictions
    assert manifest(output)["done"] == [] and len(manifest(output)["skipped_complete"]) == 2
    assert run("--system", "textacy", "--skip-bad") == 2  # another setting: refused, then recomputed
    assert run("--system", "textacy", "--skip-bad", "--overwrite") == 0
    assert len(manifest(output)["done"]) == 2


def test_refusing_another_system_is_one_error_line_and_writes_nothing(
    two_shards: Path, tmp_path: Path, in_process, capsys
):
    output = tmp_path / "out"
    assert ray_predict(two_shards, "--output", output) == 0
    written = {path: path.stat().st_mtime_ns for path in output.iterdir()}
    capsys.readouterr()
    assert ray_predict(two_shards, "--output", output, "--system", "textacy", "--min-score", "0.5") == 2
    first = shard_output(two_shards / "a.jsonl", output, "jsonl")
    assert capsys.readouterr().err == (
        f"error: {first}: written with another min_score, system than this run (as are 1 more shards); "
        "rerun with --overwrite to recompute it, or choose another --output\n"
    )
    assert {path: path.stat().st_mtime_ns for path in output.iterdir()} == written


def test_an_output_without_a_trusted_record_is_recomputed(two_shards: Path, tmp_path: Path, in_process):
    output = tmp_path / "out"
    assert ray_predict(two_shards, "--output", output) == 0
    shards, job = sorted(two_shards.iterdir()), ShardJob("rules", str(output))
    assert plan_shards(shards, job, {}).complete == [str(shard) for shard in shards]
    completion_record(shard_output(shards[0], output, "jsonl")).write_text("{", encoding="utf-8")  # not JSON
    shard_output(shards[1], output, "jsonl").unlink()  # a record without its output
    plan = plan_shards(shards, job, {})
    assert not plan.complete and [row["shard"] for row in plan.pending] == [str(shard) for shard in shards]
    left = output / ".a-0123abcd.jsonl.x1y2.tmp"  # by a run killed mid-shard
    left.write_text("{", encoding="utf-8")
    assert ray_predict(two_shards, "--output", output) == 0
    assert len(manifest(output)["done"]) == 2 and not left.exists()


def test_a_failed_shard_leaves_no_output_not_even_an_older_one(two_shards: Path, tmp_path: Path, in_process, capsys):
    output = tmp_path / "out"
    assert ray_predict(two_shards, "--output", output) == 0
    assert ray_predict(two_shards, "--output", output, "--min-score", "0.5", "--overwrite") == 1
    assert "failed shard: rules gives no scores, so --min-score cannot filter its quotes" in capsys.readouterr().err
    assert len(manifest(output)["failed"]) == 2
    assert not list(output.glob("*.jsonl")) and not list(output.glob(".*.done.json"))


def test_repeated_ids_are_refused_before_anything_is_written_as_by_local_predict(tmp_path: Path, capsys):
    ingested = tmp_path / "ingested.jsonl"
    assert main(["ingest", str(SEED.parent), "--output", str(ingested)]) == 0  # README's example: the seed twice
    capsys.readouterr()
    local = ["predict", "--system", "rules", str(ingested), str(SEED.parent), "--output", str(tmp_path / "one.jsonl")]
    assert main(local) == 2
    local_error = capsys.readouterr().err.splitlines()[-1]  # after the progress bar
    assert local_error == f"error: {SEED}: id '{SEED.stem}' already used ({ingested}: line 1); ids must be unique"
    output = tmp_path / "sharded"
    assert ray_predict("--system", "rules", ingested, SEED.parent, "--output", output) == 2
    assert capsys.readouterr().err == f"{local_error}\n" and not output.exists()
    assert ray_predict("-", "--output", output) == 2 and not output.exists()

    twice = write_pages(tmp_path / "twice.jsonl", [STARTER[0], STARTER[0]])  # within one shard: the same rule
    assert ray_predict(twice, "--output", output) == 2
    assert f"error: {twice}: line 2: id '{STARTER[0].stem}' already used ({twice}: line 1)" in capsys.readouterr().err
    assert not output.exists()


def test_repeated_ids_name_what_an_earlier_shard_used(tmp_path: Path):
    first = write_pages(tmp_path / "a.jsonl", STARTER[:2])
    repeats = write_pages(
        tmp_path / "b.jsonl", [STARTER[1], STARTER[2], STARTER[1]], '{"id": "broken", \n{"id": "no text"}\n'
    )
    page, empty = tmp_path / f"{STARTER[2].stem}.txt", tmp_path / "empty.txt"
    page.write_text(read_txt(STARTER[2]).text, encoding="utf-8")
    empty.write_text("", encoding="utf-8")  # unreadable: its shard's own run reports it
    shards = [first, repeats, page, empty]
    assert repeated_ids(shards, skip_bad=True, max_bytes=10**6) == {
        str(repeats): {
            STARTER[1].stem: f"{repeats}: line 1: id '{STARTER[1].stem}' already used ({first}: line 2); "
            "ids must be unique"
        },
        str(page): {
            STARTER[2].stem: f"{page}: id '{STARTER[2].stem}' already used ({repeats}: line 2); ids must be unique"
        },
    }
    with pytest.raises(InputError, match=f"{repeats}: line 1: id '{STARTER[1].stem}' already used"):
        repeated_ids(shards, skip_bad=False, max_bytes=10**6)


def test_with_skip_bad_repeated_ids_are_skipped_as_by_local_predict(tmp_path: Path, in_process):
    folder = tmp_path / "archive"
    folder.mkdir()
    write_pages(folder / "a.jsonl", STARTER[:2])
    repeats = write_pages(folder / "b.jsonl", [STARTER[1], STARTER[2], STARTER[1]])
    one = tmp_path / "one.jsonl"
    assert main(["predict", "--skip-bad", str(folder), "--output", str(one)]) == 0
    output = tmp_path / "out"
    assert ray_predict("--skip-bad", folder, "--output", output) == 0
    sharded = [article.id for path in sorted(output.glob("*.jsonl")) for article in read_articles(path)]
    assert sharded == [article.id for article in read_articles(one)] == [page.stem for page in STARTER[:3]]
    skipped = manifest(output)["done"][1]["skipped"]
    assert len(skipped) == 2 and skipped[0].startswith(f"{repeats}: line 1: id '{STARTER[1].stem}' already used")

    report = IngestReport()
    kept = without_repeats([Article("x", "text"), Article("y", "text")], {"x": "x: used before"}, report)
    assert [article.id for article in kept] == ["y"] and report.skipped == ["x: used before"]
