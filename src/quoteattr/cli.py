"""The ``quoteattr`` command line."""

from __future__ import annotations

import argparse
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from quoteattr.data.console import show_log
from quoteattr.data.errors import InputError
from quoteattr.data.readers import STDIO, read_articles
from quoteattr.data.schema import Article
from quoteattr.data.writers import check_writable, output_format_for, write_articles, write_json
from quoteattr.systems import confident_only
from quoteattr.systems.model.decoding_config import SEARCH_METRICS

PUSH_SYSTEM_HELP = (
    "predictions from 'rules' (default), 'textacy', a checkpoint folder or an installed model's name, "
    "or 'gold' (the current annotations)"
)
"""``labelstudio push --system``: any system ``quoteattr predict`` takes, or the gold annotations."""


def _add_input_options(parser: argparse.ArgumentParser) -> None:
    from quoteattr.data.readers import DEFAULT_MAX_BYTES

    parser.add_argument(
        "inputs",
        nargs="+",
        help=".txt pages; .jsonl, .jsonl.gz or .parquet files; folders or globs ('archive/**/*.jsonl.gz') of them; "
        "- (standard input)",
    )
    parser.add_argument(
        "--skip-bad",
        action="store_true",
        help="skip unreadable files and bad records, and report them, instead of failing",
    )
    parser.add_argument("--max-bytes", type=int, default=DEFAULT_MAX_BYTES, help="largest article accepted")


def cmd_ingest(args: argparse.Namespace) -> int:
    from quoteattr.data.ingest import IngestReport
    from quoteattr.data.readers import iter_articles
    from quoteattr.data.writers import write_predictions

    output_format = output_format_for(args.output, None)
    for output in filter(None, (args.output, args.report)):
        check_writable(output)
    report = IngestReport()
    articles = iter_articles(args.inputs, skip_bad=args.skip_bad, max_bytes=args.max_bytes, report=report)
    count = write_predictions(args.output, articles, output_format)
    for path, lines in report.removed.items():
        print(f"{path}: removed {len(lines)} line{'s' * (len(lines) != 1)} of site furniture")
    print(f"ingested {count} articles from {len(report.read)} files into {args.output}; skipped {len(report.skipped)}")
    if args.report:
        write_json(args.report, {"read": report.read, "skipped": report.skipped, "removed": report.removed})
        print(f"wrote {args.report} (the removed lines of each file)")
    return 0


def cmd_predict(args: argparse.Namespace) -> int:
    if args.batch_size < 1:
        raise InputError(f"--batch-size {args.batch_size}: must be at least 1")
    check_fraction("--min-score", args.min_score)
    check_device(args.device, here=args.engine == "local")
    if args.engine == "ray":
        return _predict_with_ray(args)
    from tqdm import tqdm

    from quoteattr.data.ingest import IngestReport
    from quoteattr.data.readers import count_articles, iter_articles
    from quoteattr.data.writers import write_predictions
    from quoteattr.systems import load_system

    output_format = output_format_for(args.output, args.format)
    check_writable(args.output)
    report = IngestReport()
    articles = iter_articles(args.inputs, skip_bad=args.skip_bad, max_bytes=args.max_bytes, report=report)
    system = load_system(args.system, device=args.device)
    progress = tqdm(
        system.predict(articles, batch_size=args.batch_size),
        total=count_articles(args.inputs),
        desc=system.name,
        unit="article",
        file=sys.stderr,
    )
    with progress:  # closed (its line ended) before an error or an interruption is reported
        predictions = progress if args.min_score is None else confident_only(progress, args.min_score, system.name)
        count = write_predictions(args.output, predictions, output_format)
    where = "standard output" if args.output == STDIO else args.output
    print(
        f"{system.name}: wrote predictions for {count} articles to {where} ({output_format}); "
        f"skipped {len(report.skipped)}",
        file=sys.stderr if args.output == STDIO else sys.stdout,
    )
    return 0


