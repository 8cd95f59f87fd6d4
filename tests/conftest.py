"""Shared fixtures: paths of the repository, the embedded data, the optional PolNeAR copy, and a smoke-trained checkpoint."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT / "data" / "raw" / "seed" / "000_c1fcc0406326b570.txt"
ANNOTATIONS = ROOT / "data" / "annotations"
POLNEAR = ROOT.parent / "shared" / "datasets" / "polnear"


SMOKE = ROOT / "configs" / "smoke.yaml"
ENV = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"}


def train_command(output: Path, *extra: str) -> list[str]:
    dataset = output.parent / "smoke-dataset"
    return [
        sys.executable,
        str(ROOT / "training" / "train.py"),
        "--config",
        str(SMOKE),
        "--output_dir",
        str(output),
        "--dataset_dir",
        str(dataset),
        "--annotations_dir",
        str(ROOT / "data" / "annotations"),
        *extra,
    ]


@pytest.fixture(scope="session")
def smoke_run(tmp_path_factory) -> tuple[Path, str]:
    """`quoteattr train --config configs/smoke.yaml` with overrides after it; (run folder, console output)."""
    output = tmp_path_factory.mktemp("smoke") / "run"
    command = [sys.executable, "-m", "quoteattr.cli", "train", *train_command(output)[2:], "--max_steps", "6"]
    result = subprocess.run(command, cwd=ROOT, env=ENV, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    return output, result.stdout + result.stderr


@pytest.fixture(scope="session")
def checkpoint(smoke_run) -> Path:
    return smoke_run[0] / "final"


@pytest.fixture(scope="session")
def rules():
    from quoteattr.systems.rules import RulesAttributor

    return RulesAttributor()


@pytest.fixture(scope="session")
def gold():
    from quoteattr.labelstudio.annotations import load_gold

    return load_gold(ANNOTATIONS)


@pytest.fixture
def polnear_dir() -> Path:
    if not (POLNEAR / "dev" / "text").is_dir():
        pytest.skip(f"PolNeAR is not at {POLNEAR} (it is never committed; see README for where to get it)")
    return POLNEAR
