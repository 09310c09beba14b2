"""A case's trajectory: every model step of a conversation, its tool calls and the results fed back.

Tool checks judge it, failures show it, run reports and compare keep it (as plain dicts).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from aitest.models.response import ToolCall


@dataclass(frozen=True)
class ToolResult:
    """What was fed back to the model for one call (``call_id``), as the text of a `tool` turn."""

    call_id: str
    name: str
    content: str

    def to_dict(self) -> dict[str, Any]:
        return {"call_id": self.call_id, "name": self.name, "content": self.content}

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> ToolResult:
        return cls(str(raw["call_id"]), str(raw["name"]), str(raw["content"]))


@dataclass(frozen=True)
class Step:
    """One model turn: what it said, the calls it made, and the results those calls got (if any)."""

    text: str
    calls: tuple[ToolCall, ...] = ()
    results: tuple[ToolResult, ...] = ()
    finish_reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"text": self.text, "calls": [c.to_dict() for c in self.calls]}
        out["results"] = [r.to_dict() for r in self.results]
        out["finish_reason"] = self.finish_reason
        return out

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> Step:
        calls = tuple(ToolCall.from_dict(c) for c in raw.get("calls") or ())
        results = tuple(ToolResult.from_dict(r) for r in raw.get("results") or ())
        return cls(str(raw.get("text") or ""), calls, results, raw.get("finish_reason"))


Trajectory = tuple[Step, ...]


def all_calls(trajectory: Trajectory) -> list[ToolCall]:
    """Every tool call of a trajectory, in the order they were made."""
    return [call for step in trajectory for call in step.calls]


def trajectory_from_dicts(raw: Any) -> Trajectory:
    return tuple(Step.from_dict(s) for s in raw or ())


def render_trajectory(trajectory: Trajectory, *, limit: int = 200) -> list[str]:
    """The trajectory as lines for a failure message: one line per step, its calls and results."""
    from aitest.util.text import cut

    lines = []
    for number, step in enumerate(trajectory, 1):
        if not step.calls:
            lines.append(f"step {number}: reply {cut(json.dumps(step.text, ensure_ascii=False), limit)}")
            continue
        results = {r.call_id: r for r in step.results}
        for call in step.calls:
            result = results.get(call.id)
            fed = f" -> {cut(result.content, limit)}" if result else ""
            lines.append(f"step {number}: {cut(call.label(), limit)}{fed}")
    return lines or ["(no model step)"]
