"""Fine-tune the quote attribution model (same as `quoteattr train`).

python training/train.py --config configs/default.yaml [--output_dir DIR] [--resume] [...]
"""

import sys

from quoteattr.training.trainer import main

if __name__ == "__main__":
    sys.exit(main())
