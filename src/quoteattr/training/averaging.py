"""Checkpoint averaging: the mean of the weights of a run's last saved checkpoints (as fairseq's
``average_checkpoints.py`` does along one run), kept only when it scores higher on validation than the checkpoint
the Trainer chose, decoded as that checkpoint is."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class AveragingResult:
    """What averaging tried and chose, for the card: each candidate's averaged steps and validation score."""

    metric: str
    single_score: float | None = None
    candidates: list[tuple[list[int], float]] = field(default_factory=list)
    kept: list[int] | None = None
    reason: str = ""

    def describe(self) -> str:
        """One sentence for the card."""
        if not self.candidates:
            return self.reason
        tried = ", ".join(f"{score:.4f} for the average of steps {_steps(steps)}" for steps, score in self.candidates)
        kept = f"the average of steps {_steps(self.kept)}" if self.kept else "the checkpoint chosen"
        scores = f"validation {self.metric} {self.single_score:.4f} for the checkpoint chosen, {tried}: {kept} is kept"
        return f"{scores} ({self.reason})" if self.reason else scores


def _steps(steps: list[int] | None) -> str:
    return ", ".join(str(step) for step in steps or [])


def saved_checkpoints(
    output_dir: str | Path, log_history: list[dict[str, Any]] | None = None
) -> list[tuple[int, Path]]:
    """The ``checkpoint-N`` folders with their step N, oldest first; with ``log_history`` (the Trainer's), only those
    this run saved: their own log history is the start of it (a used output folder may hold another run's)."""
    found = []
    for path in Path(output_dir).glob("checkpoint-*"):
        if (step := checkpoint_step(path)) is not None and (path / "model.safetensors").is_file():
            if log_history is None or _logged_by(path, log_history):
                found.append((step, path))
    return sorted(found)


def checkpoint_step(path: str | Path) -> int | None:
    """N of a Trainer's ``checkpoint-N`` folder, or None for any other path."""
    match = re.fullmatch(r"checkpoint-(\d+)", Path(path).name)
    return int(match.group(1)) if match else None


def _logged_by(checkpoint: Path, log_history: list[dict[str, Any]]) -> bool:
    try:
        saved = json.loads((checkpoint / "trainer_state.json").read_text(encoding="utf-8"))["log_history"]
    except (OSError, ValueError, KeyError):
        return False
    return saved == log_history[: len(saved)]


def averaged_state(paths: list[Path]) -> dict[str, Any]:
    """The element-wise mean of the checkpoints' floating-point weights (other tensors from the last one)."""
    from safetensors.torch import load_file

    states = [load_file(str(path / "model.safetensors")) for path in paths]
    if any(state.keys() != states[-1].keys() for state in states):
        raise ValueError(f"checkpoints {', '.join(p.name for p in paths)} do not hold the same weights")
    averaged = {}
    for name, last in states[-1].items():
        if last.is_floating_point():
            averaged[name] = sum(state[name].double() for state in states).div(len(states)).to(last.dtype)
        else:
            averaged[name] = last
    return averaged


def average_checkpoints(
    model: Any,
    saved: list[tuple[int, Path]],
    count: int,
    metric: str,
    score: Callable[[Any], float],
) -> AveragingResult:
    """Score ``model`` (the Trainer's choice) and the averages of the last 2 … ``count`` of the ``saved`` checkpoints
    by ``score(model)``, and leave in ``model`` the best average when it beats the choice (else the choice again)."""
    saved = saved[-count:]
    if len(saved) < 2:
        return AveragingResult(metric, reason=f"not averaged: {len(saved)} checkpoint(s) of this run saved, 2 needed")
    single = {name: tensor.detach().clone() for name, tensor in model.state_dict().items()}
    single_score = score(model)
    candidates, best = [], (single_score, None, single)
    for size in range(2, len(saved) + 1):
        steps = [step for step, _ in saved[-size:]]
        try:
            state = averaged_state([path for _, path in saved[-size:]])
            model.load_state_dict(state)
        except (ValueError, RuntimeError) as error:  # weights that differ in name or shape: another model's
            model.load_state_dict(single)
            return AveragingResult(metric, single_score, candidates, reason=f"not averaged: {error}")
        result = score(model)
        logger.info("average of steps %s: validation %s %.4f", _steps(steps), metric, result)
        candidates.append((steps, result))
        if result > best[0]:
            best = (result, steps, state)
    model.load_state_dict(best[2])
    return AveragingResult(metric, single_score, candidates, best[1])
