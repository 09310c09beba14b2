"""Tool calls in a comparison: the calls of a case's first run, how many are equal on both sides, and what
changed. A call is its tool's name and its arguments; ids (``call_0``, ...) and results do not count."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aitest.checks.tool_match import json_equal
from aitest.models.response import ToolCall
from aitest.trajectory import Trajectory, all_calls, trajectory_from_dicts
from aitest.util.text import cut


@dataclass(frozen=True)
class CallComparison:
    agreement: float  # the share of positions whose calls are equal
    change: str  # how the calls changed, in one line; empty when they did not
    made: bool  # a side called a tool


def compare_calls(base: dict[str, Any], other: dict[str, Any]) -> CallComparison | None:
    """The calls of two run-report cases' first runs compared; None when neither run has a trajectory, or a
    side has no run (a side whose run has no trajectory made no call)."""
    before, after = first_calls(base), first_calls(other)
    if (before is None and after is None) or not base.get("runs") or not other.get("runs"):
        return None
    before, after = before or [], after or []
    return CallComparison(call_agreement(before, after), calls_change(before, after), bool(before or after))


def first_trajectory(case: dict[str, Any] | None) -> Trajectory | None:
    """The trajectory of a run-report case's first run; None when it has none (not a conversation)."""
    runs = (case or {}).get("runs") or []
    if not runs or "trajectory" not in runs[0]:
        return None
    return trajectory_from_dicts(runs[0]["trajectory"])


def first_calls(case: dict[str, Any] | None) -> list[ToolCall] | None:
    """The tool calls of a case's first run, in order; None when that run has no trajectory."""
    trajectory = first_trajectory(case)
    return None if trajectory is None else all_calls(trajectory)


def same_call(a: ToolCall, b: ToolCall) -> bool:
    """The same tool with the same arguments, as JSON values (true is not 1)."""
    return a.name == b.name and json_equal(a.arguments, b.arguments)


def call_agreement(before: list[ToolCall], after: list[ToolCall]) -> float:
    """The share of positions whose calls are equal (name and arguments), over the longer sequence; 1.0 when
    neither side called a tool."""
    longest = max(len(before), len(after))
    if not longest:
        return 1.0
    return sum(1 for a, b in zip(before, after, strict=False) if same_call(a, b)) / longest


def calls_change(before: list[ToolCall], after: list[ToolCall], *, limit: int = 200) -> str:
    """One line saying how the calls changed (``tool calls changed: a(x=1) -> b(x=1)``); empty when they did not.
    The calls both sides made first, alike, are left out: the line starts where they part."""
    common = 0
    while common < min(len(before), len(after)) and same_call(before[common], after[common]):
        common += 1
    if common == len(before) == len(after):
        return ""
    where = f" from call {common + 1}" if common else ""
    line = f"tool calls changed{where}: {_labels(before[common:])} -> {_labels(after[common:])}"
    return cut(line, limit)


def _labels(calls: list[ToolCall]) -> str:
    return ", ".join(call.label() for call in calls) or "no call"
