"""Evaluation reports people look at: a comparison table, a Markdown report with a precision/recall
chart per quote type (PNG), and an HTML view of articles with gold and predicted quotes side by side."""

from __future__ import annotations

import html
from pathlib import Path

from quoteattr.data.schema import QUOTE_TYPES, Article, Quote
from quoteattr.data.writers import atomic_writer
from quoteattr.evaluation.scoring import METRICS, match_quotes, speaker_is_right

HEADLINE_ROWS = (
    "attribution",
    "speaker_entity",
    "content_overlap",
    "content_exact",
    *(
        metric
        for metric in METRICS
        if metric not in ("attribution", "speaker_entity", "content_overlap", "content_exact")
    ),
    "attribution_given_gold_quotes",
)
"""Every metric, the headline ones first: who said it (attribution, speaker entity), then where the quotes are."""


def row_label(row: str, reports: dict[str, dict]) -> str:
    """A metric row's name; speaker-entity rows say whether the gold's entities are hand-labelled or silver."""
    if not row.startswith("speaker_entity"):
        return row
    kind = next(iter(reports.values())).get("speaker_entities", "gold")
    return f"{row} ({kind} entities)"


def comparison_table(reports: dict[str, dict], rows: tuple[str, ...] = HEADLINE_ROWS, with_types: bool = True) -> str:
    """One terminal table: a row per metric, a column per system (F1 and its 95% interval)."""
    systems = list(reports)
    width = max(24, *(len(name) + 2 for name in systems))
    all_rows = [r for r in rows for r in ([r] + ([f"{r}/{t}" for t in QUOTE_TYPES] if with_types else []))]
    header = f"{'metric (F1 [95% CI])':<40}" + "".join(f"{name:>{width}}" for name in systems)
    lines = [header, "-" * len(header)]
    for row in all_rows:
        cells = []
        for name in systems:
            values = reports[name]["metrics"].get(row)
            if values is None:
                cells.append(f"{'n/a':>{width}}")
                continue
            ci = values.get("f1_ci")
            cell = f"{values['f1']:.3f}" + (f" [{ci[0]:.2f},{ci[1]:.2f}]" if ci else "")
            cells.append(f"{cell:>{width}}")
        if any(c.strip() != "n/a" for c in cells):
            lines.append(f"{row_label(row, reports):<40}" + "".join(cells))
    return "\n".join(lines)


def plot_precision_recall(reports: dict[str, dict], path: Path) -> None:
    """Precision against recall per quote type, for content overlap and attribution, one colour per system."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    figure, axes = plt.subplots(1, len(QUOTE_TYPES), figsize=(4.2 * len(QUOTE_TYPES), 4.2), sharey=True)
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    markers = {"content_overlap": "o", "attribution": "^"}
    grid = np.linspace(0.01, 1, 200)
    for axis, quote_type in zip(axes, QUOTE_TYPES):
        for f1 in (0.2, 0.4, 0.6, 0.8):
            precision = f1 * grid / (2 * grid - f1)
            keep = (precision > 0) & (precision <= 1)
            axis.plot(grid[keep], precision[keep], color="#dddddd", linewidth=0.8, zorder=0)
            axis.annotate(
                f"F1={f1}", (0.98, f1 * 0.98 / (2 * 0.98 - f1) + 0.01), fontsize=7, color="#999999", ha="right"
            )
        for index, (system, report) in enumerate(reports.items()):
            for metric, marker in markers.items():
                values = report["metrics"].get(f"{metric}/{quote_type}")
                if values is None:
                    continue
                axis.scatter(
                    values["recall"],
                    values["precision"],
                    marker=marker,
                    s=70,
                    color=colours[index % len(colours)],
                    label=f"{system} · {metric.replace('_', ' ')}",
                    edgecolors="black",
                    linewidths=0.5,
                )
        axis.set_title(f"{quote_type} quotes")
        axis.set_xlim(0, 1.02)
        axis.set_ylim(0, 1.02)
        axis.set_xlabel("recall")
        axis.grid(alpha=0.3)
    axes[0].set_ylabel("precision")
    handles, labels = axes[0].get_legend_handles_labels()
    figure.legend(handles, labels, loc="lower center", ncol=max(1, min(4, len(labels))), fontsize=8, frameon=False)
    figure.tight_layout(rect=(0, 0.1, 1, 1))
    with atomic_writer(path, "wb") as stream:
        figure.savefig(stream, format="png", dpi=110)
    plt.close(figure)


def plot_threshold_curves(sweeps: dict[str, list[dict[str, float]]], target_precision: float, path: Path) -> None:
    """Precision–recall curves as the score threshold moves, for content overlap and attribution, one line per
    scored system, with the operating point that reaches ``target_precision`` marked."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from quoteattr.evaluation.confidence import SWEPT_METRICS, operating_point

    figure, axes = plt.subplots(1, len(SWEPT_METRICS), figsize=(5.2 * len(SWEPT_METRICS), 4.6), sharey=True)
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for axis, metric in zip(axes, SWEPT_METRICS):
        for index, (system, sweep) in enumerate(sweeps.items()):
            colour = colours[index % len(colours)]
            axis.plot(
                [r[f"{metric}_recall"] for r in sweep],
                [r[f"{metric}_precision"] for r in sweep],
                color=colour,
                label=system,
                marker=".",
            )
            point = operating_point(sweep, target_precision, metric)
            if point:
                axis.scatter(
                    point[f"{metric}_recall"],
                    point[f"{metric}_precision"],
                    s=120,
                    marker="*",
                    color=colour,
                    edgecolors="black",
                    zorder=3,
                    label=f"{system}: score ≥ {point['threshold']:.2f}",
                )
        axis.axhline(target_precision, color="#999999", linestyle="--", linewidth=0.8)
        axis.set_title(f"{metric.replace('_', ' ')} as the score threshold rises")
        axis.set_xlim(0, 1.02)
        axis.set_ylim(0, 1.02)
        axis.set_xlabel("recall")
        axis.grid(alpha=0.3)
        axis.legend(fontsize=8, loc="lower left")
    axes[0].set_ylabel("precision")
    figure.tight_layout()
    with atomic_writer(path, "wb") as stream:
        figure.savefig(stream, format="png", dpi=110)
    plt.close(figure)


