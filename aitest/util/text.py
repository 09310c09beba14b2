"""Text for messages: suggestions, counts, diffs and cut values. The one home of each."""

from __future__ import annotations

import difflib


def did_you_mean(word: str, choices: list[str]) -> str:
    """``"; did you mean 'x'?"`` for the closest choice, or ``""`` when none is close."""
    lowered = {c.lower(): c for c in choices}
    close = difflib.get_close_matches(word.lower(), list(lowered), n=1, cutoff=0.6)
    return f"; did you mean '{lowered[close[0]]}'?" if close else ""


def plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


MAX_LINE = 300  # characters of one printed line


def cut(text: str, limit: int = MAX_LINE) -> str:
    """``text`` cut to ``limit`` characters, saying how many were left out."""
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text) - limit} more characters)"


def unified_diff(before: str, after: str, *, labels: tuple[str, str], limit: int = 12) -> list[str]:
    """A short unified diff (one line of context) of two multi-line texts, cut after ``limit`` lines
    of at most MAX_LINE characters each."""
    lines = list(difflib.unified_diff(before.splitlines(), after.splitlines(), *labels, lineterm="", n=1))
    if len(lines) > limit:
        lines = [*lines[:limit], f"... ({len(lines) - limit} more diff lines)"]
    return [cut(line) for line in lines]


def type_word(value: object) -> str:
    """What kind of value this is, in words a product owner reads ("a whole number", "text", ...)."""
    for name, kind in (
        ("true or false", bool),
        ("a whole number", int),
        ("a number", float),
        ("text", str),
        ("a list", list),
        ("a mapping", dict),
    ):
        if isinstance(value, kind):
            return name
    return "empty" if value is None else type(value).__name__


def first_line(text: str, limit: int = 200) -> str:
    """The first non-empty line of ``text``, cut to ``limit`` characters."""
    line = next((s.strip() for s in text.splitlines() if s.strip()), "")
    return line if len(line) <= limit else line[: limit - 3] + "..."