def _predict_with_ray(args: argparse.Namespace) -> int:
    from quoteattr.systems.ray_engine import MANIFEST, ShardJob, predict_with_ray

    output_format = args.format or "jsonl"
    settings = (args.batch_size, args.device, args.skip_bad, args.max_bytes, args.min_score)
    job = ShardJob(args.system, args.output, output_format, *settings)
    run = predict_with_ray(
        args.inputs, job, args.num_workers, args.cpus_per_worker, args.gpus_per_worker, args.address, args.overwrite
    )
    articles = sum(shard["articles"] for shard in run.done)
    print(
        f"{args.system}: {len(run.done)} shards ({articles} articles) written to {args.output} in {run.seconds:.1f} s; "
        f"{len(run.skipped_complete)} already complete; {len(run.failed)} failed (see {Path(args.output) / MANIFEST})"
    )
    for failure in run.failed:
        print(f"failed shard: {failure['error']}", file=sys.stderr)
    return 1 if run.failed else 0


def check_fraction(option: str, value: float | None) -> None:
    """Scores and precisions are probabilities: a value outside [0, 1] would keep or drop everything unnoticed."""
    if value is not None and not 0 <= value <= 1:
        raise InputError(f"{option} {value}: must lie between 0 and 1")


def check_device(device: str | None, here: bool) -> None:
    """Refuse a device torch does not know or (``here``: the model runs on this machine) one this machine
    lacks, before anything is loaded."""
    if device is None:
        return
    import torch

    try:
        parsed = torch.device(device)
    except RuntimeError:
        parsed = None
    if parsed is None or parsed.type not in ("cpu", "cuda", "mps"):
        raise InputError(f"--device {device}: not a device; use cpu, cuda, cuda:N or mps")
    found = torch.cuda.device_count()
    if here and parsed.type == "cuda" and (parsed.index or 0) >= found:
        raise InputError(
            f"--device {device}: only {found} CUDA devices here (cuda:0 to cuda:{found - 1})"
            if found
            else f"--device {device}: no CUDA device on this machine; use --device cpu"
        )
    if here and parsed.type == "mps" and not torch.backends.mps.is_available():
        raise InputError(f"--device {device}: MPS is not available on this machine; use --device cpu")


def refuse_scored_gold(path: str, gold: list[Article]) -> None:
    """Gold labels never carry scores: a gold file that does is predictions, most likely --gold and --pred swapped."""
    scored = next((a.id for a in gold if any(q.score is not None for q in a.quotes)), None)
    if scored is not None:
        raise InputError(
            f"{path}: article {scored!r} carries prediction scores, which gold labels never have "
            "(did you swap --gold and --pred?)"
        )


def cmd_evaluate(args: argparse.Namespace) -> int:
    from quoteattr.evaluation.confidence import has_scores, threshold_sweep
    from quoteattr.evaluation.report import operating_point_lines, plot_threshold_curves
    from quoteattr.evaluation.scoring import evaluate_articles, format_table

    check_fraction("--target-precision", args.target_precision)
    if args.output:
        check_writable(args.output)
    gold, predictions = read_articles(args.gold), read_articles(args.pred)
    refuse_scored_gold(args.gold, gold)
    try:
        report = evaluate_articles(gold, predictions, bootstrap=args.bootstrap)
    except InputError as error:
        raise InputError(f"{args.pred} against {args.gold}: {error}") from error
    print(format_table(report))
    if has_scores(predictions):
        report["threshold_sweep"] = threshold_sweep(gold, predictions)
        for line in operating_point_lines({Path(args.pred).name: report["threshold_sweep"]}, args.target_precision):
            print(line)
        if args.output:
            curves = Path(args.output).with_suffix(".pr.png")
            plot_threshold_curves({Path(args.pred).name: report["threshold_sweep"]}, args.target_precision, curves)
            print(f"wrote {curves} (precision–recall as the score threshold rises)")
    else:
        print("no scores in the predictions: no threshold sweep")
    if report["missing_predictions"]:
        print(
            f"warning: {len(report['missing_predictions'])} gold articles have no prediction (scored as empty)",
            file=sys.stderr,
        )
    if report["extra_predictions"]:
        extra = report["extra_predictions"]
        print(
            f"warning: {len(extra)} predicted articles are not in the gold (not scored): "
            f"{', '.join(extra[:5])}{' …' * (len(extra) > 5)}",
            file=sys.stderr,
        )
    if args.output:
        write_json(args.output, report)
        print(f"wrote {args.output}")
    return 0


