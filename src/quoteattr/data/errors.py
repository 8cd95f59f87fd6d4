"""The one error of bad input."""

from __future__ import annotations


class InputError(ValueError):
    """Bad input; the message names the file and the position (line, byte) and what to do."""
