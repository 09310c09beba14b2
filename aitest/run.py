"""One case: inputs -> outputs (one per determinism run) -> checks -> CaseResult."""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aitest.checks.base import CheckResult, as_text
from aitest.checks.path import PathMissing
from aitest.errors import AitestError, TargetError
from aitest.spec.model import Case, CheckSpec, Determinism, Spec
from aitest.spec.template import render

if TYPE_CHECKING:
    from aitest.models.client import ModelClient
    from aitest.models.runtime import ModelRuntime


@dataclass(frozen=True)
class CheckOutcome:
    spec: CheckSpec
    result: CheckResult


@dataclass(frozen=True)
class RunOutcome:
    """One run of a case: its output and what each check said of it."""

    output: Any
    outcomes: tuple[CheckOutcome, ...]
    latency_ms: float
    problem: str = ""  # the output could not be checked at all (e.g. not JSON)

    @property
    def passed(self) -> bool:
        return not self.problem and all(o.result.passed for o in self.outcomes)

    @property
    def failures(self) -> list[CheckOutcome]:
        return [o for o in self.outcomes if not o.result.passed]


@dataclass(frozen=True)
class CaseResult:
    spec: Spec
    case: Case
    runs: tuple[RunOutcome, ...]
    passed: bool
    summary: str = ""  # determinism verdict when there were several runs
    error: AitestError | None = None


def parse_json(text: str) -> Any:
    """Parse JSON output, tolerating a surrounding ```json code fence (models love them)."""
    stripped = text.strip()
    if stripped.startswith("```") and stripped.endswith("```"):
        stripped = stripped[3:-3]
        stripped = stripped[stripped.find("\n") + 1 :] if "\n" in stripped else stripped
    return json.loads(stripped)


def evaluate(
    output: Any, checks: Iterable[CheckSpec], *, output_kind: str = "text", latency_ms: float = 0.0
) -> RunOutcome:
    """Run every check on one output (path selection first)."""
    value, parsed, problem = output, None, ""
    if isinstance(output, str) and output_kind == "json":
        try:
            value = parsed = parse_json(output)
        except ValueError as exc:
            problem = f"output is not valid JSON ({exc})"
            return RunOutcome(output, (), latency_ms, problem)
    outcomes = []
    for spec in checks:
        if spec.check.needs_latency:
            outcomes.append(CheckOutcome(spec, spec.check.run(latency_ms)))
            continue
        subject = value
        if isinstance(value, str) and (spec.path is not None or spec.check.needs_json):
            if parsed is None:
                try:
                    parsed = parse_json(value)
                except ValueError as exc:
                    why = f"path '{spec.path.text}'" if spec.path else f"'{spec.name}'"
                    outcomes.append(
                        CheckOutcome(
                            spec, CheckResult(False, f"{why} needs JSON output, but the output is not JSON ({exc})")
                        )
                    )
                    continue
            subject = parsed
        outcomes.append(CheckOutcome(spec, _run_one(spec, subject)))
    return RunOutcome(output, tuple(outcomes), latency_ms)


def _run_one(spec: CheckSpec, value: Any) -> CheckResult:
    if spec.path is not None:
        try:
            value = spec.path.select(value)
        except PathMissing as exc:
            return CheckResult(False, f"path '{spec.path.text}' not found: {exc}")
    return spec.check.run(value)


def produce(spec: Spec, case: Case, client: ModelClient | None) -> tuple[Any, float]:
    """Call the feature once; returns its output and its time in ms (the model's time when a model was called)."""
    if client is None and (spec.prompt is not None or (spec.target is not None and spec.target.wants_model)):
        raise AitestError(
            "this spec needs a model, but none is configured here",
            location=spec.location,
            hint="run it through pytest, where aitest provides the model client",
        )
    start = time.perf_counter()
    if spec.prompt is not None:
        assert client is not None
        output: Any = client.complete(render(spec.prompt, case.vars))
    else:
        assert spec.target is not None
        kwargs = dict(case.vars)
        if spec.target.wants_model:
            kwargs["model"] = client
        try:
            output = spec.target.function(**kwargs)
        except AitestError:
            raise  # our own (a recording miss, a model error): shown as such, not as the target's
        except Exception as exc:
            raise TargetError(f"{spec.target.text} raised {type(exc).__name__}: {exc}", original=exc) from exc
    elapsed = (time.perf_counter() - start) * 1000
    if client is not None and client.errors:
        raise client.errors[0]  # the target swallowed a model error: it still fails the case
    return output, (client.model_ms if client is not None and client.calls else elapsed)


def uses_embeddings(spec: Spec, det: Determinism) -> bool:
    """Whether a case of this spec compares meanings (a `similar` check or `agree: semantic`)."""
    return det.agree == "semantic" or "similar" in spec.check_names


def run_case(spec: Spec, case: Case, runtime: ModelRuntime | None = None) -> CaseResult:
    """Run a case as many times as its determinism asks and judge it."""
    det = spec.determinism_for(case)
    if runtime is not None and runtime.runs_override:
        det = det.with_runs(runtime.runs_override)
    checks = spec.checks_for(case)
    runs: list[RunOutcome] = []
    needs_model = spec.prompt is not None or (spec.target is not None and spec.target.wants_model)
    if runtime is not None and needs_model and uses_embeddings(spec, det):
        runtime.prefetch_embeddings(spec)
    failure: AitestError | None = None
    try:
        for index in range(det.runs):
            client = runtime.client(spec, index) if runtime is not None and needs_model else None
            output, latency = produce(spec, case, client)
            runs.append(evaluate(output, checks, output_kind=spec.output, latency_ms=latency))
            if runtime is not None and client is not None and client.calls:  # model time, for the summary
                runtime.stats.latencies.setdefault(spec.feature, []).append(latency)
    except AitestError as error:
        failure = error
    try:
        if runtime is not None:
            runtime.after_case()
    except AitestError as error:
        failure = failure or error
    if failure is not None:
        return CaseResult(spec, case, tuple(runs), False, error=failure)
    passed_runs = sum(r.passed for r in runs)
    try:
        agree_problem = _disagreement(runs, det.agree, det.threshold)
    except AitestError as error:
        return CaseResult(spec, case, tuple(runs), False, error=error)
    passed = passed_runs >= det.required and not agree_problem
    summary = ""
    if det.runs > 1:
        summary = f"{passed_runs}/{det.runs} runs passed (need {det.required})"
        if agree_problem:
            summary += f"; {agree_problem}"
    return CaseResult(spec, case, tuple(runs), passed, summary)


def canonical(output: Any, agree: str | None) -> str:
    """The form in which outputs are compared for `agree` (exact text, or parsed JSON)."""
    if agree == "json":
        try:
            value = parse_json(output) if isinstance(output, str) else output
        except ValueError:
            return as_text(output)
        return json.dumps(value, sort_keys=True)
    return as_text(output)


def _disagreement(runs: list[RunOutcome], agree: str | None, threshold: float) -> str:
    if not agree or len(runs) < 2:
        return ""
    if agree == "semantic":
        from aitest.embeddings import cosine, embedder

        vectors = embedder().embed([as_text(r.output) for r in runs])
        lowest = min(cosine(a, b) for i, a in enumerate(vectors) for b in vectors[i + 1 :])
        if lowest >= threshold:
            return ""
        return f"outputs do not agree (semantic): lowest pairwise similarity {lowest:.3f} < {threshold}"
    distinct = {canonical(r.output, agree) for r in runs}
    if len(distinct) == 1:
        return ""
    return f"outputs do not agree ({agree}): {len(distinct)} distinct outputs in {len(runs)} runs"
