"""Where a system's overlap-matched quotes lose their exact match: grouping (the fragments are not the gold's
fragments: joined, split or a piece missing) or the tagger's edges (the same fragments, an edge off), and for
edges, what lies between the predicted and the gold edge.

    python eval/exact_losses.py --gold outputs/polnear/dev.jsonl \
        --pred outputs/polnear/compare/outputs_polnear_model_final.jsonl
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter

from quoteattr.data.errors import InputError
from quoteattr.data.readers import read_articles
from quoteattr.data.schema import Quote, Span
from quoteattr.evaluation.scoring import match_quotes

QUOTATION_MARKS = set("\"“”‘’«»‹›'`")


def edge_kind(text: str, gold: Span, pred: Span) -> str:
    """What separates a predicted fragment's edges from the gold's: "punctuation" (marks, commas, periods),
    "that" (the complementiser alone, with punctuation), "1-2 words" or "3+ words"."""
    between = (
        text[min(gold[0], pred[0]) : max(gold[0], pred[0])] + " " + text[min(gold[1], pred[1]) : max(gold[1], pred[1])]
    )
    words = re.findall(r"\w+", between)
    if not words:
        return "punctuation"
    if [w.lower() for w in words] == ["that"]:
        return "that"
    return "1-2 words" if len(words) <= 2 else "3+ words"


def loss(text: str, gold: Quote, pred: Quote) -> str | None:
    """Why an overlap-matched pair is not an exact match (None when it is)."""
    if gold.spans == pred.spans:
        return None
    if len(gold.spans) != len(pred.spans):
        return "grouping: fragments joined" if len(pred.spans) < len(gold.spans) else "grouping: fragments split"
    kinds = {edge_kind(text, g, p) for g, p in zip(gold.spans, pred.spans) if g != p}
    worst = max(kinds, key=["punctuation", "that", "1-2 words", "3+ words"].index)
    return f"edges: {worst}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--gold", required=True)
    parser.add_argument("--pred", required=True)
    args = parser.parse_args(argv)
    try:
        gold = {a.id: a for a in read_articles(args.gold)}
        predicted = {a.id: a for a in read_articles(args.pred)}
    except InputError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except OSError as error:
        print(f"error: {error.filename}: {error.strerror}", file=sys.stderr)
        return 2
    reasons: Counter[str] = Counter()
    for article_id, article in gold.items():
        found = predicted.get(article_id)
        pred_quotes = found.quotes if found else []
        pairs = match_quotes(article.quotes, pred_quotes)
        if len(article.quotes) > len(pairs):
            reasons["not found"] += len(article.quotes) - len(pairs)
        for gi, pi in pairs:
            reasons[loss(article.text, article.quotes[gi], pred_quotes[pi]) or "exact"] += 1
    total = sum(reasons.values())
    if not total:
        print(f"error: {args.gold}: holds no gold quotes", file=sys.stderr)
        return 2
    print(json.dumps({"gold_quotes": total, "reasons": dict(reasons.most_common())}, indent=1))
    print("\n| where the exact match is lost | gold quotes | share |\n|---|---|---|")
    for reason, count in reasons.most_common():
        print(f"| {reason} | {count} | {count / total:.3f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
