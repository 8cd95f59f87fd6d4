"""One scorer for every system: precision, recall and F1 of quotes, cues, speakers and attribution,
per quote type, with bootstrap confidence intervals over articles.

Definitions (character offsets, one-to-one matching):
- content_exact: a predicted quote whose fragments equal a gold quote's fragments.
- content_overlap: predicted and gold content share at least one character; pairs are matched
  greedily by overlap size, each gold and each predicted quote used at most once.
- content_token: word tokens inside gold content vs inside predicted content.
- cue, speaker_mention: the spans themselves, overlap-matched one to one (each distinct span once).
- speaker_entity: overlap-matched quote pairs whose resolved speaker names agree (over quotes that name one).
- attribution: overlap-matched quote pairs whose speaker is right: the speaker mentions overlap, or
  the entity names agree, or neither side has a speaker.
Per-type rows (``metric/direct`` …) score one type on both sides: the gold quotes of that type against the
predicted quotes of that type, matched among themselves exactly as the overall row matches all quotes (the
CoNLL convention for typed spans). Precision and recall then count the same matches, so a quote found with
the wrong type counts against the row of each type. (Counting precision over the predicted type and recall
over the gold type, each matched against quotes of any type, let a system that swapped every direct and
indirect quote read 1.0 on both; restricting both sides by the gold type would leave a spurious prediction
in no row.) Cues and speaker mentions have no per-type rows; a type that neither side has gets no row.
Bootstrap intervals resample articles; a resample where a statistic is undefined (precision without
predictions, recall without gold items, F1 with neither) is left out of that statistic's interval, and a
statistic defined in no resample has none.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

from quoteattr.data.errors import InputError
from quoteattr.data.schema import QUOTE_TYPES, Article, Quote, Span

METRICS = (
    "content_exact",
    "content_overlap",
    "content_token",
    "cue",
    "speaker_mention",
    "speaker_entity",
    "attribution",
)
TYPED_METRICS = ("content_exact", "content_overlap", "content_token", "speaker_entity", "attribution")
_WORD = re.compile(r"\w+")


@dataclass
class Counts:
    """Matched predictions, matched gold items, and totals on each side."""

    tp_pred: int = 0
    tp_gold: int = 0
    n_pred: int = 0
    n_gold: int = 0

    def add(self, other: Counts) -> None:
        self.tp_pred += other.tp_pred
        self.tp_gold += other.tp_gold
        self.n_pred += other.n_pred
        self.n_gold += other.n_gold


@dataclass
class ArticleCounts:
    """Counts of every metric (and per-type row) for one article."""

    article_id: str
    counts: dict[str, Counts] = field(default_factory=dict)


def prf(tp_pred: float, tp_gold: float, n_pred: float, n_gold: float) -> tuple[float, float, float]:
    """Precision, recall, F1; an empty side scores 1.0 when both are empty, else 0.0."""
    precision = tp_pred / n_pred if n_pred else float(n_gold == 0)
    recall = tp_gold / n_gold if n_gold else float(n_pred == 0)
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def normalised_name(name: str) -> str:
    """An entity name lower-cased, without possessives, punctuation or "the" ("the Teachers’ Union": teachers union)."""
    name = re.sub(r"[’']s\b", "", name.lower())
    words = [w for w in re.findall(r"\w+", name) if w != "the"]
    return " ".join(words)


def same_entity(a: str, b: str) -> bool:
    """Names agree when equal after normalisation or when one is a whole-word part of the other
    ("Konashenkov" ~ "Igor Konashenkov")."""
    x, y = normalised_name(a), normalised_name(b)
    if not x or not y:
        return False
    return x == y or f" {x} " in f" {y} " or f" {y} " in f" {x} "


def _overlap(a: Span, b: Span) -> int:
    return max(0, min(a[1], b[1]) - max(a[0], b[0]))


def _content_overlap(a: Quote, b: Quote) -> int:
    return sum(_overlap(x, y) for x in a.spans for y in b.spans)


def match_quotes(gold: list[Quote], pred: list[Quote]) -> list[tuple[int, int]]:
    """One-to-one (gold index, pred index) pairs of overlapping quotes, largest overlaps first."""
    candidates = [
        (_content_overlap(g, p), gi, pi)
        for gi, g in enumerate(gold)
        for pi, p in enumerate(pred)
        if _content_overlap(g, p) > 0
    ]
    candidates.sort(key=lambda c: (-c[0], c[1], c[2]))
    used_gold: set[int] = set()
    used_pred: set[int] = set()
    pairs = []
    for _, gi, pi in candidates:
        if gi not in used_gold and pi not in used_pred:
            used_gold.add(gi)
            used_pred.add(pi)
            pairs.append((gi, pi))
    return pairs


def _match_spans(gold: list[Span], pred: list[Span]) -> int:
    candidates = sorted(
        ((_overlap(g, p), gi, pi) for gi, g in enumerate(gold) for pi, p in enumerate(pred) if _overlap(g, p) > 0),
        key=lambda c: (-c[0], c[1], c[2]),
    )
    used_gold: set[int] = set()
    used_pred: set[int] = set()
    for _, gi, pi in candidates:
        if gi not in used_gold and pi not in used_pred:
            used_gold.add(gi)
            used_pred.add(pi)
    return len(used_gold)


def speaker_is_right(gold: Quote, pred: Quote) -> bool:
    """The predicted speaker agrees with gold: the mentions overlap, or the entity names agree, or
    neither side names a speaker. Mentions come first so silver entity names cannot undo a right mention."""
    if gold.speaker and pred.speaker and _overlap(gold.speaker, pred.speaker) > 0:
        return True
    if gold.speaker_entity and pred.speaker_entity:
        return same_entity(gold.speaker_entity, pred.speaker_entity)
    gold_has = bool(gold.speaker or gold.speaker_entity)
    pred_has = bool(pred.speaker or pred.speaker_entity)
    return not gold_has and not pred_has


def _counts(gold: list[Quote], pred: list[Quote], good_gold: set[int], good_pred: set[int]) -> Counts:
    """Counts of quotes from the indices of the gold and predicted quotes that are right."""
    return Counts(len(good_pred), len(good_gold), len(pred), len(gold))


def _tokens_in(text_tokens: list[Span], quotes: list[Quote]) -> set[int]:
    """Indices of the tokens inside the quotes' content."""
    return {
        index
        for quote in quotes
        for start, end in quote.spans
        for index, (ts, te) in enumerate(text_tokens)
        if ts >= start and te <= end
    }


