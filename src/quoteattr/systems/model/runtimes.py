"""Where the encoder runs: PyTorch (fp32, or int8 by dynamic quantization of its linear layers) or an
ONNX Runtime graph (fp32 or int8) exported with ``quoteattr export``. Every runtime maps a padded batch of
windows to the tag logits and last hidden states; the linker always runs in PyTorch on those states."""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol

import torch

from quoteattr.data.errors import InputError

RUNTIMES = {"torch": ("fp32", "int8"), "onnx": ("fp32", "int8")}
ONNX_FILE = "model.onnx"
INT8_OPERATORS = ("MatMul", "Gather", "EmbedLayerNormalization")
"""Quantized in an int8 ONNX export: every weight matrix (attention's query, key and value projections
included, since int8 exports leave attention unfused) and the embedding tables (``Gather``, or the fused
``EmbedLayerNormalization``); products of two activations (the attention scores) stay fp32, as in PyTorch's
dynamic quantization."""


@contextmanager
def quiet_progress() -> Iterator[None]:
    """transformers' own progress bars ("Loading weights", "Writing model shards") off for the calls inside,
    and back on after if they were on: a checkpoint loads or saves in about a second, so the bar is noise on
    every run. Only around our own from_pretrained / save_pretrained calls; their warnings (a LOAD REPORT
    of missing keys in a checkpoint is a defect) stay on."""
    from transformers.utils import logging as hf_logging

    if not hf_logging.is_progress_bar_enabled():
        yield
        return
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        hf_logging.enable_progress_bar()


class _DropRootMessage(logging.Filter):
    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text

    def filter(self, record: logging.LogRecord) -> bool:
        return self.text not in record.getMessage()


@contextmanager
def _without_root_log(text: str) -> Iterator[None]:
    """Drop root-logger records containing ``text`` inside the block; others print as before. A library
    calling ``logging.warning`` would also give the root logger a stderr handler for good (``basicConfig``)
    when it has none: the same handler stands in for the block only."""
    root, standin, drop = logging.getLogger(), logging.StreamHandler(), _DropRootMessage(text)
    standin.setFormatter(logging.Formatter(logging.BASIC_FORMAT))
    root.addFilter(drop)
    if not root.handlers:
        root.addHandler(standin)
    try:
        yield
    finally:
        root.removeHandler(standin)
        root.removeFilter(drop)


class Encoder(Protocol):
    def __call__(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]: ...


class TorchEncoder:
    """The tagger in PyTorch; ``int8`` swaps its linear layers for dynamically quantized ones (CPU only)."""

    def __init__(self, tagger: torch.nn.Module, precision: str = "fp32") -> None:
        if precision == "int8":  # per output channel: per-tensor scales cost about 0.02 attribution F1 on PolNeAR dev
            from torch.ao.quantization import per_channel_dynamic_qconfig, quantize_dynamic

            # torch (2.13) warns that quantized tensors (torch.quantize_per_channel, used here to quantize the
            # weights) are deprecated and will be removed (pytorch/pytorch#184982). It still works, so the
            # warning is silenced here alone. Planned move, before a torch release removes the API: ONNX int8
            # (`quoteattr export --format onnx --quantize int8`, faster and no new dependency) becomes the one
            # int8 path, and `--format torch --quantize int8` an alias for it (torchao's int8 dynamic
            # quantization, the other way, would add a dependency and need its own accuracy check).
            with warnings.catch_warnings():
                warnings.filterwarnings(
                    "ignore", r"torch\.quantize_per_tensor, torch\.quantize_per_channel .* deprecated", UserWarning
                )
                tagger = quantize_dynamic(
                    tagger.cpu(), {torch.nn.Linear: per_channel_dynamic_qconfig}, dtype=torch.qint8
                )
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
        from onnxruntime.capi.onnxruntime_pybind11_state import Fail, InvalidGraph, InvalidProtobuf, NoSuchFile

        options = onnxruntime.SessionOptions()
        options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
        # idle threads would spin after every call and starve the linker and decoding that run between calls
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        try:
            self.session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        except (Fail, InvalidGraph, InvalidProtobuf, NoSuchFile) as error:
            reason = str(error).rsplit(" : ", 1)[-1]  # drop the "[ONNXRuntimeError] : 7 : INVALID_PROTOBUF" prefix
            raise InputError(f"{path}: not a usable ONNX graph ({reason}); export the checkpoint again") from None

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
    from onnxruntime.transformers.fusion_options import FusionOptions
    from onnxruntime.transformers.optimizer import optimize_model

    tagger = tagger.cpu().eval()
    tagger.set_attn_implementation("eager")
    traced, fused = path.with_suffix(".traced.onnx"), path.with_suffix(".fused.onnx")
    try:
        trace(tagger, traced)
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
            quantize(fused, path)
    finally:
        traced.unlink(missing_ok=True)
        fused.unlink(missing_ok=True)


def trace(tagger: torch.nn.Module, path: Path) -> None:
    """The tagger traced to ONNX (opset 17) with dynamic batch and sequence axes, logits and hidden states out.

    Two warnings of the tracer do not apply here (checked: the graph gives PyTorch's outputs for batches of 1
    to 7 windows of 1 to 128 tokens, padded or not). transformers' masking_utils branches in Python on whether
    the attention mask is shorter than the keys; our mask always has the ids' shape, so the traced constant
    (no padding) holds for every input. Its only advanced indexing, padding_mask[batch, key], indexes with
    aranges, never negative as the exporter fears."""
    example = torch.full((2, 16), 1000, dtype=torch.long)
    dynamic = {name: {0: "batch", 1: "sequence"} for name in ("input_ids", "attention_mask", "logits", "hidden")}
    with warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore",
            "Converting a tensor to a Python boolean",
            torch.jit.TracerWarning,
            module=r"transformers\.masking_utils",
        )
        warnings.filterwarnings(
            "ignore", r"Exporting aten::index operator of advanced indexing .* negative values", UserWarning
        )
        torch.onnx.export(
            _LogitsAndStates(tagger),
            (example, torch.ones_like(example)),
            str(path),
            input_names=["input_ids", "attention_mask"],
            output_names=["logits", "hidden"],
            dynamic_axes=dynamic,
            opset_version=17,
            dynamo=False,
        )


def quantize(fused: Path, path: Path) -> None:
    """The fused graph with ``INT8_OPERATORS``' weights quantized dynamically to int8, per output channel.

    ONNX Runtime advises its pre-processing (quant_pre_process: shape inference, basic graph optimization) on
    every graph without its mark. The graph is already optimized; with pre-processing (which needs auto_merge
    on this graph) the same MatMuls and embedding tables are quantized and the outputs are bit-identical
    (checked on the packaged encoder), so only the advice is dropped."""
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    with _without_root_log("consider to run pre-processing before quantization"):
        quantize_dynamic(
            str(fused),
            str(path),
            weight_type=QuantType.QInt8,
            per_channel=True,
            op_types_to_quantize=list(INT8_OPERATORS),
            extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},  # fused operators' outputs are fp32
        )


def load_encoder(folder: Path, runtime: dict[str, Any], tagger: torch.nn.Module | None) -> Encoder:
    """The encoder a checkpoint's ``runtime`` setting names (PyTorch fp32 when there is none)."""
    backend, precision = runtime.get("backend", "torch"), runtime.get("precision", "fp32")
    if backend == "onnx":
        return OnnxEncoder(folder / runtime.get("file", ONNX_FILE))
    if tagger is None:
        raise ValueError(f"{folder}: a PyTorch runtime needs the tagger's weights (model.safetensors)")
    return TorchEncoder(tagger, precision)
