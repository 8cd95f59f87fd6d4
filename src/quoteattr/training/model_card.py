"""The checkpoint's README.md, written from the training run (never by hand)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from quoteattr.data.schema import QUOTE_TYPES
from quoteattr.training.base_model import hub_id, provenance

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
    "seed",
    "metric_for_best_model",
    "processes",
)


def _metric_rows(report: dict[str, Any]) -> list[str]:
    metrics = report["metrics"]
    rows = []
    for key, label in CARD_METRICS:
        if key not in metrics:
            continue
        cells = [f"{metrics[key]['precision']:.3f}", f"{metrics[key]['recall']:.3f}", f"{metrics[key]['f1']:.3f}"]
        ci = metrics[key].get("f1_ci")
        cells.append(f"[{ci[0]:.3f}, {ci[1]:.3f}]" if ci else "")
        cells += [f"{metrics[f'{key}/{t}']['f1']:.3f}" if f"{key}/{t}" in metrics else "–" for t in QUOTE_TYPES]
        rows.append(f"| {label} | " + " | ".join(cells) + " |")
    return rows


def _epochs(value: float | None) -> str:
    """Epochs as people write them: 1.99, 2, not 1.9855595667870036."""
    return "n/a" if value is None else f"{round(value, 2):g}"


def _number(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.4g}"


COMPARED = ("content_overlap", "content_exact", "speaker_entity", "attribution")


def _rules_section(scores: dict[str, dict[str, Any]], rules_scores: dict[str, dict[str, Any]]) -> str:
    """F1 of this model and of the rules baseline on the same splits, overall and per quote type."""
    if not rules_scores:
        return ""
    rows = []
    for split, rules in rules_scores.items():
        for key in COMPARED:
            for row in [key] + [f"{key}/{t}" for t in QUOTE_TYPES if key in ("content_exact", "attribution")]:
                if row in scores[split]["metrics"] and row in rules["metrics"]:
                    rows.append(
                        f"| {split} | {row} | {scores[split]['metrics'][row]['f1']:.3f} | {rules['metrics'][row]['f1']:.3f} |"
                    )
    table = "\n".join(rows)
    return f"""### Compared with the rules baseline

