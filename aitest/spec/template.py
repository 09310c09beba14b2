"""`{{ name }}` templates of prompt specs."""

from __future__ import annotations

import json
import re
from typing import Any

_VAR = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
TEMPLATE_VAR = _VAR  # `{{ name }}`, as other modules find it


def template_vars(template: str) -> list[tuple[str, int]]:
    """Each variable used, with the 0-based line of the template it is on."""
    return [(m.group(1), template.count("\n", 0, m.start())) for m in _VAR.finditer(template)]


def render(template: str, variables: dict[str, Any]) -> str:
    """Replace every {{ name }} by the var's value (text as is, anything else as JSON)."""

    def value(match: re.Match[str]) -> str:
        v = variables[match.group(1)]
        return v if isinstance(v, str) else json.dumps(v, ensure_ascii=False)

    return _VAR.sub(value, template)
