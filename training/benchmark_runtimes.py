"""Speed and accuracy of each CPU runtime of a checkpoint: PyTorch fp32 and int8, ONNX Runtime fp32 and int8.

    python training/benchmark_runtimes.py --checkpoint outputs/polnear/model/final --gold outputs/polnear/dev.jsonl

Exports the checkpoint to each runtime (`quoteattr export`), then prints, on the same windows: encoder
tokens/s and the speed-up over PyTorch fp32; the whole pipeline's articles/s and its ratio to a bare pass
of the same encoder over the same batches (target ≥ 0.85); content overlap and attribution F1 on the gold
articles and their difference from fp32 (target within 0.01); and the rules' articles/s for comparison.
Every time is the best of ``--repeats`` passes (as ``timeit`` advises: the slower ones measure the machine's
other work, not the runtime).
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


@torch.inference_mode()
def encoder_seconds(attributor: QuoteAttributor, windows: list[list[int]], batch_size: int) -> float:
    """A bare pass of the attributor's encoder over the windows, batched by length as predict does."""
    pad = attributor.tokenizer.pad_token_id
    ordered = sorted(windows, key=len)
    batches = []
    for first in range(0, len(ordered), batch_size):
        chunk = ordered[first : first + batch_size]
        length = max(map(len, chunk))
        batches.append((torch.tensor([s + [pad] * (length - len(s)) for s in chunk]),
                        torch.tensor([[1] * len(s) + [0] * (length - len(s)) for s in chunk])))
    attributor.encoder(*batches[0])  # warm-up
    start = time.perf_counter()
    for ids, mask in batches:
        attributor.encoder(ids, mask)
    return time.perf_counter() - start


def best_of(repeats: int, run) -> tuple[float, object]:
    """The shortest of ``repeats`` timed calls of ``run`` and the last call's result."""
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = run()
        times.append(time.perf_counter() - start)
    return min(times), result


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
    rules_rate = len(gold) / best_of(args.repeats, lambda: list(rules.predict(gold)))[0]

    rows = []
    with tempfile.TemporaryDirectory() as work:
        for backend, precision in RUNTIMES:
            folder = Path(args.checkpoint)
            if (backend, precision) != ("torch", "fp32"):
                folder = export_checkpoint(args.checkpoint, Path(work) / f"{backend}-{precision}", backend, precision)
            attributor = QuoteAttributor.from_pretrained(folder, device="cpu")
            windows = windows_of(attributor, gold)
            window_tokens = sum(map(len, windows))
            bare = min(encoder_seconds(attributor, windows, args.batch_size) for _ in range(args.repeats))
            list(attributor.predict(gold[:2], batch_size=args.batch_size))  # warm-up
            pipeline, predictions = best_of(args.repeats, lambda: list(attributor.predict(gold, batch_size=args.batch_size)))
            metrics = evaluate_articles(gold, predictions, bootstrap=0)["metrics"]
            rows.append({
                "runtime": f"{backend} {precision}", "tokens_per_s": window_tokens / bare, "articles_per_s": len(gold) / pipeline,
                "ratio": bare / pipeline, "overlap": metrics["content_overlap"]["f1"], "attribution": metrics["attribution"]["f1"],
            })
            print(f"  {backend} {precision}: {len(windows)} windows, {window_tokens} tokens; encoder {window_tokens / bare:.0f} tokens/s; "
                  f"pipeline {len(gold) / pipeline:.2f} articles/s", flush=True)

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
