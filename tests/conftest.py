"""Shared fixtures: paths of the repository, the embedded data, the optional PolNeAR copy, and a smoke-trained
checkpoint."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")

ROOT = Path(__file__).resolve().parents[1]
WORKERS = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
if WORKERS > 1:  # pytest-xdist: each worker's torch (and its subprocesses') gets its share of the cores, no more
    os.environ.setdefault("OMP_NUM_THREADS", str(max(1, len(os.sched_getaffinity(0)) // WORKERS)))

WORKER_GROUPS = {
    "main_job": "readme",
    "studio": "readme",
    "smoke_run": "smoke",
    "checkpoint": "smoke",
    "ray_address": "ray",
}
"""Session state that tests share, by the fixture holding it, and the pytest-xdist group of the tests that use it: a
group runs on one worker, so each is made once (one main job, one Label Studio server, one smoke run, one Ray)."""


SPANS_GROUPS = pytest.StashKey[list[str]]()
"""The worker groups of a test that uses the state of more than one (it fails, naming them)."""


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Each test that uses shared session state joins that state's worker group (before xdist reads the groups)."""
    for item in items:
        groups = sorted({WORKER_GROUPS[name] for name in getattr(item, "fixturenames", ()) if name in WORKER_GROUPS})
        if groups:
            item.add_marker(pytest.mark.xdist_group(groups[0]))
        if len(groups) > 1:
            item.stash[SPANS_GROUPS] = groups


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    if SPANS_GROUPS in item.stash:  # its worker would make the other group's state a second time
        pytest.fail(f"uses the session state of two worker groups, {item.stash[SPANS_GROUPS]}: see WORKER_GROUPS")


SEED = ROOT / "data" / "raw" / "seed" / "000_c1fcc0406326b570.txt"
ANNOTATIONS = ROOT / "data" / "annotations"
POLNEAR = ROOT.parent / "shared" / "datasets" / "polnear"


SMOKE = ROOT / "configs" / "smoke.yaml"
LABEL_STUDIO_START = ["label-studio", "start", "--no-browser", "-p", "8080"]
"""README's command; the session's server runs it on this port when the port is free."""
LABEL_STUDIO_TOKEN = "quoteattr-test-token-0123456789"
ENV = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"}