def provenance(folder: Path) -> str | None:
    """What a dataset was built from (its card's Provenance section), or None where ``folder`` holds none."""
    card = folder / "README.md"
    if not (folder / "hf").is_dir() or not card.is_file():
        return None
    return card.read_text(encoding="utf-8", errors="replace").partition("\n## Provenance\n")[2].partition("\n## ")[0]


def cmd_build(args: argparse.Namespace) -> int:
    """Build into a staging folder, then replace ``--output`` only where that loses nothing unasked: it is
    missing or empty, or holds a dataset built from the same sources (a rebuild after a review); anything
    else (the main job's dataset under another build, a folder of other files) needs --overwrite."""
    from quoteattr.data.writers import replace_folder, staging_folder
    from quoteattr.dataset.build import build_from_sources

    output = Path(args.output)
    if not args.overwrite and output.exists():
        if not output.is_dir() or (any(output.iterdir()) and provenance(output) is None):
            raise InputError(f"{output}: is not empty and not a dataset; give another --output, or --overwrite")
    with staging_folder(output) as staging:
        built = staging / output.name
        stats = build_from_sources(
            output=built,
            annotations=args.annotations,
            inputs=args.inputs,
            train=args.train,
            validation=args.validation,
            test=args.test,
            seed=args.seed,
            licence=args.licence,
            validation_from_train=args.validation_from_train,
        )
        if not args.overwrite and provenance(output) not in (None, provenance(built)):
            raise InputError(
                f"{output}: holds a dataset built from other sources (see its README.md); give another --output, "
                "or --overwrite to replace it"
            )
        replace_folder(built, output)
    for split, counts in stats.items():  # the phenomena are in the card and statistics.json
        print(f"{split:<11} " + " ".join(f"{k}={v}" for k, v in counts.items() if k != "phenomena"))
    print(f"wrote {args.output}")
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    from quoteattr.evaluation.comparison import compare_systems

    check_fraction("--target-precision", args.target_precision)
    check_writable(Path(args.output) / "comparison.json")
    compare_systems(
        args.gold,
        args.systems,
        args.output,
        bootstrap=args.bootstrap,
        html_articles=args.html_articles,
        target_precision=args.target_precision,
    )
    return 0


def cmd_convert_polnear(args: argparse.Namespace) -> int:
    from collections import Counter

    from quoteattr.dataset.polnear import convert_compartment
    from quoteattr.evaluation.scoring import pooled_agreement

    articles, report = convert_compartment(args.input, resolve_speakers=not args.no_resolve)
    write_articles(args.output, articles)
    types = Counter(q.type for a in articles for q in a.quotes)
    print(f"converted {report.articles} articles, {report.quotes} quotes ({dict(types)}) into {args.output}")
    for problem in report.problems[:20]:
        print(f"problem: {problem}")
    if len(report.problems) > 20:
        print(f"... {len(report.problems) - 20} more problems (see --report)")
    if report.agreement:
        pooled = pooled_agreement(a["counts"] for a in report.agreement)
        labelled_twice = len({a["article"] for a in report.agreement})
        print(
            f"annotator agreement on {labelled_twice} articles labelled by several annotators "
            f"({len(report.agreement)} pairs, the other annotator scored as a system against the kept one): "
            f"content overlap F1 {pooled['content_overlap_f1']:.3f}, exact F1 {pooled['content_exact_f1']:.3f}, "
            f"attribution F1 {pooled['attribution_f1']:.3f}"
        )
    if args.report:
        write_json(
            args.report,
            {
                "articles": report.articles,
                "quotes": report.quotes,
                "problems": report.problems,
                "agreement": report.agreement,
            },
        )
    return 0


def cmd_labelstudio_push(args: argparse.Namespace) -> int:
    from quoteattr.labelstudio.sync import Server

    with Server(args.url, retries=args.retries) as server:  # a missing key or a malformed URL stops before any work
        return _push(args, server)


