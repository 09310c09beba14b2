"""Conversations in compare.html: each side's trajectory (every step's calls with their arguments, the results
fed back, the reply), the calls that differ from the other side's marked, and the diff of the two sides' calls.
Everything shown is model output: every text is escaped."""

from __future__ import annotations

from html import escape

from aitest.compare.calls import same_call
from aitest.models.response import ToolCall
from aitest.trajectory import Step, Trajectory, all_calls
from aitest.util.text import cut

STYLE = """
.trajectory{margin-top:6px} .trajectory summary{font-size:12px;color:#57606a;cursor:pointer}
.trajectory ol{margin:4px 0;padding-left:22px} .trajectory li{margin:3px 0}
.trajectory .call{font:12px ui-monospace,SFMono-Regular,Menlo,monospace;padding:1px 3px;word-break:break-word}
.trajectory .call.changed{background:#fff8c5;outline:1px solid #d4a72c} .trajectory .mark{color:#c62828}
.trajectory .result{color:#57606a} .trajectory .reply{border-left:3px solid #d0d7de;padding-left:6px}
.calls-diff{margin-bottom:8px} .calls-changed{color:#c62828;margin:0 0 8px}
"""
RESULT_LIMIT = 600  # characters of a tool result shown; the rest is counted


def trajectory_html(trajectory: Trajectory, other: list[ToolCall], *, side: str) -> str:
    """One side's trajectory as an ordered list of steps; a call that differs from the other side's call at the
    same position has the class ``changed`` and a visible mark."""
    calls = all_calls(trajectory)
    summary = f"{side} trajectory: {len(trajectory)} step(s), {len(calls)} tool call(s)"
    steps, position = [], 0
    for step in trajectory:
        steps.append(f'<li class="step">{_step(step, other, position)}</li>')
        position += len(step.calls)
    body = "".join(steps) or "<li>(no model step)</li>"
    return f'<details class="trajectory {side}" open><summary>{escape(summary)}</summary><ol>{body}</ol></details>'


def _step(step: Step, other: list[ToolCall], position: int) -> str:
    parts = []
    results = {r.call_id: r for r in step.results}
    for index, call in enumerate(step.calls, position):
        changed = index >= len(other) or not same_call(call, other[index])
        mark = '<b class="mark" title="differs from the other side">≠</b> ' if changed else ""
        parts.append(f'<div class="call{" changed" if changed else ""}" data-call="{index + 1}">{mark}'
                     f"{escape(call.label())}</div>")  # fmt: skip
        result = results.pop(call.id, None)
        if result is not None:
            parts.append(f'<pre class="result">→ {escape(cut(result.content, RESULT_LIMIT))}</pre>')
    for result in results.values():  # fed back for a call this step does not show
        parts.append(f'<pre class="result">→ {escape(result.name)}: {escape(cut(result.content, RESULT_LIMIT))}</pre>')
    if step.text or not step.calls:
        parts.append(f'<pre class="reply">{escape(step.text) or "(no text)"}</pre>')
    return "".join(parts)


def calls_diff_html(before: list[ToolCall], after: list[ToolCall]) -> str:
    """The two sides' calls position by position: equal ones once, differing ones as - baseline / + candidate."""
    lines = []
    for index in range(max(len(before), len(after))):
        a = before[index] if index < len(before) else None
        b = after[index] if index < len(after) else None
        if a is not None and b is not None and same_call(a, b):
            lines.append(f"  {index + 1}. {escape(a.label())}")
            continue
        lines.append(f'<span class="del">- {index + 1}. {escape(a.label()) if a else "(no call)"}</span>')
        lines.append(f'<span class="add">+ {index + 1}. {escape(b.label()) if b else "(no call)"}</span>')
    if not lines:
        return '<div class="calls-diff"><small>tool calls</small><pre>(no tool call on either side)</pre></div>'
    same = all(line.startswith("  ") for line in lines)
    shown = "(the same calls)\n" + "\n".join(lines) if same else "\n".join(lines)
    return f'<div class="calls-diff"><small>tool calls</small><pre class="diff">{shown}</pre></div>'
