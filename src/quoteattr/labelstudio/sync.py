"""Push articles with predictions to a Label Studio server and pull reviewed annotations back into
``data/annotations/`` (merged, nothing lost) and the interchange JSONL."""

from __future__ import annotations

import json
import logging
import os
import re
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

from quoteattr.data.errors import InputError
from quoteattr.data.schema import Article
from quoteattr.data.writers import write_articles, write_json
from quoteattr.labelstudio.annotations import (
    BASE_FIELD,
    ORIGIN_FIELD,
    REVISES_FIELD,
    annotation_key,
    load_gold,
    read_export,
    task_article_id,
)
from quoteattr.labelstudio.format import article_to_results

logger = logging.getLogger(__name__)

TOKEN_VARIABLE = "LABEL_STUDIO_API_KEY"
DEFAULT_LABEL_CONFIG = Path(__file__).with_name("labelling_config.xml")
"""The labelling interface (ships in the package, so an installed quoteattr finds it)."""
T = TypeVar("T")


class LabelStudioError(InputError):
    """The server could not be used; the message says why and what to do (never the token)."""


@dataclass
class Server:
    """A Label Studio server and how hard to try when it does not answer; a context manager that closes its
    connections (``with Server(url) as server: …``)."""

    url: str
    retries: int = 5
    backoff: float = 1.0
    client: Any = None
    connections: Any = None

    def __post_init__(self) -> None:
        """The address and the token are checked first: importing the SDK alone takes seconds, and a malformed
        address would only fail after every retry."""
        check_url(self.url)
        token = os.environ.get(TOKEN_VARIABLE)
        if not token:
            raise LabelStudioError(
                f"{TOKEN_VARIABLE}: not set; set it to your Label Studio access token (Account & Settings)"
            )
        import httpx
        from label_studio_sdk import LabelStudio

        self.url = self.url.rstrip("/")
        self.connections = httpx.Client(timeout=60, follow_redirects=True)
        self.client = LabelStudio(base_url=self.url, api_key=token, timeout=60, httpx_client=self.connections)

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the connections to the server (left open, they are reported as unclosed sockets)."""
        self.connections.close()

    def call(self, what: str, action: Callable[[], T]) -> T:
        """Run one API call; retry with exponential backoff while the server is unreachable or failing (5xx)."""
        import httpx
        from label_studio_sdk.core.api_error import ApiError

        for attempt in range(1, self.retries + 1):
            try:
                return action()
            except ApiError as error:
                if error.status_code in (401, 403):
                    raise LabelStudioError(
                        f"{what}: Label Studio at {self.url} refused the token in {TOKEN_VARIABLE} "
                        f"(HTTP {error.status_code}); check the token"
                    ) from None
                if error.status_code is not None and error.status_code < 500:
                    raise LabelStudioError(
                        f"{what}: Label Studio at {self.url} answered HTTP {error.status_code}: {error.body}"
                    ) from None
                problem = f"HTTP {error.status_code}"
            except httpx.TransportError as error:
                problem = f"{type(error).__name__}"
            if attempt == self.retries:
                raise LabelStudioError(
                    f"{what}: Label Studio at {self.url} is unreachable ({problem}) after {self.retries} attempts; "
                    "is the server running at that address?"
                )
            delay = self.backoff * 2 ** (attempt - 1)
            logger.warning("%s: %s; retrying in %.0fs (%d/%d)", what, problem, delay, attempt, self.retries)
            time.sleep(delay)
        raise AssertionError("unreachable")

    def project_id(self, title: str, label_config: str | None = None) -> int:
        """The project with this title; created with the labelling config when missing and a config is given."""
        projects = self.call("list projects", lambda: list(self.client.projects.list()))
        for project in projects:
            if project.title == title:
                return project.id
        if label_config is None:
            raise LabelStudioError(f"no project titled {title!r} on {self.url}")
        created = self.call(
            "create project", lambda: self.client.projects.create(title=title, label_config=label_config)
        )
        return created.id

    def article_ids(self, project: int) -> set[str]:
        tasks = self.call("list tasks", lambda: list(self.client.tasks.list(project=project, fields="all")))
        return {task_article_id({"id": t.id, "data": t.data}) for t in tasks}


def check_url(url: str) -> None:
    """Refuse an address no server can have (no http(s) scheme, no host name, a bad port) before any request."""
    parts = urlsplit(url)
    try:
        port_ok = parts.port is None or parts.port > 0
    except ValueError:
        port_ok = False
    if parts.scheme not in ("http", "https") or not re.fullmatch(r"[\w.:-]+", parts.hostname or "") or not port_ok:
        raise LabelStudioError(f"{url}: not a Label Studio server address; give one like http://127.0.0.1:8080")


@dataclass
class PushReport:
    project_id: int
    imported: int = 0
    already_there: int = 0


def push(
    server: Server,
    title: str,
    articles: list[Article],
    predictions: list[Article],
    model_version: str,
    annotations: Path | None = None,
    label_config: Path = DEFAULT_LABEL_CONFIG,
    batch_size: int = 20,
) -> PushReport:
    """Import articles as tasks with predictions; articles already in the project are not imported again.
    An article that already has gold in ``annotations`` records which version the review starts from."""
    project = server.project_id(title, label_config.read_text(encoding="utf-8"))
    report = PushReport(project)
    bases = _gold_heads(annotations) if annotations and annotations.is_dir() else {}
    predicted = {a.id: a for a in predictions}
    pending = list(articles)
    while pending:
        present = server.article_ids(project)  # read again before each batch: a retried batch never duplicates
        report.already_there += sum(1 for a in pending[:batch_size] if a.id in present)
        batch = [a for a in pending[:batch_size] if a.id not in present]
        pending = pending[batch_size:]
        if not batch:
            continue
        tasks = []
        for article in batch:
            data: dict[str, Any] = {"text": article.text, "article_id": article.id, "meta": article.meta}
            if article.id in bases:
                data[BASE_FIELD] = bases[article.id]
            task: dict[str, Any] = {"data": data}
            if article.id in predicted:
                prediction = {"model_version": model_version, "result": article_to_results(predicted[article.id])}
                scores = [q.score for q in predicted[article.id].quotes if q.score is not None]
                if scores:
                    prediction["score"] = min(scores)  # the data manager sorts tasks by it: least sure quote first
                task["predictions"] = [prediction]
            tasks.append(task)
        server.call(
            "import tasks", partial(server.client.projects.import_tasks, project, request=tasks, return_task_ids=True)
        )
        report.imported += len(batch)
    return report


def unlabelled(server: Server, title: str, articles: list[Article], annotations: Path | None) -> list[Article]:
    """The articles neither labelled in ``annotations`` nor already tasks of the project: the pool to select from."""
    labelled = set(_gold_heads(annotations)) if annotations and annotations.is_dir() else set()
    pushed = server.article_ids(server.project_id(title, DEFAULT_LABEL_CONFIG.read_text(encoding="utf-8")))
    return [a for a in articles if a.id not in labelled and a.id not in pushed]


def _gold_heads(annotations: Path) -> dict[str, str]:
    """Article id → key of the annotation version its gold comes from."""
    gold = load_gold(annotations)
    return {article_id: annotation_key(versions[-1].annotation) for article_id, versions in gold.heads.items()}


@dataclass
class PullReport:
    tasks: int = 0
    annotated: int = 0
    skipped: int = 0
    unannotated: int = 0
    files_written: list[str] = field(default_factory=list)
    quotes_per_type: dict[str, int] = field(default_factory=dict)
    issues: list[str] = field(default_factory=list)
    conflicts: list[dict[str, Any]] = field(default_factory=list)


def pull(server: Server, title: str, annotations: Path, output: Path | None) -> PullReport:
    """Export the project, merge its annotations into ``annotations/<article>.json``, write the gold JSONL."""
    project = server.project_id(title)
    raw = server.call(
        "export annotations",
        lambda: b"".join(
            server.client.projects.exports.download_sync(project, export_type="JSON", download_all_tasks=True)
        ),
    )
    try:
        exported = json.loads(raw)
    except json.JSONDecodeError as error:
        raise LabelStudioError(
            f"export of project {title!r}: invalid JSON at line {error.lineno} ({error.msg})"
        ) from None
    origin = f"{server.url}/projects/{project}"
    report = PullReport(tasks=len(exported))
    pulled_ids: list[str] = []
    for task in exported:
        article_id = task_article_id(task)
        submitted = [a for a in task.get("annotations") or [] if not a.get("was_cancelled")]
        if submitted:
            report.annotated += 1
        elif task.get("annotations"):
            report.skipped += 1
        else:
            report.unannotated += 1
            continue
        path = annotations / f"{_file_name(article_id)}.json"
        merged, changed = merge_task(read_export(path)[0] if path.exists() else None, task, origin)
        if changed:
            write_json(path, [merged])
            report.files_written.append(str(path))
        if submitted:
            pulled_ids.append(article_id)
    gold = load_gold(annotations)
    report.issues = [str(issue) for issue in gold.issues]
    report.conflicts = [c for c in gold.conflicts if c["article"] in pulled_ids]
    pulled = [a for a in gold.articles if a.id in set(pulled_ids)]
    report.quotes_per_type = dict(Counter(q.type for a in pulled for q in a.quotes))
    if output is not None:
        write_articles(output, pulled)
    return report


def _file_name(article_id: str) -> str:
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in article_id)
    if not safe or safe.startswith("."):
        raise InputError(f"article id {article_id!r} cannot name a file")
    return safe


def merge_task(local: dict[str, Any] | None, exported: dict[str, Any], origin: str) -> tuple[dict[str, Any], bool]:
    """Add the export's annotations to the local task: a version already there is replaced only by a newer
    one, new versions are appended (two reviewers: both kept), predictions never replace annotations."""
    base = (exported.get("data") or {}).get(BASE_FIELD)
    if local is None:
        local = {"id": exported.get("id"), "data": exported.get("data"), "annotations": [], "predictions": []}
    elif (local.get("data") or {}).get("text") != (exported.get("data") or {}).get("text"):
        raise InputError(
            f"task {exported.get('id')}: article {task_article_id(exported)!r} text on the server differs from "
            "data/annotations; refusing to merge annotations whose offsets point into another text"
        )
    by_key = {annotation_key(a): i for i, a in enumerate(local["annotations"])}
    changed = False
    for annotation in exported.get("annotations") or []:
        annotation = {k: v for k, v in annotation.items() if k != "prediction"}
        annotation[ORIGIN_FIELD] = origin
        if base:
            annotation[REVISES_FIELD] = base
        key = annotation_key(annotation)
        if key not in by_key:
            local["annotations"].append(annotation)
            by_key[key] = len(local["annotations"]) - 1
            changed = True
        elif str(annotation.get("updated_at")) > str(local["annotations"][by_key[key]].get("updated_at")):
            local["annotations"][by_key[key]] = annotation
            changed = True
    return local, changed
