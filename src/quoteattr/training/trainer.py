"""Fine-tune the quote attribution model with ``transformers.Trainer`` (in the style of ``run_ner.py``): windows
with stride, early stopping on validation F1 from the project's ``evaluate`` module, resumable checkpoints.
``train`` runs the named steps in turn; each can be called alone."""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

from quoteattr.data.console import show_log
from quoteattr.data.errors import InputError, exit_status
from quoteattr.data.schema import Article
from quoteattr.evaluation import METRIC_PATH
from quoteattr.systems.model.attributor import CHECKPOINT_FORMAT
from quoteattr.systems.model.decoding_config import DecodingConfig
from quoteattr.systems.model.windows import (
    IGNORE,
    LABELS,
    PARAGRAPH_MARKER,
    linker_targets,
    token_labels,
    tokenize,
    window_bounds,
)
from quoteattr.training.arguments import EXTRA_GOLD, DataArguments, ModelArguments, RunArguments, parse_arguments
from quoteattr.training.base_model import resolve_model_path
from quoteattr.training.validation import validation_scores

logger = logging.getLogger(__name__)


def load_splits(data: DataArguments, seed: int) -> tuple[dict[str, list[Article]], Path]:
    """Articles per split from the built dataset (built first from annotations_dir when missing), and
    ``extra_gold``'s articles, which must share no text with the train or validation split; ``max_eval_articles``
    limits every split scored (the extra gold too)."""
    from quoteattr.dataset.store import load_split_articles

    dataset_dir = Path(data.dataset_dir)
    if not (dataset_dir / "hf").exists():
        if data.annotations_dir is None:
            raise InputError(f"{dataset_dir}: no dataset; run `quoteattr build` first or set annotations_dir")
        from quoteattr.dataset.build import build_from_sources

        build_from_sources(dataset_dir, annotations=data.annotations_dir, seed=seed)
    from datasets import load_from_disk

    available = set(load_from_disk(str(dataset_dir / "hf")))
    splits = {}
    limits = {
        data.train_split: data.max_train_articles,
        data.validation_split: data.max_eval_articles,
        data.test_split: data.max_eval_articles,
    }
    for name, limit in limits.items():
        if name is None:
            continue
        if name not in available:
            raise InputError(f"{dataset_dir}: no split {name!r} (has {sorted(available)})")
        splits[name] = load_split_articles(dataset_dir, name)[:limit]
    if data.extra_gold:
        splits[EXTRA_GOLD] = extra_gold_articles(data.extra_gold)[: data.max_eval_articles]
        seen = {article.text for name in (data.train_split, data.validation_split) for article in splits[name]}
        shared = sum(article.text in seen for article in splits[EXTRA_GOLD])
        if shared:
            raise InputError(f"{data.extra_gold}: {shared} articles are also in the train or validation split")
    return splits, dataset_dir


def extra_gold_articles(path: str) -> list[Article]:
    """The hand-labelled articles of a Label Studio export folder or an interchange file."""
    from quoteattr.data.readers import read_articles
    from quoteattr.dataset.build import labelled_articles

    if not Path(path).exists():
        raise InputError(f"{path}: no such annotations folder or interchange file")
    return labelled_articles(path, None)[0] if Path(path).is_dir() else read_articles(path)


FEATURE_COLUMNS = (
    "input_ids",
    "labels",
    "contents",
    "sources",
    "gold_source",
    "cues",
    "gold_cue",
    "previous",
    "paragraphs",
    "joins",
)
"""The columns of a training window (``window_features``) that ``collate`` batches."""


def window_features(
    articles: list[Article], tokenizer, max_length: int, stride: int, paragraph_marker: str | None = None
) -> list[dict]:
    """Training examples, one per window of each article."""
    features = []
    for article in articles:
        tokens = tokenize(tokenizer, article.text, paragraph_marker)
        labels = token_labels(tokens, article)
        for start, end in window_bounds(len(tokens.ids), max_length - 2, stride):
            features.append(
                {
                    "input_ids": [tokenizer.cls_token_id, *tokens.ids[start:end], tokenizer.sep_token_id],
                    "labels": [IGNORE, *labels[start:end], IGNORE],
                    **linker_targets(tokens, article, start, end),
                }
            )
    return features


def prepare_training_arguments(training_args: Any) -> bool:
    """The Trainer settings this model needs; returns whether the user asked to push (done at the end, card and all)."""
    import torch

    push_to_hub = training_args.push_to_hub
    training_args.push_to_hub = False
    training_args.label_names = ["labels"]
    training_args.remove_unused_columns = False
    if not torch.cuda.is_available():
        training_args.dataloader_pin_memory = False  # pinning needs an accelerator; on CPU it only warns
    if training_args.ddp_find_unused_parameters is None:
        training_args.ddp_find_unused_parameters = True  # the linker gets no gradient from batches without quotes
    return push_to_hub


