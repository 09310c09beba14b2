"""The check reference of docs/specs.md, made from the registry: one row per built-in check with its value,
its options and their defaults, what passes, promptfoo's spelling and an example.

    python -m aitest.checks.reference docs/specs.md   # rewrite the table between its markers
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from aitest.checks.base import Check

BEGIN = "<!-- check reference: made by `python -m aitest.checks.reference docs/specs.md`; do not edit -->"
END = "<!-- end of the check reference -->"
_BUILT_IN = "aitest.checks."


def built_in() -> dict[str, type[Check]]:
    from aitest.checks.registry import all_checks

    return {n: c for n, c in sorted(all_checks().items()) if c.__module__.startswith(_BUILT_IN)}


def value_text(schema: dict[str, Any]) -> str:
    """A JSON Schema of a check's value as a few words."""
    if "title" in schema:
        return str(schema["title"])
    for key in ("oneOf", "anyOf"):
        if key in schema:
            return ", or ".join(dict.fromkeys(value_text(s) for s in schema[key]))
    if "const" in schema:
        return f"`{json.dumps(schema['const'])}`"
    if "enum" in schema:
        return " / ".join(f"`{json.dumps(v)}`" for v in schema["enum"])
    kind = schema.get("type")
    words = {
        "string": "text", "integer": "whole number", "number": "number", "boolean": "true or false",
        "object": "mapping", "null": "nothing",
    }  # fmt: skip
    if kind == "array":
        return f"list of {value_text(schema.get('items') or {})}"
    if isinstance(kind, list):
        return " or ".join(words.get(k, str(k)) for k in kind)
    if isinstance(kind, str):
        low, high = schema.get("minimum"), schema.get("maximum")
        bounds = (
            f" {low}..{high}"
            if low is not None and high is not None
            else (f", {low} or more" if low is not None else "")
        )
        return words.get(kind, kind) + bounds
    return "any value"


def _options(cls: type[Check]) -> str:
    out = []
    for name, schema in cls.options.items():
        said = schema.get("description") or value_text(schema)
        default = f", default {json.dumps(schema['default'])}" if "default" in schema else ""
        out.append(f"`{name}`: {said}{default}")
    return "; ".join(out) or "—"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def table() -> str:
    rows = [
        "| check | value | options | passes when | promptfoo | example |",
        "|---|---|---|---|---|---|",
    ]
    for name, cls in built_in().items():
        example = getattr(cls, "example", "")
        aliases = ", ".join(f"`{a}`" for a in cls.aliases) or "—"
        cells = [f"`{name}`", value_text(cls.value_schema), _options(cls), cls.description, aliases,
                 f"`{example}`" if example else ""]  # fmt: skip
        rows.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    return "\n".join(rows) + "\n"


def rewritten(text: str) -> str:
    """``text`` (docs/specs.md) with the table between its markers made anew; ValueError without markers."""
    start, end = text.index(BEGIN) + len(BEGIN), text.index(END)
    return text[:start] + "\n" + table() + text[end:]


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(table(), end="")
        return 0
    path = Path(argv[0])
    path.write_text(rewritten(path.read_text("utf-8")), "utf-8")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main(sys.argv[1:]))
