"""`path` selection: dotted keys and [n] list indices, e.g. ``items[0].sku``."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from aitest.util.text import shown

_KEY = r"[^.\[\]]+"
_INDEX = r"\[-?\d+\]"
_WHOLE = re.compile(rf"(?:{_KEY}|{_INDEX})(?:\.{_KEY}|{_INDEX})*")
_TOKEN = re.compile(r"\[(-?\d+)\]|([^.\[\]]+)")


class PathSyntaxError(ValueError):
    """The path text cannot be parsed."""


class PathMissing(LookupError):
    """The output has no value at some part of the path."""


@dataclass(frozen=True)
class JsonPath:
    text: str
    parts: tuple[str | int, ...]

    def select(self, value: Any) -> Any:
        """The value at this path; raises PathMissing naming the part that is missing."""
        for i, part in enumerate(self.parts):
            done = shown(_render(self.parts[:i]), 80, quoted=False) or "the output"
            if isinstance(part, int):
                if not isinstance(value, list):
                    raise PathMissing(f"{done} is not a list, so [{part}] is missing")
                if not -len(value) <= part < len(value):
                    raise PathMissing(f"{done} has {len(value)} items, so [{part}] is missing")
                value = value[part]
            else:
                if not isinstance(value, dict):
                    raise PathMissing(f"{done} is not an object, so {shown(part)} is missing")
                if part not in value:
                    keys = ", ".join(shown(str(k), 40, quoted=False) for k in list(value)[:8]) or "none"
                    raise PathMissing(f"{done} has no key {shown(part)} (keys: {keys})")
                value = value[part]
        return value


def parse_path(text: str) -> JsonPath:
    """Parse ``a.b[0].c``; raises PathSyntaxError on anything else."""
    if not isinstance(text, str) or not _WHOLE.fullmatch(text):
        raise PathSyntaxError(f"malformed path {shown(text)}: use dotted keys and [n], e.g. items[0].sku")
    parts: list[str | int] = []
    for index, key in _TOKEN.findall(text):
        parts.append(int(index) if index else key)
    return JsonPath(text, tuple(parts))


def _render(parts: tuple[str | int, ...]) -> str:
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out
