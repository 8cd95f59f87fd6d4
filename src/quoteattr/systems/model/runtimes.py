"""Where the encoder runs: PyTorch (fp32, or int8 by dynamic quantization of its linear layers) or an
ONNX Runtime graph (fp32 or int8) exported with ``quoteattr export``. Every runtime maps a padded batch of
windows to the tag logits and last hidden states; the linker always runs in PyTorch on those states."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol

import torch

RUNTIMES = {"torch": ("fp32", "int8"), "onnx": ("fp32", "int8")}
ONNX_FILE = "model.onnx"
INT8_OPERATORS = ("MatMul", "Gather", "EmbedLayerNormalization")
"""Quantized in an int8 ONNX export: every weight matrix (attention's query, key and value projections
included, since int8 exports leave attention unfused) and the embedding tables (``Gather``, or the fused
``EmbedLayerNormalization``); products of two activations (the attention scores) stay fp32, as in PyTorch's
dynamic quantization."""


class Encoder(Protocol):
    def __call__(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]: ...


class TorchEncoder:
    """The tagger in PyTorch; ``int8`` swaps its linear layers for dynamically quantized ones (CPU only)."""

    def __init__(self, tagger: torch.nn.Module, precision: str = "fp32") -> None:
        if precision == "int8":  # per output channel: per-tensor scales cost about 0.02 attribution F1 on PolNeAR dev
            from torch.ao.quantization import per_channel_dynamic_qconfig, quantize_dynamic

            tagger = quantize_dynamic(tagger.cpu(), {torch.nn.Linear: per_channel_dynamic_qconfig}, dtype=torch.qint8)
        self.tagger = tagger.eval()

    @property
    def device(self) -> torch.device:
        return next(self.tagger.parameters(), torch.empty(0)).device

    def __call__(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        output = self.tagger(
            input_ids=input_ids.to(self.device),
            attention_mask=attention_mask.to(self.device),
            output_hidden_states=True,
        )
        return output.logits, output.hidden_states[-1]


class OnnxEncoder:
    """An exported graph in ONNX Runtime (CPU); inputs and outputs are torch tensors, as for TorchEncoder."""

    device = torch.device("cpu")

    def __init__(self, path: str | Path) -> None:
        import onnxruntime

        options = onnxruntime.SessionOptions()
        options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
        # idle threads would spin after every call and starve the linker and decoding that run between calls
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self.session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])

    def __call__(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        inputs = {"input_ids": input_ids.cpu().numpy(), "attention_mask": attention_mask.cpu().numpy()}
        logits, hidden = self.session.run(["logits", "hidden"], inputs)
        return torch.from_numpy(logits), torch.from_numpy(hidden)


class _LogitsAndStates(torch.nn.Module):
    """The tagger with the two outputs the pipeline reads, as plain tensors for the ONNX exporter."""

    def __init__(self, tagger: torch.nn.Module) -> None:
        super().__init__()
        self.tagger = tagger

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        output = self.tagger(input_ids=input_ids, attention_mask=attention_mask, output_hidden_states=True)
        return output.logits, output.hidden_states[-1]


def export_onnx(tagger: torch.nn.Module, path: Path, precision: str = "fp32") -> None:
    """Write the tagger as an ONNX graph with dynamic batch and sequence axes, its embeddings, attention,
    layer norms and GELUs fused by ONNX Runtime's transformer optimizer (it recognises the eager attention,
    not PyTorch's fused kernel); ``int8`` leaves attention unfused and quantizes the weights of
    ``INT8_OPERATORS`` dynamically, per output channel (the fused attention operator would keep its
    projections in fp32, and run slower)."""
    import onnx
    from onnxruntime.transformers.fusion_options import FusionOptions
    from onnxruntime.transformers.optimizer import optimize_model

    tagger = tagger.cpu().eval()
    tagger.set_attn_implementation("eager")
    example = torch.full((2, 16), 1000, dtype=torch.long)
    dynamic = {name: {0: "batch", 1: "sequence"} for name in ("input_ids", "attention_mask", "logits", "hidden")}
    traced, fused = path.with_suffix(".traced.onnx"), path.with_suffix(".fused.onnx")
    try:
        torch.onnx.export(
            _LogitsAndStates(tagger),
            (example, torch.ones_like(example)),
            str(traced),
            input_names=["input_ids", "attention_mask"],
            output_names=["logits", "hidden"],
            dynamic_axes=dynamic,
            opset_version=17,
            dynamo=False,
        )
        config, fusions = tagger.config, FusionOptions("bert")
        fusions.enable_attention = precision != "int8"
        optimized = optimize_model(
            str(traced),
            model_type="bert",
            num_heads=config.num_attention_heads,
            hidden_size=config.hidden_size,
            optimization_options=fusions,
        )
        optimized.save_model_to_file(str(fused if precision == "int8" else path))
        if precision == "int8":
            from onnxruntime.quantization import QuantType, quantize_dynamic

            quantize_dynamic(
                str(fused),
                str(path),
                weight_type=QuantType.QInt8,
                per_channel=True,
                op_types_to_quantize=list(INT8_OPERATORS),
                extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},  # the fused operators' outputs are fp32
            )
    finally:
        traced.unlink(missing_ok=True)
        fused.unlink(missing_ok=True)


def load_encoder(folder: Path, runtime: dict[str, Any], tagger: torch.nn.Module | None) -> Encoder:
    """The encoder a checkpoint's ``runtime`` setting names (PyTorch fp32 when there is none)."""
    backend, precision = runtime.get("backend", "torch"), runtime.get("precision", "fp32")
    if backend == "onnx":
        return OnnxEncoder(folder / runtime.get("file", ONNX_FILE))
    if tagger is None:
        raise ValueError(f"{folder}: a PyTorch runtime needs the tagger's weights (model.safetensors)")
    return TorchEncoder(tagger, precision)
