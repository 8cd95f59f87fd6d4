"""The checkpoint's README.md, written from the training run (never by hand).

The YAML front matter comes from ``huggingface_hub.ModelCardData`` (so the Hub parses the model-index it
expects), the prose from ``model_card_template.md``; the helpers below only build the Markdown tables."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from huggingface_hub import DatasetCard, EvalResult, ModelCard, ModelCardData

from quoteattr.data.schema import QUOTE_TYPES
from quoteattr.systems.model.decoding_config import checkpoint_decoding
from quoteattr.training.averaging import AveragingResult, checkpoint_step
from quoteattr.training.base_model import hub_id, provenance
from quoteattr.training.calibration import MIN_EXAMPLES, CalibrationFit, describe_fits

TEMPLATE_PATH = Path(__file__).with_name("model_card_template.md")

CARD_METRICS = (
    ("content_overlap", "content overlap F1"),
    ("content_exact", "content exact F1"),
    ("content_token", "content token F1"),
    ("cue", "cue F1"),
    ("speaker_mention", "speaker mention F1"),
    ("speaker_entity", "speaker entity F1"),
    ("attribution", "attribution F1"),
    ("attribution_given_gold_quotes", "attribution F1 given gold quotes"),
)
HYPERPARAMETERS = (
    "learning_rate",
    "num_train_epochs",
    "max_steps",
    "per_device_train_batch_size",
    "gradient_accumulation_steps",
    "weight_decay",
    "warmup_steps",
    "lr_scheduler_type",
    "bf16",
    "seed",
    "metric_for_best_model",
    "processes",
)
COMPARED = ("content_overlap", "content_exact", "speaker_entity", "attribution")
"""Rows of the comparison with the rules baseline (the first two also per quote type)."""
TYPED_COMPARISONS = ("content_exact", "attribution")


@dataclass(frozen=True)
class BestCheckpoint:
    """The best validation checkpoint as the Trainer chose it, so the card names the same one it loaded."""

    step: int | None = None
    metric: float | None = None
    path: str | None = None

    @classmethod
    def from_trainer_state(cls, state: Any) -> BestCheckpoint:
        """From a ``transformers.TrainerState``; older versions lack ``best_global_step``, so the step is then read
        from the ``checkpoint-N`` folder name."""
        step = getattr(state, "best_global_step", None)
        path = getattr(state, "best_model_checkpoint", None)
        if step is None and path:
            step = checkpoint_step(path)
        return cls(step=step, metric=getattr(state, "best_metric", None), path=path)


@dataclass(frozen=True)
class DataTerms:
    """What the dataset card says about the training data's terms: its licence and its provenance section."""

    licence: str
    provenance: str


def _epochs(value: float | None) -> str:
    """Epochs as people write them: 1.99, 2, not 1.9855595667870036."""
    return "n/a" if value is None else f"{round(value, 2):g}"


def _number(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.4g}"


def _eval_key(metric: str | None) -> str:
    """The log-history key of the model-selection metric, named as the Trainer names it."""
    metric = metric or "loss"
    return metric if metric.startswith("eval_") else f"eval_{metric}"


def best_checkpoint(
    log_history: list[dict[str, Any]], training_args: Mapping[str, Any], known: BestCheckpoint | None
) -> BestCheckpoint:
    """The Trainer's own choice when it recorded one; else the evaluation best by ``greater_is_better`` (the
    Trainer's default: lower is better for a loss, higher for anything else)."""
    if known is not None and known.step is not None:
        return known
    metric = training_args.get("metric_for_best_model") or "loss"
    key = _eval_key(metric)
    greater = training_args.get("greater_is_better")
    if greater is None:
        greater = not metric.endswith("loss")
    evals = [entry for entry in log_history if isinstance(entry.get(key), int | float)]
    if not evals:
        return known or BestCheckpoint()
    best = (max if greater else min)(evals, key=lambda entry: entry[key])
    return BestCheckpoint(step=best.get("step"), metric=best[key], path=known.path if known else None)


def _best_checkpoint_words(best: BestCheckpoint, metric: str | None) -> str:
    if best.step is None:
        return "n/a"
    details = [f"{metric or 'loss'} {best.metric:.4f}"] if best.metric is not None else []
    details += [f"`{Path(best.path).name}`"] if best.path else []
    return f"step {best.step}" + (f" ({', '.join(details)})" if details else "")


def read_data_terms(dataset_card_path: Path) -> DataTerms | None:
    """The licence (card metadata) and the ``## Provenance`` section (card body) of the training data's card;
    None when there is no card."""
    if not dataset_card_path.exists():
        return None
    try:
        card = DatasetCard.load(dataset_card_path)
        licence, body = card.data.license or "unknown", card.text
    except (ValueError, yaml.YAMLError):  # a card written by hand, or before the YAML came from DatasetCardData
        licence, body = "unknown: the card's metadata does not parse", dataset_card_path.read_text(encoding="utf-8")
    licence = ", ".join(licence) if isinstance(licence, list) else str(licence)
    section = re.search(r"^## Provenance[ \t]*\n(.*?)(?=^## |\Z)", body, flags=re.MULTILINE | re.DOTALL)
    provenance = section.group(1).strip() if section else ""
    return DataTerms(licence, provenance or "(the card has no Provenance section)")