def _push(args: argparse.Namespace, server) -> int:
    """Push the inputs (or those chosen for review) with the system's predictions to the server's project."""
    from quoteattr.data.readers import ingest
    from quoteattr.labelstudio.annotations import load_gold
    from quoteattr.labelstudio.selection import select_articles
    from quoteattr.labelstudio.sync import push, unlabelled
    from quoteattr.systems import load_system

    articles, _ = ingest(args.inputs, skip_bad=args.skip_bad, max_bytes=args.max_bytes)
    if args.select is not None:
        articles = unlabelled(server, args.project, articles, Path(args.annotations))
        print(f"pool: {len(articles)} articles neither in {args.annotations} nor in the project")
    if args.system == "gold":
        predictions = load_gold(args.annotations).articles
        model_version = args.model_version or "gold"
    else:
        predictions = list(load_system(args.system).predict(articles))
        model_version = args.model_version or args.system
    if args.select is not None:
        chosen = select_articles(predictions, args.select, args.strategy, seed=args.seed)
        print(
            f"selected {len(chosen)} by {args.strategy}: "
            f"{', '.join(a.id for a in chosen[:10])}{' …' * (len(chosen) > 10)}"
        )
        chosen_ids = {a.id for a in chosen}
        articles = [a for a in articles if a.id in chosen_ids]
    report = push(server, args.project, articles, predictions, model_version, annotations=Path(args.annotations))
    print(
        f"project {args.project!r} (id {report.project_id}) on {server.url}: imported {report.imported} tasks "
        f"with {model_version!r} predictions; {report.already_there} already there"
    )
    return 0


def cmd_labelstudio_pull(args: argparse.Namespace) -> int:
    from quoteattr.labelstudio.sync import Server, pull

    with Server(args.url, retries=args.retries) as server:
        report = pull(server, args.project, Path(args.annotations), Path(args.output) if args.output else None)
    print(
        f"tasks {report.tasks}: annotated {report.annotated}, skipped {report.skipped}, not yet annotated "
        f"{report.unannotated}; quotes per type {report.quotes_per_type}; files updated {len(report.files_written)}"
    )
    for issue in report.issues:
        print(f"not converted: {issue}")
    for conflict in report.conflicts:
        for other in conflict["agreement"]:
            print(
                f"two reviewers on {conflict['article']}: kept {conflict['kept']}, also {other['other']} "
                f"(agreement: content overlap F1 {other['content_overlap_f1']:.3f}, "
                f"attribution F1 {other['attribution_f1']:.3f})"
            )
    if args.output:
        print(f"wrote {args.output}")
    return 0


def cmd_train(args: argparse.Namespace) -> int:
    from quoteattr.training.trainer import main as train_main

    return train_main(args.training_arguments, prog="quoteattr train")


TRAINING_HELP = (
    "fine-tune the model: --config FILE, then any training argument to override it (see `quoteattr train --help`)"
)


def cmd_package(args: argparse.Namespace) -> int:
    from quoteattr.training.packaging import package_checkpoint

    wheel = package_checkpoint(args.checkpoint, args.output, args.name, args.version)
    print(f"wrote {wheel}; `pip install {wheel}` then `quoteattr predict --system {args.name} ...`")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from quoteattr.training.export import export_checkpoint

    folder = export_checkpoint(args.checkpoint, args.output, args.format, args.quantize or "fp32")
    print(
        f"wrote {folder} ({args.format}, {args.quantize or 'fp32'}); `quoteattr predict --system {folder} ...` runs it"
    )
    return 0


