from __future__ import annotations

import json
from pathlib import Path

from datasets import load_dataset, load_from_disk

from conftest import ANNOTATIONS
from quoteattr.data.readers import row_to_article
from quoteattr.data.schema import Article
from quoteattr.dataset.build import build_from_sources
from quoteattr.dataset.phenomena import PHENOMENA


def test_build_round_trips_through_disk_and_parquet(tmp_path: Path, gold):
    output = tmp_path / "dataset"
    stats = build_from_sources(output, annotations=ANNOTATIONS, seed=7)
    assert sum(s["articles"] for s in stats.values()) == len(gold.articles) == 95
    assert all(stats[split]["articles"] >= 1 for split in ("train", "validation", "test"))

    original = {a.id: a.to_dict() for a in gold.articles}
    from_disk = load_from_disk(str(output / "hf"))
    ids = [row["id"] for split in from_disk.values() for row in split]
    assert sorted(ids) == sorted(original)  # every article in exactly one split
    for split in from_disk.values():
        for row in split:
            assert row_to_article(row).to_dict() == original[row["id"]]

    parquet = load_dataset("parquet", data_files={s: str(output / "data" / f"{s}.parquet") for s in from_disk})
    for name, split in parquet.items():
        assert [row_to_article(r).to_dict() for r in split] == [row_to_article(r).to_dict() for r in from_disk[name]]

    card = (output / "README.md").read_text(encoding="utf-8")
    assert card.startswith("---\nlanguage:\n- en\n")
    assert f"num_examples: {stats['train']['articles']}" in card
    assert "| split | articles | quotes | direct | indirect | mixed |" in card
    assert f"| train | {stats['train']['articles']} | {stats['train']['quotes']} |" in card
    assert "## Provenance" in card and "## Licence" in card
    folders = [path for path in sorted((Path(ANNOTATIONS).parent / "raw").iterdir()) if path.is_dir()]
    for folder in folders:  # every embedded source is named, with its article count (the seed: "the … article")
        named, count = f"data/raw/{folder.name}/: ", len(list(folder.glob("*.txt")))
        assert named in card and f"{named}{count if count > 1 else 'the'} " in card, folder
    assert "## Phenomena" in card and "| phenomenon | train | validation | test |" in card
    saved = json.loads((output / "statistics.json").read_text(encoding="utf-8"))
    assert saved == stats and set(saved["train"]["phenomena"]) == set(PHENOMENA)


def test_same_seed_same_split(tmp_path: Path):
    first = build_from_sources(tmp_path / "a", annotations=ANNOTATIONS, seed=3)
    second = build_from_sources(tmp_path / "b", annotations=ANNOTATIONS, seed=3)
    assert first == second
    ids = lambda p: [r["id"] for r in load_from_disk(str(p / "hf"))["test"]]  # noqa: E731
    assert ids(tmp_path / "a") == ids(tmp_path / "b")


def test_official_splits_are_kept_and_the_card_names_the_corpus(tmp_path: Path, gold):
    from quoteattr.data.writers import write_articles

    train = gold.articles[:20]
    dev = [
        Article.from_dict({**a.to_dict(), "meta": {"corpus": "PolNeAR", "silver_speaker_entities": True}})
        for a in gold.articles[20:]
    ]
    write_articles(tmp_path / "train.jsonl", train)
    write_articles(tmp_path / "dev.jsonl", dev)
    stats = build_from_sources(
        tmp_path / "ds", train=str(tmp_path / "train.jsonl"), validation=str(tmp_path / "dev.jsonl")
    )
    assert (
        stats["train"]["articles"] == 20
        and stats["validation"]["articles"] == len(gold.articles) - 20
        and "test" not in stats
    )
    card = (tmp_path / "ds" / "README.md").read_text(encoding="utf-8")
    assert "PolNeAR (Newell, Margolin & Ruths, LREC 2018)" in card and "silver" in card
    assert "Splits are the sources' own" in card
