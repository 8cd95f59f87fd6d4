"""Validation during a run: the checkpoint in training scored end to end, decoded as its export will decode."""

from __future__ import annotations

import json
from typing import Any

from quoteattr.data.schema import Article


def validation_scores(attributor: Any, articles: list[Article], metric: Any, batch_size: int) -> dict[str, float]:
    """The headline and per-type F1s of ``attributor`` on ``articles``, decoded exactly as its exported checkpoint
    will decode them (tagger, linker and decoding settings), through the project's ``evaluate`` module; a quote type
    with no quote on either side has no entry."""
    predictions = list(attributor.predict(articles, batch_size=batch_size))
    result = metric.compute(
        predictions=[json.dumps(a.to_dict()) for a in predictions],
        references=[json.dumps(a.to_dict()) for a in articles],
    )
    headline = {k: v for k, v in result.items() if "/" not in k and k.endswith(("_precision", "_recall", "_f1"))}
    typed = {
        k: v
        for k, v in result.items()
        if k.startswith(("content_overlap/", "attribution/")) and k.endswith("_f1") and v is not None
    }
    return {**headline, **typed}
