"""The review loop against a real Label Studio server (started here, stopped at the end)."""

from __future__ import annotations

import json
import shutil
import threading
from pathlib import Path

import pytest

from conftest import ANNOTATIONS, LABEL_STUDIO_TOKEN, ROOT, SEED, free_port
from quoteattr.cli import main
from quoteattr.data.readers import read_articles
from quoteattr.data.schema import Article, entities_from_quotes
from quoteattr.labelstudio.annotations import load_gold
from quoteattr.labelstudio.format import article_to_results
from quoteattr.labelstudio.sync import Server, push

pytestmark = [pytest.mark.slow, pytest.mark.labelstudio]
STARTERS = ["001_city_budget", "002_factory_closure", "011_museum_return"]


@pytest.fixture
def token(monkeypatch):
    monkeypatch.setenv("LABEL_STUDIO_API_KEY", LABEL_STUDIO_TOKEN)


@pytest.fixture
def connect():
    """Opens Server connections for a test and closes them after it."""
    opened: list[Server] = []

    def open_server(url: str, **options) -> Server:
        opened.append(Server(url, **options))
        return opened[-1]

    yield open_server
    for server in opened:
        server.close()


def copy_annotations(target: Path) -> Path:
    target.mkdir()
    for name in [SEED.stem, *STARTERS]:
        shutil.copy(ANNOTATIONS / f"{name}.json", target / f"{name}.json")
    return target


def raw_inputs() -> list[str]:
    return [str(SEED)] + [str(ROOT / "data" / "raw" / "starter" / f"{name}.txt") for name in STARTERS]


def reviewed_seed(original: Article) -> Article:
    """A reviewer's correction: "It purports…" is said by "The coalition", and the "denounced" quote goes."""
    text = original.text
    quotes = [q for q in original.quotes if not text[q.start : q.end].startswith("Washington's passive")]
    assert len(quotes) == len(original.quotes) - 1
    coalition = text.index("The coalition has been")
    for quote in quotes:
        if text[quote.start : quote.end].startswith("to be operating in Syria"):
            quote.speaker, quote.speaker_entity = (coalition, coalition + len("The coalition")), "US-led coalition"
    return Article(original.id, text, original.meta, quotes, entities_from_quotes(quotes))


def test_push_review_pull_round_trip(studio, token, connect, tmp_path: Path, capsys):
    annotations = copy_annotations(tmp_path / "annotations")
    original = {a.id: a for a in load_gold(annotations).articles}
    common = ["--url", studio.url, "--project", "round trip", "--annotations", str(annotations)]

    assert main(["labelstudio", "push", *raw_inputs(), "--system", "gold", *common]) == 0
    assert "imported 4 tasks with 'gold' predictions; 0 already there" in capsys.readouterr().out
    assert main(["labelstudio", "push", *raw_inputs(), "--system", "gold", *common]) == 0
    assert "imported 0 tasks with 'gold' predictions; 4 already there" in capsys.readouterr().out

    server = connect(studio.url)
    project = server.project_id("round trip")
    tasks = {t.data["article_id"]: t for t in server.client.tasks.list(project=project, fields="all")}
    assert sorted(tasks) == sorted([SEED.stem, *STARTERS])  # no duplicates after the second push
    assert tasks[SEED.stem].data["quoteattr_base"] == "local#1"

    corrected = reviewed_seed(original[SEED.stem])
    server.client.annotations.create(id=tasks[SEED.stem].id, result=article_to_results(corrected), was_cancelled=False)
    # two reviewers disagree on 001; 002 is skipped
    second = server.client.users.create(username="reviewer2", email="reviewer2@example.com")
    budget = original["001_city_budget"]
    fewer = Article(budget.id, budget.text, budget.meta, budget.quotes[1:], entities_from_quotes(budget.quotes[1:]))
    server.client.annotations.create(
        id=tasks["001_city_budget"].id, result=article_to_results(budget), was_cancelled=False
    )
    server.client.annotations.create(
        id=tasks["001_city_budget"].id, result=article_to_results(fewer), was_cancelled=False, completed_by=second.id
    )
    server.client.annotations.create(id=tasks["002_factory_closure"].id, result=[], was_cancelled=True)

    output = tmp_path / "gold.jsonl"
    assert main(["labelstudio", "pull", *common, "--output", str(output)]) == 0
    printed = capsys.readouterr().out
    assert "tasks 4: annotated 2, skipped 1, not yet annotated 1" in printed
    assert "two reviewers on 001_city_budget" in printed and "attribution F1" in printed

    pulled = {a.id: a for a in read_articles(output)}
    assert sorted(pulled) == [SEED.stem, "001_city_budget"]
    assert pulled[SEED.stem].to_dict() == corrected.to_dict()  # exactly the reviewer's change
    gold_after = {a.id: a for a in load_gold(annotations).articles}
    for name in ("002_factory_closure", "011_museum_return"):
        assert gold_after[name].to_dict() == original[name].to_dict()
    seed_file = json.loads((annotations / f"{SEED.stem}.json").read_text())
    assert len(seed_file[0]["annotations"]) == 2  # the hand-made version is kept, not overwritten

    # re-pulling changes nothing; a newer local edit is never overwritten by the older server copy
    seed_file[0]["annotations"][1]["updated_at"] = "2999-01-01T00:00:00Z"
    (annotations / f"{SEED.stem}.json").write_text(json.dumps(seed_file))
    before = {p.name: p.read_bytes() for p in annotations.iterdir()}
    assert main(["labelstudio", "pull", *common]) == 0
    assert "files updated 0" in capsys.readouterr().out
    assert {p.name: p.read_bytes() for p in annotations.iterdir()} == before


