"""Every command README.md shows in its code blocks runs, as written, in a scratch copy of the project; so do
the PolNeAR commands that only docs/polnear.md and docs/active_learning.md show.

Where running it exactly as written cannot work in a test, the difference is named here: the set-up
line's `pip install` half is what `.ci/run` runs; the test commands (`python -m pytest …`) are what runs
this file, so they are not run again inside it; the main job trains with `configs/smoke.yaml` (a few
minutes as written); the Ray commands run in a test of their own, beside the other tests that start Ray (`ray stop`
stops every Ray instance of the machine); the PolNeAR commands read a 20 + 4 article slice of
the corpus, and its training run (without the decoding search) and the active-learning simulation (one round of one
strategy) get overrides that make them smoke runs (they take about an hour and 40 minutes as written);
`docs/make_results.py --collect` is left out (it would copy the smoke run's numbers into docs/results/);
the Label Studio server gets a throwaway account and data folder, and YOUR_TOKEN becomes that account's
token.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import LABEL_STUDIO_START, LABEL_STUDIO_TOKEN, MAIN_JOB, POLNEAR, README_TRAINING, ROOT
from conftest import run_shown as run
from test_quiet import assert_quiet

README = ROOT / "README.md"
POLNEAR_DOCS = (ROOT / "docs" / "polnear.md", ROOT / "docs" / "active_learning.md")
PROGRAMS = ("quoteattr", "python", "pip", "label-studio", "export", "torchrun", "ray")
POLNEAR_SMOKE = [
    "--max_train_articles",
    "8",
    "--max_eval_articles",
    "4",
    "--max_steps",
    "4",
    "--eval_strategy",
    "steps",
    "--eval_steps",
    "4",
    "--save_strategy",
    "steps",
    "--save_steps",
    "4",
    "--search_decoding",
    "none",
]
ACTIVE_LEARNING_SMOKE = [
    "--rounds",
    "1",
    "--start",
    "2",
    "--step",
    "1",
    "--pool",
    "3",
    "--validation-articles",
    "1",
    "--dev-articles",
    "1",
    "--strategies",
    "expected-errors",
]


def shown_commands(document: Path = README) -> list[str]:
    """Command lines of a document's indented code blocks, in order (a trailing `# comment` is not part of one)."""
    commands, fenced = [], False
    for line in document.read_text(encoding="utf-8").splitlines():
        if line.startswith("```"):
            fenced = not fenced
        elif not fenced and line.startswith("    ") and line.split()[0] in PROGRAMS:
            commands.append(re.split(r"\s{2,}# ", line.strip())[0])
    return commands


def python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.DOTALL)


def needs_polnear(command: str) -> bool:
    return "PolNeAR" in command or "outputs/polnear" in command


def is_the_test_command(command: str) -> bool:
    return command.startswith("python -m pytest")


def polnear_commands() -> list[str]:
    """README's PolNeAR commands, then those only the PolNeAR docs show (not the docs' own result collection)."""
    commands = list(filter(needs_polnear, shown_commands()))
    for document in POLNEAR_DOCS:
        for command in filter(needs_polnear, shown_commands(document)):
            if command not in commands and "make_results.py" not in command:
                commands.append(command)
    return commands


def for_label_studio(command: str) -> bool:
    return command.split()[0] in ("label-studio", "export") or command.startswith("quoteattr labelstudio")


def test_readme_has_the_two_set_up_commands():
    commands = shown_commands()
    assert commands[0] == f'pip install torch==2.13.0 -e ".[dev]" && {MAIN_JOB}'
    assert commands[1] == "python -m pytest"
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert 'pip install -q torch==2.13.0 -e ".[dev]"' in ci and "grep -m1 -E '^    python -m pytest' README.md" in ci


@pytest.fixture(scope="module")
def model_wheel_uninstalled():
    yield
    subprocess.run([sys.executable, "-m", "pip", "uninstall", "-y", "-q", "quoteattr-model-news"], capture_output=True)


def uses_ray(command: str) -> bool:
    return command.startswith("ray ") or "--engine ray" in command


