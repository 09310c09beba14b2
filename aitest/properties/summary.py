"""The terminal summary's lines about properties: examples tried, and those the session's cap cut short."""

from __future__ import annotations

from collections.abc import Iterable

from aitest.result import CaseResult
from aitest.util.text import plural


def property_lines(results: Iterable[CaseResult]) -> list[str]:
    ran = [(r, r.extra["property"]) for r in results if r.kind == "property" and "property" in r.extra]
    if not ran:
        return []
    tried = sum(info["tried"] for _, info in ran)
    shrinking = sum(info["shrink_steps"] for _, info in ran)
    line = f"aitest properties: {plural(len(ran), 'property', 'properties')} run, {plural(tried, 'example')} tried"
    lines = [line + (f" ({shrinking} while shrinking)" if shrinking else "")]
    cut = [(r, info) for r, info in ran if info["cut_short"]]
    if cut:
        budget = cut[0][1]["budget"]
        names = ", ".join(f"{r.feature}::{r.id} (asks {info['examples_asked']})" for r, info in cut)
        lines.append(
            f"aitest properties: {plural(len(cut), 'property', 'properties')} cut short to {budget} examples "
            f"by --aitest-max-examples or [tool.aitest] max_examples: {names}"
        )
    return lines