def test_push_selects_the_least_sure_articles_with_scores(
    studio, token, connect, readme_project: Path, main_job: str, tmp_path: Path, capsys
):
    """Active learning: the pool is what is neither labelled nor pushed; the N least sure go, with scores (the main
    job's model's)."""
    from quoteattr.data.readers import ingest
    from quoteattr.labelstudio.selection import select_articles
    from quoteattr.systems import load_system

    checkpoint = readme_project / "outputs" / "model" / "final"
    annotations = copy_annotations(tmp_path / "annotations")  # the seed and three starters are labelled already
    starter = ROOT / "data" / "raw" / "starter"
    common = [
        "--url",
        studio.url,
        "--project",
        "selection",
        "--annotations",
        str(annotations),
        "--system",
        str(checkpoint),
    ]
    assert (
        main(
            [
                "labelstudio",
                "push",
                str(starter),
                "--select",
                "5",
                "--strategy",
                "uncertainty",
                *common,
                "--model-version",
                "smoke-1",
            ]
        )
        == 0
    )
    printed = capsys.readouterr().out
    assert "pool: 27 articles" in printed and "imported 5 tasks with 'smoke-1' predictions" in printed

    pool = [a for a in ingest([starter])[0] if a.id not in STARTERS]
    expected = {a.id for a in select_articles(list(load_system(str(checkpoint)).predict(pool)), 5, "uncertainty")}
    server = connect(studio.url)
    tasks = list(server.client.tasks.list(project=server.project_id("selection"), fields="all"))
    assert {t.data["article_id"] for t in tasks} == expected
    scored = 0
    for task in tasks:
        [prediction] = task.predictions
        prediction = prediction if isinstance(prediction, dict) else prediction.model_dump()
        assert prediction["model_version"] == "smoke-1"
        region_scores = [r["score"] for r in prediction["result"] if r.get("type") == "labels" and "score" in r]
        if region_scores:  # Label Studio keeps each quote's score and the task's (its least sure quote's) for sorting
            assert prediction["score"] == pytest.approx(min(region_scores))
            scored += 1
    assert scored >= 3

    assert main(["labelstudio", "push", str(starter), "--select", "5", "--strategy", "uncertainty", *common]) == 0
    assert "pool: 22 articles" in capsys.readouterr().out  # pushing again selects from what is left
    assert len(list(server.client.tasks.list(project=server.project_id("selection")))) == 10

    rules = [*common[:-1], "rules"]
    assert main(["labelstudio", "push", str(starter), "--select", "3", "--strategy", "uncertainty", *rules]) == 2
    assert "needs a system that scores its predictions" in capsys.readouterr().err
    assert main(["labelstudio", "push", str(starter), "--select", "3", "--strategy", "random", *rules]) == 0
    assert "pool: 17 articles" in capsys.readouterr().out


def test_wrong_token_is_refused_without_printing_it(studio, monkeypatch, capsys):
    monkeypatch.setenv("LABEL_STUDIO_API_KEY", "not-the-token-secret")
    assert main(["labelstudio", "push", str(SEED), "--url", studio.url, "--project", "denied"]) == 2
    captured = capsys.readouterr()
    assert "refused the token in LABEL_STUDIO_API_KEY (HTTP 401)" in captured.err
    assert "not-the-token-secret" not in captured.err + captured.out


def test_unreachable_server_is_a_clear_error(token, capsys):
    url = f"http://127.0.0.1:{free_port()}"
    assert main(["labelstudio", "pull", "--url", url, "--project", "x", "--retries", "2"]) == 2
    err = capsys.readouterr().err
    assert (
        "retrying in 1s (1/2)" in err and f"Label Studio at {url} is unreachable" in err and "after 2 attempts" in err
    )


def test_push_waits_out_a_server_restart(studio, token, connect, tmp_path: Path):
    server = connect(studio.url, retries=9, backoff=1.0)
    articles = [
        Article(f"restart-{i}", f"Officials said on day {i} that the road would reopen soon.") for i in range(3)
    ]
    studio.stop()
    restarted = threading.Timer(3.0, studio.start)
    restarted.start()
    try:
        report = push(server, "restart", articles, [], "none", batch_size=1)
    finally:
        restarted.join()
    assert report.imported == 3
    assert server.article_ids(report.project_id) == {a.id for a in articles}
