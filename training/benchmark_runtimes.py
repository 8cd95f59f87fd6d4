"""Speed and accuracy of each CPU runtime of a checkpoint: PyTorch fp32 and int8, ONNX Runtime fp32 and int8.

    python training/benchmark_runtimes.py --checkpoint outputs/polnear/model/final --gold outputs/polnear/dev.jsonl

Exports the checkpoint to each runtime (`quoteattr export`), then prints, on the same windows: encoder
tokens/s and the speed-up over PyTorch fp32; the whole pipeline's articles/s and its ratio to a bare pass
of the same encoder over the same batches (target ≥ 0.85); content overlap and attribution F1 on the gold
articles and their difference from fp32 (target within 0.01); and the rules' articles/s for comparison.
``--output FILE.json`` also writes those numbers and the command line (for ``docs/make_results.py``).
The bare pass is timed batch by batch beside the pipeline: every batch the pipeline sends to its encoder
is run again, bare, right before or after (alternately), and the pipeline's time is its wall time less
those bare runs. The two are thus measured under the same machine conditions; on a shared machine, two
separate passes even a minute apart differ by more than the pipeline's own work. The ratio reported is
the median over ``--repeats`` rounds, the speeds the best round (as ``timeit`` advises: the slower ones
measure the machine's other work, not the runtime), and each round times every runtime in turn.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import torch  # noqa: E402

from quoteattr.data.readers import read_articles  # noqa: E402
from quoteattr.evaluation.scoring import evaluate_articles  # noqa: E402
from quoteattr.systems.model.attributor import QuoteAttributor  # noqa: E402
from quoteattr.systems.rules import RulesAttributor  # noqa: E402
from quoteattr.training.export import export_checkpoint  # noqa: E402

RUNTIMES = (("torch", "fp32"), ("torch", "int8"), ("onnx", "fp32"), ("onnx", "int8"))


class BareTwinTimer:
    """An encoder that runs each batch twice, once for the pipeline and once bare (timed), alternating
    which goes first, and counts the tokens (not padding) it encoded."""

    def __init__(self, encoder) -> None:
        self.encoder, self.bare_seconds, self.tokens, self.calls = encoder, 0.0, 0, 0

    def _bare(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> None:
        start = time.perf_counter()
        with torch.inference_mode():
            self.encoder(input_ids, attention_mask)
        self.bare_seconds += time.perf_counter() - start

    def __call__(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        self.calls += 1
        self.tokens += int(attention_mask.sum())
        if self.calls % 2:
            self._bare(input_ids, attention_mask)
            return self.encoder(input_ids, attention_mask)
        outputs = self.encoder(input_ids, attention_mask)
        self._bare(input_ids, attention_mask)
        return outputs


def timed_round(attributor: QuoteAttributor, articles, batch_size: int) -> tuple[float, float, int, list]:
    """One pipeline pass with its bare twin: (bare seconds, pipeline seconds, tokens, predictions)."""
    encoder = attributor.encoder
    attributor.encoder = twin = BareTwinTimer(encoder)
    try:
        elapsed, predictions = seconds(lambda: list(attributor.predict(articles, batch_size=batch_size)))
    finally:
        attributor.encoder = encoder
    return twin.bare_seconds, elapsed - twin.bare_seconds, twin.tokens, predictions


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
    parser.add_argument(
        "--repeats", type=int, default=3, help="timed rounds: speeds from the best, pipeline/bare the median"
    )
    parser.add_argument("--output", help="also write the measured numbers and this command line to this JSON file")
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
            list(attributor.predict(gold[:2], batch_size=args.batch_size))  # warm-up
            runs.append({"runtime": f"{backend} {precision}", "attributor": attributor, "bare": [], "pipeline": []})
            print(f"  {backend} {precision}: ready", flush=True)
        for round_ in range(args.repeats):
            for run in runs:
                bare, pipeline, run["tokens"], run["predictions"] = timed_round(
                    run["attributor"], gold, args.batch_size
                )
                run["bare"].append(bare)
                run["pipeline"].append(pipeline)
            print(
                f"  round {round_ + 1}/{args.repeats}, bare / pipeline: "
                + ", ".join(f"{r['runtime']} {r['bare'][-1]:.1f}s / {r['pipeline'][-1]:.1f}s" for r in runs),
                flush=True,
            )

    rows = []
    for run in runs:
        metrics = evaluate_articles(gold, run["predictions"], bootstrap=0)["metrics"]
        rows.append(
            {
                "runtime": run["runtime"],
                "tokens_per_s": run["tokens"] / min(run["bare"]),
                "articles_per_s": len(gold) / min(run["pipeline"]),
                "ratio": statistics.median(b / p for b, p in zip(run["bare"], run["pipeline"])),
                "overlap": metrics["content_overlap"]["f1"],
                "attribution": metrics["attribution"]["f1"],
            }
        )

    fp32 = rows[0]
    print(
        "\n| runtime | encoder tokens/s | vs torch fp32 | pipeline articles/s | pipeline/bare "
        "| content overlap F1 | Δ | attribution F1 | Δ |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for row in rows:
        relative = row["tokens_per_s"] / fp32["tokens_per_s"]
        speed = f"{row['tokens_per_s']:.0f} | {relative:.2f}× | {row['articles_per_s']:.2f}"
        overlap = f"{row['overlap']:.3f} | {row['overlap'] - fp32['overlap']:+.3f}"
        attribution = f"{row['attribution']:.3f} | {row['attribution'] - fp32['attribution']:+.3f}"
        print(f"| {row['runtime']} | {speed} | {row['ratio']:.3f} | {overlap} | {attribution} |")
    print(f"| rules (spaCy) | – | – | {rules_rate:.2f} | – | – | – | – | – |")
    if args.output:
        result = {
            "command": shlex.join(["python", *sys.argv]),
            "articles": len(gold),
            "repeats": args.repeats,
            "torch_threads": torch.get_num_threads(),
            "runtimes": rows,
            "rules_articles_per_s": rules_rate,
        }
        Path(args.output).write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
        print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
