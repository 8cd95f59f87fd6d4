"""The dataset card (README.md): YAML metadata, features, counts per split, provenance, licence."""

from __future__ import annotations


def dataset_card(
    stats: dict[str, dict[str, int]], sources: list[str], licence: str, seed: int | None, split_note: str | None = None
) -> str:
    """README.md for the dataset: YAML metadata, features, counts, provenance, licence."""
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

## Provenance

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
