"""What a training run does after the last step, each a step of its own: average the last checkpoints (when
asked), choose decoding on validation, fit calibration, export the checkpoint, score it and the rules baseline,
write the card, push."""

from __future__ import annotations

import logging
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from quoteattr.data.errors import InputError
from quoteattr.data.schema import Article
from quoteattr.data.writers import write_json
from quoteattr.systems.model.attributor import QuoteAttributor
from quoteattr.training.arguments import EXTRA_GOLD
from quoteattr.training.averaging import AveragingResult

logger = logging.getLogger(__name__)

BOOTSTRAP = 200
"""Bootstrap resamples behind the card's F1 intervals."""


def choose_decoding(
    attributor: QuoteAttributor, validation: list[Article], run_args: Any
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Search decoding on validation by ``run_args.search_decoding`` F1 over ``run_args.grid`` (``find_decoding``:
    calibration is fitted for the decoding found, then the threshold chosen on it). With "none" the decoding is
    kept, and so is the calibration of a checkpoint trained on (its threshold was chosen on it); a new model's
    is fitted. ``attributor`` keeps both; returns every setting's row (none without a search) and the fits."""
    from quoteattr.training.calibration import CalibrationFit, calibration_settings, fit_calibration
    from quoteattr.training.decoding_search import find_decoding

    if run_args.search_decoding == "none":
        fits = fit_calibration(attributor, validation)
        kept = attributor.settings.get("calibration") or {}
        if any(kept.values()):
            reason = "kept from the checkpoint trained on (`--search_decoding none` keeps decoding and calibration)"
            fits = {
                name: CalibrationFit(fit.examples, fit.ece_raw, None, kept.get(name), reason)
                for name, fit in fits.items()
            }
        attributor.settings["calibration"] = calibration_settings(fits)
        return [], fits
    table, fits = find_decoding(attributor, validation, run_args.search_decoding, run_args.grid)
    logger.info("decoding chosen on validation: %s", attributor.decoding.describe())
    return table, fits


def average_run_checkpoints(
    trainer: Any, model: Any, tokenizer: Any, settings: dict[str, Any], validation: list[Article], count: int
) -> AveragingResult:
    """``--average_checkpoints``: the averages of this run's last saved checkpoints against the Trainer's choice, each
    scored on validation by ``metric_for_best_model`` as the per-epoch evaluation scores (same articles, same
    decoding); ``model`` ends up with the winner's weights."""
    import evaluate

    from quoteattr.evaluation import METRIC_PATH
    from quoteattr.training.averaging import average_checkpoints, saved_checkpoints
    from quoteattr.training.validation import validation_scores

    args = trainer.args
    metric_name = args.metric_for_best_model.removeprefix("eval_")
    metric = evaluate.load(METRIC_PATH)

    def score(candidate: Any) -> float:
        attributor = QuoteAttributor(candidate, tokenizer, settings)
        return validation_scores(attributor, validation, metric, args.per_device_eval_batch_size)[metric_name]

    saved = saved_checkpoints(args.output_dir, trainer.state.log_history)  # this run's, up to its last step
    result = average_checkpoints(model, saved, count, metric_name, score)
    logger.info("checkpoint averaging: %s", result.describe())
    return result


def score_checkpoint(attributor: QuoteAttributor, splits: dict[str, list[Article]]) -> tuple[dict, dict]:
    """Reports of the checkpoint (end to end, given gold quotes, calibration) and of the rules, per split; each
    split's articles go through the encoder (and spaCy) once, for all three."""
    from quoteattr.evaluation.comparison import given_gold_quote_rows, with_gold_quotes_only
    from quoteattr.evaluation.scoring import evaluate_articles
    from quoteattr.systems.rules import RulesAttributor
    from quoteattr.training.calibration import calibration_report, scored_both_ways

    scores, rules_scores = {}, {}
    rules = RulesAttributor()
    for split_name, gold in splits.items():
        predicted, linked, raw, calibrated = [], [], [], []
        for (article, analysis), given in zip(attributor.analyse(gold), with_gold_quotes_only(gold)):
            predicted.append(attributor.attribute(article, analysis))
            linked.append(attributor.attribute(given, analysis, keep_quotes=True))
            for outputs, scored in zip((raw, calibrated), scored_both_ways(attributor, article, analysis)):
                outputs.append(scored)
        report = evaluate_articles(gold, predicted, bootstrap=BOOTSTRAP)
        report["speaker_entities"] = "silver" if any(a.meta.get("silver_speaker_entities") for a in gold) else "gold"
        report["metrics"].update(given_gold_quote_rows(gold, linked, bootstrap=BOOTSTRAP))
        report["calibration"] = calibration_report(gold, raw, calibrated)
        scores[split_name] = report
        rules_scores[split_name] = evaluate_articles(gold, list(rules.predict(gold)), bootstrap=0)
    return scores, rules_scores


def push(final_dir: Path, training_args: Any) -> None:
    """Upload the exported checkpoint, card included, to the Hub (``--push_to_hub true``); a refused or failed upload
    is an error that names the checkpoint, which stays as exported."""
    from huggingface_hub import create_repo, upload_folder

    from quoteattr.training.model_card import hub_repository

    repo = hub_repository(training_args.hub_model_id, final_dir.parent)
    try:
        create_repo(repo, token=training_args.hub_token, exist_ok=True)
        upload_folder(repo_id=repo, folder_path=str(final_dir), token=training_args.hub_token)
    except OSError as error:  # the Hub's HTTP errors, no network, no token
        raise InputError(f"{final_dir}: exported, but not pushed to the Hub as {repo}: {error}") from error
    logger.info("pushed to the hub as %s", repo)


def finish_run(
    trainer: Any,
    tokenizer: Any,
    settings: dict[str, Any],
    splits: dict[str, list[Article]],
    dataset_dir: Path,
    run: dict[str, Any],
    final_dir: Path,
    push_to_hub: bool,
) -> None:
    """Checkpoint averaging, decoding, calibration, export to ``final_dir``, scores, card and push, after ``trainer``
    has trained. ``run`` holds the parsed model, data and run arguments and the time the run started."""
    import torch

    from quoteattr.training.model_card import BestCheckpoint, write_model_card

    data_args, training_args = run["data_args"], trainer.args
    model = trainer.model if torch.cuda.is_available() else trainer.model.to(torch.device("cpu"))
    validation = splits[data_args.validation_split]
    count = run["run_args"].average_checkpoints
    averaging = average_run_checkpoints(trainer, model, tokenizer, settings, validation, count) if count > 1 else None
    attributor = QuoteAttributor(model, tokenizer, settings)  # after averaging: it copies the CRF's transitions
    decoding_table, fits = choose_decoding(attributor, validation, run["run_args"])
    attributor.save_pretrained(final_dir)
    scored = {name: splits[name] for name in (data_args.validation_split, data_args.test_split) if name}
    if EXTRA_GOLD in splits:
        scored[EXTRA_GOLD] = splits[EXTRA_GOLD]
    scores, rules_scores = score_checkpoint(QuoteAttributor.from_pretrained(final_dir), scored)
    if EXTRA_GOLD in scores:
        scores[EXTRA_GOLD]["source"] = data_args.extra_gold
    write_model_card(
        final_dir,
        settings=attributor.settings,
        model_args=asdict(run["model_args"]),
        data_args=asdict(data_args),
        training_args={**training_args.to_dict(), "processes": training_args.world_size},
        dataset_dir=dataset_dir,
        splits={name: len(articles) for name, articles in splits.items()},
        train_windows=len(trainer.train_dataset),
        log_history=trainer.state.log_history,
        scores=scores,
        seconds=time.perf_counter() - run["started"],
        decoding_table=decoding_table,
        rules_scores=rules_scores,
        calibration=fits,
        best=BestCheckpoint.from_trainer_state(trainer.state),
        averaging=averaging,
    )
    write_json(final_dir / "eval_results.json", scores)
    logger.info("checkpoint with its card: %s", final_dir)
    if push_to_hub:
        push(final_dir, training_args)
