from __future__ import annotations

import pytest

from quoteattr.data.schema import Article, Entity, Quote, SchemaError

TEXT = 'He said "we will win" today.'


def record(**quote):
    base = {"spans": [[8, 21]], "type": "direct", "cue": [3, 7], "speaker": [0, 2], "speaker_entity": "Ann Lee"}
    base.update(quote)
    return {"id": "a", "text": TEXT, "quotes": [base], "entities": [{"name": "Ann Lee", "mentions": [[0, 2]]}]}


def test_valid_record_round_trips():
    article = Article.from_dict(record())
    assert Article.from_dict(article.to_dict()).to_dict() == article.to_dict()


@pytest.mark.parametrize(
    ("quote", "message"),
    [
        ({"spans": [[8, 99]]}, "outside the text"),
        ({"spans": [[10, 8]]}, "or empty"),
        ({"spans": [[8, 15], [12, 21]]}, "overlap"),
        ({"spans": [[15, 21], [8, 12]]}, "not in text order"),
        ({"type": "paraphrase"}, "has type 'paraphrase'"),
        ({"cue": [9, 13]}, "cue [9, 13] lies inside its content"),
        ({"speaker": [10, 12], "speaker_entity": None}, "speaker [10, 12] lies inside its content"),
        ({"speaker_entity": "Bo Chan"}, "names entity 'Bo Chan' but is listed as a mention of 'Ann Lee'"),
        ({"speaker_entity": " "}, "empty speaker_entity"),
        ({"spans": [[8, "21"]]}, "non-integer offsets"),
    ],
)
def test_invalid_quotes_are_refused_with_the_reason(quote, message):
    with pytest.raises(SchemaError, match=message.replace("[", r"\[").replace("]", r"\]")):
        Article.from_dict(record(**quote))


def test_entity_mentions_must_point_at_text():
    bad = record()
    bad["entities"][0]["mentions"] = [[0, 200]]
    with pytest.raises(SchemaError, match="mention of entity 'Ann Lee'"):
        Article.from_dict(bad)


def test_outputs_get_the_permissions_of_a_plain_write(tmp_path):
    import os

    from quoteattr.data.writers import write_articles

    previous = os.umask(0o022)
    try:
        write_articles(tmp_path / "a.jsonl", [Article("a", "Text.")])
        plain = tmp_path / "plain.txt"
        plain.write_text("x")
    finally:
        os.umask(previous)
    assert (tmp_path / "a.jsonl").stat().st_mode & 0o777 == plain.stat().st_mode & 0o777 == 0o644


@pytest.mark.parametrize("field", ["score", "speaker_score"])
@pytest.mark.parametrize("value", [1.5, -0.1, "high", True])
def test_scores_must_be_probabilities(field: str, value):
    record = {
        "id": "a",
        "text": "He said it.",
        "quotes": [{"spans": [[3, 10]], "type": "indirect", "speaker": [0, 2], "speaker_entity": "He", field: value}],
        "entities": [{"name": "He", "mentions": [[0, 2]]}],
    }
    with pytest.raises(SchemaError, match=f"{field} .* is not a number in \\[0, 1\\]"):
        Article.from_dict(record)


def test_scores_survive_jsonl_gzip_and_parquet(tmp_path):
    from quoteattr.data.readers import read_articles
    from quoteattr.data.writers import write_predictions

    quote = Quote([(8, 19)], "indirect", (3, 7), (0, 2), "He", score=0.25, speaker_score=0.875)
    unscored = Quote([(21, 26)], "direct")
    article = Article("a", 'He said it was fine. "Yes."', {}, [quote, unscored], [Entity("He", [(0, 2)])])
    assert "score" not in unscored.to_dict()  # gold files stay as they were
    for name in ("a.jsonl", "a.jsonl.gz", "a.parquet"):
        write_predictions(tmp_path / name, [article], "parquet" if name.endswith("parquet") else "jsonl")
        assert [a.to_dict() for a in read_articles(tmp_path / name)] == [article.to_dict()], name
