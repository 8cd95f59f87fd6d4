"""The gold data: Label Studio export JSON files (``data/annotations/``) read into schema Articles."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from quoteattr.jsonl import InputError, read_utf8
from quoteattr.labelstudio_format import ConversionIssue, results_to_article
from quoteattr.schema import Article

DEFAULT_ANNOTATIONS = Path("data/annotations")
MAX_EXPORT_BYTES = 500_000_000


@dataclass
class GoldVersion:
    """One reviewer's annotation of one task, converted."""

    annotation_id: Any
    reviewer: Any
    updated_at: str
    article: Article


@dataclass
class GoldSet:
    """Gold articles (one chosen version each), every reviewed version, and what could not be converted."""

    articles: list[Article] = field(default_factory=list)
    versions: dict[str, list[GoldVersion]] = field(default_factory=dict)
    issues: list[ConversionIssue] = field(default_factory=list)
    unannotated: list[str] = field(default_factory=list)


def read_export(path: Path) -> list[dict[str, Any]]:
    """A Label Studio JSON export (a list of tasks); errors name the file and position."""
    text = read_utf8(path, MAX_EXPORT_BYTES)
    try:
        tasks = json.loads(text)
    except json.JSONDecodeError as error:
        raise InputError(f"{path}: line {error.lineno}, column {error.colno}: invalid JSON ({error.msg})") from error
    if isinstance(tasks, dict):
        tasks = [tasks]
    if not isinstance(tasks, list) or not all(isinstance(t, dict) for t in tasks):
        raise InputError(f"{path}: expected a Label Studio JSON export (a list of task objects)")
    return tasks


def task_article_id(task: dict[str, Any]) -> str:
    data = task.get("data") or {}
    return str(data.get("article_id") or data.get("id") or f"task-{task.get('id')}")


def task_versions(task: dict[str, Any], issues: list[ConversionIssue]) -> list[GoldVersion]:
    """Every submitted (not cancelled) annotation of a task, oldest first."""
    data = task.get("data") or {}
    text = data.get("text")
    task_id = task.get("id")
    if not isinstance(text, str) or not text:
        issues.append(ConversionIssue(task_id, None, "task has no 'data.text'"))
        return []
    versions = []
    for annotation in task.get("annotations") or []:
        if not isinstance(annotation, dict) or annotation.get("was_cancelled"):
            continue
        article, found = results_to_article(
            task_id, task_article_id(task), text, dict(data.get("meta") or {}), annotation.get("result") or []
        )
        issues.extend(found)
        versions.append(
            GoldVersion(
                annotation.get("id"),
                annotation.get("completed_by"),
                str(annotation.get("updated_at") or annotation.get("created_at") or ""),
                article,
            )
        )
    versions.sort(key=lambda v: (v.updated_at, str(v.annotation_id)))
    return versions


def load_gold(directory: str | Path = DEFAULT_ANNOTATIONS) -> GoldSet:
    """Read every export file in a folder; each article takes its most recently updated annotation."""
    directory = Path(directory)
    files = sorted(directory.glob("*.json"))
    if not files:
        raise InputError(f"{directory}: no Label Studio export files (*.json) found")
    gold = GoldSet()
    for path in files:
        for task in read_export(path):
            versions = task_versions(task, gold.issues)
            article_id = task_article_id(task)
            if not versions:
                gold.unannotated.append(article_id)
                continue
            if article_id in gold.versions:
                raise InputError(f"{path}: article {article_id!r} appears in two export files")
            gold.versions[article_id] = versions
            gold.articles.append(versions[-1].article)
    return gold