def _count_quotes(result: ArticleCounts, suffix: str, g: list[Quote], p: list[Quote], tokens: list[Span]) -> None:
    """The quote metrics' rows (``metric`` + ``suffix``) for gold quotes ``g`` against predicted quotes ``p``."""
    exact_pairs = {(gi, pi) for gi, q in enumerate(g) for pi, r in enumerate(p) if q.spans == r.spans}
    result.counts[f"content_exact{suffix}"] = _counts(
        g, p, {gi for gi, _ in exact_pairs}, {pi for _, pi in exact_pairs}
    )

    pairs = match_quotes(g, p)
    result.counts[f"content_overlap{suffix}"] = _counts(g, p, {gi for gi, _ in pairs}, {pi for _, pi in pairs})

    right = [(gi, pi) for gi, pi in pairs if speaker_is_right(g[gi], p[pi])]
    result.counts[f"attribution{suffix}"] = _counts(g, p, {gi for gi, _ in right}, {pi for _, pi in right})

    named_g = [q for q in g if q.speaker_entity]
    named_p = [q for q in p if q.speaker_entity]
    index_g = {id(q): i for i, q in enumerate(named_g)}
    index_p = {id(q): i for i, q in enumerate(named_p)}
    entity_pairs = [
        (index_g[id(g[gi])], index_p[id(p[pi])])
        for gi, pi in pairs
        if g[gi].speaker_entity and p[pi].speaker_entity and same_entity(g[gi].speaker_entity, p[pi].speaker_entity)
    ]
    result.counts[f"speaker_entity{suffix}"] = _counts(
        named_g, named_p, {a for a, _ in entity_pairs}, {b for _, b in entity_pairs}
    )

    gold_tokens, pred_tokens = _tokens_in(tokens, g), _tokens_in(tokens, p)
    shared = len(gold_tokens & pred_tokens)
    result.counts[f"content_token{suffix}"] = Counts(shared, shared, len(pred_tokens), len(gold_tokens))