def checkpoint_settings(model_args: ModelArguments) -> dict[str, Any]:
    """The ``quoteattr`` block of a new checkpoint's config.json: window shape, labels, linker and decoding."""
    return {
        "format_version": CHECKPOINT_FORMAT,
        "base_model": model_args.model_name_or_path,
        "max_length": model_args.max_length,
        "stride": model_args.stride,
        "labels": LABELS,
        "linker": {
            "inner_size": model_args.linker_inner_size,
            "paragraph_span": model_args.linker_paragraph_span,
            "previous_speaker": model_args.linker_previous_speaker,
            "fragment_joiner": model_args.linker_fragment_joiner,
            "cues": model_args.linker_cues,
            "tag_transitions": model_args.tagger_crf,
        },
        "paragraph_marker": PARAGRAPH_MARKER if model_args.paragraph_marker else None,
        "decoding": DecodingConfig().replace(**model_args.decoding_options).to_dict(),
    }


def build_model(model_args: ModelArguments) -> tuple[Any, Any, dict[str, Any]]:
    """The tokenizer, the model and its checkpoint settings: a quoteattr checkpoint continues with every head and
    its settings (window, linker, decoding, calibration; ``--decoding`` still overrides); any other model is a
    base encoder that gets a new tagger head and linker."""
    from transformers import AutoTokenizer

    from quoteattr.systems.model.modeling import QuoteAttributionModel, SpeakerLinker
    from quoteattr.training.console import load_base_tagger

    base = resolve_model_path(model_args.model_name_or_path)
    if is_checkpoint(base):
        return continue_checkpoint(base, model_args)
    tokenizer = AutoTokenizer.from_pretrained(base)
    tagger = load_base_tagger(base, LABELS, model_args.model_name_or_path)
    settings = checkpoint_settings(model_args)
    linker = SpeakerLinker(tagger.config.hidden_size, **settings["linker"])
    return tokenizer, QuoteAttributionModel(tagger, linker, linker_weight=model_args.linker_weight), settings


def is_checkpoint(path: str) -> bool:
    """Whether ``path`` is a quoteattr checkpoint folder (rather than a base encoder)."""
    from quoteattr.systems.model.attributor import LINKER_FILE

    return (Path(path) / LINKER_FILE).is_file()


def continue_checkpoint(path: str, model_args: ModelArguments) -> tuple[Any, Any, dict[str, Any]]:
    """A quoteattr checkpoint's tokenizer, model (tagger and linker) and settings, to train further."""
    from quoteattr.systems.model.attributor import QuoteAttributor

    attributor = QuoteAttributor.from_pretrained(path, device="cpu")
    if attributor.model is None:
        raise InputError(f"{path}: an exported checkpoint does not train; continue from the checkpoint it came from")
    settings = dict(attributor.settings)
    decoding = attributor.decoding.replace(**model_args.decoding_options)
    settings["decoding"] = decoding.to_dict()
    model = attributor.model
    model.linker_weight = model_args.linker_weight
    new_parts = {
        "previous_speaker": model_args.linker_previous_speaker and not model.linker.previous_speaker,
        "fragment_joiner": model_args.linker_fragment_joiner and model.linker.joiner is None,
        "cues": model_args.linker_cues and model.linker.cue_scorer is None,
        "tag_transitions": model_args.tagger_crf and model.linker.transitions is None,
    }
    if any(new_parts.values()):
        model.linker = grown_linker(model.linker, settings["linker"], [part for part, new in new_parts.items() if new])
    logger.info(
        "continuing %s: its tagger, linker, window (max_length %d, stride %d) and decoding (%s) are kept",
        path,
        settings["max_length"],
        settings["stride"],
        decoding.describe(),
    )
    return attributor.tokenizer, model, settings


LINKER_PARTS = {
    "previous_speaker": "previous",
    "fragment_joiner": "joiner",
    "cues": "cue_scorer",
    "tag_transitions": "transitions",
}
"""Optional parts of a linker (its setting → the prefix of its weights) that a continued checkpoint may lack."""


