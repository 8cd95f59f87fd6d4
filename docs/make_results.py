"""Write the results tables of README.md and docs/*.md from the result files in docs/results/.

    python docs/make_results.py            # rewrite every table from its result file
    python docs/make_results.py --check    # exit 1, naming the files, if a table differs from its result file
    python docs/make_results.py --collect outputs/polnear/compare --name polnear_dev --command "quoteattr compare ..."

A table sits between ``<!-- results:NAME -->`` (or ``<!-- results:NAME VIEW -->``) and ``<!-- /results -->``;
NAME is ``docs/results/NAME.json``, the file a producer wrote, copied unchanged:

- ``quoteattr compare``: its ``comparison.json`` (a report per system label, with ``metrics``), plus a
  ``command`` field (``--collect`` adds it; ``comparison.json`` does not record it). Entries that carry their
  own ``command``/``recorded_from`` (e.g. the annotators' agreement) are kept when a new run is collected.
  Views: ``full`` (default) and ``headline``.
- parts tables (``--collect DIR --name NAME --part PART``): one ``comparison.json`` per part (e.g. a system
  scored on two corpora), a row per system and columns per part.
- ``training/active_learning.py``: its ``results.json``.
- ``eval/linker_ablation.py``, ``eval/assembly_ablation.py``: the file their ``--output`` writes (F1s per
  variant); ``eval/exact_losses.py``: likewise (gold quotes by why they are not matched exactly);
  ``eval/speakers_by_quote.py``: likewise (each gold quote with each system's speaker entity).
- ``training/benchmark_runtimes.py``, ``training/benchmark_streaming.py``, ``training/benchmark.py``: the file
  their ``--output`` writes.

Under each table the block names the command that made its result file, and the file's ``recorded_from``
when the numbers were copied from an earlier record rather than written by the command. Reads only JSON
and Markdown: it needs no model, no GPU, nothing installed.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BLOCK = re.compile(r"(<!-- results:(\S+?)(?: (\S+))? -->\n)(.*?)(<!-- /results -->)", re.DOTALL)
COMPARISON_ROWS = {
    "full": [
        ("content_overlap", "content overlap"),
        ("content_exact", "content exact"),
        ("content_token", "content token"),
        ("cue", "cue"),
        ("speaker_mention", "speaker mention"),
        ("speaker_entity", "speaker entity"),
        ("attribution", "attribution"),
        ("attribution/direct", "attribution, direct"),
        ("attribution/indirect", "attribution, indirect"),
        ("attribution/mixed", "attribution, mixed"),
        ("attribution_given_gold_quotes", "attribution given gold quotes"),
    ],
    "headline": [
        ("attribution", "attribution"),
        ("speaker_entity", "speaker entity"),
        ("content_overlap", "content overlap"),
        ("content_exact", "content exact"),
    ],
}
PART_COLUMNS = {
    "headline": [("attribution", "attribution"), ("speaker_entity", "speaker entity")],
    "full": [
        ("attribution", "attribution"),
        ("speaker_entity", "speaker entity"),
        ("content_overlap", "content overlap"),
        ("content_exact", "content exact"),
    ],
}
"""The columns of each part of a parts table (one compare run per part, e.g. the fine-tuning table)."""


def number(value: float | None, spec: str, unit: str = "") -> str:
    """``value`` formatted by ``spec`` (``unit`` after it), or blank where the result file does not give it."""
    return "" if value is None else format(value, spec) + unit


def signed(value: float | None) -> str:
    return "" if value is None else format(value, "+.3f").replace("-", "−")


def table(header: list[str], rows: list[list[str]]) -> list[str]:
    return [
        "| " + " | ".join(header) + " |",
        "|" + "---|" * len(header),
        *("| " + " | ".join(row) + " |" for row in rows),
    ]


def provenance(result: dict) -> list[str]:
    """The lines under a table: the command that made the result file, and where copied numbers came from."""
    lines = [f"Made by `{result['command']}`."]
    if result.get("recorded_from"):
        lines.append(f"Recorded from {result['recorded_from']}.")
    return lines


def systems(result: dict) -> dict[str, dict]:
    """The system reports of a ``comparison.json`` (every entry with ``metrics``), in file order."""
    return {name: report for name, report in result.items() if isinstance(report, dict) and "metrics" in report}


def f1_cell(values: dict | None) -> str:
    if not values or values.get("f1") is None:
        return ""
    ci = values.get("f1_ci")
    return f"{values['f1']:.3f}" + (f" [{ci[0]:.2f}, {ci[1]:.2f}]" if ci else "")


def entity_label(label: str, metric: str, reports: dict[str, dict]) -> str:
    """A speaker-entity row's label says whether the gold's entities are hand-labelled or silver."""
    kinds = {report["speaker_entities"] for report in reports.values() if "speaker_entities" in report}
    return f"{label} ({kinds.pop()} entities)" if metric.startswith("speaker_entity") and len(kinds) == 1 else label


def render_comparison(result: dict, view: str) -> list[str]:
    reports = systems(result)
    rows = [
        [entity_label(label, metric, reports), *(f1_cell(report["metrics"].get(metric)) for report in reports.values())]
        for metric, label in COMPARISON_ROWS[view]
    ]
    own = {name: report for name, report in reports.items() if "command" in report or "recorded_from" in report}
    articles = sorted({r["articles"] for name, r in reports.items() if name not in own and "articles" in r})
    lines = table(["metric (F1 [95% interval])", *reports], rows)
    if articles:
        lines += ["", f"Scored on {' / '.join(map(str, articles))} articles."]
    lines += ["", *provenance(result)]
    for name, report in own.items():
        note = f"`{name}`:" + (f" made by `{report['command']}`;" if "command" in report else "")
        lines += ["", note + (f" recorded from {report['recorded_from']}." if "recorded_from" in report else "")]
    return lines


def render_parts(result: dict, view: str) -> list[str]:
    """One row per system, F1 columns per part (each part a compare run on its own gold)."""
    parts = result["parts"]
    names = list(dict.fromkeys(name for part in parts.values() for name in systems(part)))
    header = ["system"] + [
        f"{part}: {entity_label(label, metric, systems(parts[part]))}"
        for part in parts
        for metric, label in PART_COLUMNS[view]
    ]
    body = [
        [f"`{name}`"]
        + [
            f1_cell(systems(part).get(name, {}).get("metrics", {}).get(metric))
            for part in parts.values()
            for metric, _ in PART_COLUMNS[view]
        ]
        for name in names
    ]
    scored = ", ".join(
        f"{name} ({' / '.join(str(n) for n in sorted({r['articles'] for r in systems(part).values()}))} articles)"
        for name, part in parts.items()
    )
    return [*table(header, body), "", f"F1 [95% interval]; scored on {scored}.", "", *provenance(result)]


def render_variants(result: dict, view: str) -> list[str]:
    """An ablation: a row per variant of one checkpoint on one gold file, an F1 column per metric."""
    variants = result["variants"]
    metrics = list(dict.fromkeys(metric for values in variants.values() for metric in values))
    rows = [[name, *(number(values.get(metric), ".3f") for metric in metrics)] for name, values in variants.items()]
    header = ["variant", *(f"{metric.replace('_', ' ')} F1" for metric in metrics)]
    intro = f"`{result['checkpoint']}` on `{result['gold']}`:"
    return [intro, "", *table(header, rows), "", *provenance(result)]


def render_losses(result: dict, view: str) -> list[str]:
    """Gold quotes by why the prediction's overlap-matched quote is not an exact match."""
    total = result["gold_quotes"]
    rows = [[reason, str(count), f"{count / total:.3f}"] for reason, count in result["reasons"].items()]
    return [*table(["where the exact match is lost", "gold quotes", "share"], rows), "", *provenance(result)]


