"""Run every system on a gold corpus and print one comparison table (same as `quoteattr compare`).

python eval/compare.py --gold dev.jsonl --systems rules textacy --output outputs/compare
"""

import sys

from quoteattr.cli import main

if __name__ == "__main__":
    sys.exit(main(["compare", *sys.argv[1:]]))
