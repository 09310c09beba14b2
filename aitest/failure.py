"""How a failed case reads: feature and case, each failed check with its spec line, the output."""

from __future__ import annotations

import json
import traceback
from collections import Counter
from pathlib import Path
from typing import Any

from aitest.checks.text import text_diff
from aitest.errors import TargetError
from aitest.run import CaseResult, RunOutcome, canonical

MAX_OUTPUT_LINES = 20
_PACKAGE_DIR = str(Path(__file__).resolve().parent)


def render_output(output: Any, limit: int = MAX_OUTPUT_LINES) -> str:
    """The output as the user reads it, indented, truncated past ``limit`` lines."""
    text = output if isinstance(output, str) else json.dumps(output, indent=2, ensure_ascii=False)
    lines = text.splitlines() or [""]
    if len(lines) > limit:
        lines = [*lines[:limit], f"... ({len(lines) - limit} more lines)"]
    return "\n".join("    " + line for line in lines)


def describe_run(run: RunOutcome) -> list[str]:
    """One block per failed check, then the output."""
    lines: list[str] = []
    if run.problem:
        lines.append(f"  {run.problem}")
    for outcome in run.failures:
        spec, result = outcome.spec, outcome.result
        on = f" [path {spec.path.text}]" if spec.path else ""
        lines.append(f"  {spec.name}{on} at {spec.location}: {result.message}")
        lines.extend("      " + d for d in result.detail.splitlines())
    lines.append("  output:")
    lines.append(render_output(run.output))
    return lines


def user_traceback(exc: BaseException) -> str:
    """The traceback of an exception raised by the user's code, without aitest's own frames."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if not f.filename.startswith(_PACKAGE_DIR)]
    return "".join(traceback.format_list(frames)).rstrip()


def plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def format_case_failure(result: CaseResult) -> str:
    owner = f"; owner {result.spec.owner}" if result.spec.owner else ""
    head = f"{result.spec.feature}::{result.case.id} failed ({result.case.location}{owner})"
    lines = [head]
    if result.error is not None:
        lines.append(f"  {result.error}")
        if isinstance(result.error, TargetError):
            lines.append(user_traceback(result.error.original))
        return "\n".join(lines)
    if result.summary:
        lines.append(f"  {result.summary}")
    failed = [r for r in result.runs if not r.passed]
    if len(result.runs) > 1:
        lines.extend(_disagreement_block(result.runs, result.spec.determinism_for(result.case).agree))
    if failed:
        run = failed[0]
        count = len(run.failures)
        total = len(run.outcomes)
        if len(result.runs) > 1:
            lines.append(f"  first failing run (run {result.runs.index(run) + 1}):")
        if count:
            lines.append(f"  {count} of {plural(total, 'check')} failed:")
        lines.extend(describe_run(run))
    return "\n".join(lines)


def _disagreement_block(runs: tuple[RunOutcome, ...], agree: str | None) -> list[str]:
    """The distinct outputs with counts, and a diff of the first two."""
    counts = Counter(canonical(r.output, agree) for r in runs)
    if len(counts) < 2:
        return []
    lines = [f"  {len(counts)} distinct outputs:"]
    lines.extend(f"    {n}x {text[:100]!r}" for text, n in counts.most_common(5))
    first, second = list(counts)[:2]
    lines.extend(
        "    " + line for line in text_diff(first, second, labels=("first output", "second output")).splitlines()
    )
    return lines