def render_speakers(result: dict, view: str) -> list[str]:
    """Each gold quote with each system's speaker entity, marked right or wrong, and each system's count."""
    systems = list(result["right_entity"])

    def cell(given: dict) -> str:
        return f"{'✓' if given['right'] else '✗'} {given['entity'] or '(nobody)'}"

    rows = [
        [quote["type"], short(quote["quote"]), quote["gold"] or "", *(cell(quote["systems"][s]) for s in systems)]
        for quote in result["quotes"]
    ]
    total = result["gold_quotes"]
    rows.append(["", "**right entity**", "", *(f"**{result['right_entity'][s]}/{total}**" for s in systems)])
    header = ["type", "quote", "gold speaker", *(f"`{s}`" for s in systems)]
    return [*table(header, rows), "", *provenance(result)]


def short(text: str, width: int = 60) -> str:
    """A table cell's text: one line, at most ``width`` characters, pipes escaped."""
    text = " ".join(text.split()).replace("|", "\\|")
    return text if len(text) <= width else text[: width - 1] + "…"


def render_active_learning(result: dict, view: str) -> list[str]:
    rows = result["rows"]
    strategies = list(dict.fromkeys(row["strategy"] for row in rows))
    body = []
    for size in sorted({row["labelled"] for row in rows}):
        scores = {r["strategy"]: r["attribution_f1"] for r in rows if r["labelled"] == size}
        best = max(scores.values())
        unique = sum(1 for s in scores.values() if s == best) == 1 and len(scores) > 1
        cells = [
            ("" if s not in scores else f"**{scores[s]:.3f}**" if unique and scores[s] == best else f"{scores[s]:.3f}")
            for s in strategies
        ]
        body.append([str(size), *cells])
    return [
        *table(["labelled articles", *strategies], body),
        "",
        "Dev attribution F1 of each strategy's model; a row's best in bold where no other strategy reaches it.",
        "",
        *provenance(result),
    ]