def grown_linker(linker: Any, shape: dict[str, Any], parts: list[str]) -> Any:
    """``linker``'s weights in a linker that also has ``parts`` (see ``LINKER_PARTS``; those new, trained from
    here); ``shape`` (the checkpoint's linker settings) says so from now on."""
    from quoteattr.systems.model.modeling import SpeakerLinker

    shape.update(dict.fromkeys(parts, True))
    grown = SpeakerLinker(linker.none[0].in_features, **shape)
    missing, unexpected = grown.load_state_dict(linker.state_dict(), strict=False)
    if unexpected or not all(name.startswith(tuple(LINKER_PARTS[p] for p in parts)) for name in missing):
        raise ValueError(f"growing the linker by {parts} would lose {unexpected} or leave {missing} untrained")
    logger.info("the checkpoint's linker has no %s: new, trained from here", " or ".join(parts))
    return grown


def make_trainer(
    model: Any,
    tokenizer: Any,
    settings: dict[str, Any],
    splits: dict[str, list[Article]],
    data_args: DataArguments,
    run_args: RunArguments,
    training_args: Any,
) -> Any:
    """A Trainer over the train split's windows whose evaluation scores the validation split end to end, decoded
    as the exported checkpoint will decode it (besides the validation loss)."""
    import evaluate
    from datasets import Dataset
    from transformers import EarlyStoppingCallback, Trainer

    from quoteattr.systems.model.attributor import QuoteAttributor
    from quoteattr.systems.model.modeling import collate
    from quoteattr.training.console import use_concise_progress

    window = (tokenizer, settings["max_length"], settings["stride"], settings["paragraph_marker"])
    train_features = window_features(splits[data_args.train_split], *window)
    eval_articles = splits[data_args.validation_split]
    eval_features = window_features(eval_articles, *window)
    metric = evaluate.load(METRIC_PATH)

    def to_dataset(rows: list[dict]) -> Dataset:
        return Dataset.from_dict({column: [row[column] for row in rows] for column in FEATURE_COLUMNS})

    class AttributionTrainer(Trainer):
        def evaluation_loop(
            self, dataloader, description, prediction_loss_only=None, ignore_keys=None, metric_key_prefix="eval"
        ):
            output = super().evaluation_loop(dataloader, description, True, ignore_keys, metric_key_prefix)
            prefix = metric_key_prefix
            attributor = QuoteAttributor(self.model, tokenizer, settings)
            scores = validation_scores(attributor, eval_articles, metric, self.args.per_device_eval_batch_size)
            output.metrics.update({f"{prefix}_{name}": value for name, value in scores.items()})
            return output

    stopping = EarlyStoppingCallback(early_stopping_patience=run_args.early_stopping_patience)
    trainer = AttributionTrainer(
        model=model,
        args=training_args,
        train_dataset=to_dataset(train_features),
        eval_dataset=to_dataset(eval_features),
        data_collator=lambda rows: collate(rows, tokenizer.pad_token_id),
        callbacks=[stopping] if training_args.load_best_model_at_end else [],
    )
    use_concise_progress(trainer)
    return trainer


def fit(trainer: Any, resume: bool) -> None:
    """Train, from the last checkpoint in the output folder when ``resume`` (and there is one)."""
    from transformers.trainer_utils import get_last_checkpoint

    output_dir = Path(trainer.args.output_dir)
    checkpoint = get_last_checkpoint(str(output_dir)) if resume and output_dir.is_dir() else None
    if resume and checkpoint is None:
        logger.warning("--resume: no checkpoint in %s; starting from scratch", output_dir)
    trainer.train(resume_from_checkpoint=checkpoint)


def train(argv: list[str] | None = None, prog: str | None = None) -> Path:
    """Run training end to end; returns the folder of the exported checkpoint (see ``finish_run``)."""
    from transformers import set_seed

    from quoteattr.training.finish import finish_run

    model_args, data_args, run_args, training_args = parse_arguments(argv, prog)
    started = time.perf_counter()
    set_seed(training_args.seed)
    push_to_hub = prepare_training_arguments(training_args)
    with training_args.main_process_first(desc="building the dataset"):
        splits, dataset_dir = load_splits(data_args, training_args.seed)
    tokenizer, model, settings = build_model(model_args)
    trainer = make_trainer(model, tokenizer, settings, splits, data_args, run_args, training_args)
    fit(trainer, run_args.resume)
    final_dir = Path(training_args.output_dir) / "final"
    if trainer.is_world_process_zero():
        run = {"model_args": model_args, "data_args": data_args, "run_args": run_args, "started": started}
        finish_run(trainer, tokenizer, settings, splits, dataset_dir, run, final_dir, push_to_hub)
    return final_dir


def main(argv: list[str] | None = None, prog: str | None = None) -> int:
    """The training command (training/train.py, `quoteattr train`); bad input exits with status 2."""
    show_log()

    def run() -> int:
        train(argv, prog)
        return 0

    return exit_status(run)