def score_article(gold: Article, pred: Article) -> ArticleCounts:
    """Counts for one article; the two must share the same text."""
    if gold.text != pred.text:
        raise InputError(f"article {gold.id!r}: predicted text differs from gold text; offsets cannot be compared")
    result = ArticleCounts(gold.id)
    g, p = gold.quotes, pred.quotes
    tokens = [m.span() for m in _WORD.finditer(gold.text)]
    _count_quotes(result, "", g, p, tokens)
    for quote_type in QUOTE_TYPES:
        typed_g, typed_p = [q for q in g if q.type == quote_type], [q for q in p if q.type == quote_type]
        _count_quotes(result, f"/{quote_type}", typed_g, typed_p, tokens)

    for metric, role in (("cue", "cue"), ("speaker_mention", "speaker")):
        gold_spans = sorted({getattr(q, role) for q in g if getattr(q, role)})
        pred_spans = sorted({getattr(q, role) for q in p if getattr(q, role)})
        matched = _match_spans(gold_spans, pred_spans)
        result.counts[metric] = Counts(matched, matched, len(pred_spans), len(gold_spans))
    return result


def align(
    gold: Iterable[Article], pred: Iterable[Article]
) -> tuple[list[tuple[Article, Article]], list[str], list[str]]:
    """Pair gold and predicted articles by id; a gold article with no prediction counts as predicting nothing.
    No prediction for any gold article at all is an error: the files do not belong together."""
    predictions = {a.id: a for a in pred}
    gold = list(gold)
    gold_ids = {a.id for a in gold}
    if gold and not gold_ids & set(predictions):
        shown = ", ".join(repr(i) for i in sorted(predictions)[:3]) or "none"
        raise InputError(
            f"no predicted article matches a gold article by id ({len(gold)} gold articles, e.g. {gold[0].id!r}; "
            f"{len(predictions)} predicted, e.g. {shown}): are these the right gold and prediction files?"
        )
    pairs, missing = [], []
    for article in gold:
        found = predictions.get(article.id)
        if found is None:
            missing.append(article.id)
            found = Article(article.id, article.text, article.meta)
        pairs.append((article, found))
    extra = sorted(set(predictions) - gold_ids)
    return pairs, missing, extra


def summarize(per_article: list[ArticleCounts], bootstrap: int = 1000, seed: int = 0) -> dict[str, dict[str, float]]:
    """Micro-averaged P/R/F1 per metric row with percentile bootstrap 95% intervals over articles (resamples
    where a statistic is undefined are left out of its interval). A quote type's row with no gold and no predicted
    quote of that type is left out: there is nothing to score, not a perfect score."""
    rows = sorted({name for article in per_article for name in article.counts}, key=_row_order)
    table: dict[str, dict[str, float]] = {}
    rng = np.random.default_rng(seed)
    samples = (
        rng.integers(0, len(per_article), size=(bootstrap, len(per_article))) if per_article and bootstrap else None
    )
    for row in rows:
        matrix = np.array(
            [[c.tp_pred, c.tp_gold, c.n_pred, c.n_gold] for c in (a.counts.get(row, Counts()) for a in per_article)],
            dtype=float,
        ).reshape(-1, 4)
        total = matrix.sum(axis=0)
        if "/" in row and not total[2] and not total[3]:
            continue
        precision, recall, f1 = prf(*total)
        entry = {
            "precision": precision,
            "recall": recall,
            "f1": f1,
            "tp_pred": int(total[0]),
            "tp_gold": int(total[1]),
            "n_pred": int(total[2]),
            "n_gold": int(total[3]),
        }
        if samples is not None:
            sums = matrix[samples].sum(axis=1)
            stats = np.array([prf(*s) for s in sums])
            n_pred, n_gold = sums[:, 2] > 0, sums[:, 3] > 0
            for index, (name, defined) in enumerate(
                (("precision", n_pred), ("recall", n_gold), ("f1", n_pred | n_gold))
            ):
                if defined.any():
                    low, high = np.percentile(stats[defined, index], [2.5, 97.5])
                    entry[f"{name}_ci"] = [float(low), float(high)]
        table[row] = entry
    return table


