"""Build the dataset from its sources: hand labels (Label Studio exports), interchange JSONL split at
random by article, or a corpus's official splits; the dataset is written with its card."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from quoteattr.data.errors import InputError
from quoteattr.data.readers import read_articles
from quoteattr.data.schema import Article
from quoteattr.dataset.store import carve_validation, save_dataset, split_articles, split_statistics
from quoteattr.labelstudio.annotations import DEFAULT_ANNOTATIONS, load_gold

EMBEDDED_LICENCE = "other"
EMBEDDED_SOURCES = [
    "data/raw/seed/: the user's seed article (Iran Press TV via GlobalSecurity.org, 2016-09-19), "
    "copied with its provenance (data/raw/seed/PROVENANCE.md) and labelled by hand by the quoteattr team; "
    "the article's copyright stays with its publisher.",
    "data/raw/starter/: 30 short news-style articles written by the quoteattr team (CC BY 4.0), labelled by hand.",
    "data/raw/team/: 64 news-style articles written by the quoteattr team for the hard cases of attribution "
    "(CC BY 4.0), reviewed by hand in the Label Studio loop.",
    "Labels: data/annotations/, Label Studio JSON exports (the source of truth).",
]

POLNEAR_SOURCE = (
    "PolNeAR (Newell, Margolin & Ruths, LREC 2018), from the public networkdynamics/PolNeAR repository: "
    "1,008 US campaign news articles with hand-annotated attributions, converted by `quoteattr convert polnear` "
    "(Content → quote spans, Cue → cue, Source → speaker mention; content after its own cue's sentence a cue-less "
    "continuation of the same speaker, as the embedded gold labels it; one annotator kept per article). "
    "The repository has no licence file: research use only, do not redistribute."
)


def build_from_sources(
    output: str | Path,
    annotations: str | Path | None = None,
    inputs: list[str] | None = None,
    train: str | None = None,
    validation: str | None = None,
    test: str | None = None,
    seed: int = 13,
    licence: str | None = None,
    validation_from_train: float | None = None,
) -> dict[str, dict[str, Any]]:
    """Official splits when given (--train/--validation/--test; with ``validation_from_train`` the
    validation split is a seeded slice of train's articles), else a seeded split by article of the
    annotations and inputs; writes the dataset and its card."""
    official = {name: path for name, path in (("train", train), ("validation", validation), ("test", test)) if path}
    split_note = split_seed = None
    if official:
        if annotations or inputs:
            raise InputError("give either official splits (--train/--validation/--test) or inputs to split, not both")
        splits, split_note = official_splits(official, validation_from_train, seed)
        sources = [f"{name}: {path}" for name, path in official.items()]
        given = ", ".join(official.values())
    else:
        articles, sources = labelled_articles(annotations, inputs)
        splits, split_seed = split_articles(articles, seed), seed
        given = ", ".join(map(str, inputs or [annotations or DEFAULT_ANNOTATIONS]))
    empty = [name for name, articles in splits.items() if not articles]
    if empty:
        raise InputError(
            f"{given}: {sum(map(len, splits.values()))} articles leave the {', '.join(empty)} split empty; give "
            "more articles (at least one per split) or official splits (--train/--validation/--test)"
        )
    sources += corpus_notes([article.meta for split in splits.values() for article in split])
    save_dataset(
        splits, output, sorted(set(sources), key=sources.index), licence or EMBEDDED_LICENCE, split_seed, split_note
    )
    return split_statistics(splits)


def official_splits(
    official: dict[str, str], validation_from_train: float | None, seed: int
) -> tuple[dict[str, list[Article]], str | None]:
    """The given split files' articles, validation carved from train when asked, and a note saying how."""
    splits = {name: read_articles(path) for name, path in official.items()}
    if not validation_from_train:
        return splits, None
    if "train" not in splits or "validation" in splits:
        raise InputError("--validation-from-train carves validation out of --train: give --train and no --validation")
    splits["train"], splits["validation"] = carve_validation(splits["train"], validation_from_train, seed)
    note = (
        f"validation is {validation_from_train:.0%} of {official['train']}'s articles (shuffled with seed {seed}), "
        f"train the rest; test is {official.get('test') or 'absent'}: model selection never sees the test split."
    )
    return {name: splits[name] for name in ("train", "validation", "test") if name in splits}, note


def labelled_articles(annotations: str | Path | None, inputs: list[str] | None) -> tuple[list[Article], list[str]]:
    """The articles of the Label Studio exports (the embedded ones by default) and the interchange inputs, and
    their sources as the card names them."""
    articles: list[Article] = []
    sources: list[str] = []
    if annotations or not inputs:
        gold = load_gold(annotations or DEFAULT_ANNOTATIONS)
        if gold.issues:
            raise InputError("annotations could not be converted:\n  " + "\n  ".join(map(str, gold.issues)))
        articles.extend(gold.articles)
        embedded = not annotations or Path(annotations).resolve() == Path(DEFAULT_ANNOTATIONS).resolve()
        sources = list(EMBEDDED_SOURCES) if embedded else [f"Label Studio exports in {annotations}"]
    for path in inputs or []:
        articles.extend(read_articles(path))
        sources.append(f"interchange JSONL {path}")
    return articles, sources


def corpus_notes(metas: list[dict]) -> list[str]:
    """What the card says of converted corpora among the articles: PolNeAR's terms, silver speaker entities."""
    notes = [POLNEAR_SOURCE] if any(meta.get("corpus") == "PolNeAR" for meta in metas) else []
    if any(meta.get("silver_speaker_entities") for meta in metas):
        notes.append(
            "Speaker entities of converted corpora are silver: resolved from the source mentions by rule "
            "(`meta.speaker_resolution` counts name / pronoun / unresolved per article)."
        )
    return notes