def operating_point_lines(sweeps: dict[str, list[dict[str, float]]], target_precision: float) -> list[str]:
    """One line per scored system and metric: the threshold that reaches the target precision and the recall kept."""
    from quoteattr.evaluation.confidence import SWEPT_METRICS, operating_point

    lines = []
    for system, sweep in sweeps.items():
        for metric in SWEPT_METRICS:
            point = operating_point(sweep, target_precision, metric)
            best = max(r[f"{metric}_precision"] for r in sweep)
            lines.append(
                f"{system} · {metric.replace('_', ' ')}: score ≥ {point['threshold']:.3f} gives precision "
                f"{point[f'{metric}_precision']:.3f} at recall {point[f'{metric}_recall']:.3f}"
                if point
                else f"{system} · {metric.replace('_', ' ')}: no threshold reaches precision {target_precision} "
                f"(best {best:.3f})"
            )
    return lines


def write_markdown(
    reports: dict[str, dict], path: Path, chart_name: str, corpus: str, curves: tuple[str, list[str]] | None = None
) -> None:
    """A Markdown report: the comparison table per metric and quote type, the chart, and (``curves``) the
    precision–recall curves of scored systems with their operating points."""
    systems = list(reports)
    lines = [
        f"# Evaluation on {corpus}",
        "",
        f"Systems: {', '.join(systems)}. Articles: {next(iter(reports.values()))['articles']}. "
        "F1 with a 95% bootstrap interval over articles; P and R micro-averaged.",
        "",
        f"![precision and recall per quote type]({chart_name})",
        "",
        "| metric | " + " | ".join(f"{s} P | {s} R | {s} F1 [95% CI]" for s in systems) + " |",
        "|---|" + "---|---|---|" * len(systems),
    ]
    for row in [r for base in HEADLINE_ROWS for r in [base] + [f"{base}/{t}" for t in QUOTE_TYPES]]:
        cells = []
        for system in systems:
            values = reports[system]["metrics"].get(row)
            if values is None:
                cells.append("– | – | –")
                continue
            ci = values.get("f1_ci")
            f1 = f"{values['f1']:.3f}" + (f" [{ci[0]:.3f}, {ci[1]:.3f}]" if ci else "")
            cells.append(f"{values['precision']:.3f} | {values['recall']:.3f} | {f1}")
        if any(cell != "– | – | –" for cell in cells):
            lines.append(f"| {row_label(row, reports)} | " + " | ".join(cells) + " |")
    lines += [
        "",
        "Definitions: content_exact = identical fragments; content_overlap = at least one shared character, "
        "matched one to one; content_token = word tokens; attribution = overlap-matched quote with the right "
        "speaker (mentions overlap or entity names agree); speaker_entity = overlap-matched quotes whose speaker "
        "entity names agree (gold entities: hand-labelled; silver: resolved by rule from the gold mentions, so a "
        "resolver's errors stay unseen); attribution_given_gold_quotes = the system's speaker linker run on the "
        "gold quote spans.",
    ]
    if curves:
        lines += [
            "",
            "## Operating points",
            "",
            f"![precision and recall as the score threshold rises]({curves[0]})",
            "",
        ]
        lines += [f"- {line}" for line in curves[1]]
    with atomic_writer(path) as stream:
        stream.write("\n".join(lines) + "\n")


