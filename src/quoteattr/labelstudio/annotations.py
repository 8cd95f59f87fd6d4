"""The gold data: Label Studio export JSON files (``data/annotations/``) read into schema Articles.

Every reviewed version is kept in the files. The gold of an article is its newest *head*: a version no
newer version revises. Two heads (two reviewers) are flagged as a conflict with their agreement."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from quoteattr.data.errors import InputError
from quoteattr.data.readers import read_utf8
from quoteattr.data.schema import Article
from quoteattr.labelstudio.format import ConversionIssue, results_to_article

DEFAULT_ANNOTATIONS = Path("data/annotations")
MAX_EXPORT_BYTES = 500_000_000
ORIGIN_FIELD = "quoteattr_origin"
"""Where an annotation was pulled from (server URL and project); absent for annotations made here."""
REVISES_FIELD = "quoteattr_revises"
"""Key of the version a review started from (the gold the task was pushed with)."""
BASE_FIELD = "quoteattr_base"
"""In task data: key of the gold version the task was pushed with."""


@dataclass
class GoldVersion:
    """One reviewer's annotation of one task, converted."""

    annotation: dict[str, Any]
    updated_at: str
    article: Article

    @property
    def key(self) -> str:
        return annotation_key(self.annotation)

    @property
    def reviewer(self) -> str:
        return f"{self.annotation.get(ORIGIN_FIELD, 'local')}#user={self.annotation.get('completed_by')}"


@dataclass
class GoldSet:
    """Gold articles, the head versions behind each, conflicts and what could not be converted."""

    articles: list[Article] = field(default_factory=list)
    heads: dict[str, list[GoldVersion]] = field(default_factory=dict)
    conflicts: list[dict[str, Any]] = field(default_factory=list)
    issues: list[ConversionIssue] = field(default_factory=list)
    unannotated: list[str] = field(default_factory=list)


def annotation_key(annotation: dict[str, Any]) -> str:
    """Identity of an annotation across pulls: where it came from and its id there."""
    return f"{annotation.get(ORIGIN_FIELD, 'local')}#{annotation.get('id')}"


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
    """Every submitted (not skipped) annotation of a task, oldest first."""
    data = task.get("data") or {}
    text = data.get("text")
    task_id = task.get("id")
    if not isinstance(text, str) or not text:
        issues.append(ConversionIssue(task_id, None, "task has no 'data.text'"))
        return []
    meta = dict(data.get("meta") or {})
    versions = []
    for annotation in task.get("annotations") or []:
        if not isinstance(annotation, dict) or annotation.get("was_cancelled"):
            continue
        article, found = results_to_article(task_id, task_article_id(task), text, meta, annotation.get("result") or [])
        issues.extend(found)
        updated = str(annotation.get("updated_at") or annotation.get("created_at") or "")
        versions.append(GoldVersion(annotation, updated, article))
    versions.sort(key=lambda v: (v.updated_at, v.key))
    return versions


def head_versions(versions: list[GoldVersion]) -> list[GoldVersion]:
    """Versions not revised by a newer one; of one reviewer's versions only the newest counts."""
    revised = {v.annotation.get(REVISES_FIELD) for v in versions if v.annotation.get(REVISES_FIELD)}
    latest_by_reviewer: dict[str, GoldVersion] = {}
    for version in versions:  # oldest first, so the newest of each reviewer stays
        if version.key not in revised:
            latest_by_reviewer[version.reviewer] = version
    return sorted(latest_by_reviewer.values(), key=lambda v: (v.updated_at, v.key))


def load_gold(directory: str | Path = DEFAULT_ANNOTATIONS) -> GoldSet:
    """Read every export file in a folder; each article's gold is its newest head version."""
    from quoteattr.evaluation.scoring import agreement

    directory = Path(directory)
    files = sorted(directory.glob("*.json"))
    if not files:
        raise InputError(f"{directory}: no Label Studio export files (*.json) found")
    gold = GoldSet()
    for path in files:
        for task in read_export(path):
            article_id = task_article_id(task)
            versions = task_versions(task, gold.issues)
            if not versions:
                gold.unannotated.append(article_id)
                continue
            if article_id in gold.heads:
                raise InputError(f"{path}: article {article_id!r} appears in two export files")
            heads = head_versions(versions)
            gold.heads[article_id] = heads
            chosen = heads[-1]
            gold.articles.append(chosen.article)
            if len(heads) > 1:
                agreements = [{"other": other.key, **agreement(chosen.article, other.article)} for other in heads[:-1]]
                gold.conflicts.append({"article": article_id, "kept": chosen.key, "agreement": agreements})
    return gold
