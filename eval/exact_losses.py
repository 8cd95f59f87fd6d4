"""Where a system's overlap-matched quotes lose their exact match: grouping (fewer fragments than the gold's, as
when one span runs over a quote's interrupting cue, or more, as when the sentence after a quote's cue is joined to
it) or the tagger's edges (the same fragments, an edge off), and for edges, what lies between the predicted and the
gold edge. A gold quote no predicted quote is matched to is "not found", or "overlaps another's match" where a
predicted quote matched to another gold quote overlaps it (mostly two gold quotes joined into one).

    python eval/exact_losses.py --gold outputs/polnear/dev.jsonl \
        --pred outputs/polnear/compare/outputs_polnear_model_final.jsonl
"""

from __future__ import annotations

import argparse
import re
import sys
from collections import Counter

from quoteattr.data.errors import InputError, exit_status
from quoteattr.data.readers import read_articles
from quoteattr.data.schema import Quote, Span, overlaps_any
from quoteattr.data.writers import show_result
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
        return "grouping: fewer fragments" if len(pred.spans) < len(gold.spans) else "grouping: more fragments"
    kinds = {edge_kind(text, g, p) for g, p in zip(gold.spans, pred.spans) if g != p}
    worst = max(kinds, key=["punctuation", "that", "1-2 words", "3+ words"].index)
    return f"edges: {worst}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--gold", required=True)
    parser.add_argument("--pred", required=True)
    parser.add_argument("--output", help="also write the result here, with its command (docs/make_results.py)")
    args = parser.parse_args(argv)
    return exit_status(lambda: show_result(report(args.gold, args.pred), args.output, "eval/exact_losses.py", argv))


def report(gold_path: str, pred_path: str) -> dict:
    """How many gold quotes are matched exactly, and why each other one is not."""
    gold = {a.id: a for a in read_articles(gold_path)}
    predicted = {a.id: a for a in read_articles(pred_path)}
    reasons: Counter[str] = Counter()
    for article_id, article in gold.items():
        found = predicted.get(article_id)
        pred_quotes = found.quotes if found else []
        pairs = match_quotes(article.quotes, pred_quotes)
        matched_gold = {gi for gi, _ in pairs}
        matched_pred = [pred_quotes[pi] for _, pi in pairs]
        for gi, quote in enumerate(article.quotes):
            if gi not in matched_gold:
                taken = any(overlaps_any(span, pred.spans) for pred in matched_pred for span in quote.spans)
                reasons["not found: overlaps another's match" if taken else "not found"] += 1
        for gi, pi in pairs:
            reasons[loss(article.text, article.quotes[gi], pred_quotes[pi]) or "exact"] += 1
    total = sum(reasons.values())
    if not total:
        raise InputError(f"{gold_path}: holds no gold quotes")
    return {"gold": gold_path, "pred": pred_path, "gold_quotes": total, "reasons": dict(reasons.most_common())}


if __name__ == "__main__":
    sys.exit(main())
