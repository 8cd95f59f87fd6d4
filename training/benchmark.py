"""Speed and memory of the model pipeline against its bare encoder (prints measured numbers; not a test).

    python training/benchmark.py [--checkpoint DIR] [--articles 24] [--train-steps 10] [--articles-from FILE]

Predict: articles/s and tokens/s of QuoteAttributor.predict, and tokens/s of a bare forward pass of the
same encoder over the same batches, each timed beside the pipeline's (target ratio ≥ 0.85), and how much of the
pipeline's time spaCy's entity recogniser takes (the antecedent candidates of pronoun and description speakers);
peak memory.
Training: Trainer's sequences/s against a bare forward+backward+step loop over the same batches (target
ratio ≥ 0.9). ``--output FILE.json`` also writes the numbers and the command line (for ``docs/make_results.py``).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shlex
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import torch  # noqa: E402
from transformers import AutoTokenizer, Trainer, TrainingArguments  # noqa: E402

from benchmark_runtimes import timed_round  # noqa: E402  (the script beside this one)
from quoteattr.data.readers import read_articles  # noqa: E402
from quoteattr.labelstudio.annotations import load_gold  # noqa: E402
from quoteattr.systems.model import attributor as attributor_module  # noqa: E402
from quoteattr.systems.model.attributor import QuoteAttributor  # noqa: E402
from quoteattr.systems.model.decoding_config import DecodingConfig  # noqa: E402
from quoteattr.systems.model.modeling import QuoteAttributionModel, SpeakerLinker, collate  # noqa: E402
from quoteattr.systems.model.runtimes import quiet_progress  # noqa: E402
from quoteattr.systems.model.windows import LABELS, PARAGRAPH_MARKER, tokenize  # noqa: E402
from quoteattr.training.base_model import PACKAGED_MODEL, resolve_model_path  # noqa: E402
from quoteattr.training.console import load_base_tagger  # noqa: E402
from quoteattr.training.trainer import FEATURE_COLUMNS, window_features  # noqa: E402


def new_head_tagger(base: str):
    """The packaged encoder with a new tagger head, as training builds it: the new head and the base's unused
    weights are expected, so transformers' LOAD REPORT of them is not printed (nor its progress bar)."""
    with quiet_progress():
        return load_base_tagger(base, LABELS, PACKAGED_MODEL)


def fresh_attributor(max_length: int, stride: int) -> QuoteAttributor:
    """The default architecture on the packaged encoder with untrained heads: the same compute as a checkpoint."""
    base = resolve_model_path(PACKAGED_MODEL)
    tagger = new_head_tagger(base)
    linker = {"inner_size": 256, "paragraph_span": 3, "previous_speaker": True}
    settings = {
        "max_length": max_length,
        "stride": stride,
        "labels": LABELS,
        "linker": linker,
        "paragraph_marker": PARAGRAPH_MARKER,
        "decoding": DecodingConfig().to_dict(),
    }
    model = QuoteAttributionModel(tagger, SpeakerLinker(tagger.config.hidden_size, **linker))
    return QuoteAttributor(model, AutoTokenizer.from_pretrained(base), settings)


class TimedCalls:
    """A function that adds up the calls made to it and the seconds spent in them."""

    def __init__(self, function) -> None:
        self.function, self.calls, self.seconds = function, 0, 0.0

    def __call__(self, *args):
        started = time.perf_counter()
        try:
            return self.function(*args)
        finally:
            self.calls, self.seconds = self.calls + 1, self.seconds + time.perf_counter() - started


