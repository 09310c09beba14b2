"""What to do about the YAML syntax errors people actually make: a message and a hint per known mistake."""

from __future__ import annotations

from aitest.util.text import cut

DEFAULT_HINT = "check indentation and quoting"


def syntax_problem(problem: str, text: str, line: int, col: int) -> tuple[str, str]:
    """The message and hint for the parser's ``problem`` at ``line``:``col`` (1-based) of ``text``."""
    source = _line(text, line)
    here = source[col - 1 : col + 1]
    if problem.startswith("found unknown escape character"):
        return _escape(source, col, here)
    if problem.startswith("found character that cannot start any token") and here[:1] == "\t":
        return (
            "malformed YAML: a tab character",
            "YAML indents with spaces, never tabs: replace the tab with spaces",
        )
    if problem.startswith("mapping values are not allowed"):
        return (
            f"malformed YAML: {problem}",
            "a value that holds ': ' must be quoted, e.g. contains: 'Note: refund' "
            "(or the indentation of this line is off)",
        )
    return f"malformed YAML: {problem}", DEFAULT_HINT


def _escape(source: str, col: int, here: str) -> tuple[str, str]:
    """A backslash in double quotes, mostly a regex: `regex: "\\d+"`."""
    message = f"malformed YAML: found unknown escape character '{here}' in double quotes"
    start = source.rfind('"', 0, col - 1)
    end = source.find('"', col)
    if start >= 0 and end > start:
        inner = source[start + 1 : end]
        single = "'" + inner.replace("'", "''") + "'"
        doubled = '"' + inner.replace("\\", "\\\\") + '"'
        hint = (
            f"in double quotes a backslash starts an escape: write it in single quotes, {cut(single, 80)}, "
            f"or double each backslash, {cut(doubled, 80)}"
        )
    else:
        hint = "in double quotes a backslash starts an escape: use single quotes, or double each backslash (\\\\)"
    return message, hint


def _line(text: str, line: int) -> str:
    lines = text.splitlines()
    return lines[line - 1] if 0 < line <= len(lines) else ""
