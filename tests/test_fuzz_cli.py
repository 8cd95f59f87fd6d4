"""Bad input, generated: whatever is wrong with a file or an option, the command line ends with one `error:` line
naming the file, exit status 2, no traceback, and nothing new or changed in the output folder."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from quoteattr.cli import main

PROGRESS_BAR = re.compile(r"article/s\]")
"""predict's progress bar, drawn on standard error beside the error line."""
FUZZ_EXAMPLES = 40
"""Cases per generated test; README states the total (the three tests below)."""
GOOD = {
    "id": "a1",
    "text": 'The mayor said: "We will rebuild." Then she left.',
    "quotes": [{"spans": [[16, 34]], "type": "direct", "cue": [10, 14], "speaker": [0, 9]}],
}


def good_line(**changes) -> bytes:
    return json.dumps({**GOOD, **changes}).encode("utf-8")


WRONG_RECORDS = st.sampled_from(
    [
        good_line(id=[7]),  # an integer id is read as its digits; a list or a truth value is not an id
        good_line(id=True),
        good_line(text=["not", "text"]),
        good_line(quotes={"spans": []}),
        good_line(quotes=[{"spans": [[40, 400]], "type": "direct"}]),
        good_line(quotes=[{"spans": [[-3, 5]], "type": "direct"}]),
        good_line(quotes=[{"spans": [[10, 4]], "type": "direct"}]),
        good_line(quotes=[{"spans": [[16, 34]], "type": "shouted"}]),
        good_line(quotes=[{"spans": [[16, 34]], "type": "direct", "score": 3.5}]),
        good_line(quotes=[{"spans": [[16, 34]], "type": "direct", "speaker": [16, 20]}]),
        b'{"id": "a1"}',
        b"[1, 2, 3]",
        b"null",
        good_line() + b"\n" + good_line(),  # the same id twice
    ]
)
BROKEN_BYTES = st.one_of(
    st.integers(min_value=1, max_value=len(good_line()) - 1).map(lambda n: good_line()[:n]),  # truncated
    st.binary(min_size=1, max_size=200).map(lambda raw: raw + b"\x00"),  # binary
    st.binary(min_size=1, max_size=50).map(lambda raw: good_line()[:20] + b"\xff\xfe" + raw),  # not UTF-8
    st.just(b""),
    st.just(b"   \n\n"),
)


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` (hidden temporary files included) with its bytes."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def assert_one_clean_error(command: list[str], named: str, output: Path, capsys) -> None:
    before = snapshot(output)
    assert main(command) == 2, command
    printed = capsys.readouterr()
    lines = [line for line in printed.err.splitlines() if line.strip() and not PROGRESS_BAR.search(line)]
    assert len(lines) == 1 and lines[0].startswith("error: ") and named in lines[0], printed.err
    assert "Traceback" not in printed.err + printed.out
    assert snapshot(output) == before


@pytest.fixture
def folders(tmp_path_factory):
    def make() -> tuple[Path, Path]:
        root = tmp_path_factory.mktemp("fuzz")
        (root / "out").mkdir()
        (root / "out" / "kept.jsonl").write_bytes(good_line() + b"\n")  # an earlier result that must survive
        return root, root / "out"

    return make


FUZZ = settings(max_examples=FUZZ_EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@FUZZ
@given(content=st.one_of(WRONG_RECORDS, BROKEN_BYTES), command=st.sampled_from(["ingest", "evaluate", "predict"]))
def test_a_bad_interchange_file_is_one_clean_error(folders, capsys, content: bytes, command: str):
    root, output = folders()
    bad = root / "bad.jsonl"
    bad.write_bytes(content)
    target = str(output / "kept.jsonl")
    commands = {
        "ingest": ["ingest", str(bad), "--output", target],
        "evaluate": ["evaluate", "--gold", str(bad), "--pred", str(output / "kept.jsonl"), "--output", target],
        "predict": ["predict", "--system", "rules", str(bad), "--output", target],
    }
    assert_one_clean_error(commands[command], str(bad), output, capsys)
    shutil.rmtree(root)


OPTIONS = st.sampled_from(
    [
        ["--batch-size", "0"],
        ["--batch-size", "-4"],
        ["--min-score", "1.5"],
        ["--min-score", "-3"],
        ["--device", "banana"],
        ["--device", "cuda:99"],
        ["--output-suffix", ".csv"],
        ["--output-suffix", ".txt"],
    ]
)


@FUZZ
@given(option=OPTIONS)
def test_a_bad_option_value_is_one_clean_error(folders, capsys, option: list[str]):
    root, output = folders()
    article = root / "article.txt"
    article.write_text(GOOD["text"], encoding="utf-8")
    suffix = option[1] if option[0] == "--output-suffix" else ".jsonl"
    extra = [] if option[0] == "--output-suffix" else option
    command = ["predict", "--system", "rules", str(article), "--output", str(output / f"p{suffix}"), *extra]
    assert_one_clean_error(command, option[1] if option[0] != "--output-suffix" else f"p{suffix}", output, capsys)
    shutil.rmtree(root)


@FUZZ
@given(
    name=st.sampled_from(["model.safetensors", "linker.safetensors", "config.json"]),
    keep=st.floats(min_value=0.0, max_value=0.95),
    junk=st.binary(max_size=64),
)
def test_a_corrupted_checkpoint_is_one_clean_error(folders, capsys, untrained_checkpoint, name, keep, junk):
    root, output = folders()
    broken = root / "checkpoint"
    shutil.copytree(untrained_checkpoint, broken)
    original = (broken / name).read_bytes()
    (broken / name).write_bytes(original[: int(len(original) * keep)] + junk)
    article = root / "article.txt"
    article.write_text(GOOD["text"], encoding="utf-8")
    command = ["predict", "--system", str(broken), str(article), "--output", str(output / "p.jsonl")]
    assert_one_clean_error(command, name, output, capsys)
    shutil.rmtree(root)
