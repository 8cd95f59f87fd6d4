"""What a user sees on every run: `quoteattr export` and `predict` print no library warnings, LOAD REPORT or
transformers' progress bars (the expected ones are silenced where they arise, see runtimes.py)."""

from __future__ import annotations

import gc
import warnings

from conftest import SEED
from quoteattr.cli import main

NOISE = ("warning", "load report", "loading weights", "writing model shards")


def assert_quiet(stderr: str) -> None:
    found = [word for word in NOISE if word in stderr.lower()]
    assert not found, f"{found} in stderr:\n{stderr[-3000:]}"


def test_torch_int8_export_and_predict_are_quiet(untrained_checkpoint, tmp_path, capfd):
    """int8 in PyTorch: torch's deprecation of quantized tensors is silenced where the weights are quantized,
    and the checkpoint loads without transformers' progress bar (ONNX: README's export, in test_readme.py)."""
    exported, predicted = tmp_path / "exported", tmp_path / "p.jsonl"
    gc.collect()  # what earlier tests left for the collector warns now, not inside this check
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert main(["export", str(untrained_checkpoint), "--format", "torch", "--quantize", "int8", "--output",
                     str(exported)]) == 0  # fmt: skip
        assert main(["predict", "--system", str(exported), str(SEED), "--output", str(predicted)]) == 0
    shown = [w for w in caught if not issubclass(w.category, DeprecationWarning)]  # Python hides these from users
    assert [f"{w.category.__name__}: {w.message}" for w in shown] == []
    assert_quiet(capfd.readouterr().err)
    assert predicted.stat().st_size > 0


def test_checkpoint_load_and_save_show_no_transformers_bars(untrained_checkpoint, tmp_path, capsys):
    """fp32: 'Loading weights' on load and 'Writing model shards' on save are off, and back on after."""
    from transformers.utils import logging as hf_logging

    from quoteattr.systems.model.attributor import QuoteAttributor

    assert hf_logging.is_progress_bar_enabled()
    QuoteAttributor.from_pretrained(untrained_checkpoint, device="cpu").save_pretrained(tmp_path / "again")
    assert_quiet(capsys.readouterr().err)
    assert hf_logging.is_progress_bar_enabled()
    assert (tmp_path / "again" / "model.safetensors").is_file()