@pytest.mark.slow
def test_main_job_and_the_commands_after_it(readme_project: Path, main_job: str, model_wheel_uninstalled):
    project = readme_project
    assert "the systems side by side" in main_job and (project / "outputs" / "model" / "final" / "README.md").exists()
    for command in shown_commands()[2:]:
        if not any(skip(command) for skip in (needs_polnear, for_label_studio, is_the_test_command, uses_ray)):
            printed = run(command, project)
            if command.startswith(("quoteattr export", "quoteattr predict")):
                assert_quiet(printed)  # no library warning, LOAD REPORT or transformers bar (ONNX export included)
    for block in python_blocks():
        run(f"{sys.executable} - <<'PYTHON'\n{block}PYTHON", project)
    assert (
        (project / "outputs" / "seed.tsv")
        .read_text(encoding="utf-8")
        .startswith("article\tstart_in_text\tend_in_text\ttype\tquote")
    )
    assert (project / "outputs" / "compare-all" / "report.md").exists()
    assert (project / "outputs" / "seed-news.jsonl").exists()
    assert (project / "outputs" / "smoke" / "final" / "README.md").exists()


@pytest.mark.slow
@pytest.mark.xdist_group("ray")
def test_ray_commands(readme_project: Path):
    """README's Ray commands, after the `ingest` whose output the cluster command reads."""
    [ingest] = [command for command in shown_commands() if command.startswith("quoteattr ingest")]
    for command in [ingest, *filter(uses_ray, shown_commands())]:
        run(command, readme_project)
    assert (readme_project / "outputs" / "sharded" / "manifest.json").exists()
    assert (readme_project / "outputs" / "sharded-cluster" / "manifest.json").exists()


def test_readme_is_user_documentation_of_at_most_15000_characters():
    text = README.read_text(encoding="utf-8")
    assert len(text.encode("utf-8")) <= 15_000  # counted as bytes: the stricter count, for any reader
    assert not re.search(r"#\d+|\.\./shared", text)  # no issue numbers, no paths outside the repository


def test_the_sessions_smoke_run_is_readmes_training_command():
    assert README_TRAINING in shown_commands()


def test_readme_shows_the_fast_tier():
    assert 'python -m pytest -m "not slow"' in shown_commands()


@pytest.mark.slow
def test_polnear_commands(readme_project: Path):
    project = readme_project
    if not (POLNEAR / "train").is_dir():
        pytest.skip(f"PolNeAR is not at {POLNEAR} (never committed; see README)")
    for command in polnear_commands():
        if "configs/polnear.yaml" in command:
            command = " ".join([command, *POLNEAR_SMOKE])  # an hour as written; its arguments are what is checked
        if "active_learning.py" in command:
            command = " ".join([command, *ACTIVE_LEARNING_SMOKE])  # 40 minutes as written
        run(command, project)
    assert "## Annotator agreement" in (project / "outputs" / "polnear" / "dataset" / "README.md").read_text(
        encoding="utf-8"
    )
    assert (project / "outputs" / "polnear" / "compare" / "report.md").exists()


@pytest.mark.slow
def test_label_studio_commands(readme_project: Path, main_job: str, studio):
    """README's review loop against the session's server, which runs README's `label-studio start` command."""
    commands = [c for c in shown_commands() if for_label_studio(c) or c == "quoteattr build"]
    assert commands.pop(0).split("  ")[0] == " ".join(LABEL_STUDIO_START)
    env = {}
    for command in commands:
        if command.startswith("export "):
            name, value = command.removeprefix("export ").split("=", 1)
            env[name] = LABEL_STUDIO_TOKEN if value == "YOUR_TOKEN" else value
            continue
        printed = run(command.replace("http://127.0.0.1:8080", studio.url), readme_project, env)
        if " push " in command and "--select" in command:
            assert "pool: 0 articles" in printed and "selected 0 by expected-errors" in printed  # all labelled
        elif " push " in command:
            assert "imported 30 tasks" in printed
        if " pull " in command:
            assert "tasks 30: annotated 0" in printed
    assert (readme_project / "outputs" / "dataset" / "README.md").exists()
