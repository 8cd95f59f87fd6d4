"""Run several systems through the same predict → evaluate path and put them side by side."""

from __future__ import annotations

import logging
import time
from pathlib import Path

from quoteattr.data.readers import read_articles
from quoteattr.data.schema import Article, Quote, entities_from_quotes, overlaps_any
from quoteattr.data.writers import write_articles, write_json
from quoteattr.evaluation.confidence import has_scores, threshold_sweep
from quoteattr.evaluation.report import (
    comparison_table,
    operating_point_lines,
    plot_precision_recall,
    plot_threshold_curves,
    write_html_view,
    write_markdown,
)
from quoteattr.evaluation.scoring import evaluate_articles, match_quotes
from quoteattr.systems import load_system

logger = logging.getLogger(__name__)

CURVES_PNG = "pr_curves.png"


def with_gold_quotes_only(articles: list[Article]) -> list[Article]:
    """The gold quote spans and types without cue, speaker or entity: the input of a speaker linker."""
    return [Article(a.id, a.text, a.meta, [Quote(list(q.spans), q.type) for q in a.quotes]) for a in articles]


def link_by_overlap(gold_quotes: list[Article], predictions: list[Article]) -> list[Article]:
    """For a system without a linker of its own: each gold quote takes the cue, speaker and entity of the
    predicted quote that overlaps it most (none where the system found no quote there)."""
    predicted = {a.id: a for a in predictions}
    linked = []
    for article in gold_quotes:
        quotes = [Quote(list(q.spans), q.type) for q in article.quotes]
        found = predicted.get(article.id, Article(article.id, article.text)).quotes
        for gi, pi in match_quotes(quotes, found):
            quotes[gi].cue = None if overlaps_any(found[pi].cue, quotes[gi].spans) else found[pi].cue
            if not overlaps_any(found[pi].speaker, quotes[gi].spans):
                quotes[gi].speaker, quotes[gi].speaker_entity = found[pi].speaker, found[pi].speaker_entity
        linked.append(Article(article.id, article.text, article.meta, quotes, entities_from_quotes(quotes)))
    return linked


def file_label(system: str) -> str:
    """A file-name-safe label for a system given by name or by checkpoint path, so its reports stay in
    the output folder ("outputs/model/final" → "outputs_model_final")."""
    return "".join(c if c.isalnum() or c in "-." else "_" for c in system).strip("_.") or "system"


def given_gold_quote_rows(gold: list[Article], linked: list[Article], bootstrap: int) -> dict[str, dict]:
    """The attribution rows of a linker run on the gold quote spans, renamed ``attribution_given_gold_quotes…``."""
    metrics = evaluate_articles(gold, linked, bootstrap=bootstrap)["metrics"]
    return {
        row.replace("attribution", "attribution_given_gold_quotes", 1): values
        for row, values in metrics.items()
        if row.startswith("attribution")
    }


def compare_systems(
    gold_path: str | Path,
    systems: list[str],
    output: str | Path,
    bootstrap: int = 1000,
    html_articles: int = 25,
    target_precision: float = 0.9,
) -> dict[str, dict]:
    """Predict with each system, score it (and its linker on gold quotes where it has one; its threshold sweep
    where it scores its quotes), write the reports; the table and the reports' folder are logged at INFO."""
    output = Path(output)
    gold = read_articles(gold_path)
    entities = "silver" if any(article.meta.get("silver_speaker_entities") for article in gold) else "gold"
    reports: dict[str, dict] = {}
    sweeps: dict[str, list[dict[str, float]]] = {}
    for name in systems:
        system = load_system(name)
        started = time.perf_counter()
        predictions = list(system.predict(gold))
        seconds = time.perf_counter() - started
        label = file_label(name)
        write_articles(output / f"{label}.jsonl", predictions)
        report = evaluate_articles(gold, predictions, bootstrap=bootstrap)
        report["predict_seconds"] = round(seconds, 2)
        report["speaker_entities"] = entities
        gold_quotes = with_gold_quotes_only(gold)
        linker = getattr(system, "link", None)
        linked = list(linker(gold_quotes)) if linker else link_by_overlap(gold_quotes, predictions)
        report["metrics"].update(given_gold_quote_rows(gold, linked, bootstrap))
        curves = None
        if has_scores(predictions):
            sweeps[name] = report["threshold_sweep"] = threshold_sweep(gold, predictions)
            curves = (CURVES_PNG, operating_point_lines({name: sweeps[name]}, target_precision))
        write_json(output / f"{label}_eval.json", report)
        write_html_view(gold, predictions, output / f"view_{label}.html", name, limit=html_articles, curves=curves)
        reports[name] = report
        logger.info("%s: %d articles predicted in %.1fs", name, len(predictions), seconds)
    write_json(output / "comparison.json", reports)
    plot_precision_recall(reports, output / "pr_by_type.png")
    lines = operating_point_lines(sweeps, target_precision) if sweeps else []
    if sweeps:
        plot_threshold_curves(sweeps, target_precision, output / CURVES_PNG)
    write_markdown(
        reports, output / "report.md", "pr_by_type.png", str(gold_path), (CURVES_PNG, lines) if sweeps else None
    )
    logger.info("%s", comparison_table(reports))
    for line in lines:
        logger.info("%s", line)
    curves_file = f", {CURVES_PNG}" if sweeps else ""
    logger.info(
        "\nreports in %s/: report.md, pr_by_type.png%s, view_<system>.html, <system>_eval.json", output, curves_file
    )
    return reports
