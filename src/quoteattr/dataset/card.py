"""The dataset card (README.md): YAML metadata, features, counts per split, provenance, licence."""

from __future__ import annotations

from quoteattr.data.schema import Article
from quoteattr.evaluation.scoring import pooled_agreement

ANNOTATOR_AGREEMENT = "annotator_agreement"
"""Meta key of an article labelled by several annotators: for each other annotator, the scorer's counts
(tp_pred, tp_gold, n_pred, n_gold per row) of their labels scored against the kept annotator's."""


def split_agreement(splits: dict[str, list[Article]]) -> dict[str, tuple[int, dict[str, float]]]:
    """Per split with doubly annotated articles: how many, and the annotators' agreement F1 pooled over them."""
    found = {}
    for name, articles in splits.items():
        counts = [entry for a in articles for entry in a.meta.get(ANNOTATOR_AGREEMENT, [])]
        if counts:
            found[name] = (sum(1 for a in articles if a.meta.get(ANNOTATOR_AGREEMENT)), pooled_agreement(counts))
    return found


def agreement_section(agreement: dict[str, tuple[int, dict[str, float]]]) -> str:
    """The card's section on annotator agreement: the level a second human reaches, to compare models with."""
    if not agreement:
        return ""
    rows = "\n".join(
        f"| {name} | {n} | {f1['content_overlap_f1']:.3f} | {f1['content_exact_f1']:.3f} | {f1['attribution_f1']:.3f} |"
        for name, (n, f1) in agreement.items()
    )
    return f"""## Annotator agreement

Some articles were labelled by several annotators. Scored the way a system is scored (the kept annotator's
labels as gold, each other annotator's as a prediction, counts pooled over the articles of a split by the
project's scorer), a second human reaches:

| split | articles | content overlap F1 | content exact F1 | attribution F1 |
|---|---|---|---|---|
{rows}

This is the level to compare a model with: a model that matches it agrees with the gold as well as a
second trained annotator does.

"""


def dataset_card(
    stats: dict[str, dict[str, int]],
    sources: list[str],
    licence: str,
    seed: int | None,
    split_note: str | None = None,
    agreement: dict[str, tuple[int, dict[str, float]]] | None = None,
) -> str:
    """README.md for the dataset: YAML metadata, features, counts, annotator agreement, provenance, licence."""
    yaml_splits = "\n".join(f"  - name: {name}\n    num_examples: {s['articles']}" for name, s in stats.items())
    data_files = "\n".join(f"  - split: {name}\n    path: data/{name}.parquet" for name in stats)
    rows = "\n".join(
        f"| {name} | {s['articles']} | {s['quotes']} | {s['direct']} | {s['indirect']} | {s['mixed']} | {s['with_speaker_entity']} |"
        for name, s in stats.items()
    )
    split_rule = split_note or (
        f"Articles were shuffled with seed {seed} and cut 80/10/10 into train/validation/test; "
        "no article is in two splits."
        if seed is not None
        else "Splits are the sources' own (e.g. PolNeAR train → train, dev → validation)."
    )
    source_lines = "\n".join(f"- {source}" for source in sources)
    return f"""---
language:
- en
license: {licence}
pretty_name: quoteattr quote attribution
task_categories:
- token-classification
tags:
- quote-attribution
- news
configs:
- config_name: default
  data_files:
{data_files}
dataset_info:
  splits:
{yaml_splits}
---

# quoteattr quote attribution dataset

News articles with every quote marked: its content (one or more character spans), its type, its cue,
the speaker mention as written and the speaker entity it refers to. Built by `quoteattr build`.

## Features

| field | meaning |
|---|---|
| `id` | article id |
| `text` | canonical article text; every offset points into it (character offsets, end-exclusive) |
| `meta` | JSON string: headline, outlet, date, source file and provenance |
| `quotes[].spans` | content fragments `[start, end]` (several when the quote is interrupted) |
| `quotes[].type` | `direct` (all of the content inside quotation marks), `mixed` (part of it), `indirect` (none) |
| `quotes[].cue` | the reporting verb or phrase, or null |
| `quotes[].speaker` | the speaker mention as written ("he", "the spokesman"), or null |
| `quotes[].speaker_entity` | canonical name of the speaker ("Igor Konashenkov"), or null |
| `entities[]` | speaker entities with every mention |

## Counts

| split | articles | quotes | direct | indirect | mixed | with speaker entity |
|---|---|---|---|---|---|---|
{rows}

{split_rule}

{agreement_section(agreement or {})}## Provenance

{source_lines}

## Licence

{licence}. See the provenance above for the terms of each source.

## Loading

```python
from datasets import load_from_disk, load_dataset
ds = load_from_disk("PATH/hf")
ds = load_dataset("parquet", data_files={{"train": "PATH/data/train.parquet"}})
```
"""
