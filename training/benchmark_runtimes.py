"""Speed and accuracy of each CPU runtime of a checkpoint: PyTorch fp32 and int8, ONNX Runtime fp32 and int8.

    python training/benchmark_runtimes.py --checkpoint outputs/polnear/model/final --gold outputs/polnear/dev.jsonl

Exports the checkpoint to each runtime (`quoteattr export`), then prints, on the same windows: encoder
tokens/s and the speed-up over PyTorch fp32; the whole pipeline's articles/s and its ratio to a bare pass
of the same encoder over the same batches (target ≥ 0.85); content overlap and attribution F1 on the gold
articles and their difference from fp32 (target within 0.01); and the rules' articles/s for comparison.
Every time is the best of ``--repeats`` passes (as ``timeit`` advises: the slower ones measure the machine's
other work, not the runtime), and the passes are interleaved: each round times every runtime's bare encoder
and pipeline in turn, so a machine that drifts slower or faster during the run moves all of them alike
instead of the runtime that happened to be measured then.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import torch  # noqa: E402

from quoteattr.data.article_files import read_articles  # noqa: E402
from quoteattr.evaluation.scoring import evaluate_articles  # noqa: E402
from quoteattr.systems.model.attributor import QuoteAttributor  # noqa: E402
from quoteattr.systems.model.windows import tokenize  # noqa: E402
from quoteattr.systems.rules import RulesAttributor  # noqa: E402
from quoteattr.training.export import export_checkpoint  # noqa: E402

RUNTIMES = (("torch", "fp32"), ("torch", "int8"), ("onnx", "fp32"), ("onnx", "int8"))


def windows_of(attributor: QuoteAttributor, articles) -> list[list[int]]:
    marker = attributor.settings.get("paragraph_marker")
    return [w for a in articles for w in attributor._encode(tokenize(attributor.tokenizer, a.text, marker))[1]]


def length_batches(attributor: QuoteAttributor, windows: list[list[int]], batch_size: int) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """The windows padded into batches of similar length (ids and attention mask), as predict batches them."""
    pad = attributor.tokenizer.pad_token_id
    ordered = sorted(windows, key=len)
    batches = []
    for first in range(0, len(ordered), batch_size):
        chunk = ordered[first : first + batch_size]
        length = max(map(len, chunk))
        batches.append((torch.tensor([s + [pad] * (length - len(s)) for s in chunk]),
                        torch.tensor([[1] * len(s) + [0] * (length - len(s)) for s in chunk])))
    return batches


@torch.inference_mode()
def encoder_seconds(attributor: QuoteAttributor, batches: list[tuple[torch.Tensor, torch.Tensor]]) -> float:
    """One bare pass of the attributor's encoder over the batches."""
    start = time.perf_counter()
    for ids, mask in batches:
        attributor.encoder(ids, mask)
    return time.perf_counter() - start


def seconds(run) -> tuple[float, object]:
    """How long one call of ``run`` took, and its result."""
    start = time.perf_counter()
    result = run()
    return time.perf_counter() - start, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--checkpoint", required=True, help="a PyTorch checkpoint folder")
    parser.add_argument("--gold", required=True, help="gold interchange file: the articles timed and scored")
    parser.add_argument("--articles", type=int, help="only the first N gold articles")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=3, help="timed passes per measurement; the best is reported")
    args = parser.parse_args()
    gold = read_articles(args.gold)[: args.articles]
    print(f"{len(gold)} articles from {args.gold}; torch threads: {torch.get_num_threads()}")

    rules = RulesAttributor()
    list(rules.predict(gold[:2]))
    rules_rate = len(gold) / min(seconds(lambda: list(rules.predict(gold)))[0] for _ in range(args.repeats))

    with tempfile.TemporaryDirectory() as work:
        runs = []
        for backend, precision in RUNTIMES:
            folder = Path(args.checkpoint)
            if (backend, precision) != ("torch", "fp32"):
                folder = export_checkpoint(args.checkpoint, Path(work) / f"{backend}-{precision}", backend, precision)
            attributor = QuoteAttributor.from_pretrained(folder, device="cpu")
            windows = windows_of(attributor, gold)
            batches = length_batches(attributor, windows, args.batch_size)
            attributor.encoder(*batches[0])  # warm-up
            list(attributor.predict(gold[:2], batch_size=args.batch_size))
            runs.append({"runtime": f"{backend} {precision}", "attributor": attributor, "batches": batches,
                         "tokens": sum(map(len, windows)), "bare": [], "pipeline": []})
            print(f"  {backend} {precision}: {len(windows)} windows, {runs[-1]['tokens']} tokens", flush=True)
        for round_ in range(args.repeats):
            for run in runs:
                run["bare"].append(encoder_seconds(run["attributor"], run["batches"]))
                elapsed, run["predictions"] = seconds(lambda: list(run["attributor"].predict(gold, batch_size=args.batch_size)))
                run["pipeline"].append(elapsed)
            print(f"  round {round_ + 1}/{args.repeats}: " + ", ".join(f"{r['runtime']} {r['bare'][-1]:.1f}s / {r['pipeline'][-1]:.1f}s" for r in runs), flush=True)

    rows = []
    for run in runs:
        metrics = evaluate_articles(gold, run["predictions"], bootstrap=0)["metrics"]
        bare, pipeline = min(run["bare"]), min(run["pipeline"])
        rows.append({
            "runtime": run["runtime"], "tokens_per_s": run["tokens"] / bare, "articles_per_s": len(gold) / pipeline,
            "ratio": bare / pipeline, "overlap": metrics["content_overlap"]["f1"], "attribution": metrics["attribution"]["f1"],
        })

    fp32 = rows[0]
    print("\n| runtime | encoder tokens/s | vs torch fp32 | pipeline articles/s | pipeline/bare | content overlap F1 | Δ | attribution F1 | Δ |")
    print("|---|---|---|---|---|---|---|---|---|")
    for row in rows:
        print(f"| {row['runtime']} | {row['tokens_per_s']:.0f} | {row['tokens_per_s'] / fp32['tokens_per_s']:.2f}× | {row['articles_per_s']:.2f} | "
              f"{row['ratio']:.3f} | {row['overlap']:.3f} | {row['overlap'] - fp32['overlap']:+.3f} | {row['attribution']:.3f} | "
              f"{row['attribution'] - fp32['attribution']:+.3f} |")
    print(f"| rules (spaCy) | – | – | {rules_rate:.2f} | – | – | – | – | – |")


if __name__ == "__main__":
    main()
