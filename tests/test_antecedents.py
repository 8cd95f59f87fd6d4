"""The learned antecedent scorer: its choice, its training examples and fit, and the packaged weights that
`training/train_antecedents.py` writes."""

from __future__ import annotations

import importlib.util
import json
from collections import Counter
from pathlib import Path

import pytest

from conftest import ANNOTATIONS, ROOT, at
from quoteattr.data.schema import Article, Quote
from quoteattr.systems.antecedents import FEATURES, SCORER_KINDS, AntecedentScorer, nearest_compatible, packaged_scorer
from quoteattr.training import antecedents
from quoteattr.training.antecedents import Example, cross_validated_f1s, fit, gold_examples


def row(**values: float) -> dict[str, float]:
    return {name: values.get(name, 0.0) for name in (*FEATURES, "content_words")}


def scorer(none: float) -> AntecedentScorer:
    weights = {kind: {name: 0.0 for name in FEATURES} for kind in SCORER_KINDS}
    weights["description"]["head_match"] = 2.0
    return AntecedentScorer(weights, {kind: none for kind in SCORER_KINDS})


def test_the_scorer_takes_the_best_candidate_unless_none_scores_higher():
    rows = [row(), row(head_match=1.0), row()]
    assert scorer(none=1.0).choose("description", ["a", "b", "c"], rows) == 1
    assert scorer(none=3.0).choose("description", ["a", "b", "c"], rows) is None
    assert scorer(none=0.0).choose("description", [], []) is None


def test_a_scorer_of_other_features_is_refused():
    values = scorer(none=0.0).to_dict()
    assert AntecedentScorer.from_dict(values) == scorer(none=0.0)
    with pytest.raises(ValueError, match="features"):
        AntecedentScorer.from_dict({**values, "features": ["person"]})


def test_fit_learns_which_candidate_the_gold_takes():
    examples = [
        Example("description", [row(recency=0.0), row(head_match=1.0, recency=0.7)], 1),
        Example("description", [row(head_match=1.0, recency=0.0), row(recency=0.7)], 0),
        Example("description", [row(recency=0.0), row(recency=0.7)], None),
    ] * 5
    fitted = fit(examples, l2=0.01)
    assert fitted.choose("description", ["a", "b"], [row(), row(head_match=1.0, recency=1.1)]) == 1
    assert fitted.choose("description", ["a", "b"], [row(), row(recency=0.7)]) is None


def test_gold_examples_target_the_candidate_the_gold_names():
    text = (
        'Coach Hana Ito was blunt. Mr. Ravi Menon, her assistant, agreed. "We were not good enough," she said. '
        '"We lost," the striker said.'
    )
    quotes = [
        Quote([at(text, '"We were not good enough,"')], "direct", speaker=at(text, "she"), speaker_entity="Hana Ito"),
        Quote([at(text, '"We lost,"')], "direct", speaker=at(text, "the striker"), speaker_entity="Jo Park"),
    ]
    pronoun, description = gold_examples([Article("a", text, quotes=quotes)])
    assert (pronoun.kind, description.kind) == ("person_pronoun", "description")
    assert len(pronoun.rows) == 1 and pronoun.target == 0  # Mr. Ravi Menon is a man: not a candidate for "she"
    assert len(description.rows) == 3 and description.target is None  # the gold's entity is not named before
    assert description.rows[-1]["new_entity"] == 1.0  # the new entity "Striker" is not the gold's either


@pytest.mark.parametrize(("gold", "target"), [("Defence Ministry", "new"), ("Northland Defence Ministry", None)])
def test_a_description_targets_its_new_entity_only_when_its_own_name_is_the_golds(gold: str, target):
    """'the defence ministry' names a new entity when the gold calls it that; not when the gold's name only holds
    its words (the text names it later: that is no new entity, and the partial match would reward a bare noun)."""
    text = 'Officials met in Ostvik. "We are ready," the defence ministry said.'
    speaker = at(text, "the defence ministry")
    quote = Quote([at(text, '"We are ready,"')], "direct", speaker=speaker, speaker_entity=gold)
    (example,) = gold_examples([Article("a", text, quotes=[quote])])
    assert example.rows[-1]["new_entity"] == 1.0
    assert example.target == (len(example.rows) - 1 if target == "new" else None)


