"""What a user sees on every run: `quoteattr export` and `predict` print no library warnings, LOAD REPORT or
transformers' progress bars (the expected ones are silenced where they arise, see runtimes.py)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ENV, ROOT, SEED

NOISE = ("warning", "load report", "loading weights", "writing model shards")


def quoteattr(*args: str) -> str:
    """Run the CLI in a fresh process (warnings print once per process); its stderr."""
    command = [sys.executable, "-m", "quoteattr.cli", *args]
    result = subprocess.run(command, cwd=ROOT, env=ENV, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stderr


def assert_quiet(stderr: str) -> None:
    found = [word for word in NOISE if word in stderr.lower()]
    assert not found, f"{found} in stderr:\n{stderr[-3000:]}"


def export_and_predict(checkpoint: Path, tmp_path: Path, *export_args: str) -> None:
    source = tmp_path / "ckpt"
    shutil.copytree(checkpoint, source)
    exported = tmp_path / "exported"
    assert_quiet(quoteattr("export", str(source), *export_args, "--output", str(exported)))
    assert_quiet(quoteattr("predict", "--system", str(exported), str(SEED), "--output", str(tmp_path / "p.jsonl")))
    assert (tmp_path / "p.jsonl").stat().st_size > 0


def test_torch_int8_export_and_predict_are_quiet(untrained_checkpoint, tmp_path):
    """int8 in PyTorch: torch's deprecation of quantized tensors is silenced where the weights are quantized,
    and the checkpoint loads without transformers' progress bar."""
    export_and_predict(untrained_checkpoint, tmp_path, "--format", "torch", "--quantize", "int8")


def test_checkpoint_load_and_save_show_no_transformers_bars(untrained_checkpoint, tmp_path, capsys):
    """fp32: 'Loading weights' on load and 'Writing model shards' on save are off, and back on after."""
    from transformers.utils import logging as hf_logging

    from quoteattr.systems.model.attributor import QuoteAttributor

    assert hf_logging.is_progress_bar_enabled()
    QuoteAttributor.from_pretrained(untrained_checkpoint, device="cpu").save_pretrained(tmp_path / "again")
    assert_quiet(capsys.readouterr().err)
    assert hf_logging.is_progress_bar_enabled()
    assert (tmp_path / "again" / "model.safetensors").is_file()


@pytest.mark.slow
def test_onnx_int8_export_and_predict_are_quiet(untrained_checkpoint, tmp_path):
    """ONNX int8 (about 25 s to export): the tracer's TracerWarning and negative-index UserWarning, checked not
    to apply, and ONNX Runtime's pre-processing advice are silenced; the graph runs without warnings."""
    export_and_predict(untrained_checkpoint, tmp_path, "--format", "onnx", "--quantize", "int8")
