"""The other forms a spec file may take: promptfoo's check form and bare check names (turned into ours),
and a list of tool definitions (a `tools:` file beside the specs, which is no spec)."""

from __future__ import annotations

from typing import Any

from aitest.checks.registry import all_checks
from aitest.spec.validate import check_lists
from aitest.spec.yaml_loader import Positions


def is_tools_list(data: Any) -> bool:
    """A YAML list of OpenAI function definitions: a `tools:` file kept beside the specs (`tools/orders.yaml`)."""
    return (
        isinstance(data, list)
        and bool(data)
        and all(isinstance(t, dict) and ("function" in t or {"name", "parameters"} <= set(t)) for t in data)
    )


def normalize_promptfoo(data: Any, positions: Positions) -> None:
    """Accept promptfoo's `{type: contains, value: x}` check form as `{contains: x}`, and a check with no
    value written as its bare name (`- no_tool_calls`) as `{no_tool_calls: null}`."""
    if not isinstance(data, dict):
        return
    known = all_checks()
    for base, items in check_lists(data):
        for i, item in enumerate(items):
            if isinstance(item, str) and item in known:
                items[i] = {item: None}
                here = (*base, i)
                named = (*here, item)
                positions.keys[named] = positions.values[named] = positions.values[here]
                continue
            kind = item.get("type") if isinstance(item, dict) else None
            if isinstance(kind, str) and kind in known and not any(k in known for k in item):
                del item["type"]
                item[kind] = item.pop("value", None)
                path = (*base, i)
                kind_path, type_path, value_path = (*path, kind), (*path, "type"), (*path, "value")
                positions.keys[kind_path] = positions.keys.get(type_path, (0, 0))
                positions.values[kind_path] = positions.values.get(value_path, positions.values[path])
