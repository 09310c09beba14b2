"""Variations of a text as Hypothesis strategies: each draws an edit, and the edit says what it did.

Every draw is a small whole number (below 100) or a pick from a fixed list: Hypothesis then generates
the same edits on every machine, whatever the project's code holds (Hypothesis mixes constants found in
local modules into draws of wider ranges). Positions are drawn as percentages of the text, so an edit
applies to any base text and shrinks towards its start.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

from aitest.spec.model import Variation
from aitest.spec.properties import CASE_MODES
from aitest.util.text import cut

GREETINGS = ("Hi,", "Hello team,", "Good morning!", "Hey there,", "Dear support,")
SIGNATURES = ("Thanks, Anna", "Best regards,\nJohn Smith", "Sent from my phone", "Cheers!", "Thank you in advance.")
PUNCTUATION = ".,!?;:"
_GAPS = {"spaces": ("   ", "extra spaces"), "tab": ("\t", "a tab"), "newline": ("\n", "a newline")}


@dataclass(frozen=True)
class Edited:
    """A var's value after a variation, and a line a product owner reads (`typos: 'charged' -> 'chraged'`)."""

    value: Any
    note: str


Edit = Callable[[Any], Edited]


def at(percent: int, size: int) -> int:
    """A position in ``range(size)`` from a percentage (0..99): the same edit lands alike in any text."""
    return min(size - 1, percent * size // 100)


def _shown(text: str) -> str:
    return repr(cut(text, 40))


def _word_at(text: str, index: int) -> str:
    start = index
    while start > 0 and not text[start - 1].isspace():
        start -= 1
    end = index
    while end < len(text) and not text[end].isspace():
        end += 1
    return text[start:end]


# -- the edits (plain functions of the drawn numbers; no Hypothesis below this line until strategies) --
def change_case(text: str, mode: str, flips: tuple[int, ...] = ()) -> Edited:
    if mode == "upper":
        return Edited(text.upper(), "case: upper")
    if mode == "lower":
        return Edited(text.lower(), "case: lower")
    if mode == "title":
        return Edited(text.title(), "case: title")
    letters = [i for i, c in enumerate(text) if c.isalpha()]
    chars = list(text)
    toggled = sorted({letters[at(p, len(letters))] for p in flips} if letters else set())
    for i in toggled:
        chars[i] = chars[i].swapcase()
    return Edited("".join(chars), f"case: random (toggled {len(toggled)} letter{'s' if len(toggled) != 1 else ''})")


def add_whitespace(text: str, ops: tuple[tuple[str, int], ...]) -> Edited:
    """``ops``: (kind, percent) with kind spaces | tab | newline (at a gap between words) or edges.

    Positions are taken in the original text and applied from its end: dropping one op (as shrinking
    does) leaves the others where they were."""
    gaps = [i for i, c in enumerate(text) if c == " "]
    at_gaps = {gaps[at(p, len(gaps))]: kind for kind, p in ops if kind != "edges" and gaps}
    edges = any(kind == "edges" or not gaps for kind, _ in ops)
    notes: list[str] = []
    for i in sorted(at_gaps, reverse=True):
        insert, what = _GAPS[at_gaps[i]]
        notes.insert(0, f"{what} between {_word_at(text, i - 1)!r} and {_word_at(text, i + 1)!r}")
        text = text[:i] + insert + text[i + 1 :]
    if edges:
        text = "  " + text + " \n"
        notes.append("spaces and a newline around the text")
    return Edited(text, "whitespace: " + "; ".join(notes))


def add_typos(text: str, ops: tuple[tuple[str, int], ...]) -> Edited:
    """``ops``: (swap | drop | double, percent of the text's letters), placed in the original text and
    applied from its end (see add_whitespace)."""
    letters = [i for i, c in enumerate(text) if c.isalpha()]
    if not letters:
        return Edited(text, "typos: none (no letters)")
    at_letters = {letters[at(p, len(letters))]: kind for kind, p in ops}
    notes: list[str] = []
    for i in sorted(at_letters, reverse=True):
        kind, word = at_letters[i], _word_at(text, i)
        if kind == "swap" and i + 1 < len(text) and text[i + 1].isalpha() and text[i] != text[i + 1]:
            text = text[:i] + text[i + 1] + text[i] + text[i + 2 :]
        elif kind == "double":
            text = text[:i] + text[i] + text[i:]
        else:
            text = text[:i] + text[i + 1 :]
        after = _word_at(text, min(i, len(text) - 1)) if text else ""
        notes.insert(0, f"{word!r} -> {after!r}")
    return Edited(text, "typos: " + ", ".join(notes))


def change_punctuation(text: str, ops: tuple[tuple[str, int], ...]) -> Edited:
    """``ops``: (remove | ! | ? | . | ",", percent): remove all marks, end with a mark, or a comma after a word."""
    notes: list[str] = []
    for kind, percent in ops:
        if kind == "remove":
            text = "".join(c for c in text if c not in PUNCTUATION)
            notes.append("removed all")
        elif kind == ",":
            gaps = [i for i, c in enumerate(text) if c == " "]
            if not gaps:
                continue
            i = gaps[at(percent, len(gaps))]
            notes.append(f"',' after {_word_at(text, i - 1)!r}")
            text = text[:i] + "," + text[i:]
        else:
            text = text.rstrip().rstrip(PUNCTUATION) + kind
            notes.append(f"{kind!r} at the end")
    return Edited(text, "punctuation: " + "; ".join(notes) if notes else "punctuation: unchanged")


def add_filler(text: str, greeting: int | None, signature: int | None) -> Edited:
    notes: list[str] = []
    if greeting is not None:
        text = f"{GREETINGS[greeting]}\n{text}"
        notes.append(f"greeting {GREETINGS[greeting]!r}")
    if signature is not None:
        text = f"{text}\n\n{SIGNATURES[signature]}"
        notes.append(f"signature {SIGNATURES[signature]!r}")
    return Edited(text, "filler: " + " and ".join(notes))


def replace_all(text: str, pairs: dict[str, str]) -> Edited:
    """Each OLD by NEW; the note names only what was found (an edit before may have changed the text)."""
    done = [(old, new) for old, new in pairs.items() if old in text]
    for old, new in done:
        text = text.replace(old, new)
    missed = [old for old in pairs if (old, pairs[old]) not in done]
    notes = [f"{old!r} -> {new!r}" for old, new in done] + [f"{old!r} not found (unchanged)" for old in missed]
    return Edited(text, "replace: " + ", ".join(notes))


# -- strategies: draw the numbers of an edit ---------------------------------------------------------
def small_index(size: int) -> st.SearchStrategy[int]:
    """An index below ``size``, from draws below 100 (see the module's docstring); shrinks to 0."""
    if size <= 100:
        return st.integers(0, size - 1)
    digits = st.lists(st.integers(0, 99), min_size=len(str(size - 1)) // 2 + 1, max_size=len(str(size - 1)) // 2 + 1)
    return digits.map(lambda ds: sum(d * 100**k for k, d in enumerate(ds)) % size)


_percent = st.integers(0, 99)


def _ops(kinds: tuple[str, ...], most: int) -> st.SearchStrategy[tuple[tuple[str, int], ...]]:
    op = st.tuples(st.sampled_from(kinds), _percent)
    return st.lists(op, min_size=1, max_size=most).map(tuple)


def edit_strategy(variation: Variation) -> st.SearchStrategy[Edit]:
    """The edits a variation may make, drawn by Hypothesis; each applies to any value of the var."""
    kind, option = variation.kind, variation.option
    if kind == "case":
        modes = st.sampled_from(CASE_MODES) if option is None else st.just(option)
        flips = st.lists(_percent, min_size=1, max_size=6).map(tuple)
        return st.tuples(modes, flips).map(lambda d: lambda v: change_case(v, d[0], d[1] if d[0] == "random" else ()))
    if kind == "whitespace":
        return _ops(("spaces", "tab", "newline", "edges"), 4).map(lambda ops: lambda v: add_whitespace(v, ops))
    if kind == "typos":
        return _ops(("swap", "drop", "double"), option or 3).map(lambda ops: lambda v: add_typos(v, ops))
    if kind == "punctuation":
        return _ops(("remove", "!", "?", ".", ","), 2).map(lambda ops: lambda v: change_punctuation(v, ops))
    if kind == "filler":
        which = st.sampled_from(("greeting", "signature", "both"))
        picks = st.tuples(which, small_index(len(GREETINGS)), small_index(len(SIGNATURES)))
        return picks.map(
            lambda d: (
                lambda v: add_filler(v, d[1] if d[0] != "signature" else None, d[2] if d[0] != "greeting" else None)
            )
        )
    if kind == "choices":
        values = tuple(option)
        return small_index(len(values)).map(
            lambda i: lambda _v: Edited(values[i], f"choices: {_shown(str(values[i]))}")
        )
    if kind == "append":
        return st.just(lambda v: Edited(v + option, f"append: {_shown(option)}"))
    if kind == "prepend":
        return st.just(lambda v: Edited(option + v, f"prepend: {_shown(option)}"))
    if kind == "replace":
        return st.just(lambda v: replace_all(v, dict(option)))
    raise ValueError(f"unknown variation {kind!r}")  # the loader lets none through