def bench_predict(attributor: QuoteAttributor, articles, batch_size: int) -> dict:
    list(attributor.predict(articles[:2], batch_size=batch_size))  # warm-up
    attributor_module.named_mentions("Ann Lee said so.")  # spaCy's recogniser loaded outside the timed round
    recogniser = attributor_module.named_mentions = TimedCalls(attributor_module.named_mentions)
    try:
        bare_seconds, predict_seconds, window_tokens, _ = timed_round(attributor, articles, batch_size)
    finally:
        attributor_module.named_mentions = recogniser.function
    without_rate = window_tokens / (predict_seconds - recogniser.seconds)
    marker = attributor.settings.get("paragraph_marker")
    tokens = sum(len(tokenize(attributor.tokenizer, a.text, marker).ids) for a in articles)
    predict_rate, bare_rate = window_tokens / predict_seconds, window_tokens / bare_seconds
    print(f"predict: {len(articles)} articles, {tokens} article tokens, {window_tokens} window tokens")
    print(
        f"  pipeline: {len(articles) / predict_seconds:.2f} articles/s, "
        f"{predict_rate:.0f} window tokens/s ({predict_seconds:.2f}s)"
    )
    print(
        "  bare encoder forward, each batch beside the pipeline's: "
        f"{bare_rate:.0f} window tokens/s ({bare_seconds:.2f}s)"
    )
    print(f"  ratio pipeline/bare: {predict_rate / bare_rate:.3f} (target >= 0.85)")
    print(
        f"  of which spaCy's entity recogniser: {recogniser.seconds:.2f}s in {recogniser.calls} articles; "
        f"ratio without it: {without_rate / bare_rate:.3f}"
    )
    print(f"  peak resident memory: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")
    if torch.cuda.is_available():
        print(f"  peak GPU memory: {torch.cuda.max_memory_allocated() / 2**20:.0f} MiB")
    return {
        "articles": len(articles),
        "article_tokens": tokens,
        "window_tokens": window_tokens,
        "seconds": predict_seconds,
        "bare_seconds": bare_seconds,
        "articles_per_s": len(articles) / predict_seconds,
        "window_tokens_per_s": predict_rate,
        "bare_window_tokens_per_s": bare_rate,
        "ratio": predict_rate / bare_rate,
        "recogniser_seconds": recogniser.seconds,
        "recogniser_articles": recogniser.calls,
        "ratio_without_recogniser": without_rate / bare_rate,
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def bench_training(articles, steps: int, batch_size: int, max_length: int, stride: int) -> dict:
    base = resolve_model_path(PACKAGED_MODEL)
    tokenizer = AutoTokenizer.from_pretrained(base)
    features = window_features(articles, tokenizer, max_length, stride, PARAGRAPH_MARKER)
    features = (features * (1 + steps * batch_size // max(1, len(features))))[: steps * batch_size]

    def fresh_model() -> QuoteAttributionModel:
        torch.manual_seed(0)
        tagger = new_head_tagger(base)
        return QuoteAttributionModel(
            tagger, SpeakerLinker(tagger.config.hidden_size, paragraph_span=3, previous_speaker=True)
        )

    batches = [
        collate(features[i : i + batch_size], tokenizer.pad_token_id) for i in range(0, len(features), batch_size)
    ]
    model = fresh_model().train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4)
    ends = []
    for batch in batches:
        optimizer.zero_grad()
        model(**batch)["loss"].backward()
        optimizer.step()
        ends.append(time.perf_counter())
    bare_rate = batch_size * (len(ends) - 1) / (ends[-1] - ends[0])  # from the end of the first step: no start-up

    from datasets import Dataset
    from transformers import TrainerCallback

    class StepTimes(TrainerCallback):
        def __init__(self) -> None:
            self.ends: list[float] = []

        def on_step_end(self, args, state, control, **kwargs):
            self.ends.append(time.perf_counter())

    step_times = StepTimes()
    with tempfile.TemporaryDirectory() as output:
        args = TrainingArguments(
            output_dir=output,
            max_steps=steps,
            per_device_train_batch_size=batch_size,
            learning_rate=1e-4,
            save_strategy="no",
            report_to="none",
            logging_steps=10_000,
            remove_unused_columns=False,
            label_names=["labels"],
            disable_tqdm=True,
            dataloader_num_workers=0,
            dataloader_pin_memory=torch.cuda.is_available(),
        )
        trainer = Trainer(
            model=fresh_model(),
            args=args,
            train_dataset=Dataset.from_dict({c: [f[c] for f in features] for c in FEATURE_COLUMNS}),
            data_collator=lambda rows: collate(rows, tokenizer.pad_token_id),
            callbacks=[step_times],
        )
        trainer.train()
    trainer_rate = batch_size * (len(step_times.ends) - 1) / (step_times.ends[-1] - step_times.ends[0])
    print(
        f"training: {steps} steps of {batch_size} windows of up to {max_length} tokens (rates from the end of step 1)"
    )
    print(f"  Trainer: {trainer_rate:.2f} sequences/s; bare forward+backward+step loop: {bare_rate:.2f} sequences/s")
    print(f"  ratio Trainer/bare: {trainer_rate / bare_rate:.3f} (target >= 0.9)")
    return {
        "steps": steps,
        "batch_size": batch_size,
        "max_length": max_length,
        "trainer_sequences_per_s": trainer_rate,
        "bare_sequences_per_s": bare_rate,
        "ratio": trainer_rate / bare_rate,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkpoint", help="a trained checkpoint (default: the architecture with untrained heads)")
    parser.add_argument("--annotations", default="data/annotations")
    parser.add_argument(
        "--articles-from", help="an interchange file of articles instead (e.g. news-length PolNeAR dev)"
    )
    parser.add_argument("--articles", type=int, default=24)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--train-steps", type=int, default=10)
    parser.add_argument("--train-batch-size", type=int, default=8)
    parser.add_argument("--max-length", type=int, default=256)
    parser.add_argument("--stride", type=int, default=64)
    parser.add_argument("--output", help="also write the measured numbers and this command line to this JSON file")
    args = parser.parse_args()
    articles = read_articles(args.articles_from) if args.articles_from else load_gold(args.annotations).articles
    articles = (articles * (1 + args.articles // len(articles)))[: args.articles]
    print(f"device: {'cuda' if torch.cuda.is_available() else 'cpu'}, torch threads: {torch.get_num_threads()}")
    attributor = (
        QuoteAttributor.from_pretrained(args.checkpoint)
        if args.checkpoint
        else fresh_attributor(args.max_length, args.stride)
    )
    result = {
        "command": shlex.join(["python", *sys.argv]),
        "device": "cuda" if torch.cuda.is_available() else "cpu",
        "torch_threads": torch.get_num_threads(),
        "predict": bench_predict(attributor, articles, args.batch_size),
    }
    if args.train_steps:
        result["training"] = bench_training(
            articles, args.train_steps, args.train_batch_size, args.max_length, args.stride
        )
    if args.output:
        Path(args.output).write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
        print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