def run_shown(command: str, project: Path, env: dict[str, str] | None = None, timeout: int = 1200) -> str:
    """A command line as a document shows it, run by bash in ``project`` with this Python's scripts first on PATH;
    its console output (stdout, then stderr). The test fails, with the output's end, if it exits non-zero."""
    environment = {**ENV, **(env or {})}
    environment["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{environment['PATH']}"
    result = subprocess.run(
        ["bash", "-c", command], cwd=project, env=environment, capture_output=True, text=True, timeout=timeout
    )
    assert result.returncode == 0, f"`{command}` exited {result.returncode}:\n{(result.stdout + result.stderr)[-3000:]}"
    return result.stdout + result.stderr


README_TRAINING = "python training/train.py --config configs/smoke.yaml --output_dir outputs/smoke"
"""README's training command: the session's smoke run is that command, run as written in the README project."""


def train_command(output: Path, dataset: Path, annotations: Path, *extra: str) -> list[str]:
    """`training/train.py` with the smoke config on ``dataset`` (built from ``annotations`` if missing), into
    ``output``."""
    return [
        sys.executable,
        str(ROOT / "training" / "train.py"),
        "--config",
        str(SMOKE),
        "--output_dir",
        str(output),
        "--dataset_dir",
        str(dataset),
        "--annotations_dir",
        str(annotations),
        *extra,
    ]


@dataclass(frozen=True)
class SmokeRun:
    """The session's smoke run: the project copy it ran in, its run folder and its console output."""

    project: Path
    output: Path
    console: str

    def train_command(self, output: Path, *extra: str) -> list[str]:
        """``train_command`` on the data this run trained on."""
        return train_command(
            output, self.project / "outputs" / "dataset", self.project / "data" / "annotations", *extra
        )


@pytest.fixture(scope="session")
def smoke_run(tmp_path_factory) -> SmokeRun:
    """README's training command (``README_TRAINING``: the smoke config, 8 steps) run as written in a project copy of
    its own, so that the tests training on from it need neither the main job nor README's later commands."""
    project = project_copy(tmp_path_factory.mktemp("smoke"))
    console = run_shown(README_TRAINING, project, timeout=600)
    return SmokeRun(project, project / "outputs" / "smoke", console)


@pytest.fixture(scope="session")
def checkpoint(smoke_run) -> Path:
    return smoke_run.output / "final"


@pytest.fixture(scope="session")
def untrained_checkpoint(tmp_path_factory) -> Path:
    """A checkpoint of the base encoder with new, untrained heads: every model code path in seconds, no training
    (its predictions are arbitrary; tests that need a trained model use ``checkpoint``)."""
    from quoteattr.systems.model.attributor import QuoteAttributor
    from quoteattr.training.arguments import ModelArguments
    from quoteattr.training.trainer import build_model

    tokenizer, model, settings = build_model(ModelArguments(max_length=128, stride=32))
    folder = tmp_path_factory.mktemp("untrained") / "final"
    QuoteAttributor(model, tokenizer, {**settings, "calibration": None}).save_pretrained(folder)
    return folder


@pytest.fixture(scope="session")
def rules():
    from quoteattr.systems.rules import RulesAttributor

    return RulesAttributor()


@pytest.fixture(scope="session")
def gold():
    from quoteattr.labelstudio.annotations import load_gold

    return load_gold(ANNOTATIONS)


@pytest.fixture
def polnear_dir() -> Path:
    if not (POLNEAR / "dev" / "text").is_dir():
        pytest.skip(f"PolNeAR is not at {POLNEAR} (it is never committed; see README for where to get it)")
    return POLNEAR


def at(text: str, part: str, after: int = 0) -> tuple[int, int]:
    """The character span of the first ``part`` in ``text`` at or after ``after``."""
    start = text.index(part, after)
    return (start, start + len(part))


def valid_bio(sequence) -> bool:
    """Whether tag ids are valid BIO: every inside tag follows its own B- or I- tag."""
    from quoteattr.systems.model.tag_decoding import _CONTINUED

    return all(tag not in _CONTINUED or (i and sequence[i - 1] in _CONTINUED[tag]) for i, tag in enumerate(sequence))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LabelStudioProcess:
    """`label-studio start` on 127.0.0.1 with a throwaway data folder."""

    def __init__(self, data_dir: Path, port: int) -> None:
        self.data_dir, self.port = data_dir, port
        self.url = f"http://127.0.0.1:{port}"
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 180) -> None:
        binary = shutil.which("label-studio")
        if binary is None:
            pytest.skip("label-studio is not installed (pip install -e '.[dev]' installs it)")
        log = self.data_dir.parent / f"label-studio-{self.port}.log"
        with log.open("ab") as output:  # the server keeps its own handle
            self.process = self._launch(binary, output)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"label-studio exited with {self.process.returncode}; see {log}")
            try:
                with urllib.request.urlopen(f"{self.url}/health", timeout=2) as response:
                    if b"UP" in response.read():
                        return
            except OSError:
                pass
            time.sleep(1)
        self.stop()
        raise RuntimeError(f"label-studio not healthy after {timeout}s; see {log}")

    def _launch(self, binary: str, output) -> subprocess.Popen:
        return subprocess.Popen(
            [
                binary,
                *LABEL_STUDIO_START[1:-1],
                str(self.port),
                "--internal-host",
                "127.0.0.1",
                "--data-dir",
                str(self.data_dir),
                "--username",
                "admin@example.com",
                "--password",
                "admin-pass-123",
                "--user-token",
                LABEL_STUDIO_TOKEN,
                "--enable-legacy-api-token",
            ],
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env={**os.environ, "LABEL_STUDIO_DISABLE_SIGNUP_WITHOUT_LINK": "true"},
        )

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=30)


