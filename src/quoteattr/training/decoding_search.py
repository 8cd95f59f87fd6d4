"""Choose a checkpoint's decoding on gold articles (``quoteattr find-decoding``, and the last step of training):
every article goes through the encoder once; each setting of the grid is decoded and scored, then each refining
option in turn with the best so far fixed; then calibration is fitted for that decoding, and the quote-score
threshold is chosen on the calibrated score ``predict`` reports."""

from __future__ import annotations

import itertools
import re
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from tqdm import tqdm

from quoteattr.data.errors import InputError
from quoteattr.data.schema import Article
from quoteattr.data.writers import atomic_writer, write_json
from quoteattr.evaluation.scoring import evaluate_articles
from quoteattr.systems.model.decoding_config import OPTIONS, DecodingConfig, migrated_settings

DEFAULT_GRID = Path(__file__).with_name("decoding_grid.yaml")
REPORTED = ("content_overlap", "content_exact", "attribution")
THRESHOLD = "min_quote_score"


@dataclass(frozen=True)
class DecodingGrid:
    """The search space: ``grid`` (every combination), ``refine`` (one option at a time) and the thresholds."""

    grid: dict[str, tuple[Any, ...]]
    refine: dict[str, tuple[Any, ...]]
    thresholds: tuple[float, ...]

    @classmethod
    def load(cls, path: str | Path | None = None) -> DecodingGrid:
        """The grid of a YAML file (the packaged one by default); errors name the file and the option."""
        import yaml

        path = Path(path) if path else DEFAULT_GRID
        try:
            values = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError) as error:
            raise InputError(f"{path}: unreadable decoding grid ({str(error).splitlines()[0]})") from None
        if not isinstance(values, dict) or set(values) - {"grid", "refine", THRESHOLD}:
            raise InputError(f"{path}: a decoding grid has the sections grid, refine and {THRESHOLD}")
        sections = {name: values.get(name) or {} for name in ("grid", "refine")}
        for name, options in sections.items():
            if not isinstance(options, dict):
                raise InputError(f"{path}: {name}: a mapping of decoding options to lists of values")
            for option, choices in options.items():
                if option not in OPTIONS or option == THRESHOLD:
                    raise InputError(f"{path}: {name}: {option!r} is not a decoding option searched there")
                if not isinstance(choices, list) or not choices:
                    raise InputError(f"{path}: {name}: {option}: a non-empty list of values")
                for choice in choices:
                    DecodingConfig.from_dict({option: choice}, f"{path}: {name}")
        thresholds = values.get(THRESHOLD, [0.0])
        if not isinstance(thresholds, list) or not thresholds:
            raise InputError(f"{path}: {THRESHOLD}: a non-empty list of scores")
        for threshold in thresholds:
            DecodingConfig.from_dict({THRESHOLD: threshold}, str(path))
        grid = {option: tuple(choices) for option, choices in sections["grid"].items()}
        refine = {option: tuple(choices) for option, choices in sections["refine"].items()}
        return cls(grid, refine, tuple(float(t) for t in thresholds))

    def size(self) -> int:
        combinations = 1
        for choices in self.grid.values():
            combinations *= len(choices)
        return combinations + sum(len(choices) - 1 for choices in self.refine.values()) + len(self.thresholds)


def find_decoding(attributor: Any, gold: list[Article], metric: str, grid: DecodingGrid) -> tuple[list[dict], Any]:
    """Search ``grid`` on ``gold`` by ``metric`` F1 (content exact breaks ties), fit calibration for the chosen
    decoding, then choose the threshold on the calibrated score. ``attributor`` keeps the result (decoding and
    calibration); returns every setting's row and the calibration fits."""
    from quoteattr.training.calibration import calibration_settings, fit_calibration, keep_continued

    analysed = list(
        tqdm(attributor.analyse(gold), total=len(gold), desc="encoding gold", unit="article", file=sys.stderr)
    )
    progress = tqdm(total=grid.size(), desc="decoding settings", file=sys.stderr)
    if not any(article.quotes for article in gold):
        raise InputError("the gold articles hold no quotes: decoding cannot be chosen on them")
    firsts = {option: choices[0] for option, choices in grid.refine.items()}
    start = attributor.decoding.replace(**{THRESHOLD: 0.0, **firsts})  # options outside the grid keep their value
    settings = [start.replace(**dict(zip(grid.grid, values))) for values in itertools.product(*grid.grid.values())]
    rows = [_score(attributor, gold, analysed, setting, progress) for setting in settings]
    best = max(rows, key=lambda row: _rank(row, metric))
    for option, choices in grid.refine.items():
        trials = [best] + [
            _score(attributor, gold, analysed, best["config"].replace(**{option: choice}), progress)
            for choice in choices[1:]
        ]
        rows += trials[1:]
        best = max(trials, key=lambda row: _rank(row, metric))
    attributor.decoding = best["config"]
    fits = keep_continued(fit_calibration(attributor, gold, analysed), attributor.settings.get("calibration"))
    attributor.settings["calibration"] = calibration_settings(fits)
    trials = [
        _score(attributor, gold, analysed, best["config"].replace(**{THRESHOLD: threshold}), progress)
        for threshold in grid.thresholds
    ]
    rows += [row for row in trials if row["config"] != best["config"]]
    attributor.decoding = max(trials, key=lambda row: _rank(row, metric))["config"]
    progress.close()
    return [{**asdict(row["config"]), **row["scores"]} for row in rows], fits


def _rank(row: dict[str, Any], metric: str) -> tuple[float, float]:
    return row["scores"][f"{metric}_f1"], row["scores"]["content_exact_f1"]


def _score(attributor: Any, gold: list[Article], analysed: list, config: DecodingConfig, progress: tqdm) -> dict:
    predicted = [attributor.attribute(article, analysis, decoding=config) for article, analysis in analysed]
    metrics = evaluate_articles(gold, predicted, bootstrap=0)["metrics"]
    progress.update()
    return {"config": config, "scores": {f"{name}_f1": metrics[name]["f1"] for name in REPORTED}}


def save_decoding(checkpoint: Path, attributor: Any, gold: str) -> None:
    """Write ``attributor``'s decoding and calibration into the checkpoint's config.json (replaced whole, never
    half written), and say so in its card, whose scores were made with the decoding chosen in training."""
    from quoteattr.systems.model.attributor import CHECKPOINT_FORMAT, read_config

    config = read_config(checkpoint / "config.json")
    settings, _ = migrated_settings(config["quoteattr"], str(checkpoint))
    config["quoteattr"] = {
        **settings,
        "format_version": CHECKPOINT_FORMAT,
        "decoding": attributor.decoding.to_dict(),
        "calibration": attributor.settings.get("calibration"),
    }
    write_json(checkpoint / "config.json", config)
    card = checkpoint / "README.md"
    if card.exists():
        line = (
            f"The checkpoint decodes with `{attributor.decoding.describe()}`, chosen after training by "
            f"`quoteattr find-decoding` on {gold}; the scores below were made with the decoding chosen in training."
        )
        text = re.sub(r"^The checkpoint decodes with .*$", lambda _: line, card.read_text(encoding="utf-8"), flags=re.M)
        with atomic_writer(card) as stream:
            stream.write(text)