def test_the_rules_never_take_a_new_entity():
    rows = [row(word_overlap=1.0, content_words=2.0), row(new_entity=1.0, content_words=2.0)]
    assert nearest_compatible("description", ["Ostvik Ministry", "Defence Ministry"], rows) == 0
    assert nearest_compatible("description", ["Defence Ministry"], rows[1:]) is None


def test_cross_validation_scores_every_article_once_with_a_scorer_fitted_without_it(monkeypatch):
    fitted_on: list[set[str]] = []
    scored: list[set[str]] = []
    monkeypatch.setattr(antecedents, "gold_examples", lambda articles: [a.id for a in articles])
    monkeypatch.setattr(antecedents, "fit", lambda ids, l2: fitted_on.append(set(ids)) or len(fitted_on))
    per_fold = [(1, 1, 2), (0, 0, 2), (0, 0, 2)]  # right, predicted, gold: F1 pooled 2/7, averaged over folds 2/9

    def entity_counts(articles, chooser):
        assert chooser == len(fitted_on)  # the scorer just fitted, on the other folds
        scored.append({a.id for a in articles})
        return Counter(dict(zip([("all", "right"), ("all", "predicted"), ("all", "gold")], per_fold[len(scored) - 1])))

    monkeypatch.setattr(antecedents, "_entity_counts", entity_counts)
    articles = [Article(str(i), "text") for i in (6, 2, 0, 5, 3, 1, 4)]
    f1s = cross_validated_f1s(articles, {"only": lambda scorer: scorer}, 0.01, folds=3)
    assert f1s["only"]["all"] == pytest.approx(2 / 7)
    assert scored == [{"0", "3", "6"}, {"1", "4"}, {"2", "5"}]  # every third article by id
    assert all(
        not (trained & held_out) and len(trained | held_out) == 7 for trained, held_out in zip(fitted_on, scored)
    )


def load_script():
    spec = importlib.util.spec_from_file_location("train_antecedents", ROOT / "training" / "train_antecedents.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_the_packaged_scorer_is_what_training_writes_and_beats_the_rules_on_validation(tmp_path: Path, capsys):
    """The shipped weights are not stale: training on the embedded gold writes them again (to rounding), and the
    learned choice scores at least the rules' F1 on validation (the split the penalty is chosen on)."""
    output, results = tmp_path / "scorer.json", tmp_path / "results.json"
    arguments = ["--annotations", str(ANNOTATIONS), "--output", str(output), "--results", str(results)]
    assert load_script().main(arguments) == 0
    written = AntecedentScorer.from_dict(json.loads(output.read_text())["scorer"])
    for kind in SCORER_KINDS:
        assert written.none[kind] == pytest.approx(packaged_scorer().none[kind], abs=1e-3)
        for name in FEATURES:
            assert written.weights[kind][name] == pytest.approx(packaged_scorer().weights[kind][name], abs=1e-3)
    variants = json.loads(results.read_text())["variants"]
    learned, rules = variants["learned scorer"], variants["latest compatible entity (the rules replaced)"]
    assert learned["all_validation"] >= rules["all_validation"]
    assert json.loads(results.read_text())["command"].startswith("python training/train_antecedents.py")


def test_training_on_no_gold_is_one_error_line(tmp_path: Path, capsys):
    empty = tmp_path / "annotations"
    empty.mkdir()
    assert load_script().main(["--annotations", str(empty), "--output", str(tmp_path / "scorer.json")]) == 2
    errors = capsys.readouterr().err.strip().splitlines()
    assert len(errors) == 1 and errors[0].startswith(f"error: {empty}") and not (tmp_path / "scorer.json").exists()
