from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import SEED
from quoteattr.cli import main
from quoteattr.data.errors import InputError
from quoteattr.data.ingest import clean_page
from quoteattr.data.readers import ingest, read_jsonl, read_txt


def test_seed_page_is_cleaned_by_general_rules():
    article = read_txt(SEED)
    assert article.meta["title"] == "Syria militants preparing for raid in Aleppo: Russia"
    assert article.meta["outlet"] == "Iran Press TV"
    assert article.meta["date"] == "2016-09-19"
    assert article.meta["sections"] == ["Weapons of Mass Destruction (WMD)"]
    assert article.text.startswith("Syria militants preparing for raid in Aleppo: Russia\n\nRussia says")
    for furniture in ("UNITED24", "donation", "mailing list", "Iran Press TV", "5:5AM"):
        assert furniture not in article.text
    assert article.text.endswith("casualty figures for Syria anymore.")
    assert article.text.count("\n\n") == 15  # headline + 15 body paragraphs, blank lines collapsed


def test_other_layouts_of_furniture_are_removed():
    raw = (
        "Home | World | Politics\n\nDaily Courier\n\nMayor resigns after audit\n\nBy Jane Roe\n\nMarch 3, 2021\n\n"
        "The mayor of Eastville resigned on Tuesday after an audit found missing funds in two accounts.\n\n"
        'Advertisement\n\n"I take full responsibility," she said in a short statement to the press.\n\n'
        "Subscribe to our newsletter for daily updates\n\n© 2021 Daily Courier. All rights reserved.\n\nDaily Courier\n"
    )
    text, meta, removed = clean_page(raw)
    assert meta["title"] == "Mayor resigns after audit"
    assert meta["author"] == "Jane Roe"
    assert meta["date"] == "2021-03-03"
    assert meta["outlet"] == "Daily Courier"
    assert text.split("\n\n") == [
        "Mayor resigns after audit",
        "The mayor of Eastville resigned on Tuesday after an audit found missing funds in two accounts.",
        '"I take full responsibility," she said in a short statement to the press.',
    ]
    assert removed == [
        "Home | World | Politics",
        "Advertisement",
        "Subscribe to our newsletter for daily updates",
        "© 2021 Daily Courier. All rights reserved.",
    ]


@pytest.mark.parametrize(
    "prose",
    [
        '"This is a clear copyright violation and the court will not tolerate it," Judge Ann Lee said in her ruling.',
        "The publisher said all rights reserved by the estate would pass to the museum when the lease ends next year.",
        '"Donate now, before the winter comes and the shelters fill up," the charity\'s director urged on Monday.',
        "Readers who want to make a donation to the flood fund can do so at any branch until March, officials said.",
    ],
)
def test_prose_that_mentions_furniture_words_is_kept(prose: str, tmp_path: Path, capsys):
    page = tmp_path / "ruling.txt"
    page.write_text(
        "Daily Courier\n\nJudge rules on lyrics\n\nA federal judge ruled on Tuesday that the song had been copied.\n\n"
        f"{prose}\n\nThe band said it would appeal.\n\n© 2024 Daily Courier. All rights reserved.\n\nDaily Courier\n",
        encoding="utf-8",
    )
    article = read_txt(page)
    assert prose in article.text
    assert "All rights reserved" not in article.text
    output, report = tmp_path / "out.jsonl", tmp_path / "lost.json"
    assert main(["ingest", str(page), "--output", str(output), "--report", str(report)]) == 0
    assert f"{page}: removed 1 line of site furniture" in capsys.readouterr().out
    assert json.loads(report.read_text())["removed"] == {str(page): ["© 2024 Daily Courier. All rights reserved."]}


def test_jsonl_text_is_never_altered(tmp_path: Path):
    text = "  Odd   spacing\u00a0and “curly” quotes,\r\nkept exactly.  "
    path = tmp_path / "in.jsonl"
    path.write_text(json.dumps({"id": "a1", "text": text, "source": "wire"}) + "\n", encoding="utf-8")
    [article] = read_jsonl(path)
    assert article.text == text and article.id == "a1" and article.meta["source"] == "wire"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "file is empty"),
        (b"   \n\n", "only whitespace"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00", "binary"),
        (b"Good line\nsecond line caf\xe9 here\n", "line 2 (byte 25): not valid UTF-8"),
    ],
)
def test_bad_txt_files_name_file_and_position(tmp_path: Path, content: bytes, message: str):
    path = tmp_path / "bad.txt"
    path.write_bytes(content)
    with pytest.raises(InputError) as error:
        read_txt(path)
    assert str(path) in str(error.value) and message in str(error.value)


def test_huge_article_is_refused_with_a_clear_error(tmp_path: Path):
    path = tmp_path / "huge.txt"
    path.write_text("Word after word in a sentence. " * 170_000, encoding="utf-8")  # ~5 MB
    with pytest.raises(InputError, match=r"huge.txt: file is 5,270,000 bytes, over the 2,000,000-byte limit"):
        read_txt(path)


def test_broken_jsonl_line_is_named_and_nothing_is_written(tmp_path: Path, capsys):
    path = tmp_path / "in.jsonl"
    path.write_text('{"id": "a", "text": "Fine."}\n{"id": "b", "text": "broken\n', encoding="utf-8")
    output = tmp_path / "out.jsonl"
    assert main(["ingest", str(path), "--output", str(output)]) == 2
    assert f"{path}: line 2, column 21: invalid JSON" in capsys.readouterr().err
    assert not output.exists() and not list(tmp_path.glob(".out.jsonl*"))


def test_skip_bad_reports_the_skipped_file(tmp_path: Path, caplog):
    good, bad = tmp_path / "good.txt", tmp_path / "bad.txt"
    good.write_text(
        "Headline here\n\nThe council said on Monday that the bridge would reopen in May.\n", encoding="utf-8"
    )
    bad.write_bytes(b"\xff\xfe\x00binary")
    articles, report = ingest([tmp_path], skip_bad=True)
    assert [a.id for a in articles] == ["good"]
    assert len(report.skipped) == 1 and "bad.txt" in report.skipped[0]
    assert "skipped: " in caplog.text  # logged (the command line shows it on standard error)


def test_duplicate_ids_in_jsonl_are_refused(tmp_path: Path):
    path = tmp_path / "in.jsonl"
    path.write_text('{"id": "a", "text": "One."}\n{"id": "a", "text": "Two."}\n', encoding="utf-8")
    with pytest.raises(InputError, match=r"in.jsonl: line 2: id 'a' already used \(.*in.jsonl: line 1\)"):
        read_jsonl(path)