@pytest.fixture(scope="session")
def studio(tmp_path_factory):
    """One Label Studio server for the session, started as README starts it (plus a throwaway account and data
    folder); README's port when it is free."""
    port = int(LABEL_STUDIO_START[LABEL_STUDIO_START.index("-p") + 1])
    with socket.socket() as sock:
        if sock.connect_ex(("127.0.0.1", port)) == 0:
            port = free_port()
    server = LabelStudioProcess(tmp_path_factory.mktemp("labelstudio") / "data", port)
    server.start()
    try:
        yield server
    finally:
        server.stop()


EMBEDDED_SLICE = 6
"""Articles of each folder of data/raw/ that README's commands run on in tests (seed and starters whole): the
suite's time stays put however much embedded data grows."""


def project_copy(folder: Path) -> Path:
    """A scratch copy, in ``folder``, of what README's commands read: data/ (a pull writes into it) on a slice of each
    folder, the PolNeAR slice when PolNeAR is here, and links to configs/, training/ and eval/."""
    for name in ("configs", "training", "eval"):
        (folder / name).symlink_to(ROOT / name)
    shutil.copytree(ROOT / "data", folder / "data")
    kept = set()
    for raw in (folder / "data" / "raw").iterdir():
        pages = sorted(raw.glob("*.txt"))
        keep = pages if raw.name in ("seed", "starter") else pages[:EMBEDDED_SLICE]
        kept.update(page.stem for page in keep)
        for page in set(pages) - set(keep):
            page.unlink()
    for annotation in (folder / "data" / "annotations").glob("*.json"):
        if annotation.stem not in kept:
            annotation.unlink()
    if (POLNEAR / "train").is_dir():
        polnear_slice(POLNEAR, folder / "PolNeAR", {"train": 20, "dev": 4})
    return folder


@pytest.fixture(scope="session")
def readme_project(tmp_path_factory) -> Path:
    """The project copy README's commands run in, in order."""
    return project_copy(tmp_path_factory.mktemp("readme"))


def polnear_slice(source: Path, target: Path, articles: dict[str, int]) -> None:
    """The first articles of each PolNeAR compartment, doubly annotated ones first (the dataset card's agreement
    needs them), with their annotations and metadata.tsv: the PolNeAR commands run as written, on a slice."""
    target.mkdir()
    shutil.copy(source / "metadata.tsv", target / "metadata.tsv")
    for compartment, count in articles.items():
        annotations = sorted((source / compartment / "attributions").glob("*.ann"))
        by_article: dict[str, list[Path]] = {}
        for ann in annotations:
            by_article.setdefault(ann.stem.rsplit("_", 1)[0], []).append(ann)
        names = sorted(by_article, key=lambda name: (len(by_article[name]) < 2, name))[:count]
        for folder in ("text", "attributions"):
            (target / compartment / folder).mkdir(parents=True)
        for name in names:
            shutil.copy(source / compartment / "text" / f"{name}.txt", target / compartment / "text")
            for ann in by_article[name]:
                shutil.copy(ann, target / compartment / "attributions")


MAIN_JOB = "quoteattr run"
"""README's main job; the session runs it once, on a slice (``configs/smoke.yaml``), for every test that reads it."""


@pytest.fixture(scope="session")
def main_job(readme_project: Path) -> str:
    """README's main job run in the README project with the smoke config (a few minutes as written); its output."""
    command = [*MAIN_JOB.split(), "--train-config", "configs/smoke.yaml"]
    result = subprocess.run(command, cwd=readme_project, env=ENV, capture_output=True, text=True, timeout=1200)
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    return result.stdout + result.stderr
