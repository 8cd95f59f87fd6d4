"""Where an article's headline ends: news puts one on the first line ("Vote to be recounted, commission says"),
which names its speakers before the body does."""

from __future__ import annotations

import re


def is_sentence(line: str) -> bool:
    """A line ending in sentence punctuation (so not a headline)."""
    return bool(re.search(r"[.!?][\"”’]?$", line.strip()))


def headline_end(text: str) -> int:
    """The end of the text's first line when it is a headline (a line break follows it and it does not end as a
    sentence does), else 0."""
    first_line, newline, _ = text.partition("\n")
    return len(first_line) if newline and first_line.strip() and not is_sentence(first_line) else 0