def cmd_find_decoding(args: argparse.Namespace) -> int:
    from dataclasses import asdict

    from quoteattr.data.readers import read_articles
    from quoteattr.data.writers import check_writable, write_json
    from quoteattr.systems.model.attributor import QuoteAttributor
    from quoteattr.training.decoding_search import DecodingGrid, find_decoding, save_decoding

    grid = DecodingGrid.load(args.grid)
    gold = read_articles(args.gold)
    if not any(article.quotes for article in gold):
        raise InputError(f"{args.gold}: holds no gold quotes, so no decoding can be chosen on it")
    if args.output:
        check_writable(args.output)
    attributor = QuoteAttributor.from_pretrained(args.checkpoint)
    before = attributor.decoding
    rows, _ = find_decoding(attributor, gold, args.metric, grid)
    chosen = asdict(attributor.decoding)
    best = next(row for row in rows if all(row[key] == value for key, value in chosen.items()))
    print(f"{args.checkpoint} decoded with: {before.describe()}")
    print(f"best by {args.metric} F1 on {args.gold} ({len(rows)} settings): {attributor.decoding.describe()}")
    print("  " + ", ".join(f"{name} {best[name]:.3f}" for name in best if name.endswith("_f1")))
    if args.output:
        write_json(
            args.output, {"gold": args.gold, "metric": args.metric, "chosen": asdict(attributor.decoding), "rows": rows}
        )
        print(f"wrote {args.output}")
    if args.save:
        save_decoding(Path(args.checkpoint), attributor, args.gold)
        print(f"saved into {args.checkpoint}/config.json with its calibration (the model card's scores predate it)")
    else:
        flag = ",".join(f"{key}={value}" for key, value in chosen.items())
        print(f'training takes it as --decoding "{flag}"; --save writes it into the checkpoint')
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    from quoteattr.main_job import run_main_job

    train_config = None if args.train_config == "none" else Path(args.train_config)
    run_main_job(
        Path(args.output),
        raw=Path(args.raw),
        annotations=Path(args.annotations),
        seed=args.seed,
        train_config=train_config,
    )
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="quoteattr", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True, parser_class=CommandParser)

    ingest = commands.add_parser("ingest", help="read .txt/.jsonl articles into the interchange JSONL")
    _add_input_options(ingest)
    ingest.add_argument("--output", required=True)
    ingest.add_argument(
        "--report", help="write the files read and skipped and the lines removed from each as JSON here"
    )
    ingest.set_defaults(func=cmd_ingest)

    predict = commands.add_parser("predict", help="find quotes and speakers with a system")
    predict.add_argument(
        "--system",
        default="rules",
        help="'rules' (default), 'textacy', a checkpoint folder, or an installed model's name",
    )
    _add_input_options(predict)
    predict.add_argument("--output", required=True, help="file to write, or - for standard output")
    predict.add_argument(
        "--format",
        choices=("jsonl", "parquet", "tsv"),
        help="jsonl: interchange records (default; .jsonl.gz is gzipped); parquet: the same records "
        "(default for .parquet); tsv: one readable row per quote (default for .tsv); without --format, another "
        "output name is refused",
    )
    predict.add_argument(
        "--batch-size", type=int, default=32, help="windows (model) or texts (rules, textacy) per batch"
    )
    predict.add_argument(
        "--min-score", type=float, help="drop quotes scored below this (model systems; the rules give no scores)"
    )
    predict.add_argument(
        "--device",
        help="where the model runs: cpu, cuda, cuda:1, mps (default: cuda when available); model systems only",
    )
    predict.add_argument(
        "--engine",
        choices=("local", "ray"),
        default="local",
        help="local: one process, one output file (default); ray: a Ray Data job, each input file a shard, "
        "--output a folder of output shards; a rerun skips shards complete for the same system, settings and input",
    )
    predict.add_argument("--num-workers", type=int, default=2, help="ray: actors, each holding the system once")
    predict.add_argument(
        "--cpus-per-worker", type=float, default=0.5, help="ray: CPUs reserved per actor (leave some for reading)"
    )
    predict.add_argument(
        "--gpus-per-worker", type=float, default=0.0, help="ray: GPUs per actor, on a cluster that has them"
    )
    predict.add_argument(
        "--address", help="ray: a running cluster to join (e.g. 'auto' or HOST:6379); default: start Ray locally"
    )
    predict.add_argument(
        "--overwrite",
        action="store_true",
        help="ray: recompute output shards written by another system or settings (refused otherwise)",
    )
    predict.set_defaults(func=cmd_predict)

    evaluate = commands.add_parser("evaluate", help="precision/recall/F1 of predictions against gold")
    evaluate.add_argument("--gold", required=True)
    evaluate.add_argument("--pred", required=True)
    evaluate.add_argument("--output", help="write the report as JSON here")
    evaluate.add_argument("--bootstrap", type=int, default=1000, help="bootstrap samples for 95%% intervals (0: none)")
    evaluate.add_argument(
        "--target-precision", type=float, default=0.9, help="print the score threshold that reaches this precision"
    )
    evaluate.set_defaults(func=cmd_evaluate)

    compare = commands.add_parser("compare", help="run systems on a gold corpus and compare them side by side")
    compare.add_argument("--gold", required=True, help="gold interchange JSONL")
    compare.add_argument("--systems", nargs="+", default=["rules", "textacy"])
    compare.add_argument(
        "--output", required=True, help="folder of the reports (no default: `quoteattr run` writes outputs/compare)"
    )
    compare.add_argument("--bootstrap", type=int, default=1000)
    compare.add_argument("--html-articles", type=int, default=25, help="articles shown in the HTML views")
    compare.add_argument(
        "--target-precision",
        type=float,
        default=0.9,
        help="print and mark the score threshold that reaches this precision",
    )
    compare.set_defaults(func=cmd_compare)

    build = commands.add_parser("build", help="build the Hugging Face dataset from labelled articles")
    build.add_argument("inputs", nargs="*", help="interchange JSONL files to add (split at random by article)")
    build.add_argument(
        "--annotations", help="folder of Label Studio export files (default data/annotations when no input is given)"
    )
    build.add_argument("--train", help="interchange JSONL used as the train split as is")
    build.add_argument("--validation", help="interchange JSONL used as the validation split as is")
    build.add_argument("--test", help="interchange JSONL used as the test split as is")
    build.add_argument(
        "--validation-from-train",
        type=float,
        metavar="FRACTION",
        help="carve validation out of --train (by article, seeded)",
    )
    build.add_argument(
        "--output",
        default="outputs/dataset",
        help="dataset folder; replaced only when it holds a dataset built from the same sources (else --overwrite)",
    )
    build.add_argument(
        "--overwrite", action="store_true", help="replace --output whatever it holds (a dataset of other sources)"
    )
    build.add_argument("--seed", type=int, default=13)
    build.add_argument("--licence", default=None, help="licence line for the card (default: the embedded corpus's)")
    build.set_defaults(func=cmd_build)

    convert = commands.add_parser("convert", help="convert a public corpus into the interchange JSONL")
    corpora = convert.add_subparsers(dest="corpus", required=True)
    polnear = corpora.add_parser("polnear", help="a PolNeAR compartment folder (text/ + attributions/)")
    polnear.add_argument("--input", required=True, help="e.g. PolNeAR/dev")
    polnear.add_argument("--output", required=True)
    polnear.add_argument("--report", help="write problems and annotator agreement as JSON here")
    polnear.add_argument("--no-resolve", action="store_true", help="skip the silver speaker-entity resolution")
    polnear.set_defaults(func=cmd_convert_polnear)

    from quoteattr.labelstudio.selection import STRATEGIES

    studio = commands.add_parser("labelstudio", help="review in Label Studio: push tasks, pull annotations")
    studio_commands = studio.add_subparsers(dest="action", required=True)
    push = studio_commands.add_parser(
        "push", help="import articles as tasks with predictions (token: $LABEL_STUDIO_API_KEY)"
    )
    _add_input_options(push)
    push.add_argument(
        "--system",
        default="rules",
        help=PUSH_SYSTEM_HELP,
    )
    push.add_argument("--model-version", help="tag of the predictions (default: the system name)")
    push.add_argument(
        "--select", type=int, metavar="N", help="push only N articles of the pool not yet labelled or pushed"
    )
    push.add_argument(
        "--strategy",
        choices=STRATEGIES,
        default="expected-errors",
        help="with --select: the articles with the most expected errors (expected-errors, the best measured in the "
        "active-learning simulation), whose predictions are least sure (uncertainty), or a random draw",
    )
    push.add_argument("--seed", type=int, default=0, help="with --select: breaks ties, and draws for --strategy random")
    pull = studio_commands.add_parser(
        "pull", help="export annotations into data/annotations/ and the interchange JSONL"
    )
    pull.add_argument("--output", help="gold interchange JSONL of the project's annotated articles")
    for command, func in ((push, cmd_labelstudio_push), (pull, cmd_labelstudio_pull)):
        command.add_argument("--url", required=True, help="Label Studio server, e.g. http://127.0.0.1:8080")
        command.add_argument("--project", default="quoteattr", help="project title (created by push when missing)")
        command.add_argument("--annotations", default="data/annotations")
        command.add_argument("--retries", type=int, default=5, help="attempts while the server is unreachable")
        command.set_defaults(func=func)

    train = commands.add_parser(
        "train", help=TRAINING_HELP, add_help=False
    )  # its own parser (the trainer's) reads every argument
    train.set_defaults(func=cmd_train, training_arguments=[])

    package = commands.add_parser("package", help="build a pip-installable wheel holding a checkpoint")
    package.add_argument("checkpoint")
    package.add_argument("--output", default="dist")
    package.add_argument("--name", default="news", help="the name `quoteattr predict --system` will know it by")
    package.add_argument("--version", default="0.1.0")
    package.set_defaults(func=cmd_package)

    export = commands.add_parser(
        "export", help="export a checkpoint for fast CPU inference (ONNX Runtime, or PyTorch int8)"
    )
    export.add_argument("checkpoint")
    export.add_argument(
        "--format", choices=("onnx", "torch"), required=True, help="onnx: an ONNX Runtime graph; torch: PyTorch"
    )
    export.add_argument("--quantize", choices=("int8",), help="int8 weights (dynamic quantization); default fp32")
    export.add_argument("--output", required=True, help="a new folder")
    export.set_defaults(func=cmd_export)

    find = commands.add_parser(
        "find-decoding", help="choose a checkpoint's decoding settings on gold articles (training's last step)"
    )
    find.add_argument("checkpoint")
    find.add_argument("--gold", required=True, help="interchange file of validation articles with gold quotes")
    find.add_argument("--metric", choices=SEARCH_METRICS, default="attribution", help="the F1 to maximise")
    find.add_argument("--grid", help="YAML file of the search space (default: the packaged grid)")
    find.add_argument("--output", help="JSON file of every setting's scores")
    find.add_argument("--save", action="store_true", help="write the choice and its calibration into the checkpoint")
    find.set_defaults(func=cmd_find_decoding)

    run = commands.add_parser(
        "run", help="the main job on the embedded data: ingest, build, train, evaluate model and rules"
    )
    run.add_argument("--raw", default="data/raw")
    run.add_argument("--annotations", default="data/annotations")
    run.add_argument("--output", default="outputs")
    run.add_argument("--seed", type=int, default=13)
    run.add_argument("--train-config", default="configs/default.yaml", help="training config ('none': rules only)")
    run.set_defaults(func=cmd_run)
    return parser


