"""What a training run prints: progress bars, one plain line for the base model's expected load report,
and one short line per evaluation with the few numbers that matter (the full logs stay in the run's state)."""

from __future__ import annotations

import logging
from typing import Any

from transformers.trainer_callback import ProgressCallback

logger = logging.getLogger(__name__)

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

    from quoteattr.systems.model.runtimes import quiet_progress

    previous = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()
    try:
        with quiet_progress():
            tagger, info = AutoModelForTokenClassification.from_pretrained(
                base,
                num_labels=len(labels),
                id2label=dict(enumerate(labels)),
                label2id={label: index for index, label in enumerate(labels)},
                output_loading_info=True,
            )
    finally:
        hf_logging.set_verbosity(previous)
    logger.info(
        "base encoder %s: new tagger head (%d weights initialised), %d weights of the base's own head unused "
        "(expected)",
        name,
        len(info["missing_keys"]),
        len(info["unexpected_keys"]),
    )
    return tagger


def evaluation_line(logs: dict[str, float]) -> str:
    """One short line for an evaluation's logs: epoch and the headline validation numbers."""
    numbers = ", ".join(f"{name} {logs[key]:.3f}" for key, name in HEADLINE_METRICS.items() if key in logs)
    return f"epoch {round(logs.get('epoch', 0), 2):g}: validation {numbers}"


def finished_line(steps_run: int, state, seconds: float) -> str:
    """What training did: how many steps in how long, or that the checkpoint it resumed was already done."""
    if steps_run == 0:
        return f"nothing left to train: the run had already reached step {state.global_step} of {state.max_steps}"
    return f"trained {steps_run} steps in {seconds:.0f}s"


class ConciseProgress(ProgressCallback):
    """Trainer's progress bars, with a short line per evaluation instead of every log's whole dictionary, and
    a plain word when a resumed run had nothing left to train."""

    first_step = 0

    def on_train_begin(self, args, state, control, **kwargs) -> None:
        super().on_train_begin(args, state, control, **kwargs)
        self.first_step = state.global_step  # the resumed checkpoint's step, loaded before training begins

    def on_log(self, args, state, control, logs=None, **kwargs) -> None:
        if not state.is_world_process_zero or self.training_bar is None or not logs:
            return
        if "eval_loss" in logs:
            self.training_bar.write(evaluation_line(logs))
        elif "loss" in logs:
            self.training_bar.set_postfix(loss=f"{logs['loss']:.3f}", refresh=False)
        elif "train_runtime" in logs:
            self.training_bar.write(finished_line(state.global_step - self.first_step, state, logs["train_runtime"]))


def use_concise_progress(trainer: Any) -> None:
    """Swap Trainer's default progress printer for ConciseProgress (unless bars are turned off)."""
    if trainer.args.disable_tqdm:
        return
    trainer.remove_callback(ProgressCallback)
    trainer.add_callback(ConciseProgress)
