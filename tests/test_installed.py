"""quoteattr installed from its wheel (not editable, no source checkout beside it) finds its packaged
metric, labelling config and card templates, and builds a dataset with its card."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ANNOTATIONS, ROOT


@pytest.mark.slow
def test_installed_wheel_finds_its_package_data_and_builds(tmp_path: Path):
    dist, site, source = tmp_path / "dist", tmp_path / "site", tmp_path / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    shutil.copytree(ROOT / "src", source / "src", ignore=shutil.ignore_patterns("*.egg-info", "__pycache__"))
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    subprocess.run(
        [*pip, "wheel", "--no-deps", "--no-build-isolation", "-w", str(dist), str(source)], check=True, timeout=300
    )
    [wheel] = dist.glob("quoteattr-*.whl")
    subprocess.run([*pip, "install", "--no-deps", "--target", str(site), str(wheel)], check=True, timeout=300)
    env = {**os.environ, "PYTHONPATH": str(site), "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"}
    probe = (
        "import evaluate, quoteattr\n"
        "from quoteattr.evaluation import METRIC_PATH\n"
        f"assert quoteattr.__file__.startswith({str(site)!r}), quoteattr.__file__\n"
        f"assert METRIC_PATH.startswith({str(site)!r}), METRIC_PATH\n"
        "from quoteattr.labelstudio.sync import DEFAULT_LABEL_CONFIG\n"
        f"assert str(DEFAULT_LABEL_CONFIG).startswith({str(site)!r}) "
        "and '<Labels' in DEFAULT_LABEL_CONFIG.read_text()\n"
        "record = {'id': 'a', 'text': 'He said it.', 'quotes': [{'spans': [[3, 10]], 'type': 'indirect'}]}\n"
        "from quoteattr.training.model_card import TEMPLATE_PATH\n"
        f"assert str(TEMPLATE_PATH).startswith({str(site)!r}) and '{{{{ card_data }}}}' in TEMPLATE_PATH.read_text()\n"
        "from quoteattr.systems.antecedents import packaged_scorer\n"
        "assert packaged_scorer().none\n"
        "print(evaluate.load(METRIC_PATH).compute(predictions=[record], references=[record])['content_exact_f1'])\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "1.0"

    build = [sys.executable, "-m", "quoteattr.cli", "build", "--annotations", str(ANNOTATIONS), "--output", "dataset"]
    result = subprocess.run(build, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "## Provenance" in (tmp_path / "dataset" / "README.md").read_text(encoding="utf-8")  # from the template
