"""The scorer on hand-computed cases."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from quoteattr.cli import main
from quoteattr.data.errors import InputError
from quoteattr.data.schema import Article, Entity, Quote
from quoteattr.data.writers import write_articles
from quoteattr.evaluation.scoring import evaluate_articles, same_entity

#        0         1         2         3         4         5         6
#        0123456789012345678901234567890123456789012345678901234567890123456789
TEXT = '"We won," said Ann Lee. Bo Chan said the vote was close. Then rain.'


def gold_article() -> Article:
    quotes = [
        Quote([(0, 8)], "direct", (9, 13), (14, 21), "Ann Lee"),
        Quote([(37, 55)], "indirect", (32, 36), (23, 31), "Bo Chan"),
    ]
    entities = [Entity("Ann Lee", [(14, 21)]), Entity("Bo Chan", [(23, 31)])]
    return Article("a", TEXT, quotes=quotes, entities=entities)


def metric(report, name):
    m = report["metrics"][name]
    return round(m["precision"], 3), round(m["recall"], 3), round(m["f1"], 3)


def test_perfect_prediction_scores_one():
    report = evaluate_articles([gold_article()], [gold_article()], bootstrap=50)
    for name in (
        "content_exact",
        "content_overlap",
        "content_token",
        "cue",
        "speaker_mention",
        "speaker_entity",
        "attribution",
    ):
        assert metric(report, name) == (1.0, 1.0, 1.0), name


def test_exact_versus_overlap_and_attribution():
    pred = Article(
        "a",
        TEXT,
        quotes=[
            Quote([(1, 7)], "direct", (9, 13), (14, 21), "Ann Lee"),  # boundary off by the marks: overlap only
            Quote([(37, 55)], "indirect", (32, 36), (14, 21), "Ann Lee"),  # right span, wrong speaker
            Quote([(57, 66)], "indirect"),  # spurious
        ],
    )
    report = evaluate_articles([gold_article()], [pred], bootstrap=0)
    assert metric(report, "content_exact") == (round(1 / 3, 3), 0.5, 0.4)
    assert metric(report, "content_overlap") == (round(2 / 3, 3), 1.0, 0.8)
    assert metric(report, "attribution") == (round(1 / 3, 3), 0.5, 0.4)
    assert metric(report, "speaker_entity") == (0.5, 0.5, 0.5)
    assert metric(report, "content_exact/direct") == (0.0, 0.0, 0.0)
    assert metric(report, "content_exact/indirect") == (0.5, 1.0, round(2 / 3, 3))
    # tokens: gold We won + the vote was close = 6; pred We won + the vote was close + Then rain = 8
    assert metric(report, "content_token") == (0.75, 1.0, round(2 * 0.75 / 1.75, 3))


def test_one_prediction_cannot_match_two_gold_quotes():
    pred = Article("a", TEXT, quotes=[Quote([(0, 55)], "mixed")])
    report = evaluate_articles([gold_article()], [pred], bootstrap=0)
    assert report["metrics"]["content_overlap"]["tp_gold"] == 1
    assert metric(report, "content_overlap") == (1.0, 0.5, round(2 / 3, 3))


def test_empty_predictions_and_empty_gold():
    empty = Article("a", TEXT)
    report = evaluate_articles([gold_article()], [empty], bootstrap=0)
    assert metric(report, "content_overlap") == (0.0, 0.0, 0.0)
    both_empty = evaluate_articles([empty], [empty], bootstrap=0)
    assert metric(both_empty, "content_overlap") == (1.0, 1.0, 1.0)
    other = Article("b", TEXT)
    missing = evaluate_articles([gold_article(), other], [other], bootstrap=0)
    assert missing["missing_predictions"] == ["a"] and metric(missing, "attribution") == (0.0, 0.0, 0.0)
    with pytest.raises(InputError, match="no predicted article matches a gold article by id"):
        evaluate_articles([gold_article()], [], bootstrap=0)


def test_entity_names_match_on_whole_words():
    assert same_entity("Konashenkov", "Igor Konashenkov")
    assert same_entity("the Russian Defense Ministry", "Russian Defense Ministry")
    assert not same_entity("Lee", "Ann Leeds")


def test_bootstrap_interval_brackets_the_estimate():
    articles = [gold_article()] + [Article(f"e{i}", TEXT, quotes=gold_article().quotes[:1]) for i in range(5)]
    preds = [gold_article()] + [Article(f"e{i}", TEXT) for i in range(5)]
    report = evaluate_articles(articles, preds, bootstrap=200)
    m = report["metrics"]["content_overlap"]
    assert m["recall_ci"][0] <= m["recall"] <= m["recall_ci"][1]
    assert m["recall_ci"][0] < m["recall_ci"][1]


def test_cli_writes_json(tmp_path: Path, capsys):
    gold_path, pred_path, out = tmp_path / "g.jsonl", tmp_path / "p.jsonl", tmp_path / "r.json"
    write_articles(gold_path, [gold_article()])
    write_articles(pred_path, [gold_article()])
    assert (
        main(
            ["evaluate", "--gold", str(gold_path), "--pred", str(pred_path), "--output", str(out), "--bootstrap", "20"]
        )
        == 0
    )
    assert "content_overlap" in capsys.readouterr().out
    assert json.loads(out.read_text())["metrics"]["attribution"]["f1"] == 1.0


def test_misaligned_texts_are_an_error(tmp_path: Path):
    other = Article("a", TEXT.replace("rain", "snow"))
    with pytest.raises(ValueError, match="article 'a': predicted text differs"):
        evaluate_articles([gold_article()], [other])