def render_runtimes(result: dict, view: str) -> list[str]:
    runs = result["runtimes"]
    fp32 = runs[0]
    body = []
    for run in runs:
        first = run is fp32
        body.append(
            [
                run["runtime"],
                number(run.get("tokens_per_s"), ",.0f"),
                number(run["tokens_per_s"] / fp32["tokens_per_s"], ".2f", "×"),
                number(run.get("articles_per_s"), ".2f"),
                number(run.get("ratio"), ".3f"),
                number(run.get("overlap"), ".3f"),
                "" if first else signed(run["overlap"] - fp32["overlap"]),
                number(run.get("attribution"), ".3f"),
                "" if first else signed(run["attribution"] - fp32["attribution"]),
            ]
        )
    if result.get("rules_articles_per_s") is not None:
        body.append(["rules (spaCy)", "", "", number(result["rules_articles_per_s"], ".2f"), "", "", "", "", ""])
    header = [
        "runtime",
        "encoder tokens/s",
        "vs torch fp32",
        "pipeline articles/s",
        "pipeline/bare",
        "content overlap F1",
        "Δ",
        "attribution F1",
        "Δ",
    ]
    facts = [f"{result['articles']} articles" if "articles" in result else None]
    facts.append(f"{result['repeats']} rounds" if "repeats" in result else None)
    facts.append(f"{result['torch_threads']} torch threads" if "torch_threads" in result else None)
    facts = [fact for fact in facts if fact]
    return [*table(header, body), "", *([", ".join(facts) + ".", ""] if facts else []), *provenance(result)]


def render_streaming(result: dict, view: str) -> list[str]:
    body = [
        [
            row["command"],
            number(row.get("articles"), ","),
            number(row.get("seconds"), ".1f"),
            number(row.get("startup_seconds"), ".1f"),
            number(row.get("articles_per_second"), ",.0f" if row.get("articles_per_second", 0) >= 1000 else ".1f"),
            number(row.get("ms_per_article"), ".2f"),
            number(row.get("time_vs_smallest"), ".2f", "×"),
            number(row.get("peak_mb"), ".0f"),
            number(row.get("peak_vs_smallest"), ".2f", "×"),
        ]
        for row in result["table"]
    ]
    ray = result.get("ray")
    if ray:
        body.append(
            [
                f"predict {result.get('system', '')}, `--engine ray`, {ray['shards']} shards, {ray['workers']} workers",
                number(ray.get("articles"), ","),
                number(ray.get("seconds"), ".1f"),
                "",
                number(ray.get("articles_per_second"), ".1f", " (start-up included)"),
                "",
                "",
                number(ray.get("driver_peak_mb"), ".0f", " (driver)"),
                "",
            ]
        )
    header = [
        "command",
        "articles",
        "seconds",
        "start-up s",
        "articles/s after start-up",
        "ms/article",
        "vs smallest",
        "peak MB",
        "vs smallest",
    ]
    source = result.get("source_articles")
    facts = []
    if source:
        chars = result.get("mean_characters")
        facts.append(f"{source} source articles" + (f", {chars:.0f} characters each on average" if chars else ""))
    return [*table(header, body), "", *([". ".join(facts) + ".", ""] if facts else []), *provenance(result)]


def render_training_speed(result: dict, view: str) -> list[str]:
    predict, training = result.get("predict", {}), result.get("training", {})
    rates = [
        number(predict.get("articles_per_s"), ".2f", " articles/s"),
        number(predict.get("window_tokens_per_s"), ",.0f", " window tokens/s"),
    ]
    body = [
        [
            "predict" + (f" ({predict['articles']} articles)" if "articles" in predict else ""),
            ", ".join(rate for rate in rates if rate),
            number(predict.get("bare_window_tokens_per_s"), ",.0f", " window tokens/s"),
            number(predict.get("ratio"), ".3f"),
        ]
    ]
    if "recogniser_seconds" in predict:
        seconds = f"{predict['recogniser_seconds']:.1f} of {predict['seconds']:.1f} s"
        body.append(
            [
                f"predict less spaCy's entity recogniser ({predict['recogniser_articles']} articles, {seconds})",
                "",
                "",
                number(predict.get("ratio_without_recogniser"), ".3f"),
            ]
        )
    if training:
        size = [f"{training['steps']} steps" if "steps" in training else ""]
        size.append(f"windows of up to {training['max_length']} tokens" if "max_length" in training else "")
        size = [part for part in size if part]
        body.append(
            [
                "training" + (f" ({', '.join(size)})" if size else ""),
                number(training.get("trainer_sequences_per_s"), ".2f", " sequences/s"),
                number(training.get("bare_sequences_per_s"), ".2f", " sequences/s"),
                number(training.get("ratio"), ".3f"),
            ]
        )
    header = ["measured", "pipeline / Trainer", "bare encoder / bare loop", "ratio"]
    return [*table(header, body), "", *provenance(result)]


