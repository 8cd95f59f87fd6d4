"""Every combination of the validation search's decoding options, scored on any gold file (for ablation tables; the
checkpoint's own settings were chosen on validation at the end of training).

    python training/decoding_table.py --checkpoint outputs/polnear/model/final --gold outputs/polnear/dev.jsonl
"""

import argparse
import sys

from quoteattr.data.readers import read_articles
from quoteattr.systems.model.attributor import DECODING_DEFAULTS, QuoteAttributor
from quoteattr.training.decoding_search import DECODING_GRID, REFINING, REPORTED, search_decoding


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--checkpoint", required=True)
    parser.add_argument("--gold", required=True, help="interchange JSONL with gold quotes")
    args = parser.parse_args()
    attributor = QuoteAttributor.from_pretrained(args.checkpoint)
    options = {**DECODING_GRID, **REFINING}  # every combination, so the checkpoint's own setting is among the rows
    _, rows = search_decoding(attributor, read_articles(args.gold), grid=options, refining={})
    settings = {
        **DECODING_DEFAULTS,
        **attributor.settings,
    }  # a checkpoint older than an option decodes with its default
    chosen = {key: settings[key] for key in options}
    print("\t".join([*options, *(f"{name}_f1" for name in REPORTED), "checkpoint's"]))
    for row in sorted(rows, key=lambda r: r["attribution_f1"], reverse=True):
        mark = "*" if all(row[key] == chosen[key] for key in options) else ""
        print(
            "\t".join([*(str(row[key]) for key in options), *(f"{row[f'{name}_f1']:.3f}" for name in REPORTED), mark])
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
