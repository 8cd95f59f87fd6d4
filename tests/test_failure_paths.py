"""Every failure ends in one line `error: FILE: …` on standard error and exit status 2 (130/143 when
interrupted), with no traceback and nothing half-written; options are checked before anything is loaded."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import ANNOTATIONS, ROOT, SEED
from quoteattr.cli import main
from quoteattr.data.quote_table import COLUMNS
from quoteattr.data.readers import read_txt
from quoteattr.data.schema import Article, Quote
from quoteattr.data.writers import write_articles, write_predictions

STARTER = ROOT / "data" / "raw" / "starter"
NO_SYSTEM = "no-such-system"  # were it loaded first, the error would name it instead of the bad option


def error_line(err: str, expected_start: str) -> str:
    """The run's one error line on standard error (it starts with ``expected_start``); no traceback."""
    lines = err.strip().splitlines()
    assert "Traceback" not in err and lines, err
    assert lines[-1].startswith(f"error: {expected_start}"), err
    assert sum(line.startswith("error:") for line in lines) == 1
    return lines[-1]


@pytest.fixture
def read_only_folder(tmp_path: Path) -> Iterator[Path]:
    """A folder that refuses new files: one without write permission, or sysfs for root (root ignores modes)."""
    folder = tmp_path / "read-only"
    folder.mkdir()
    folder.chmod(0o555)
    if os.access(folder, os.W_OK):
        folder = Path("/sys")
    yield folder
    (tmp_path / "read-only").chmod(0o755)


@pytest.fixture
def seed_gold(tmp_path: Path) -> Path:
    gold = tmp_path / "gold.jsonl"
    assert main(["ingest", str(SEED), "--output", str(gold)]) == 0
    return gold


def scored(article: Article) -> Article:
    return Article(article.id, article.text, article.meta, [Quote([(0, 5)], "direct", score=0.8)])


# 1. an output nobody may write is refused before the work, and nothing is printed first


@pytest.mark.parametrize("command", ["ingest", "predict"])
def test_an_output_in_a_read_only_folder_is_one_error(command: str, read_only_folder: Path, capsys):
    output = read_only_folder / "out.jsonl"
    assert main([command, str(SEED), "--output", str(output)]) == 2
    assert "cannot write" in error_line(capsys.readouterr().err, f"{output}:")
    assert not output.exists()


