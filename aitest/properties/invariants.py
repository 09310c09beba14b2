"""Whether a varied output keeps the behavior: `same`, `similar`, `checks`, or a list of checks."""

from __future__ import annotations

import json
from collections.abc import Callable
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from aitest.checks.base import CaseInfo, ModelLookup, as_text, parse_json, show
from aitest.checks.path import PathMissing
from aitest.models.response import ToolCall
from aitest.result import CheckVerdict, RunResult
from aitest.run import Produced, evaluate
from aitest.spec.model import Case, Invariant, Spec
from aitest.trajectory import all_calls

if TYPE_CHECKING:
    from aitest.embeddings import Embedder


def needs_embeddings(spec: Spec, invariant: Invariant, bases: list[Case]) -> bool:
    if invariant.kind == "similar":
        return True
    if invariant.kind == "list":
        return any(e.name == "similar" for e in invariant.expect)
    return invariant.kind == "checks" and any(e.name == "similar" for c in bases for e in spec.checks_for(c))


def judge(
    spec: Spec,
    invariant: Invariant,
    base: Case,
    produced: Produced,
    *,
    unvaried: Callable[[], Any],
    embedder: Embedder | None,
    varied: Case | None = None,
    models: ModelLookup | None = None,
    unvaried_calls: Callable[[], tuple[ToolCall, ...]] = tuple,
) -> RunResult:
    """The varied output's verdict. ``unvaried()`` gives the base case's own output (called only when needed);
    ``varied`` is the case as run (what `python:` and `rubric:` checks see), ``models`` the checks' judges."""
    if invariant.kind in ("checks", "list"):
        expect = spec.checks_for(base) if invariant.kind == "checks" else invariant.expect
        case = varied or base
        info = CaseInfo(spec.feature, case.id, MappingProxyType(dict(case.vars)))
        return evaluate(produced.output, expect, output_kind=spec.output, latency_ms=produced.latency_ms,
                        embedder=embedder, produced=produced, case=info, models=models)  # fmt: skip
    value, problem = comparable(spec, invariant, produced.output)
    before, before_problem = comparable(spec, invariant, unvaried())
    score = None
    if before_problem:
        passed, message = False, f"the unvaried case's output {before_problem}, so there is nothing to compare with"
    elif problem:
        passed, message = False, f"the output {problem}"
    elif invariant.kind == "same":
        passed = value == before
        message = "" if passed else f"{show(value)} here, {show(before)} for the unvaried case"
        calls, calls_before = all_calls(produced.trajectory), list(unvaried_calls())
        if passed and _signatures(calls) != _signatures(calls_before):  # the same behavior calls the same tools
            passed = False
            shown = [c.label() for c in calls], [c.label() for c in calls_before]
            message = f"tool calls {_listed(shown[0])} here, {_listed(shown[1])} for the unvaried case"
    else:
        from aitest.embeddings import cosine

        assert embedder is not None  # similar needs embeddings: the runner gives them
        left, right = embedder.embed([as_text(value), as_text(before)])
        score = cosine(left, right)
        passed = score >= invariant.threshold
        message = "" if passed else f"similarity {score:.3f} < {invariant.threshold} to the unvaried output"
    path = invariant.path.text if invariant.path is not None else None
    verdict = CheckVerdict(invariant.kind, passed, message, invariant.location, path, score)
    return RunResult(0, produced.output, produced.latency_ms, (verdict,), "", produced.model_calls,
                     produced.prompt_tokens, produced.completion_tokens)  # fmt: skip


def _signatures(calls: Any) -> list[str]:
    """Each call as its tool and canonical arguments: two calls are the same whatever their keys' order."""
    return [f"{call.name}({json.dumps(call.arguments, sort_keys=True, ensure_ascii=False)})" for call in calls]


def _listed(labels: list[str]) -> str:
    return show(", ".join(labels), 120) if labels else "(none)"


def comparable(spec: Spec, invariant: Invariant, output: Any) -> tuple[Any, str]:
    """The output as `same` and `similar` compare it (parsed JSON, the `path` field, text stripped), or a problem."""
    value = output
    if isinstance(value, str) and (spec.output == "json" or invariant.path is not None):
        try:
            value = parse_json(value)
        except ValueError as exc:
            return None, f"is not valid JSON ({exc})"
    if invariant.path is not None:
        try:
            value = invariant.path.select(value)
        except PathMissing as exc:
            return None, f"has no '{invariant.path.text}' ({exc})"
    return (value.strip() if isinstance(value, str) else value), ""
