"""The dataset card (README.md): YAML metadata, features, counts and phenomena per split, provenance, licence.

The YAML front matter comes from ``huggingface_hub.DatasetCardData`` (valid YAML whatever the licence text
says), the prose from ``dataset_card_template.md``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from huggingface_hub import DatasetCard, DatasetCardData

from quoteattr.data.schema import Article
from quoteattr.dataset.phenomena import PHENOMENA
from quoteattr.evaluation.scoring import pooled_agreement

TEMPLATE_PATH = Path(__file__).with_name("dataset_card_template.md")

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


def agreement_rows(agreement: dict[str, tuple[int, dict[str, float]]]) -> str:
    """Rows of the card's annotator agreement table: the level a second human reaches, to compare models with."""
    return "\n".join(
        f"| {name} | {n} | {f1['content_overlap_f1']:.3f} | {f1['content_exact_f1']:.3f} | {f1['attribution_f1']:.3f} |"
        for name, (n, f1) in agreement.items()
    )


def phenomena_table(stats: dict[str, dict[str, Any]]) -> str:
    """The card's phenomena table: a row per phenomenon, its definition as the label, a column per split."""
    lines = ["| phenomenon | " + " | ".join(stats) + " |", "|---" * (len(stats) + 1) + "|"]
    lines += [
        f"| {label} | " + " | ".join(str(s["phenomena"][key]) for s in stats.values()) + " |"
        for key, label in PHENOMENA.items()
    ]
    return "\n".join(lines)


def _card_data(stats: dict[str, dict[str, Any]], licence: str) -> DatasetCardData:
    """The YAML front matter: what the Hub shows and filters on, and where each split's Parquet file is."""
    return DatasetCardData(
        language=["en"],
        license=licence,
        pretty_name="quoteattr quote attribution",
        task_categories=["token-classification"],
        tags=["quote-attribution", "news"],
        configs=[
            {
                "config_name": "default",
                "data_files": [{"split": name, "path": f"data/{name}.parquet"} for name in stats],
            }
        ],
        dataset_info={"splits": [{"name": name, "num_examples": s["articles"]} for name, s in stats.items()]},
    )


def dataset_card(
    stats: dict[str, dict[str, Any]],
    sources: list[str],
    licence: str,
    seed: int | None,
    split_note: str | None = None,
    agreement: dict[str, tuple[int, dict[str, float]]] | None = None,
) -> str:
    """README.md for the dataset: YAML metadata, features, counts, phenomena, annotator agreement, provenance,
    licence."""
    split_rule = split_note or (
        f"Articles were shuffled with seed {seed} and cut 70/10/20 into train/validation/test; "
        "no article is in two splits."
        if seed is not None
        else "Splits are the sources' own (e.g. PolNeAR train → train, dev → validation)."
    )
    card = DatasetCard.from_template(
        _card_data(stats, licence),
        template_path=str(TEMPLATE_PATH),
        count_rows="\n".join(
            f"| {name} | {s['articles']} | {s['quotes']} | {s['direct']} | {s['indirect']} | {s['mixed']} "
            f"| {s['with_speaker_entity']} |"
            for name, s in stats.items()
        ),
        split_rule=split_rule,
        phenomena_table=phenomena_table(stats),
        agreement_rows=agreement_rows(agreement or {}),
        source_lines="\n".join(f"- {source}" for source in sources),
        licence=licence,
    )
    return str(card).rstrip("\n") + "\n"  # Jinja drops the template's final newline
