"""Checkpoint averaging: the mean of the last saved checkpoints, kept only when it scores higher on validation."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file

from quoteattr.training.averaging import average_checkpoints, averaged_state, saved_checkpoints


class Tiny(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.layer = torch.nn.Linear(2, 1)
        self.register_buffer("step", torch.tensor(0))


def save_checkpoints(folder: Path, weights: dict[int, float]) -> None:
    """``checkpoint-STEP`` folders as the Trainer writes them, every weight of step STEP equal to its value."""
    for step, value in weights.items():
        (folder / f"checkpoint-{step}").mkdir()
        state = {"layer.weight": torch.full((1, 2), value), "layer.bias": torch.full((1,), value)}
        save_file({**state, "step": torch.tensor(step)}, str(folder / f"checkpoint-{step}" / "model.safetensors"))


def test_saved_checkpoints_are_ordered_by_step_not_by_name(tmp_path: Path):
    save_checkpoints(tmp_path, {900: 1.0, 1000: 2.0, 80: 3.0})
    (tmp_path / "checkpoint-5").mkdir()  # no weights in it: not a checkpoint
    assert [step for step, _ in saved_checkpoints(tmp_path)] == [80, 900, 1000]


def test_the_average_is_the_mean_of_the_weights_and_the_last_ones_counters(tmp_path: Path):
    save_checkpoints(tmp_path, {10: 1.0, 20: 2.0, 30: 6.0})
    state = averaged_state([path for _, path in saved_checkpoints(tmp_path)])
    assert torch.equal(state["layer.weight"], torch.full((1, 2), 3.0)) and state["layer.bias"].item() == 3.0
    assert state["step"].item() == 30


@pytest.mark.parametrize("single_score, kept, weight", [(0.5, [10, 20, 30], 3.0), (0.7, None, 9.0)])
def test_the_best_average_replaces_the_chosen_checkpoint_only_when_it_scores_higher(
    tmp_path: Path, single_score, kept, weight
):
    save_checkpoints(tmp_path, {10: 1.0, 20: 2.0, 30: 6.0})
    model = Tiny()
    torch.nn.init.constant_(model.layer.weight, 9.0)
    scores = {9.0: single_score, 4.0: 0.4, 3.0: 0.6}  # by weight: the last two average to 4, all three to 3

    saved = saved_checkpoints(tmp_path)
    result = average_checkpoints(model, saved, 3, "attribution_f1", lambda m: scores[weight_of(m)])

    assert result.candidates == [([20, 30], 0.4), ([10, 20, 30], 0.6)]
    assert result.kept == kept and weight_of(model) == weight
    verdict = "the average of steps 10, 20, 30 is kept" if kept else "the checkpoint chosen is kept"
    assert result.describe().endswith(verdict)


def weight_of(model: Tiny) -> float:
    return model.layer.weight[0, 0].item()


def test_one_checkpoint_is_not_averaged_and_says_so(tmp_path: Path):
    save_checkpoints(tmp_path, {10: 1.0})
    result = average_checkpoints(Tiny(), saved_checkpoints(tmp_path), 3, "attribution_f1", lambda m: 1.0)
    assert result.kept is None and result.candidates == [] and "1 checkpoint(s) of this run" in result.describe()


def test_only_the_checkpoints_this_run_logged_are_averaged(tmp_path: Path):
    save_checkpoints(tmp_path, {10: 1.0, 20: 2.0, 30: 6.0})
    history = [{"step": 10, "loss": 1.5}, {"step": 20, "loss": 1.2}]
    for step, logged in ((10, history[:1]), (20, history), (30, [{"step": 10, "loss": 9.9}])):  # 30: another run's
        (tmp_path / f"checkpoint-{step}" / "trainer_state.json").write_text(json.dumps({"log_history": logged}))
    assert [step for step, _ in saved_checkpoints(tmp_path, history)] == [10, 20]


def test_checkpoints_of_another_model_are_not_averaged_and_the_chosen_weights_stay(tmp_path: Path):
    save_checkpoints(tmp_path, {10: 1.0, 20: 2.0})
    save_file({"other.weight": torch.ones(1)}, str(tmp_path / "checkpoint-10" / "model.safetensors"))
    model = Tiny()
    torch.nn.init.constant_(model.layer.weight, 9.0)
    result = average_checkpoints(model, saved_checkpoints(tmp_path), 2, "attribution_f1", lambda m: 0.5)
    assert result.kept is None and "do not hold the same weights" in result.describe() and weight_of(model) == 9.0