def _metric_rows(report: dict[str, Any]) -> str:
    """One row per card metric: P, R, F1, its bootstrap interval and F1 per quote type."""
    metrics = report["metrics"]
    rows = []
    for key, label in CARD_METRICS:
        if key not in metrics:
            continue
        if key == "speaker_entity":
            label = f"{label} ({report.get('speaker_entities', 'gold')} entities)"
        cells = [f"{metrics[key][name]:.3f}" for name in ("precision", "recall", "f1")]
        interval = metrics[key].get("f1_ci")
        cells.append(f"[{interval[0]:.3f}, {interval[1]:.3f}]" if interval else "")
        cells += [f"{metrics[f'{key}/{t}']['f1']:.3f}" if f"{key}/{t}" in metrics else "–" for t in QUOTE_TYPES]
        rows.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(rows)


def _split_title(split: str, report: dict[str, Any]) -> str:
    """A scored split's heading; articles from outside the dataset say where they came from."""
    source = report.get("source")
    return f"{split}: {source} (hand-labelled; never trained or selected on)" if source else split


def _rules_rows(scores: dict[str, dict[str, Any]], rules_scores: dict[str, dict[str, Any]]) -> str:
    """F1 of this model and of the rules baseline on the same splits, overall and per quote type."""
    rows = []
    for split, rules in rules_scores.items():
        ours = scores.get(split, {}).get("metrics", {})
        for key in COMPARED:
            typed = [f"{key}/{t}" for t in QUOTE_TYPES] if key in TYPED_COMPARISONS else []
            for row in [key, *typed]:
                if row in ours and row in rules["metrics"]:
                    rows.append(f"| {split} | {row} | {ours[row]['f1']:.3f} | {rules['metrics'][row]['f1']:.3f} |")
    return "\n".join(rows)


def _calibration_rows(scores: dict[str, dict[str, Any]]) -> str:
    """Expected calibration error of the scores on each evaluated split, raw and after Platt scaling."""
    return "\n".join(
        f"| {split} | {c['quotes']} | {c['quote_ece_before']:.3f} | {c['quote_ece_after']:.3f} | {c['links']} | "
        f"{c['speaker_ece_before']:.3f} | {c['speaker_ece_after']:.3f} |"
        for split, report in scores.items()
        if (c := report.get("calibration"))
    )


def _decoding_table(table: list[dict[str, Any]]) -> str:
    """The decoding settings tried on validation, by attribution F1 (then exact, then overlap F1)."""
    if not table:
        return ""
    settings = [k for k in table[0] if not k.endswith("_f1")]
    f1_columns = [k for k in table[0] if k.endswith("_f1")]
    ordered = sorted(table, key=lambda row: [row[k] for k in f1_columns[::-1]], reverse=True)
    names = settings + [k.removesuffix("_f1").replace("_", " ") + " F1" for k in f1_columns]
    lines = ["| " + " | ".join(names) + " |", "|" + "---|" * len(names)]
    lines += [
        "| " + " | ".join([str(row[k]) for k in settings] + [f"{row[k]:.3f}" for k in f1_columns]) + " |"
        for row in ordered
    ]
    return "\n".join(lines)


def _validation_rows(log_history: list[dict[str, Any]], metric: str | None) -> str:
    """One row per evaluation during training: epoch, step, eval loss and the model-selection metric."""
    key, nan = _eval_key(metric), float("nan")
    return "\n".join(
        f"| {_epochs(h.get('epoch'))} | {h.get('step')} | {h.get('eval_loss', nan):.4f} | {h.get(key, nan):.4f} |"
        for h in log_history
        if any(k.startswith("eval_") for k in h)
    )


def _eval_results(scores: dict[str, dict[str, Any]], dataset_dir: Path) -> list[EvalResult]:
    """The model-index entries: F1 of each card metric on each evaluated split."""
    return [
        EvalResult(
            task_type="token-classification",
            task_name="Quote attribution",
            dataset_type=report.get("source", str(dataset_dir)),
            dataset_name=Path(report.get("source", dataset_dir)).name,
            dataset_split=split,
            metric_type="f1",
            metric_name=label,
            metric_value=round(float(report["metrics"][key]["f1"]), 4),  # a plain float: YAML can't dump numpy's
        )
        for split, report in scores.items()
        for key, label in CARD_METRICS
        if key in report["metrics"]
    ]


def _card_data(name: str, base_model: str, eval_results: list[EvalResult]) -> ModelCardData:
    return ModelCardData(
        language=["en"],
        license="apache-2.0",
        library_name="transformers",
        base_model=hub_id(base_model),
        pipeline_tag="token-classification",
        tags=["quote-attribution", "quoteattr"],
        metrics=["precision", "recall", "f1"],
        model_name=name,
        eval_results=eval_results or None,
    )


