"""Each gold quote of the predicted articles with the speaker entity each system gives it: where systems name
the wrong person, miss the quote or name nobody, one line per quote (a diagnostic beside the scorer's F1).

    quoteattr predict --system rules data/raw/seed --output outputs/seed-rules.jsonl
    python eval/speakers_by_quote.py --gold outputs/gold.jsonl --pred outputs/seed-rules.jsonl
"""

from __future__ import annotations

import argparse
import sys

from quoteattr.data.errors import InputError, exit_status
from quoteattr.data.readers import read_articles
from quoteattr.data.schema import Article
from quoteattr.data.writers import show_result
from quoteattr.evaluation.scoring import match_quotes, same_entity

NOT_FOUND = "(not found)"
"""A system's entry for a gold quote it has no overlapping quote for."""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--gold", required=True, help="gold articles (interchange JSONL), e.g. outputs/gold.jsonl")
    parser.add_argument("--pred", required=True, nargs="+", help="one predictions file per system")
    parser.add_argument("--output", help="also write the result here, with its command (docs/make_results.py)")
    args = parser.parse_args(argv)
    script = "eval/speakers_by_quote.py"
    return exit_status(lambda: show_result(report(args.gold, args.pred), args.output, script, argv))


def report(gold_path: str, pred_paths: list[str]) -> dict:
    """Per gold quote of the articles every predictions file holds: its type, text, gold entity, and each system's
    entity and whether it is the gold's; per system, how many quotes it names rightly."""
    gold = {article.id: article for article in read_articles(gold_path)}
    systems = {path: {article.id: article for article in read_articles(path)} for path in pred_paths}
    shared = sorted(set(gold).intersection(*systems.values()))
    if not shared:
        raise InputError(f"{gold_path}: no gold article is in every predictions file")
    quotes, right = [], dict.fromkeys(pred_paths, 0)
    for article_id in shared:
        article = gold[article_id]
        entities = {path: speaker_entities(article, predicted[article_id]) for path, predicted in systems.items()}
        for index, quote in enumerate(article.quotes):
            given = {}
            for path in pred_paths:
                entity = entities[path][index]
                is_right = bool(quote.speaker_entity and entity and same_entity(quote.speaker_entity, entity))
                given[path] = {"entity": entity, "right": is_right}
                right[path] += is_right
            text = " … ".join(article.text[start:end] for start, end in quote.spans)
            row = {"article": article_id, "type": quote.type, "quote": text, "gold": quote.speaker_entity}
            quotes.append({**row, "systems": given})
    return {"gold": gold_path, "articles": shared, "gold_quotes": len(quotes), "right_entity": right, "quotes": quotes}


def speaker_entities(gold: Article, predicted: Article) -> list[str | None]:
    """The entity of the predicted quote matched to each gold quote (None when it names nobody, NOT_FOUND when no
    predicted quote overlaps it)."""
    matched = dict(match_quotes(gold.quotes, predicted.quotes))
    return [predicted.quotes[matched[i]].speaker_entity if i in matched else NOT_FOUND for i in range(len(gold.quotes))]


if __name__ == "__main__":
    sys.exit(main())