def _row_order(row: str) -> tuple[int, int]:
    metric, _, quote_type = row.partition("/")
    metric_index = METRICS.index(metric) if metric in METRICS else len(METRICS)
    return metric_index, (QUOTE_TYPES.index(quote_type) + 1) if quote_type else 0


def evaluate_articles(
    gold: Iterable[Article], pred: Iterable[Article], bootstrap: int = 1000, seed: int = 0
) -> dict[str, object]:
    """The full report: metric table, article count, and ids missing from or extra in the predictions."""
    pairs, missing, extra = align(gold, pred)
    per_article = [score_article(g, p) for g, p in pairs]
    return {
        "articles": len(pairs),
        "missing_predictions": missing,
        "extra_predictions": extra,
        "bootstrap_samples": bootstrap,
        "metrics": summarize(per_article, bootstrap=bootstrap, seed=seed),
    }


AGREEMENT_ROWS = ("content_overlap", "content_exact", "attribution")
COUNT_FIELDS = ("tp_pred", "tp_gold", "n_pred", "n_gold")


def agreement_counts(kept: Article, other: Article) -> dict[str, list[int]]:
    """A second annotation scored like a system against the kept one: the counts behind each agreement F1."""
    metrics = evaluate_articles([kept], [other], bootstrap=0)["metrics"]
    return {row: [metrics[row][name] for name in COUNT_FIELDS] for row in AGREEMENT_ROWS}


def pooled_agreement(counts: Iterable[dict[str, list[int]]]) -> dict[str, float]:
    """Agreement F1 per row over many articles, counts pooled as a system's are (micro-averaged)."""
    totals = {row: np.zeros(4) for row in AGREEMENT_ROWS}
    for article in counts:
        for row in AGREEMENT_ROWS:
            totals[row] += article[row]
    return {f"{row}_f1": prf(*totals[row])[2] for row in AGREEMENT_ROWS}


def agreement(kept: Article, other: Article) -> dict[str, float]:
    """How far a second annotation of the same article agrees with the kept one (F1, kept as reference)."""
    return pooled_agreement([agreement_counts(kept, other)])


def format_table(report: dict[str, object], rows: Iterable[str] | None = None) -> str:
    """A fixed-width terminal table of P/R/F1 (with the F1 interval where computed)."""
    metrics: dict[str, dict[str, float]] = report["metrics"]  # type: ignore[assignment]
    lines = [f"{'metric':<26} {'P':>6} {'R':>6} {'F1':>6}  {'F1 95% CI':<15} {'gold':>6} {'pred':>6}"]
    for row in rows or metrics:
        if row not in metrics:
            continue
        m = metrics[row]
        ci = m.get("f1_ci")
        ci_text = f"[{ci[0]:.3f}, {ci[1]:.3f}]" if ci else ""
        scores = f"{m['precision']:>6.3f} {m['recall']:>6.3f} {m['f1']:>6.3f}"
        lines.append(f"{row:<26} {scores}  {ci_text:<15} {m['n_gold']:>6} {m['n_pred']:>6}")
    return "\n".join(lines)
