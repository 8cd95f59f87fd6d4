"""Shared fixtures: paths of the repository, the embedded data and the optional PolNeAR copy."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT / "data" / "raw" / "seed" / "000_c1fcc0406326b570.txt"
ANNOTATIONS = ROOT / "data" / "annotations"
POLNEAR = ROOT.parent / "shared" / "datasets" / "polnear"


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
