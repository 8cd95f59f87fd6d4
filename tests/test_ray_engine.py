"""`quoteattr predict --engine ray` on a real local Ray instance: the same predictions as one process, one
output shard per input shard, a rerun after a kill redoes only what is missing, a bad shard is reported."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import ROOT
from quoteattr.cli import main
from quoteattr.data.readers import read_articles, read_txt

SHARDS = 4
ENV = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"}

pytestmark = pytest.mark.slow  # starts a local Ray instance


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


def test_ray_predictions_equal_one_process(shards: Path, tmp_path: Path, capsys):
    output = tmp_path / "out"
    assert main(ray_command(shards, output)) == 0
    assert f"{SHARDS} shards (28 articles) written" in capsys.readouterr().out
    assert sharded_predictions(output) == single_process(shards, tmp_path)

    assert main(ray_command(shards, output)) == 0  # everything done: nothing to redo, Ray not even started
    assert f"0 shards (0 articles) written to {output} in" in capsys.readouterr().out
    assert json.loads((output / "manifest.json").read_text())["skipped_complete"] == [
        str(p) for p in sorted(shards.iterdir())
    ]


def test_killed_run_resumes_where_it_stopped(shards: Path, tmp_path: Path):
    output = tmp_path / "out"
    command = [sys.executable, "-m", "quoteattr.cli", *ray_command(shards, output)[:-2], "--num-workers", "1"]
    process = subprocess.Popen(
        command, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    deadline = time.monotonic() + 300
    while not list(output.glob("shard*.jsonl")):
        assert process.poll() is None and time.monotonic() < deadline, "the run ended before its first shard"
        time.sleep(0.1)
    os.killpg(process.pid, signal.SIGKILL)  # killed mid-run
    process.wait()
    done_before = {p.name for p in output.glob("shard*.jsonl")}
    assert 1 <= len(done_before) and not (output / "manifest.json").exists()

    resumed = subprocess.run(
        [sys.executable, "-m", "quoteattr.cli", *ray_command(shards, output)],
        env=ENV,
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


def test_a_bad_shard_is_reported_and_the_others_finish(shards: Path, tmp_path: Path, capsys):
    bad = shards / "shard1.jsonl"
    good_text = bad.read_text(encoding="utf-8")
    bad.write_text(good_text + '{"id": "broken", "text": \n', encoding="utf-8")
    output = tmp_path / "out"
    assert main(ray_command(shards, output)) == 1
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
