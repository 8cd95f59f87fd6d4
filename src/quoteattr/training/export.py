"""Export a checkpoint for fast CPU inference: an ONNX Runtime graph (fp32 or int8) or PyTorch with int8
dynamic quantization. The result is a checkpoint folder like any other: `quoteattr predict --system DIR`
runs it, linker included (the linker stays in PyTorch on the encoder's states)."""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

from quoteattr.data.errors import InputError
from quoteattr.data.writers import plain_permissions
from quoteattr.systems.model.attributor import LINKER_FILE, WEIGHTS_FILE, check_safetensors, read_config
from quoteattr.systems.model.runtimes import ONNX_FILE, RUNTIMES, export_onnx, quiet_progress


def export_checkpoint(checkpoint: str | Path, output: str | Path, backend: str, precision: str = "fp32") -> Path:
    """Write ``checkpoint`` to ``output`` for ``backend`` ('onnx' or 'torch') at ``precision`` ('fp32' or
    'int8'); the folder appears whole or not at all."""
    from transformers import AutoModelForTokenClassification

    checkpoint, output = Path(checkpoint), Path(output)
    if precision not in RUNTIMES.get(backend, ()):
        raise InputError(f"cannot export to {backend} at {precision}; choose from {RUNTIMES}")
    config_path = checkpoint / "config.json"
    if not config_path.exists() or not (checkpoint / LINKER_FILE).exists() or not (checkpoint / WEIGHTS_FILE).exists():
        raise InputError(
            f"{checkpoint}: not a PyTorch quoteattr checkpoint (needs config.json, {WEIGHTS_FILE}, {LINKER_FILE})"
        )
    config = read_config(config_path)
    if config["quoteattr"].get("runtime"):
        raise InputError(f"{checkpoint}: already an exported checkpoint; export from the PyTorch one")
    for weights in (WEIGHTS_FILE, LINKER_FILE):
        check_safetensors(checkpoint / weights)  # before any work: a copied bad file would only fail later
    if output.exists():
        raise InputError(f"{output}: already exists; choose a new folder")

    output.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{output.name}.", dir=output.parent))
    try:
        shutil.copytree(checkpoint, staging, dirs_exist_ok=True, ignore=shutil.ignore_patterns(WEIGHTS_FILE, "*.onnx"))
        runtime = {"backend": backend, "precision": precision}
        if backend == "onnx":
            with quiet_progress():
                tagger = AutoModelForTokenClassification.from_pretrained(str(checkpoint))
            export_onnx(tagger, staging / ONNX_FILE, precision)
            runtime["file"] = ONNX_FILE
        else:
            shutil.copy2(checkpoint / WEIGHTS_FILE, staging / WEIGHTS_FILE)  # int8 is applied when it loads
        config["quoteattr"]["runtime"] = runtime
        (staging / "config.json").write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
        card = staging / "README.md"
        if card.exists():
            card.write_text(
                card.read_text(encoding="utf-8") + runtime_card_section(checkpoint, runtime), encoding="utf-8"
            )
        for file in staging.iterdir():
            plain_permissions(file)
        plain_permissions(staging, directory=True)
        staging.rename(output)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return output


def runtime_card_section(checkpoint: Path, runtime: dict[str, str]) -> str:
    return (
        f"\n## Exported runtime\n\nThis folder is `{checkpoint.name}` exported with `quoteattr export` for "
        f"{runtime['backend']} at {runtime['precision']}; the speaker linker runs in PyTorch on the encoder's "
        "states. The evaluation tables above were measured on the PyTorch fp32 checkpoint; "
        "`python training/benchmark_runtimes.py --checkpoint DIR --gold GOLD.jsonl` (DIR: the PyTorch checkpoint) "
        "exports it to every runtime and measures each one's speed and its F1 against fp32's.\n"
    )