_STYLE = """
body{font-family:Georgia,serif;margin:24px;background:#fafafa;color:#222}
h1{font-family:sans-serif} h2{font-family:sans-serif;font-size:16px;margin-top:32px}
.cols{display:flex;gap:24px}.col{flex:1;background:#fff;border:1px solid #ddd;padding:12px 16px;line-height:1.7}
.col h3{font-family:sans-serif;font-size:13px;margin:0 0 8px;color:#555}
.q{background:#fff3b0}.cue{background:#c8f7c5;font-weight:bold}.spk{background:#bfe0ff;font-weight:bold}
.missed{outline:2px solid #d32f2f}.spurious{outline:2px dashed #d32f2f}.wrong{outline:2px solid #f57c00}
.legend span{margin-right:14px;padding:2px 6px;font-family:sans-serif;font-size:12px}
nav a{margin-right:10px;font-family:sans-serif;font-size:12px}
"""


def _statuses(gold: list[Quote], pred: list[Quote]) -> tuple[list[str], list[str]]:
    gold_status = ["missed"] * len(gold)
    pred_status = ["spurious"] * len(pred)
    for gi, pi in match_quotes(gold, pred):
        status = "ok" if speaker_is_right(gold[gi], pred[pi]) else "wrong"
        gold_status[gi] = pred_status[pi] = status
    return gold_status, pred_status


def _render(text: str, quotes: list[Quote], statuses: list[str]) -> str:
    classes: list[set[str]] = [set() for _ in text]
    titles: list[str] = [""] * len(text)
    for quote, status in zip(quotes, statuses):
        note = (
            f"{quote.type} quote; speaker: "
            f"{quote.speaker_entity or (text[quote.speaker[0] : quote.speaker[1]] if quote.speaker else 'none')}; "
            f"{status}"
        )
        for start, end in quote.spans:
            for i in range(start, end):
                classes[i].update(("q", status))
                titles[i] = note
        for role, css in ((quote.cue, "cue"), (quote.speaker, "spk")):
            if role:
                for i in range(*role):
                    classes[i].add(css)
                    titles[i] = titles[i] or f"{css} of: {note}"
    out: list[str] = []
    start = 0
    for i in range(1, len(text) + 1):
        if i == len(text) or classes[i] != classes[start] or titles[i] != titles[start]:
            chunk = html.escape(text[start:i]).replace("\n", "<br>")
            css = " ".join(sorted(classes[start] - {"ok"}))
            out.append(f'<span class="{css}" title="{html.escape(titles[start])}">{chunk}</span>' if css else chunk)
            start = i
    return "".join(out)


def _curves_block(curves: tuple[str, list[str]] | None) -> str:
    if not curves:
        return ""
    image, lines = curves
    items = "".join(f"<li>{html.escape(line)}</li>" for line in lines)
    return (
        f'<h2>Operating points</h2><img src="{html.escape(image)}" '
        'alt="precision–recall as the score threshold rises" style="max-width:100%">'
        f"<ul>{items}</ul>"
    )


def write_html_view(
    gold: list[Article],
    pred: list[Article],
    path: Path,
    system: str,
    limit: int = 25,
    curves: tuple[str, list[str]] | None = None,
) -> None:
    """Gold and predicted quotes side by side for the first ``limit`` articles; differences outlined. ``curves``
    (an image beside the page and the operating-point lines) shows a scored system's precision–recall curves."""
    predictions = {a.id: a for a in pred}
    sections = []
    shown = gold[:limit]
    for article in shown:
        predicted = predictions.get(article.id, Article(article.id, article.text))
        gold_status, pred_status = _statuses(article.quotes, predicted.quotes)
        sections.append(
            f'<section id="{html.escape(article.id)}"><h2>{html.escape(article.id)}</h2><div class="cols">'
            f'<div class="col"><h3>gold · {len(article.quotes)} quotes</h3>'
            f"{_render(article.text, article.quotes, gold_status)}</div>"
            f'<div class="col"><h3>{html.escape(system)} · {len(predicted.quotes)} quotes</h3>'
            f"{_render(article.text, predicted.quotes, pred_status)}</div></div></section>"
        )
    nav = "".join(f'<a href="#{html.escape(a.id)}">{html.escape(a.id)}</a>' for a in shown)
    page = (
        f"""<!doctype html><html><head><meta charset="utf-8"><title>quoteattr · {html.escape(system)}</title>
<style>{_STYLE}</style></head><body><h1>Gold vs {html.escape(system)}</h1>
<p class="legend"><span class="q">quote content</span><span class="cue">cue</span><span class="spk">speaker</span>
<span class="missed">missed (gold only)</span><span class="spurious">spurious (predicted only)</span>
<span class="wrong">matched, wrong speaker</span></p>{_curves_block(curves)}"""
        f"<nav>{nav}</nav>{''.join(sections)}</body></html>"
    )
    with atomic_writer(path) as stream:
        stream.write(page)
