"""The one error of bad input, and how a script reports it."""

from __future__ import annotations

import sys
from collections.abc import Callable


class InputError(ValueError):
    """Bad input; the message names the file and the position (line, byte) and what to do."""


def exit_status(run: Callable[[], int]) -> int:
    """``run()``'s exit status; bad input, or a file system that refuses a file, is one ``error: FILE: …`` line on
    stderr and status 2 (for scripts; the CLI has its own, which also reports interruptions)."""
    try:
        return run()
    except InputError as error:
        print(f"error: {error}", file=sys.stderr)
    except OSError as error:  # a full disk names no file: the error says what failed
        print(f"error: {error.filename}: {error.strerror}" if error.filename else f"error: {error}", file=sys.stderr)
    return 2
