"""Content, cue and attribution F1 of a checkpoint with a fragment joiner on gold articles, its quotes assembled by
the joiner (at each threshold) against the grouping rules it replaced (which older checkpoints without a joiner use),
and, with a cue scorer, each quote's cue linked by it against the cue nearest its speaker (the rule it replaced).
Same articles, same encoder pass, the checkpoint's decoding otherwise: only the assembly differs.

    python eval/assembly_ablation.py --checkpoint outputs/polnear/model/final --gold outputs/polnear/validation.jsonl
"""

from __future__ import annotations

import sys

from quoteattr.data.errors import InputError
from quoteattr.data.readers import read_articles
from quoteattr.evaluation.ablation import ablation_main, variant_f1s
from quoteattr.systems.model.attributor import QuoteAttributor
from quoteattr.systems.model.decoding_config import DecodingConfig

REPORTED = ("content_exact", "content_overlap", "cue", "attribution")
THRESHOLDS = (0.3, 0.4, 0.5, 0.6, 0.7)
RULES = "grouping rules"
NEAREST_CUE = "cue nearest the speaker"


def variants(decoding: DecodingConfig, cue_scorer: bool) -> dict[str, tuple[bool, bool, DecodingConfig]]:
    """Each assembly to score: (with the joiner, with the cue scorer, decoding), by name."""
    rows = {f"joiner, threshold {t}": (True, cue_scorer, decoding.replace(join_threshold=t)) for t in THRESHOLDS}
    rows[RULES] = (False, cue_scorer, decoding)
    if cue_scorer:
        rows[NEAREST_CUE] = (True, False, decoding)
    return rows


def report(checkpoint: str, gold_path: str) -> dict:
    """The F1s of each assembly."""
    gold = read_articles(gold_path)
    attributor = QuoteAttributor.from_pretrained(checkpoint)
    joiner, cue_scorer = attributor.linker.joiner, attributor.linker.cue_scorer
    if joiner is None:
        raise InputError(f"{checkpoint}: has no fragment joiner to compare with the rules")
    analysed = list(attributor.analyse(gold))
    rows = {}
    for name, (with_joiner, with_cues, decoding) in variants(attributor.decoding, cue_scorer is not None).items():
        attributor.linker.joiner = joiner if with_joiner else None
        attributor.linker.cue_scorer = cue_scorer if with_cues else None
        predicted = [attributor.attribute(article, analysis, decoding=decoding) for article, analysis in analysed]
        rows[name] = variant_f1s(gold, predicted, REPORTED)
    threshold = attributor.decoding.join_threshold
    return {"checkpoint": checkpoint, "gold": gold_path, "shipped_threshold": threshold, "variants": rows}


def main(argv: list[str] | None = None) -> int:
    return ablation_main("eval/assembly_ablation.py", __doc__.split("\n\n")[0], report, argv)


if __name__ == "__main__":
    sys.exit(main())