def renderer(result: dict):
    """The renderer for a result file, by the shape its producer writes."""
    if "parts" in result:
        return render_parts
    if systems(result):
        return render_comparison
    if "variants" in result:
        return render_variants
    if "reasons" in result:
        return render_losses
    if "right_entity" in result:
        return render_speakers
    if "rows" in result:
        return render_active_learning
    if "runtimes" in result:
        return render_runtimes
    if "table" in result:
        return render_streaming
    if "predict" in result:
        return render_training_speed
    raise ValueError("not a result file make_results knows")


def load(results: Path, name: str) -> dict:
    path = results / f"{name}.json"
    if not path.exists():
        raise SystemExit(f"error: a table names {path}, which does not exist")
    result = json.loads(path.read_text(encoding="utf-8"))
    if not result.get("command"):
        raise SystemExit(f"error: {path} has no command field (the command that made it)")
    return result


def render_document(text: str, results: Path) -> str:
    def block(match: re.Match) -> str:
        name, view = match.group(2), match.group(3) or "full"
        result = load(results, name)
        try:
            lines = renderer(result)(result, view)
        except (KeyError, ValueError) as error:
            raise SystemExit(f"error: {results / name}.json: cannot render view {view!r}: {error}") from error
        return match.group(1) + "\n".join(lines) + "\n" + match.group(5)

    return BLOCK.sub(block, text)


def documents(root: Path) -> list[Path]:
    return [root / "README.md", *sorted((root / "docs").glob("*.md"))]


def collect(source: Path, name: str, command: str | None, results: Path, part: str | None = None) -> Path:
    """Copy a result file (or a compare folder's comparison.json) into docs/results/NAME.json, adding the
    command that made it; entries of the old file with their own provenance stay. With ``part``, the result
    becomes that part of NAME.json (a parts table), the other parts kept, and NAME's command each of its parts'
    commands once."""
    path = source / "comparison.json" if source.is_dir() else source
    result = json.loads(path.read_text(encoding="utf-8"))
    if command:
        result = {"command": command, **{k: v for k, v in result.items() if k != "command"}}
    if not result.get("command"):
        raise SystemExit(f"error: {path} records no command: pass the command that made it with --command")
    target = results / f"{name}.json"
    if part:
        old = json.loads(target.read_text(encoding="utf-8")) if target.exists() else {}
        parts = {**old.get("parts", {}), part: result}
        commands = dict.fromkeys(command for p in parts.values() for command in p["command"].split("; "))
        result = {"command": "; ".join(commands), "parts": parts}  # a command parts share, once
    if target.exists() and systems(result) and not part:
        old = json.loads(target.read_text(encoding="utf-8"))
        for label, report in systems(old).items():
            if label not in result and ("command" in report or "recorded_from" in report):
                result[label] = report
    results.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if a table is stale")
    parser.add_argument("--collect", type=Path, help="a result file, or a `quoteattr compare` output folder")
    parser.add_argument("--name", help="with --collect: the result's name, docs/results/NAME.json")
    parser.add_argument("--command", help="with --collect: the command that made the result, if it does not say")
    parser.add_argument("--part", help="with --collect: make the result this part of NAME (a table of parts)")
    parser.add_argument("--root", type=Path, default=ROOT, help="the repository (default: the one holding this file)")
    args = parser.parse_args(argv)
    results = args.root / "docs" / "results"
    if args.collect:
        if not args.name:
            parser.error("--collect needs --name")
        print(f"wrote {collect(args.collect, args.name, args.command, results, args.part)}")
    stale = []
    for path in documents(args.root):
        if not path.exists():
            continue
        text = path.read_text(encoding="utf-8")
        new = render_document(text, results)
        if new != text:
            stale.append(path)
            if not args.check:
                path.write_text(new, encoding="utf-8")
    for path in stale:
        shown = path.relative_to(args.root)
        print(f"stale: {shown}" if args.check else f"rewrote tables in {shown}")
    if args.check and stale:
        print("run `python docs/make_results.py` to rewrite them", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
