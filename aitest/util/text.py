"""Text for messages: suggestions, counts, diffs and cut values. The one home of each."""

from __future__ import annotations

import difflib


def did_you_mean(word: str, choices: list[str]) -> str:
    """``"; did you mean 'x'?"`` for the closest choice, or ``""`` when none is close."""
    lowered = {c.lower(): c for c in choices}
    if len(word) > 2 * max(map(len, lowered), default=0) + 10:  # far longer than every choice: none is close
        return ""
    close = difflib.get_close_matches(word.lower(), list(lowered), n=1, cutoff=0.6)
    return f"; did you mean {shown(lowered[close[0]])}?" if close else ""


def plural(n: int, word: str, many: str = "") -> str:
    """``n`` and the word, in the plural (``many``, else the word with an s) unless ``n`` is 1."""
    return f"{n} {word}" if n == 1 else f"{n} {many or word + 's'}"


MAX_LINE = 300  # characters of one printed line
SHOWN = 60  # characters of a user's value (a key, a name, a path) echoed in a message
MAX_MESSAGE_LINE = 500  # characters of one line of an error or a warning, location included


def shown(value: object, limit: int = SHOWN, *, quoted: bool = True) -> str:
    """A value the user wrote, as a message echoes it: text in single quotes (none when not ``quoted``)
    with its invisible characters escaped, anything else as Python writes it; cut in the middle past
    ``limit`` characters, the cut shown as … and followed by the whole length:
    ``'aaaa…aaaa' (100,000 characters)``. The one form of every value, key, name and path echoed."""
    quote = "'" if quoted else ""
    if isinstance(value, str):
        if len(value) <= limit and value.isprintable():
            return f"{quote}{value}{quote}"
        text, escape = value, True
    else:
        quote, text, escape = "", repr(value), False
    pieces = [_escape(c) for c in text[: limit + 1]] if escape else list(text[: limit + 1])
    if len(text) <= limit and sum(map(len, pieces)) <= limit:
        return f"{quote}{''.join(pieces)}{quote}"
    head_room = (limit * 2) // 3
    tail_room = limit - head_room - 1
    end_pieces = [_escape(c) for c in text[-tail_room:]] if escape else list(text[-tail_room:])
    head = "".join(_fill(pieces, head_room))
    tail = "".join(reversed(_fill(end_pieces[::-1], tail_room)))
    return f"{quote}{head}…{tail}{quote} ({len(text):,} characters)"


def _escape(char: str) -> str:
    """A character as a message shows it: itself, or its Python escape when a terminal would not show it
    (newline, tab, controls, zero-width and direction marks)."""
    return char if char.isprintable() else repr(char)[1:-1]


def _fill(pieces: list[str], room: int) -> list[str]:
    """As many pieces from the start as fit in ``room`` characters (an escape is never split)."""
    taken, used = [], 0
    for piece in pieces:
        if used + len(piece) > room:
            break
        taken.append(piece)
        used += len(piece)
    return taken


def bounded_line(line: str, limit: int = MAX_MESSAGE_LINE) -> str:
    """One printed line cut to at most ``limit`` characters: its start (where the ``file:line:col`` is)
    and its end kept, the middle replaced by ``… (N characters cut) …``."""
    if len(line) <= limit:
        return line
    tail, marker = limit // 6, ""
    while True:  # the marker's length depends on the count it shows: settle both
        head = limit - tail - len(marker)
        settled = f" … ({len(line) - head - tail:,} characters cut) … "
        if settled == marker:
            return f"{line[:head]}{marker}{line[len(line) - tail :]}"
        marker = settled


def bounded(text: str, limit: int = MAX_MESSAGE_LINE) -> str:
    """Each line of ``text`` cut to at most ``limit`` characters (see bounded_line)."""
    if all(len(line) <= limit for line in text.split("\n")):
        return text
    return "\n".join(bounded_line(line, limit) for line in text.split("\n"))


def cut(text: str, limit: int = MAX_LINE) -> str:
    """``text`` cut to ``limit`` characters, saying how many were left out."""
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text) - limit} more characters)"


def first_difference(a: str, b: str) -> int:
    """Where two texts first differ: the index of the first differing character (or the shorter length)."""
    low, high = 0, min(len(a), len(b))
    while low < high:  # binary search on equal prefixes: the slice comparisons run in C
        middle = (low + high + 1) // 2
        if a[:middle] == b[:middle]:
            low = middle
        else:
            high = middle - 1
    return low


def cut_around(text: str, at: int, limit: int = MAX_LINE, context: int = 40) -> str:
    """``text`` cut to ``limit`` characters that show position ``at`` (where it differs from another
    text), saying what was left out on either side."""
    if len(text) <= limit:
        return text
    start = max(0, min(at - context, len(text) - limit))
    if start == 0:
        return cut(text, limit)
    end = start + limit
    after = f"... ({len(text) - end} more characters)" if end < len(text) else ""
    return f"({start} characters before) ...{text[start:end]}{after}"


def cut_apart(texts: list[str], limit: int = MAX_LINE) -> list[str]:
    """Each text cut to ``limit`` characters so that different texts never read the same: where their
    cut forms would collide, each is shown around where it differs from the others."""
    plain = [cut(t, limit) for t in texts]
    if len(set(plain)) == len(set(texts)):
        return plain
    shown = []
    for text, short in zip(texts, plain, strict=True):
        if plain.count(short) == 1:
            shown.append(short)
            continue
        at = max((first_difference(text, other) for other in texts if other != text), default=0)
        shown.append(cut_around(text, at, limit))
    return shown


def show_text(text: str) -> str:
    """A text as a message shows it on one line: quoted, or ``(empty)`` when there is nothing in it."""
    return "(empty)" if text == "" else repr(text)


def unified_diff(before: str, after: str, *, labels: tuple[str, str], limit: int = 12) -> list[str]:
    """A short unified diff (one line of context) of two multi-line texts, cut after ``limit`` lines
    of at most MAX_LINE characters each; a long changed line is shown around where it changed."""
    lines = list(difflib.unified_diff(before.splitlines(), after.splitlines(), *labels, lineterm="", n=1))
    if len(lines) > limit:
        lines = [*lines[:limit], f"... ({len(lines) - limit} more diff lines)"]
    return _cut_changes(lines)


def _cut_changes(lines: list[str]) -> list[str]:
    """Diff lines cut to MAX_LINE. The k-th removed line of a change and its k-th added line are cut
    around their first difference, so that two long lines never read the same."""
    out = [cut(line) for line in lines]
    i = 0
    while i < len(lines):
        removed = _changed(lines, i, "-")
        added = _changed(lines, i + len(removed), "+")
        for k, (old, new) in enumerate(zip(removed, added, strict=False)):
            at = first_difference(old[1:], new[1:])
            out[i + k] = "-" + cut_around(old[1:], at, MAX_LINE)
            out[i + len(removed) + k] = "+" + cut_around(new[1:], at, MAX_LINE)
        i += max(1, len(removed) + len(added))
    return out


def _changed(lines: list[str], start: int, sign: str) -> list[str]:
    """The diff lines from ``start`` on that begin with ``sign`` (not the ``---``/``+++`` headers)."""
    changed = []
    for line in lines[start:]:
        if not line.startswith(sign) or line.startswith(("---", "+++")):
            break
        changed.append(line)
    return changed


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