def _data_variables(dataset_dir: Path, splits: dict[str, int], train_windows: int) -> dict[str, Any]:
    """Template variables of the Data section: the dataset's card, terms, split sizes and statistics."""
    statistics_path = dataset_dir / "statistics.json"
    statistics = json.loads(statistics_path.read_text(encoding="utf-8")) if statistics_path.exists() else {}
    return {
        "dataset_dir": dataset_dir,
        "dataset_name": dataset_dir.name,
        "dataset_card_path": dataset_dir / "README.md",
        "data_terms": read_data_terms(dataset_dir / "README.md"),
        "split_article_rows": "\n".join(f"| {k} | {v} |" for k, v in splits.items()),
        "split_statistics_rows": "\n".join(
            f"| {split} | {s.get('articles')} | {s.get('quotes')} | {s.get('direct')} | {s.get('indirect')} "
            f"| {s.get('mixed')} |"
            for split, s in statistics.items()
        ),
        "train_windows": train_windows,
    }


def _training_variables(
    training_args: dict[str, Any], log_history: list[dict[str, Any]], seconds: float, best: BestCheckpoint | None
) -> dict[str, Any]:
    """Template variables of the Training section: hyperparameters, how far it ran, validation, best step."""
    metric = training_args.get("metric_for_best_model")
    losses = [h for h in log_history if "loss" in h]
    last_step = losses[-1] if losses else {}
    summary = next((h for h in reversed(log_history) if "train_runtime" in h), last_step)  # where training ended
    return {
        "hyperparameter_rows": "\n".join(
            f"| {k} | {training_args.get(k)} |" for k in HYPERPARAMETERS if k in training_args
        ),
        "epochs": _epochs(summary.get("epoch")),
        "steps": summary.get("step", "n/a"),
        "last_training_loss": _number(last_step.get("loss")),
        "minutes": f"{seconds / 60:.1f}",
        "metric_for_best_model": metric,
        "validation_rows": _validation_rows(log_history, metric),
        "best_checkpoint": _best_checkpoint_words(best_checkpoint(log_history, training_args, best), metric),
    }


def hub_repository(hub_model_id: str | None, output_dir: str | Path) -> str:
    """The Hub repository a run is pushed to (``--push_to_hub true``): ``hub_model_id``, else its output folder."""
    return hub_model_id or Path(output_dir).resolve().name


def write_model_card(
    folder: Path,
    settings: dict[str, Any],
    model_args: dict[str, Any],
    data_args: dict[str, Any],
    training_args: dict[str, Any],
    dataset_dir: Path,
    splits: dict[str, int],
    train_windows: int,
    log_history: list[dict[str, Any]],
    scores: dict[str, dict[str, Any]],
    seconds: float,
    decoding_table: list[dict[str, Any]] | None = None,
    rules_scores: dict[str, dict[str, Any]] | None = None,
    calibration: dict[str, CalibrationFit] | None = None,
    best: BestCheckpoint | None = None,
    averaging: AveragingResult | None = None,
) -> Path:
    """README.md with a YAML model-index block (metrics per split) and the run's facts in prose; ``settings`` are the
    checkpoint's (its window and decoding: a continued checkpoint keeps its own); ``best`` is the Trainer's choice
    of checkpoint (``BestCheckpoint.from_trainer_state(trainer.state)``). The model is named as its Hub repository
    (``hub_model_id``, else the output folder, which ``--push_to_hub`` names the repository after). Returns its path."""
    name = hub_repository(training_args.get("hub_model_id"), training_args["output_dir"]).split("/")[-1]
    dataset_dir = Path(dataset_dir)
    card = ModelCard.from_template(
        _card_data(name, model_args["model_name_or_path"], _eval_results(scores, dataset_dir)),
        template_path=str(TEMPLATE_PATH),
        model_name=name,
        base_model_provenance=provenance(model_args["model_name_or_path"]),
        max_length=settings["max_length"],
        stride=settings["stride"],
        model_argument_rows="\n".join(f"| {k} | {v} |" for k, v in model_args.items()),
        **_data_variables(dataset_dir, splits, train_windows),
        **_training_variables(training_args, log_history, seconds, best),
        decoding_table=_decoding_table(decoding_table or []),
        decoding=f"`{checkpoint_decoding(settings, str(folder)).describe()}`",
        quote_type_columns=" | ".join(f"F1 {t}" for t in QUOTE_TYPES),
        score_rows={_split_title(split, report): _metric_rows(report) for split, report in scores.items()},
        rules_rows=_rules_rows(scores, rules_scores or {}),
        calibration_rows=_calibration_rows(scores),
        calibration_fit=describe_fits(calibration or {}) or "not fitted",
        calibration_minimum=MIN_EXAMPLES,
        averaging=averaging.describe() if averaging else None,
        train_split=data_args.get("train_split"),
    )
    path = Path(folder) / "README.md"
    path.write_text(str(card).rstrip("\n") + "\n", encoding="utf-8")  # Jinja drops the template's final newline
    return path
