"""How a broken property reads: the base case, the smallest varied input, the output, the invariant."""

from __future__ import annotations

from typing import Any

from aitest.failure import describe_run, format_case_failure, render_output
from aitest.result import CaseResult
from aitest.util.text import cut, plural


def format_property_failure(result: CaseResult, *, short: bool = False) -> str:
    """What pytest prints under FAILURES for a property (``short`` for --tb=short)."""
    info = result.extra.get("property", {})
    minimal = info.get("minimal")
    if result.error or minimal is None or not result.runs:
        return format_case_failure(result, short=short)
    owner = f"; owner {result.owner}" if result.owner else ""
    generated = info["tried"] - info["shrink_steps"]
    lines = [
        f"{result.feature}::{result.id} failed ({result.location}{owner})",
        f"  property: {info['invariant']} must hold when {_varied(info['vary'])}",
        f"  broken after {plural(generated, 'example')}; the smallest input that breaks it"
        f" ({plural(info['shrink_steps'], 'shrinking step')}{_cut(info)}):",
        f"  base case: {minimal['base']} ({minimal['base_at']})",
    ]
    lines.extend(_vars(minimal["base_vars"]))
    lines.append(f"  varied by {'; '.join(minimal['variations']) or 'nothing'}:")
    lines.extend(_vars(minimal["vars"]))
    lines.extend(describe_run(result.runs[0], short=short))
    if minimal.get("unvaried_passes") is False:
        lines.append("  note: the unvaried case fails these checks too, so the variation is not what breaks them")
    if minimal.get("unvaried_output") is not None and not short:
        lines.append("  unvaried output:")
        lines.append(render_output(minimal["unvaried_output"]))
    return "\n".join(lines)


def _cut(info: dict[str, Any]) -> str:
    return "; shrinking stopped at its budget, a smaller one may exist" if info.get("shrink_cut") else ""


def _varied(vary: dict[str, list[str]]) -> str:
    return "; ".join(f"{var} varies by {', '.join(kinds)}" for var, kinds in vary.items())


def _vars(values: dict[str, Any]) -> list[str]:
    return [f"    {name}: {cut(repr(value), 200)}" for name, value in values.items()]