The rules baseline (`quoteattr predict --system rules`: quotation marks and spaCy's parse) on the same
articles, F1:

| split | metric | this model | rules |
|---|---|---|---|
{table}

"""


def _data_terms(dataset_card: Path) -> str:
    """The training data's provenance and licence, as its dataset card states them."""
    if not dataset_card.exists():
        return "The dataset card was not found: check the data's terms before publishing."
    text = dataset_card.read_text(encoding="utf-8")
    licence = next(
        (line.split(":", 1)[1].strip() for line in text.splitlines() if line.startswith("license:")), "unknown"
    )
    provenance = text.split("## Provenance", 1)[1].split("\n## ", 1)[0].strip() if "## Provenance" in text else ""
    return f"Terms of the training data (dataset licence: `{licence}`), from its card:\n\n{provenance}"


def _calibration_section(scores: dict[str, dict[str, Any]], calibration: dict[str, list[float]]) -> str:
    """Expected calibration error of the scores on each evaluated split, raw and after Platt scaling."""
    rows = [
        f"| {split} | {c['quotes']} | {c['quote_ece_before']:.3f} | {c['quote_ece_after']:.3f} | {c['links']} | "
        f"{c['speaker_ece_before']:.3f} | {c['speaker_ece_after']:.3f} |"
        for split, report in scores.items()
        if (c := report.get("calibration"))
    ]
    if not rows:
        return ""
    fitted = ", ".join(f"`{name}` slope {a:.3f}, intercept {b:.3f}" for name, (a, b) in calibration.items())
    return f"""## Confidence and calibration

Every predicted quote has `score` (the probability that it is a quote with exactly these edges) and, with a
speaker, `speaker_score` (the probability that the speaker is right, given the quote). Raw scores come from
the tagger's token probabilities along the quote's tag path and the linker's softmax; Platt scaling fitted
on the validation split maps them to probabilities ({fitted}). Expected calibration error (10 bins):

| split | quotes | quote score ECE raw | calibrated | speaker links | speaker score ECE raw | calibrated |
|---|---|---|---|---|---|---|
{chr(10).join(rows)}

"""


def _decoding_section(table: list[dict[str, Any]]) -> str:
    """The decoding settings tried on validation, by attribution F1 (then exact, then overlap F1)."""
    if not table:
        return ""
    settings = [k for k in table[0] if not k.endswith("_f1")]
    scores = [k for k in table[0] if k.endswith("_f1")]
    ordered = sorted(table, key=lambda row: [row[k] for k in scores[::-1]], reverse=True)
    header = "| " + " | ".join(settings + [k.removesuffix("_f1").replace("_", " ") + " F1" for k in scores]) + " |"
    rows = "\n".join(
        "| " + " | ".join([str(row[k]) for k in settings] + [f"{row[k]:.3f}" for k in scores]) + " |" for row in ordered
    )
    return f"""## Decoding

Decoding settings were chosen on the validation split (never on the test split), after training:

{header}
|{"---|" * (len(settings) + len(scores))}
{rows}

"""


def write_model_card(
    folder: Path,
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
    calibration: dict[str, list[float]] | None = None,
) -> None:
    """README.md with a YAML model-index block (metrics per split) and the run's facts in prose."""
    name = Path(training_args["output_dir"]).name
    dataset_card = dataset_dir / "README.md"
    statistics_path = dataset_dir / "statistics.json"
    statistics = json.loads(statistics_path.read_text()) if statistics_path.exists() else {}
    index_results = []
    for split, report in scores.items():
        metrics = "\n".join(
            f"      - type: f1\n        name: {label}\n        value: {report['metrics'][key]['f1']:.4f}"
            for key, label in CARD_METRICS
            if key in report["metrics"]
        )
        index_results.append(
            f"  - task:\n      type: token-classification\n      name: Quote attribution\n"
            f"    dataset:\n      name: {dataset_dir.name}\n      type: {dataset_dir}\n      split: {split}\n"
            f"    metrics:\n{metrics}"
        )
    evals = [h for h in log_history if any(k.startswith("eval_") for k in h)]
    best = max(
        evals, key=lambda h: h.get(f"eval_{training_args.get('metric_for_best_model') or 'loss'}", 0), default=None
    )
    losses = [h for h in log_history if "loss" in h]
    last_step = losses[-1] if losses else {}
    summary = next((h for h in reversed(log_history) if "train_runtime" in h), last_step)  # where training ended
    metric_key = f"eval_{training_args.get('metric_for_best_model')}"
    eval_rows = "\n".join(
        f"| {_epochs(h.get('epoch'))} | {h.get('step')} | {h.get('eval_loss', float('nan')):.4f} | {h.get(metric_key, float('nan')):.4f} |"
        for h in evals
    )
    hyper = "\n".join(f"| {k} | {training_args.get(k)} |" for k in HYPERPARAMETERS if k in training_args)
    model_rows = "\n".join(f"| {k} | {v} |" for k, v in model_args.items())
    split_rows = "\n".join(f"| {k} | {v} |" for k, v in splits.items())
    stats_rows = "\n".join(
        f"| {split} | {s.get('articles')} | {s.get('quotes')} | {s.get('direct')} | {s.get('indirect')} | {s.get('mixed')} |"
        for split, s in statistics.items()
    )
    score_sections = "\n\n".join(
        f"### {split}\n\n| metric | P | R | F1 | F1 95% CI | " + " | ".join(f"F1 {t}" for t in QUOTE_TYPES) + " |\n"
        "|---|---|---|---|---|---|---|---|\n" + "\n".join(_metric_rows(report))
        for split, report in scores.items()
    )
    card = f"""---
language:
- en
license: apache-2.0
library_name: transformers
base_model: {hub_id(model_args["model_name_or_path"])}
pipeline_tag: token-classification
tags:
- quote-attribution
- quoteattr
metrics:
- precision
- recall
- f1
model-index:
- name: {name}
  results:
{chr(10).join(index_results)}
---

# {name}: quote attribution for news

Finds every quote in a news article (direct, indirect and mixed) with its cue and speaker mention, and
links each quote to its speaker. Trained with `quoteattr` (`training/train.py`); this card was written by
the training run.

## Model

- Base encoder: {provenance(model_args["model_name_or_path"])}, fine-tuned end to end.
- A BIO tagger over windows of {model_args["max_length"]} tokens (stride {model_args["stride"]}) marks
  quote content, cues and source mentions; an article's tokens take the window where they sit most centrally.
- A speaker linker scores each quote against the source mentions in its window (pooled hidden states,
  product and difference features, a signed distance bucket) or "no speaker here".
- Speaker entities: the chosen mention resolved by `quoteattr.systems.mention_resolver` (names by their last
  capitalised run, pronouns to the latest compatible named speaker).

| model argument | value |
|---|---|
{model_rows}

## Data

Dataset: `{dataset_dir}` (its card: `{dataset_card}`).

{_data_terms(dataset_card)}

Articles used per split:

| split | articles |
|---|---|
{split_rows}

| split | articles | quotes | direct | indirect | mixed |
|---|---|---|---|---|---|
{stats_rows}

Training windows: {train_windows}.

## Training

| hyperparameter | value |
|---|---|
{hyper}

Trained for {_epochs(summary.get("epoch"))} epochs ({summary.get("step", "n/a")} steps); last logged training loss
{_number(last_step.get("loss"))}. This process ran {seconds / 60:.1f} minutes (a run resumed from a checkpoint
counts only its own time). Validation during training (nearest-source linking):

| epoch | step | eval loss | {training_args.get("metric_for_best_model")} |
|---|---|---|---|
{eval_rows}

Best validation checkpoint: step {best.get("step") if best else "n/a"}.

{_decoding_section(decoding_table or [])}## Evaluation

Scored with the project's scorer (`evaluate.load(quoteattr.evaluation.METRIC_PATH)`) on whole articles, with the
linker (not the nearest-source rule used for early stopping). F1 interval: bootstrap over articles.

{score_sections}

{_rules_section(scores, rules_scores or {})}
{_calibration_section(scores, calibration or {})}## Intended use and limits

For research and tooling on quote attribution in English news: pre-annotating articles for review,
extracting who said what. Limits: trained on the {data_args["train_split"]} split of `{dataset_dir.name}` only; speakers
outside a quote's window are not found (a continuation paragraph of a quote may lose its speaker);
speaker entities are resolved by rule, and on converted corpora the reference entities are silver; the
uncased MiniLM base loses capitalisation cues. Check the per-type numbers before relying on a quote type.

## How to use

```python
import quoteattr
model = quoteattr.load("PATH")           # or QuoteAttributor.from_pretrained("PATH"), offline
[article] = model.predict([quoteattr.Article("a1", "…article text…")])
```

or `quoteattr predict --system PATH articles/ --output preds.jsonl`.
"""
    (folder / "README.md").write_text(card, encoding="utf-8")
