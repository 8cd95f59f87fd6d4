"""What a training run prints: progress bars, one plain line for the base model's expected load report,
and one short line per evaluation with the few numbers that matter (the full logs stay in the run's state)."""

from __future__ import annotations

from typing import Any

from transformers.trainer_callback import ProgressCallback

HEADLINE_METRICS = {
    "eval_content_overlap_f1": "content overlap F1",
    "eval_content_exact_f1": "exact F1",
    "eval_attribution_f1": "attribution F1",
    "eval_loss": "loss",
}


def load_base_tagger(base: str, labels: list[str], name: str) -> Any:
    """The encoder with a new token-classification head. transformers reports the new head and the base's
    unused weights as MISSING / UNEXPECTED keys; that is expected here, so it becomes one plain line
    naming the model as the user gave it (``name``)."""
    from transformers import AutoModelForTokenClassification
    from transformers.utils import logging as hf_logging

    previous = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()
    try:
        tagger, info = AutoModelForTokenClassification.from_pretrained(
            base,
            num_labels=len(labels),
            id2label=dict(enumerate(labels)),
            label2id={label: index for index, label in enumerate(labels)},
            output_loading_info=True,
        )
    finally:
        hf_logging.set_verbosity(previous)
    print(
        f"base encoder {name}: new tagger head ({len(info['missing_keys'])} weights initialised), "
        f"{len(info['unexpected_keys'])} weights of the base's own head unused (expected)",
        flush=True,
    )
    return tagger


def evaluation_line(logs: dict[str, float]) -> str:
    """One short line for an evaluation's logs: epoch and the headline validation numbers."""
    numbers = ", ".join(f"{name} {logs[key]:.3f}" for key, name in HEADLINE_METRICS.items() if key in logs)
    return f"epoch {round(logs.get('epoch', 0), 2):g}: validation {numbers}"


class ConciseProgress(ProgressCallback):
    """Trainer's progress bars, with a short line per evaluation instead of every log's whole dictionary."""

    def on_log(self, args, state, control, logs=None, **kwargs) -> None:
        if not state.is_world_process_zero or self.training_bar is None or not logs:
            return
        if "eval_loss" in logs:
            self.training_bar.write(evaluation_line(logs))
        elif "loss" in logs:
            self.training_bar.set_postfix(loss=f"{logs['loss']:.3f}", refresh=False)
        elif "train_runtime" in logs:
            self.training_bar.write(f"trained {state.global_step} steps in {logs['train_runtime']:.0f}s")


def use_concise_progress(trainer: Any) -> None:
    """Swap Trainer's default progress printer for ConciseProgress (unless bars are turned off)."""
    if trainer.args.disable_tqdm:
        return
    trainer.remove_callback(ProgressCallback)
    trainer.add_callback(ConciseProgress)
