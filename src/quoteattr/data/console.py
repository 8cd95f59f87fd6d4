"""The library logs; the commands show that log on the terminal: warnings on standard error, the rest
(results, progress words) on standard output."""

from __future__ import annotations

import logging
import sys


class ConsoleHandler(logging.Handler):
    """Writes each record to the streams of the moment, so a redirected or captured stream gets it."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            stream = sys.stderr if record.levelno >= logging.WARNING else sys.stdout
            print(self.format(record), file=stream, flush=True)
        except Exception:
            self.handleError(record)


_CONSOLE = ConsoleHandler()


def show_log() -> None:
    """Show quoteattr's INFO log and above on the terminal (once, however often called); other libraries stay quiet."""
    package = logging.getLogger("quoteattr")
    package.setLevel(logging.INFO)
    package.addHandler(_CONSOLE)  # adding the same handler twice is a no-op
