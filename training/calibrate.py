"""Calibrate an existing checkpoint's scores (training does this itself at the end of every run since scores
were added): fit Platt scaling on a validation file, write a copy of the checkpoint that carries it, and
add the expected calibration error before and after, on each evaluation file, to the copy's card.

    python training/calibrate.py --checkpoint outputs/polnear/model/final \
        --validation outputs/polnear/dataset/data/validation.parquet --evaluate outputs/polnear/dev.jsonl \
        --output outputs/polnear/model/calibrated
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from pathlib import Path

from quoteattr.data.errors import InputError, exit_status
from quoteattr.data.readers import read_articles
from quoteattr.data.writers import plain_permissions
from quoteattr.systems.model.attributor import QuoteAttributor
from quoteattr.training.calibration import calibration_errors, calibration_settings, describe_fits, fit_calibration


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--checkpoint", required=True)
    parser.add_argument("--validation", required=True, help="gold articles to fit on (never the test split)")
    parser.add_argument("--evaluate", nargs="*", default=[], help="gold files to report calibration error on")
    parser.add_argument("--output", required=True, help="a new folder")
    args = parser.parse_args()
    return exit_status(lambda: calibrated_copy(args))


def calibrated_copy(args: argparse.Namespace) -> int:
    """Fit, report and write the calibrated copy of the checkpoint (all or nothing)."""
    source, output = Path(args.checkpoint), Path(args.output)
    if output.exists():
        raise InputError(f"{output}: already exists")
    attributor = QuoteAttributor.from_pretrained(source, device="cpu")
    fits = fit_calibration(attributor, read_articles(args.validation))
    calibration = calibration_settings(fits)
    print(f"fitted on validation: {describe_fits(fits)}")
    attributor.settings["calibration"] = calibration
    rows = []
    for path in args.evaluate:
        errors = calibration_errors(attributor, read_articles(path))
        quote_cells = f"{errors['quotes']} | {errors['quote_ece_before']:.3f} | {errors['quote_ece_after']:.3f}"
        link_cells = f"{errors['links']} | {errors['speaker_ece_before']:.3f} | {errors['speaker_ece_after']:.3f}"
        rows.append(f"| {Path(path).name} | {quote_cells} | {link_cells} |")
        print(rows[-1])

    staging = Path(tempfile.mkdtemp(prefix=f".{output.name}.", dir=output.parent))
    try:
        shutil.copytree(source, staging, dirs_exist_ok=True)
        config = json.loads((staging / "config.json").read_text(encoding="utf-8"))
        config["quoteattr"]["calibration"] = calibration
        (staging / "config.json").write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
        card = staging / "README.md"
        section = (
            "\n## Confidence and calibration (added by training/calibrate.py)\n\n"
            f"Fitted on `{Path(args.validation).name}`: {describe_fits(fits)}. "
            "Expected calibration error (10 bins):\n\n"
            "| file | quotes | quote score ECE raw | calibrated | speaker links | speaker score ECE raw "
            "| calibrated |\n"
            "|---|---|---|---|---|---|---|\n" + "\n".join(rows) + "\n"
        )
        card.write_text(card.read_text(encoding="utf-8") + section, encoding="utf-8")
        for file in staging.iterdir():
            plain_permissions(file)
        plain_permissions(staging, directory=True)
        staging.rename(output)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)  # nothing half-written beside the output
        raise
    print(f"wrote {output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