class CommandParser(argparse.ArgumentParser):
    """A subcommand's parser: its --help states each option's default (nested subcommands inherit it)."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("formatter_class", argparse.ArgumentDefaultsHelpFormatter)
        super().__init__(*args, **kwargs)


class Terminated(BaseException):
    """SIGTERM as an exception, as Ctrl-C is KeyboardInterrupt: writers remove their temporary files on the way
    out (a BaseException, so no ``except Exception`` swallows it)."""


def _raise_terminated(signum: int, frame: object) -> None:
    raise Terminated


@contextmanager
def sigterm_raises() -> Iterator[None]:
    """Turn SIGTERM into ``Terminated`` while a command runs, then restore the old handler (an in-process caller,
    such as a test, keeps its own)."""
    previous = signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def main(argv: list[str] | None = None) -> int:
    """Entry point; bad input (or an unusable server or file system) exits with status 2, an interruption with
    130 (SIGINT) or 143 (SIGTERM), each with one line saying what and where."""
    show_log()
    parser = build_parser()
    args, rest = parser.parse_known_args(argv)
    if args.command == "train":
        args.training_arguments = rest
    elif rest:
        parser.error(f"unrecognized arguments: {' '.join(rest)}")
    output = getattr(args, "output", None)
    try:
        with sigterm_raises():
            return args.func(args)
    except InputError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except OSError as error:  # the file system refused: a full disk, a closed pipe, an unreadable file
        print(f"error: {error.filename or output or args.command}: {error.strerror or error}", file=sys.stderr)
        return 2
    except (KeyboardInterrupt, Terminated) as stop:
        number = signal.SIGTERM if isinstance(stop, Terminated) else signal.SIGINT
        where = f"{output}: " if output and output != STDIO else ""
        print(f"error: {where}interrupted by {number.name}; the file in progress was removed", file=sys.stderr)
        return 128 + number


if __name__ == "__main__":
    sys.exit(main())
