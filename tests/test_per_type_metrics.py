"""Per-type rows score one quote type on both sides (gold of type T against predictions of type T), and the
bootstrap leaves out resamples where a statistic is undefined; hand-computed cases."""

from __future__ import annotations

from quoteattr.data.schema import Article, Quote, Span
from quoteattr.evaluation.scoring import evaluate_articles

TEXT = (
    '"We won," said Ann Lee. Bo Chan said the vote was close. Critics called the result "a disgrace". '
    'Officials said the road would reopen. "Rain," Tom said.'
)


def span(words: str) -> Span:
    start = TEXT.index(words)
    return (start, start + len(words))


WON, CLOSE, DISGRACE, REOPEN, RAIN = (
    span('"We won,"'),
    span("the vote was close"),
    span('the result "a disgrace"'),
    span("the road would reopen"),
    span('"Rain,"'),
)
ANN, BO, CRITICS, OFFICIALS, TOM = span("Ann Lee"), span("Bo Chan"), span("Critics"), span("Officials"), span("Tom")


def gold() -> Article:
    return Article(
        "a",
        TEXT,
        quotes=[
            Quote([WON], "direct", speaker=ANN),
            Quote([CLOSE], "indirect", speaker=BO),
            Quote([DISGRACE], "mixed", speaker=CRITICS),
            Quote([REOPEN], "indirect", speaker=OFFICIALS),
            Quote([RAIN], "direct", speaker=TOM),
        ],
    )


def prediction() -> Article:
    return Article(
        "a",
        TEXT,
        quotes=[
            Quote([WON], "direct", speaker=ANN),  # right
            Quote([CLOSE], "direct", speaker=BO),  # found, but typed direct: counts in no row of its gold type
            Quote([DISGRACE], "mixed", speaker=OFFICIALS),  # right type, wrong speaker
            Quote([REOPEN], "indirect", speaker=OFFICIALS),  # right
        ],  # "Rain," is missed
    )


def scores(report: dict, row: str) -> tuple[float, float, float]:
    m = report["metrics"][row]
    return round(m["precision"], 3), round(m["recall"], 3), round(m["f1"], 3)


def test_each_type_is_scored_on_both_sides_by_hand():
    report = evaluate_articles([gold()], [prediction()], bootstrap=0)
    # direct: gold {won, rain}, predicted {won, close}; only "We won" matches a direct gold quote
    assert scores(report, "content_overlap/direct") == (0.5, 0.5, 0.5)
    assert scores(report, "attribution/direct") == (0.5, 0.5, 0.5)
    # indirect: gold {close, reopen}, predicted {reopen}: "the vote was close" was found only as direct
    assert scores(report, "content_overlap/indirect") == (1.0, 0.5, round(2 / 3, 3))
    assert scores(report, "attribution/indirect") == (1.0, 0.5, round(2 / 3, 3))
    # mixed: gold {disgrace}, predicted {disgrace} with the wrong speaker
    assert scores(report, "content_overlap/mixed") == (1.0, 1.0, 1.0)
    assert scores(report, "attribution/mixed") == (0.0, 0.0, 0.0)
    # tokens, direct: gold We won Rain (3); predicted We won the vote was close (6); shared We won (2)
    assert scores(report, "content_token/direct") == (round(2 / 6, 3), round(2 / 3, 3), 0.444)
    # tokens, indirect: gold the vote was close + the road would reopen (8); predicted the road would reopen (4)
    assert scores(report, "content_token/indirect") == (1.0, 0.5, round(2 / 3, 3))
    # the overall rows ignore types: four of five gold quotes found, by four predictions
    assert scores(report, "content_overlap") == (1.0, 0.8, round(2 * 0.8 / 1.8, 3))


def test_swapped_types_do_not_read_as_right():
    """Every direct quote predicted as indirect and the other way round: each type's row is 0, not 1."""
    swap = {"direct": "indirect", "indirect": "direct", "mixed": "mixed"}
    swapped = Article("a", TEXT, quotes=[Quote(q.spans, swap[q.type], speaker=q.speaker) for q in gold().quotes])
    report = evaluate_articles([gold()], [swapped], bootstrap=0)
    for row in ("content_overlap", "content_token", "attribution"):
        assert scores(report, f"{row}/direct") == (0.0, 0.0, 0.0), row
        assert scores(report, f"{row}/indirect") == (0.0, 0.0, 0.0), row
        assert scores(report, f"{row}/mixed") == (1.0, 1.0, 1.0), row
        assert scores(report, row) == (1.0, 1.0, 1.0), row


def test_bootstrap_leaves_out_resamples_without_predictions():
    """One article predicted right, three whose direct quote is missed: a resample of only the missed ones has
    no precision (nothing predicted), so precision's interval stays at 1.0 instead of reaching 0."""
    found = Article("found", TEXT, quotes=[Quote([WON], "direct", speaker=ANN)])
    missed = [Article(f"missed-{i}", TEXT, quotes=[Quote([RAIN], "direct", speaker=TOM)]) for i in range(3)]
    predictions = [found] + [Article(a.id, TEXT) for a in missed]
    report = evaluate_articles([found, *missed], predictions, bootstrap=300)
    direct = report["metrics"]["content_overlap/direct"]
    assert (direct["precision"], direct["recall"]) == (1.0, 0.25)
    assert direct["precision_ci"] == [1.0, 1.0]
    assert direct["recall_ci"][0] == 0.0 and direct["recall_ci"][1] > 0.25
    # no mixed quote on either side: no row at all rather than a made-up 1.0 with an interval of [1, 1]
    assert not any(row.endswith("/mixed") for row in report["metrics"])
    assert report["metrics"]["content_overlap"]["f1"] == direct["f1"]


def test_the_evaluate_metric_has_the_same_keys_whatever_the_data():
    """The metric's keys do not depend on which quote types occur: a type neither side has scores None."""
    import evaluate

    from quoteattr.evaluation import METRIC_PATH

    metric = evaluate.load(METRIC_PATH)
    everything = metric.compute(predictions=[prediction()], references=[gold()])
    direct_only = Article("a", TEXT, quotes=[Quote([WON], "direct", speaker=ANN)])
    no_mixed = metric.compute(predictions=[direct_only], references=[direct_only])
    assert no_mixed.keys() == everything.keys()
    assert no_mixed["attribution/mixed_f1"] is None and everything["attribution/mixed_f1"] == 0.0
    assert no_mixed["attribution/direct_f1"] == 1.0
