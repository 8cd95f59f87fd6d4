"""A checkpoint's decoding settings: one frozen, typed ``DecodingConfig``, checked where it is read (a training
config, the command line, a search grid, a checkpoint's config.json), with one place for its defaults."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields
from typing import Any

from quoteattr.data.errors import InputError

DECODING_FORMAT = 3
"""``format_version`` of the ``decoding`` block in a checkpoint's settings. Format 2 had the options of the grouping
rules the fragment joiner replaced (``GROUPING_OPTIONS``); format 1 kept the options flat in the ``quoteattr`` block
(``"decoding": "viterbi"`` was the tag decoder), with older defaults for missing keys."""

TAG_DECODERS = ("viterbi", "argmax")
SEARCH_METRICS = ("attribution", "content_overlap", "content_exact")
"""The F1s a decoding search may maximise."""


@dataclass(frozen=True)
class DecodingConfig:
    """How tag scores become quotes. ``tags``: the best valid BIO sequence (viterbi; under the tagger's CRF
    transitions when the checkpoint has them) or token by token (argmax);
    ``content_gap_tokens``: content spans split by at most this many untagged tokens are joined;
    ``min_content_words``: shorter content spans are dropped; ``join_threshold``: the fragment joiner's probability
    at which a fragment continues the quote before it; ``trim_commas``: a fragment's edge commas
    outside quotation marks are not content; ``source_candidate_bias``: extra source mentions for the linker, from
    a decoding with this much more weight on source tags; ``min_quote_score``: quotes scored below this (the
    score ``predict`` reports, calibrated when the checkpoint is) are dropped."""

    tags: str = "viterbi"
    content_gap_tokens: int = 4
    min_content_words: int = 3
    join_threshold: float = 0.5
    trim_commas: bool = False
    source_candidate_bias: float = 0.0
    min_quote_score: float = 0.0

    def __post_init__(self) -> None:
        for item in fields(self):
            value = getattr(self, item.name)
            if item.type == "bool" and not isinstance(value, bool):
                raise ValueError(f"{item.name} must be true or false, not {value!r}")
            if item.type == "int" and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
                raise ValueError(f"{item.name} must be a whole number ≥ 0, not {value!r}")
            if item.type == "float" and (
                isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value)
            ):
                raise ValueError(f"{item.name} must be a number, not {value!r}")
        if self.tags not in TAG_DECODERS:
            raise ValueError(f"tags must be one of {', '.join(TAG_DECODERS)}, not {self.tags!r}")
        for name in ("min_quote_score", "join_threshold"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must lie in [0, 1], not {getattr(self, name)!r}")
        if self.source_candidate_bias < 0:
            raise ValueError(f"source_candidate_bias must be ≥ 0, not {self.source_candidate_bias!r}")

    @classmethod
    def from_dict(cls, values: dict[str, Any], source: str) -> DecodingConfig:
        """A config from a mapping (YAML, JSON); an unknown key or a bad value is an InputError naming ``source``."""
        if not isinstance(values, dict):
            raise InputError(f"{source}: decoding settings are a mapping of option names to values")
        unknown = sorted(set(values) - OPTIONS)
        if unknown:
            raise InputError(f"{source}: unknown decoding options {unknown} (known: {', '.join(sorted(OPTIONS))})")
        try:
            return cls(**values)
        except ValueError as error:
            raise InputError(f"{source}: {error}") from None

    @classmethod
    def parse(cls, text: str, source: str = "--decoding") -> DecodingConfig:
        """``--decoding "tags=argmax,min_quote_score=0.5"``: options over the defaults, each read as YAML."""
        return cls.from_dict(parse_options(text, source), source)

    def replace(self, **changes: Any) -> DecodingConfig:
        return DecodingConfig(**{**asdict(self), **changes})

    def to_dict(self) -> dict[str, Any]:
        """The ``decoding`` block of a checkpoint's settings, with its format version."""
        return {"format_version": DECODING_FORMAT, **asdict(self)}

    def describe(self) -> str:
        return ", ".join(f"{key}={value}" for key, value in asdict(self).items())


OPTIONS = frozenset(item.name for item in fields(DecodingConfig))


def parse_options(text: str, source: str = "--decoding") -> dict[str, Any]:
    """The options of ``option=value,…`` (values read as YAML), checked as a config over the defaults would be."""
    import yaml

    values = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        key, equals, value = item.partition("=")
        if not equals:
            raise InputError(f"{source}: option=value pairs separated by commas, not {item!r}")
        values[key.strip()] = yaml.safe_load(value)
    DecodingConfig.from_dict(values, source)
    return values


FORMAT_1_DEFAULTS = {
    "decoding": "argmax",
    "content_gap_tokens": 4,
    "min_content_words": 3,
    "trim_commas": False,
    "source_candidate_bias": 0.0,
    "min_quote_score": 0.0,
}
"""What a format-1 checkpoint meant by a missing key (kept, but for the grouping options: see GROUPING_OPTIONS)."""
GROUPING_OPTIONS = ("join_across_sentences", "split_introduced", "join_wordy_cues")
"""Options of the grouping rules (formats 1 and 2), replaced by the learned fragment joiner; a checkpoint without a
joiner groups fragments by the rules with every option on (the best combination on PolNeAR's validation slice)."""
REMOVED_OPTIONS = ("snap_to_marks", "continuation", *GROUPING_OPTIONS)
"""Options of older formats that measured no effect or that a learned step replaced; a checkpoint that set them
decodes without them."""


def migrated_settings(settings: dict[str, Any], source: str) -> tuple[dict[str, Any], DecodingConfig]:
    """A checkpoint's settings with the decoding block of this format (format-1 flat keys gone), and its config."""
    decoding = checkpoint_decoding(settings, source)
    flat = set(FORMAT_1_DEFAULTS) | set(REMOVED_OPTIONS)
    return {**{k: v for k, v in settings.items() if k not in flat}, "decoding": decoding.to_dict()}, decoding


def checkpoint_decoding(settings: dict[str, Any], source: str) -> DecodingConfig:
    """The decoding config of a checkpoint's ``quoteattr`` settings, migrating format 2 (the grouping options go)
    and format 1: the flat keys move into the block, ``decoding`` becomes ``tags``, and ``min_quote_score`` (then
    on the raw score) moves to the calibrated scale through the checkpoint's own calibration, which rises with the
    raw score (a Platt slope above 0; refused otherwise), so the same quotes are kept."""
    block = settings.get("decoding")
    if isinstance(block, dict):
        version = block.get("format_version")
        if version not in (2, DECODING_FORMAT):
            raise InputError(f"{source}: decoding format {version!r} is not one this quoteattr reads; upgrade it")
        dropped = ("format_version", *GROUPING_OPTIONS) if version == 2 else ("format_version",)
        return DecodingConfig.from_dict({k: v for k, v in block.items() if k not in dropped}, f"{source}: decoding")
    old = {key: settings.get(key, default) for key, default in FORMAT_1_DEFAULTS.items()}
    old["tags"] = old.pop("decoding")
    config = DecodingConfig.from_dict(old, f"{source}: decoding")
    platt = (settings.get("calibration") or {}).get("score")
    if not config.min_quote_score or not platt:
        return config
    if platt[0] <= 0:
        raise InputError(
            f"{source}: its raw min_quote_score cannot move onto a calibration that does not rise with the score "
            "(slope ≤ 0); set decoding.min_quote_score on the calibrated scale (quoteattr find-decoding --save)"
        )
    from quoteattr.systems.model.confidence import calibrate

    return config.replace(min_quote_score=float(calibrate(config.min_quote_score, platt)))
