"""How a failed case reads: feature and case, each failed check with its spec line, the output."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from aitest.result import CaseResult, RunResult
from aitest.run import canonical
from aitest.trajectory import render_trajectory
from aitest.util.text import cut, cut_apart, plural, show_text, unified_diff

MAX_OUTPUT_LINES = 20
SHORT_OUTPUT_LINES = 5


def render_output(output: Any, limit: int = MAX_OUTPUT_LINES) -> str:
    """The output as the user reads it, indented, truncated past ``limit`` lines of MAX_LINE characters."""
    text = output if isinstance(output, str) else json.dumps(output, indent=2, ensure_ascii=False)
    if not text.strip():
        return "    (empty)" if text == "" else f"    (only whitespace: {cut(repr(text))})"
    lines = text.splitlines()
    if len(lines) > limit:
        lines = [*lines[:limit], f"... ({len(lines) - limit} more lines)"]
    return "\n".join("    " + cut(line) for line in lines)


def describe_run(run: RunResult, *, short: bool = False) -> list[str]:
    """One block per failed check, then the output (``short``: no details, a few lines of output)."""
    lines: list[str] = []
    if run.problem:
        lines.append(f"  {run.problem}")
    for verdict in run.failures:
        lines.append(f"  {verdict.label} at {verdict.location}: {cut(verdict.message)}")
        if not short:
            lines.extend("      " + cut(d) for d in verdict.detail.splitlines()[:MAX_OUTPUT_LINES])
    lines.append("  output:")
    lines.append(render_output(run.output, SHORT_OUTPUT_LINES if short else MAX_OUTPUT_LINES))
    if run.trajectory:
        steps = render_trajectory(run.trajectory, limit=120)
        lines.append("  trajectory:")
        limit = SHORT_OUTPUT_LINES if short else MAX_OUTPUT_LINES
        lines.extend("    " + line for line in steps[:limit])
        if len(steps) > limit:
            lines.append(f"    ... ({len(steps) - limit} more steps)")
    return lines


def format_case_failure(result: CaseResult, *, short: bool = False) -> str:
    """The failure section of a case: what pytest prints under FAILURES (``short`` for --tb=short)."""
    owner = f"; owner {result.owner}" if result.owner else ""
    lines = [f"{result.feature}::{result.id} failed ({result.location}{owner})"]
    if result.error:
        lines.append("  " + "\n".join(cut(line) for line in result.error.splitlines()))
        if result.traceback and not short:
            lines.append(result.traceback)
        return "\n".join(lines)
    if result.summary:
        lines.append(f"  {result.summary}")
    failed = [r for r in result.runs if not r.passed]
    if len(result.runs) > 1 and not short:
        lines.extend(_disagreement_block(result.runs, result.agree))
    if failed:
        run = failed[0]
        if len(result.runs) > 1:
            lines.append(f"  first failing run: {run_name(run.index, len(result.runs))}:")
        if run.failures:
            lines.append(f"  {len(run.failures)} of {plural(len(run.checks), 'check')} failed:")
        lines.extend(describe_run(run, short=short))
    return "\n".join(lines)


def run_name(index: int, runs: int) -> str:
    """A run as messages name it: counted from 1, with the 0-based ``run:`` that recordings and reports give it."""
    return f"run {index + 1} of {runs} (run: {index} in recordings and reports)"


def _disagreement_block(runs: tuple[RunResult, ...], agree: str | None) -> list[str]:
    """The distinct outputs with counts and the runs (from 1) that gave each, and a diff of the first two."""
    numbers: dict[str, list[int]] = {}
    for run in runs:
        numbers.setdefault(canonical(run.output, agree), []).append(run.index + 1)
    if len(numbers) < 2:
        return []
    common = Counter({text: len(n) for text, n in numbers.items()}).most_common(5)
    shown = cut_apart([show_text(text) for text, _ in common], 100)
    lines = [f"  {len(numbers)} distinct outputs:"]
    lines.extend(f"    {n}x {text} ({_runs_list(numbers[t])})" for (t, n), text in zip(common, shown, strict=True))
    first, second = list(numbers)[:2]
    lines.extend("    " + line for line in unified_diff(first, second, labels=("first output", "second output")))
    return lines


def _runs_list(numbers: list[int], limit: int = 8) -> str:
    listed = ", ".join(str(n) for n in numbers[:limit]) + (", ..." if len(numbers) > limit else "")
    return f"run {listed}" if len(numbers) == 1 else f"runs {listed}"