def test_evaluate_refuses_an_unwritable_report_before_printing(read_only_folder: Path, seed_gold: Path, capsys):
    capsys.readouterr()
    output = read_only_folder / "report.json"
    assert main(["evaluate", "--gold", str(seed_gold), "--pred", str(seed_gold), "--output", str(output)]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and "cannot write" in error_line(captured.err, f"{output}:")


def test_an_output_that_is_a_folder_is_refused(tmp_path: Path, capsys):
    folder = tmp_path / "out.jsonl"
    folder.mkdir()
    assert main(["predict", "--system", NO_SYSTEM, str(SEED), "--output", str(folder)]) == 2
    assert "is a folder" in error_line(capsys.readouterr().err, f"{folder}:")


# 2. options are checked before anything is loaded


@pytest.mark.parametrize(
    "option, message",
    [
        (["--device", "banana"], "--device banana: not a device"),
        (["--batch-size", "0"], "--batch-size 0: must be at least 1"),
        (["--min-score", "1.5"], "--min-score 1.5: must lie between 0 and 1"),
        (["--min-score", "-3"], "--min-score -3.0: must lie between 0 and 1"),
    ],
)
def test_predict_refuses_bad_options_before_loading(option: list[str], message: str, tmp_path: Path, capsys):
    output = tmp_path / "p.jsonl"
    assert main(["predict", "--system", NO_SYSTEM, str(SEED), "--output", str(output), *option]) == 2
    assert error_line(capsys.readouterr().err, message)
    assert not output.exists()


def test_predict_refuses_cuda_where_there_is_none(tmp_path: Path, capsys):
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    output = tmp_path / "p.jsonl"
    assert main(["predict", "--system", NO_SYSTEM, str(SEED), "--output", str(output), "--device", "cuda"]) == 2
    assert "no CUDA device" in error_line(capsys.readouterr().err, "--device cuda:")


@pytest.mark.parametrize("command", ["ingest", "predict"])
def test_an_unknown_output_suffix_is_refused_with_the_known_ones(command: str, tmp_path: Path, capsys):
    output = tmp_path / "x.csv"
    assert main([command, str(SEED), "--output", str(output)]) == 2
    line = error_line(capsys.readouterr().err, f"{output}: ")
    assert all(suffix in line for suffix in (".jsonl", ".jsonl.gz", ".parquet", ".tsv"))
    assert not output.exists()


def test_target_precision_must_be_a_precision(seed_gold: Path, tmp_path: Path, capsys):
    capsys.readouterr()
    evaluate = ["evaluate", "--gold", str(seed_gold), "--pred", str(seed_gold), "--target-precision", "1.5"]
    assert main(evaluate) == 2
    error_line(capsys.readouterr().err, "--target-precision 1.5: must lie between 0 and 1")
    compare = ["compare", "--gold", str(seed_gold), "--systems", NO_SYSTEM, "--output", str(tmp_path / "c")]
    assert main([*compare, "--target-precision", "1.5"]) == 2
    error_line(capsys.readouterr().err, "--target-precision 1.5: must lie between 0 and 1")


# 3. interrupted: the temporary file goes, the old output stays, one line and 130 / 143


@pytest.mark.parametrize("signum, status", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_an_interrupted_predict_leaves_the_old_output_and_no_temporary_file(signum: int, status: int, tmp_path: Path):
    texts = [read_txt(path).text for path in sorted(STARTER.glob("*.txt"))]
    source = tmp_path / "many.jsonl"
    source.write_text(
        "".join(json.dumps({"id": f"a{i}", "text": texts[i % len(texts)]}) + "\n" for i in range(2000)),
        encoding="utf-8",
    )
    output = tmp_path / "out.jsonl"
    output.write_text("old\n", encoding="utf-8")
    command = [sys.executable, "-m", "quoteattr.cli", "predict", "--system", "rules", str(source)]
    process = subprocess.Popen(
        [*command, "--output", str(output)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),  # a background job's shell ignores SIGINT
    )
    deadline = time.monotonic() + 240
    while not list(tmp_path.glob(".out.jsonl.*.tmp")):
        assert process.poll() is None and time.monotonic() < deadline, process.communicate()
        time.sleep(0.05)
    process.send_signal(signum)
    _, err = process.communicate(timeout=120)
    assert process.returncode == status, err[-2000:]
    assert "Traceback" not in err and err.strip().splitlines()[-1].startswith(f"error: {output}: interrupted"), err
    assert output.read_text(encoding="utf-8") == "old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["many.jsonl", "out.jsonl"]


# 4. the TSV quote table survives csv and pandas


def test_the_quote_table_reads_back_with_csv_and_pandas(tmp_path: Path):
    import pandas

    text = '"We will rebuild every house," the mayor said.\n\n"Every street\tand every\nschool, she added.'
    direct, unbalanced = (0, 30), (text.index('"Every'), len(text) - len(", she added."))
    cue = (text.index("said"), text.index("said") + 4)
    article = Article("a1", text, {}, [Quote([direct], "direct", cue=cue), Quote([unbalanced], "direct")])
    table = tmp_path / "q.tsv"
    assert write_predictions(table, [article], "tsv") == 1
    frame = pandas.read_csv(table, sep="\t", dtype=str, keep_default_na=False)
    with table.open(encoding="utf-8", newline="") as stream:
        rows = list(csv.DictReader(stream, delimiter="\t"))
    assert list(frame.columns) == list(COLUMNS) and rows == frame.to_dict("records")
    start, end = COLUMNS[1], COLUMNS[2]
    assert start.endswith("_in_text") and end.endswith("_in_text")  # offsets into the cleaned text, not the .txt
    for row, quote in zip(rows, article.quotes):
        assert row["quote"] == text[int(row[start]) : int(row[end])] == text[quote.start : quote.end]
    assert rows[0]["cue"] == "said" and rows[0]["quote"].startswith('"We')


# 5. one loader for names, folders and installed models; a clean package namespace


def test_load_takes_what_predict_takes(monkeypatch, tmp_path: Path):
    import quoteattr
    from quoteattr import systems
    from quoteattr.systems.model.attributor import QuoteAttributor

    assert quoteattr.load("rules").name == "rules"

    class Installed:
        name = "news"

        def load(self):
            return lambda: tmp_path / "news-checkpoint"

    loaded = []
    monkeypatch.setattr(systems, "entry_points", lambda group: [Installed()])
    monkeypatch.setattr(
        QuoteAttributor,
        "from_pretrained",
        classmethod(lambda cls, path, device=None: loaded.append(path) or cls.__new__(cls)),
    )
    assert quoteattr.load("news").name == "news" and loaded == [tmp_path / "news-checkpoint"]
    with pytest.raises(TypeError, match="system name or a checkpoint folder"):
        quoteattr.load(None)


def test_the_package_namespace_is_the_public_api():
    import quoteattr

    assert set(quoteattr.__all__) == {"Article", "Entity", "Quote", "load"}
    assert [name for name in dir(quoteattr) if not name.startswith("__")] == sorted(quoteattr.__all__)
    assert not hasattr(quoteattr, "Path") and not hasattr(quoteattr, "annotations")


# 6. compare and build never replace another job's results; evaluate's warnings and a swapped pair


def test_compare_needs_an_output_folder(seed_gold: Path, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["compare", "--gold", str(seed_gold), "--systems", NO_SYSTEM])
    assert exit_.value.code == 2 and "--output" in capsys.readouterr().err


def test_build_replaces_only_a_dataset_of_the_same_sources(tmp_path: Path, capsys):
    labelled = tmp_path / "labelled.jsonl"
    assert main(["ingest", str(STARTER), "--output", str(labelled)]) == 0
    dataset = tmp_path / "dataset"
    build = ["build", "--annotations", str(ANNOTATIONS), "--output", str(dataset)]
    assert main(build) == 0
    card = (dataset / "README.md").read_text(encoding="utf-8")
    assert main(build) == 0  # the same sources again: a rebuild (after a review, new labels)
    assert main(["build", str(labelled), "--output", str(dataset)]) == 2
    assert "--overwrite" in error_line(capsys.readouterr().err, f"{dataset}: holds a dataset built from other sources")
    assert (dataset / "README.md").read_text(encoding="utf-8") == card
    assert main(["build", str(labelled), "--output", str(dataset), "--overwrite"]) == 0
    assert f"interchange JSONL {labelled}" in (dataset / "README.md").read_text(encoding="utf-8")
    other = tmp_path / "other"
    other.mkdir()
    (other / "notes.txt").write_text("mine", encoding="utf-8")
    assert main([*build[:-1], str(other)]) == 2
    error_line(capsys.readouterr().err, f"{other}: is not empty and not a dataset")
    assert sorted(p.name for p in other.iterdir()) == ["notes.txt"]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_evaluate_warns_on_stderr_and_refuses_a_swapped_pair(seed_gold: Path, tmp_path: Path, capsys):
    [article] = [Article.from_dict(json.loads(line)) for line in seed_gold.read_text(encoding="utf-8").splitlines()]
    predictions = tmp_path / "pred.jsonl"
    write_articles(predictions, [scored(article), Article("elsewhere", "Nothing here.")])
    capsys.readouterr()
    assert main(["evaluate", "--gold", str(seed_gold), "--pred", str(predictions), "--bootstrap", "0"]) == 0
    captured = capsys.readouterr()
    assert "warning: 1 predicted articles are not in the gold" in captured.err and "warning" not in captured.out
    assert main(["evaluate", "--gold", str(predictions), "--pred", str(seed_gold), "--bootstrap", "0"]) == 2
    line = error_line(capsys.readouterr().err, f"{predictions}: article {article.id!r}")
    assert "carries prediction scores" in line and "did you swap --gold and --pred?" in line


@pytest.mark.parametrize("system", ["rules", "untrained"])
def test_predict_on_none_says_what_it_takes(system, untrained_checkpoint):
    import quoteattr

    model = quoteattr.load(untrained_checkpoint if system == "untrained" else system)
    with pytest.raises(TypeError, match="predict takes a text, an Article or an iterable of them, not NoneType"):
        list(model.predict(None))


def test_too_few_articles_to_split_is_one_clean_error(tmp_path: Path, gold, capsys):
    from quoteattr.data.writers import write_articles

    one = tmp_path / "one.jsonl"
    write_articles(one, gold.articles[:1])
    assert main(["build", str(one), "--output", str(tmp_path / "dataset")]) == 2
    assert capsys.readouterr().err == (
        f"error: {one}: 1 articles leave the validation, test split empty; give more articles (at least one per "
        "split) or official splits (--train/--validation/--test)\n"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["one.jsonl"]


def test_parquet_to_standard_output_is_refused_not_written_to_a_file_named_dash(tmp_path: Path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["predict", "--system", "rules", str(SEED), "--output", "-", "--format", "parquet"]) == 2
    assert capsys.readouterr().err.startswith("error: -: Parquet is a file format, not a stream")
    assert list(tmp_path.iterdir()) == []


def test_the_rules_take_one_text_as_the_model_does(rules):
    (article,) = rules.predict('"We will rebuild," the mayor said on Monday.')
    assert article.id == "text-0" and [q.type for q in article.quotes] == ["direct"]
