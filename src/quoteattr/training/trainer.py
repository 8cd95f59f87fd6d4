"""Fine-tune the quote attribution model with ``transformers.Trainer`` (in the style of ``run_ner.py``): windows
with stride, early stopping on validation F1 from the project's ``evaluate`` module, resumable checkpoints.
``train`` runs the named steps in turn; each can be called alone."""

from __future__ import annotations

import json
import logging
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from quoteattr.data.console import show_log
from quoteattr.data.errors import InputError
from quoteattr.data.schema import Article
from quoteattr.evaluation import METRIC_PATH
from quoteattr.systems.model.windows import (
    IGNORE,
    LABELS,
    PARAGRAPH_MARKER,
    linker_targets,
    merge_window_logits,
    token_labels,
    tokenize,
    window_bounds,
)
from quoteattr.training.arguments import DataArguments, ModelArguments, RunArguments, parse_arguments
from quoteattr.training.base_model import resolve_model_path

logger = logging.getLogger(__name__)

CHECKPOINT_FORMAT = 1
"""``format_version`` in a checkpoint's settings."""


def load_splits(data: DataArguments, seed: int) -> tuple[dict[str, list[Article]], Path]:
    """Articles per split from the built dataset (built first from annotations_dir when missing)."""
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
    return splits, dataset_dir


FEATURE_COLUMNS = ("input_ids", "labels", "contents", "sources", "gold_source", "paragraphs")
"""The columns of a training window (``window_features``) that ``collate`` batches."""


@dataclass
class WindowIndex:
    """Where each window of a split came from, to put window predictions back together."""

    article: list[int] = field(default_factory=list)
    bounds: list[tuple[int, int]] = field(default_factory=list)


def window_features(
    articles: list[Article], tokenizer, max_length: int, stride: int, paragraph_marker: str | None = None
) -> tuple[list[dict], WindowIndex, list]:
    """Training examples (one per window) and the index back to articles."""
    features, index, tokenized = [], WindowIndex(), []
    for number, article in enumerate(articles):
        tokens = tokenize(tokenizer, article.text, paragraph_marker)
        tokenized.append(tokens)
        labels = token_labels(tokens, article)
        for start, end in window_bounds(len(tokens.ids), max_length - 2, stride):
            features.append(
                {
                    "input_ids": [tokenizer.cls_token_id, *tokens.ids[start:end], tokenizer.sep_token_id],
                    "labels": [IGNORE, *labels[start:end], IGNORE],
                    **linker_targets(tokens, article, start, end),
                }
            )
            index.article.append(number)
            index.bounds.append((start, end))
    return features, index, tokenized


def make_compute_metrics(
    articles: list[Article], tokenized: list, index: WindowIndex, metric, settings: dict[str, Any]
) -> Any:
    """compute_metrics for Trainer: window logits → article quotes (nearest-source linking) → the evaluate module."""
    from quoteattr.systems.model.attributor import assemble_article, decode_roles, nearest_source

    def compute(eval_prediction) -> dict[str, float]:
        logits = eval_prediction.predictions
        logits = logits[0] if isinstance(logits, tuple) else logits
        per_article: dict[int, list] = {}
        for row, (number, bounds) in enumerate(zip(index.article, index.bounds, strict=True)):
            per_article.setdefault(number, []).append((bounds, logits[row, 1 : 1 + bounds[1] - bounds[0]]))
        predictions = []
        for number, article in enumerate(articles):
            tokens = tokenized[number]
            if number not in per_article:
                predictions.append(Article(article.id, article.text))
                continue
            windows = [bounds for bounds, _ in per_article[number]]
            merged = merge_window_logits(len(tokens.ids), windows, [scores for _, scores in per_article[number]])
            spans = decode_roles(article.text, tokens, merged, settings)
            joined = bool(settings.get("join_across_sentences"))
            predictions.append(
                assemble_article(article, tokens, windows, spans, nearest_source, across_sentences=joined)
            )
        result = metric.compute(
            predictions=[json.dumps(a.to_dict()) for a in predictions],
            references=[json.dumps(a.to_dict()) for a in articles],
        )
        headline = {k: v for k, v in result.items() if "/" not in k and k.endswith(("_precision", "_recall", "_f1"))}
        typed = {
            k: v for k, v in result.items() if k.startswith(("content_overlap/", "attribution/")) and k.endswith("_f1")
        }
        return {**headline, **typed}

    return compute


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
    """The ``quoteattr`` block of a checkpoint's config.json: window shape, labels, linker and decoding settings."""
    return {
        "format_version": CHECKPOINT_FORMAT,
        "base_model": model_args.model_name_or_path,
        "max_length": model_args.max_length,
        "stride": model_args.stride,
        "labels": LABELS,
        "linker": {"inner_size": model_args.linker_inner_size, "paragraph_span": model_args.linker_paragraph_span},
        "paragraph_marker": PARAGRAPH_MARKER if model_args.paragraph_marker else None,
        "content_gap_tokens": model_args.content_gap_tokens,
        "min_content_words": model_args.min_content_words,
        "decoding": model_args.decoding,
        "join_across_sentences": model_args.join_across_sentences,
    }


def build_model(model_args: ModelArguments) -> tuple[Any, Any, dict[str, Any]]:
    """The tokenizer, the untrained model (base encoder + new tagger head + linker) and its checkpoint settings."""
    from transformers import AutoTokenizer

    from quoteattr.systems.model.modeling import QuoteAttributionModel, SpeakerLinker
    from quoteattr.training.console import load_base_tagger

    base = resolve_model_path(model_args.model_name_or_path)
    tokenizer = AutoTokenizer.from_pretrained(base)
    tagger = load_base_tagger(base, LABELS, model_args.model_name_or_path)
    settings = checkpoint_settings(model_args)
    linker = SpeakerLinker(tagger.config.hidden_size, **settings["linker"])
    return tokenizer, QuoteAttributionModel(tagger, linker, linker_weight=model_args.linker_weight), settings


def make_trainer(
    model: Any,
    tokenizer: Any,
    settings: dict[str, Any],
    splits: dict[str, list[Article]],
    data_args: DataArguments,
    run_args: RunArguments,
    training_args: Any,
) -> Any:
    """A Trainer over the train split's windows, validated on the validation split as the metric decodes it."""
    import evaluate
    from datasets import Dataset
    from transformers import EarlyStoppingCallback, Trainer

    from quoteattr.systems.model.modeling import collate
    from quoteattr.training.console import use_concise_progress

    window = (tokenizer, settings["max_length"], settings["stride"], settings["paragraph_marker"])
    train_features, _, _ = window_features(splits[data_args.train_split], *window)
    eval_articles = splits[data_args.validation_split]
    eval_features, eval_index, eval_tokens = window_features(eval_articles, *window)

    def to_dataset(rows: list[dict]) -> Dataset:
        return Dataset.from_dict({column: [row[column] for row in rows] for column in FEATURE_COLUMNS})

    stopping = EarlyStoppingCallback(early_stopping_patience=run_args.early_stopping_patience)
    metric = evaluate.load(METRIC_PATH)
    trainer = Trainer(
        model=model,
        args=training_args,
        train_dataset=to_dataset(train_features),
        eval_dataset=to_dataset(eval_features),
        data_collator=lambda rows: collate(rows, tokenizer.pad_token_id),
        compute_metrics=make_compute_metrics(eval_articles, eval_tokens, eval_index, metric, settings),
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
    try:
        train(argv, prog)
    except InputError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0
