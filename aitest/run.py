"""One case: inputs -> outputs (one per determinism run) -> checks -> CaseResult."""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Iterable
from dataclasses import dataclass, replace
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from aitest.checks.base import CaseInfo, CheckContext, ModelLookup, Usage, as_text, parse_json
from aitest.checks.path import PathMissing
from aitest.errors import AitestError, Location, RecordingMiss, TargetError
from aitest.models.profile import Price, Profile, price_or_default
from aitest.result import CaseResult, CheckVerdict, Outcome, RunResult
from aitest.spec.model import Case, Determinism, Expectation, Spec
from aitest.spec.template import render
from aitest.trajectory import Trajectory
from aitest.util.text import first_line

if TYPE_CHECKING:
    from aitest.embeddings import Embedder
    from aitest.models.client import ModelClient
    from aitest.models.runtime import ModelRuntime


@dataclass(frozen=True)
class Produced:
    """What one call of the feature gave: its output, its time, and what the model client counted."""

    output: Any
    latency_ms: float
    model_calls: int = 0
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    cut_at: int | None = None  # the model's last answer stopped at this max_tokens
    trajectory: Trajectory = ()  # the steps of a conversation: tool calls and the results fed back
    finish_reason: str | None = None  # why the model's last answer stopped, where recorded
    exceeded: int | None = None  # the max_steps at which the model was still calling tools
    steps_location: Location | None = None  # where max_steps is written (or the spec's feature line)
    profile: Profile | None = None  # the model profile the calls ran on (None: no model)

    def usage(self) -> Usage:
        """What this run's model calls took, priced by the profile (see ``price_of``)."""
        profile = self.profile
        name, price = (profile.name, price_of(profile)) if profile is not None else (None, None)
        return Usage(self.model_calls, self.prompt_tokens, self.completion_tokens, name, price)


def plain_output(output: Any) -> Any:
    """A target's output as checks, messages and reports can hold it: text and JSON values as they are, bytes
    decoded (UTF-8, undecodable bytes as U+FFFD), anything JSON cannot hold (a date, an object) as its str."""
    if isinstance(output, str):
        return output
    if isinstance(output, (bytes, bytearray)):
        return bytes(output).decode("utf-8", errors="replace")
    try:
        json.dumps(output)
        return output
    except (TypeError, ValueError, RecursionError):
        try:
            return json.loads(
                json.dumps(output, default=lambda v: plain_output(v) if isinstance(v, (bytes, bytearray)) else str(v))
            )
        except (TypeError, ValueError, RecursionError):
            return str(output)


def price_of(profile: Profile) -> Price | None:
    """The profile's price per million tokens (see aitest.models.profile.price_or_default)."""
    return price_or_default(profile.provider, profile.price)


def not_json(output: Any, exc: ValueError, cut_at: int | None = None) -> str:
    """Why output is not JSON, to follow "is not JSON": it is empty, it was cut off at max_tokens, or
    (in parentheses) what the parser said."""
    if isinstance(output, str) and not output.strip():
        return ": the output is empty"
    if cut_at is not None:
        return f": it was cut off at max_tokens={cut_at} (raise params.max_tokens)"
    return f" ({exc})"


def evaluate(
    output: Any,
    expectations: Iterable[Expectation],
    *,
    output_kind: str = "text",
    latency_ms: float = 0.0,
    index: int = 0,
    runs: tuple[Any, ...] = (),
    reference: Any = None,
    embedder: Embedder | None = None,
    produced: Produced | None = None,
    case: CaseInfo | None = None,
    models: ModelLookup | None = None,
) -> RunResult:
    """Run every check on one output (JSON parsing and `path` selection first).

    ``produced`` carries what the model client counted of this run (calls, tokens) into the result;
    ``case`` and ``models`` are handed to the checks (custom checks, a rubric's judge).
    """
    counts = (produced.model_calls, produced.prompt_tokens, produced.completion_tokens) if produced else (0, None, None)
    cut_at = produced.cut_at if produced else None
    trajectory = produced.trajectory if produced else ()
    value, is_json = output, not isinstance(output, str)
    if not is_json and output_kind == "json":
        try:
            value = parse_json(output)
        except ValueError as exc:
            why = f"output is not valid JSON{not_json(output, exc, cut_at)}"
            return RunResult(index, output, latency_ms, (), why, *counts, trajectory=trajectory)
        is_json = True
    whole = CheckContext(
        value,
        is_json=is_json,
        output=output,
        latency_ms=latency_ms,
        runs=runs,
        reference=reference,
        embedder=embedder,
        case=case,
        models=models,
        trajectory=trajectory,
        finish_reason=produced.finish_reason if produced else None,
        usage=produced.usage() if produced else None,
    )
    parsed_text: list[Any] = []  # a text output parsed once, for the first check with a `path`
    verdicts = []
    for expectation in expectations:
        ctx = whole if expectation.path is None else _selected(expectation, whole, parsed_text, cut_at)
        if isinstance(ctx, CheckVerdict):
            verdicts.append(ctx)
            continue
        result = expectation.check.run(ctx)
        verdicts.append(_verdict(expectation, result.passed, result.message, result.score, result.detail))
    if produced is not None and produced.exceeded is not None:
        verdicts.append(_steps_exceeded(produced, whole.case))
    return RunResult(index, output, latency_ms, tuple(verdicts), "", *counts, trajectory=trajectory)


def _steps_exceeded(produced: Produced, case: CaseInfo | None) -> CheckVerdict:
    """The failing verdict of a conversation that was still calling tools at its last allowed turn."""
    from aitest.trajectory import render_trajectory

    last = produced.trajectory[-1].calls if produced.trajectory else ()
    calls = ", ".join(c.label() for c in last)
    message = (
        f"the model was still calling tools after max_steps={produced.exceeded} model turns ({calls}); "
        "raise max_steps, or check what the tool results tell the model"
    )
    detail = "\n".join(render_trajectory(produced.trajectory))
    where = produced.steps_location or Location(case.feature if case else "")
    return CheckVerdict("max_steps", False, message, where, None, None, detail)


def _selected(
    expectation: Expectation, whole: CheckContext, parsed_text: list[Any], cut_at: int | None
) -> CheckContext | CheckVerdict:
    """The context of a check with a `path`: its field of the JSON output; a failed verdict when the output
    is not JSON or has no such field."""
    assert expectation.path is not None
    data = whole.value
    if not whole.is_json:
        if not parsed_text:
            try:
                parsed_text.append(parse_json(whole.value))
            except ValueError as exc:
                why = f"path '{expectation.path.text}' needs JSON output, but the output is not JSON"
                return _verdict(expectation, False, why + not_json(whole.value, exc, cut_at))
        data = parsed_text[0]
    try:
        selected = expectation.path.select(data)
    except PathMissing as exc:
        return _verdict(expectation, False, f"path '{expectation.path.text}' not found: {exc}")
    return replace(whole, value=selected, is_json=True)


def _verdict(
    expectation: Expectation, passed: bool, message: str, score: float | None = None, detail: str = ""
) -> CheckVerdict:
    path = expectation.path.text if expectation.path is not None else None
    location = expectation.location
    return CheckVerdict(expectation.name, passed, message, location, path, score, detail, expectation.critical)


def produce(spec: Spec, case: Case, client: ModelClient | None) -> Produced:
    """Call the feature once: run the conversation (with its tools), complete the prompt, or call the target."""
    start = time.perf_counter()
    exceeded = None
    if spec.is_chat:
        assert client is not None  # a chat needs a model: run_case always gives it one
        from aitest.conversation import converse

        ended = converse(client, spec.turns_for(case), spec.tools, case.vars)
        output: Any = ended.text
        exceeded = spec.max_steps if ended.exceeded else None
    elif spec.prompt is not None:
        assert client is not None  # a prompt spec needs a model: run_case always gives it one
        output = client.complete(render(spec.prompt, case.vars))
    else:
        assert spec.target is not None
        kwargs = dict(case.vars)
        if spec.target.wants_model:
            kwargs["model"] = client
        if spec.target.wants_openai:
            from aitest.models.openai_compat import OpenAICompat

            assert client is not None  # a target taking `openai` needs a model: run_case gives it one
            kwargs["openai"] = OpenAICompat(client)
        try:
            output = plain_output(spec.target.function(**kwargs))
        except AitestError:
            raise  # our own (a recording miss, a model error): shown as such, not as the target's
        except Exception as exc:
            raise TargetError(f"{spec.target.text} raised {type(exc).__name__}: {exc}", original=exc) from exc
    elapsed = (time.perf_counter() - start) * 1000
    if client is None:
        return Produced(output, elapsed)
    if client.errors:
        raise client.errors[0]  # the target swallowed a model error: it still fails the case
    latency = client.model_ms if client.calls else elapsed
    steps_at = (spec.tools.max_steps_location if spec.tools else None) or spec.location
    return Produced(
        output, latency, client.calls, client.prompt_tokens, client.completion_tokens, client.cut_at,
        client.trajectory, client.finish_reason, exceeded, steps_at, client.profile,
    )  # fmt: skip


def _spent(client: ModelClient | None) -> Produced | None:
    """What a run that did not finish still spent: its answered model calls, their time and tokens."""
    answered = client.calls - len(client.errors) if client is not None else 0
    if client is None or answered <= 0:
        return None
    return Produced(
        None, client.model_ms, answered, client.prompt_tokens, client.completion_tokens, trajectory=client.trajectory
    )


def _produce_runs(
    spec: Spec, case: Case, runtime: ModelRuntime, runs: int
) -> tuple[list[Produced], Produced | None, AitestError | None]:
    """Call the feature ``runs`` times; stop at the first run that fails, keeping what that run spent."""
    produced: list[Produced] = []
    for index in range(runs):
        client = runtime.client(spec, index) if spec.needs_model else None
        try:
            produced.append(produce(spec, case, client))
        except AitestError as error:
            return produced, _spent(client), error
    return produced, None, None


def run_case(spec: Spec, case: Case, runtime: ModelRuntime, *, runs: int | None = None, nodeid: str = "") -> CaseResult:
    """Run a case as many times as its determinism asks (or ``runs``) and judge it."""
    det = spec.determinism_for(case)
    if runs:
        det = det.with_runs(runs)
    identity = _identity(spec, case, runtime, det, nodeid)
    embedder = runtime.embedder if spec.uses_embeddings(det) else None
    if embedder is not None:
        runtime.prefetch_embeddings(spec)
    produced, spent, failure = _produce_runs(spec, case, runtime, det.runs)
    results, judge_error = _judge(spec, case, produced, embedder, runtime)
    failure = failure or judge_error
    if spent is not None:  # the model answered, then the run failed: its time and tokens still count
        problem = f"the run did not finish: {first_line(failure.message) if failure else ''}"
        unfinished = RunResult(len(produced), None, spent.latency_ms, (), problem, *_counts(spent), spent.trajectory)
        results = (*results, unfinished)
    try:
        runtime.after_case()
    except AitestError as error:
        failure = failure or error
    if failure is not None:
        return _failed_to_run(identity, results, failure)
    scores = [score_run(r, spec.checks_for(case), case.threshold) for r in results]
    passed_runs = sum(s.passed for s in scores)
    try:
        agree_problem = _disagreement(results, det.agree, det.threshold, embedder)
    except AitestError as error:
        return _failed_to_run(identity, results, error)
    passed = passed_runs >= det.required and not agree_problem
    summary, extra = "", {}
    if case.threshold is not None and scores:
        mean = sum(s.score for s in scores) / len(scores)
        extra = {"score": round(mean, 4), "threshold": case.threshold, "runs_passed": passed_runs}
        summary = scored_summary(scores, case.threshold, mean)
    if det.runs > 1:
        runs_passed = f"{passed_runs}/{det.runs} runs passed (need {det.required})"
        summary = f"{runs_passed}, {summary}" if summary else runs_passed
        if agree_problem:
            summary += f"; {agree_problem}"
    outcome: Outcome = "passed" if passed else "failed"
    if passed:
        return CaseResult(**identity, outcome=outcome, runs=results, summary=summary, extra=extra)
    reason, where = _check_reason(results, summary, case.location, scores, case.threshold)
    return CaseResult(
        **identity, outcome=outcome, runs=results, summary=summary, reason=reason, reason_location=where, extra=extra
    )


@dataclass(frozen=True)
class RunScore:
    """A run's verdict under its case's `threshold`: the weighted mean of its checks' scores, and whether it
    passed (the score reached the threshold, and no critical check failed). Without a threshold, every check
    must pass, as ever."""

    passed: bool
    score: float
    critical: CheckVerdict | None = None  # the first critical check that failed (no threshold excuses it)


def score_run(run: RunResult, checks: tuple[Expectation, ...], threshold: float | None) -> RunScore:
    """Score one run as promptfoo scores a test: each check's score (a check without one: 1 when it passes,
    0 when it fails) weighted by its `weight`; a run whose checks weigh nothing scores 1."""
    counted = list(zip(checks, run.checks, strict=False))  # one verdict per check, in order; then max_steps
    if threshold is None or run.problem:
        return RunScore(run.passed, float(run.passed))
    total = sum(e.weight for e, _ in counted)
    score = sum(e.weight * _check_score(v) for e, v in counted) / total if total else 1.0
    gates = [v for e, v in counted if e.critical] + list(run.checks[len(counted) :])
    critical = next((v for v in gates if not v.passed), None)
    return RunScore(score >= threshold and critical is None, score, critical)


def _check_score(verdict: CheckVerdict) -> float:
    """A check's share of the case's score: its own score when it gives one in 0..1 (and it is a share: not
    max_cost's dollars), else its verdict."""
    from aitest.checks.registry import all_checks

    kind = all_checks().get(verdict.name)
    share = kind is None or kind.score_is_share
    if share and verdict.score is not None and 0.0 <= verdict.score <= 1.0:
        return verdict.score
    return 1.0 if verdict.passed else 0.0


def scored_summary(scores: list[RunScore], threshold: float, mean: float) -> str:
    """The case's weighted score against its threshold, and a critical check that failed whatever it says."""
    word = ">=" if mean >= threshold else "<"
    text = f"weighted score {mean:.2f} {word} threshold {threshold:g}"
    critical = next((s.critical for s in scores if s.critical is not None), None)
    if critical is not None:
        text += f", but the critical check {critical.label} failed (a threshold does not excuse it)"
    return text


def _judge(
    spec: Spec, case: Case, produced: list[Produced], embedder: Embedder | None, runtime: ModelRuntime
) -> tuple[tuple[RunResult, ...], AitestError | None]:
    """Every run's checks; an error when a check could not judge (e.g. no embedding model)."""
    outputs = tuple(p.output for p in produced)
    checks = spec.checks_for(case)
    info = CaseInfo(spec.feature, case.id, MappingProxyType(copy.deepcopy(case.vars)))
    try:
        results = tuple(
            evaluate(
                p.output,
                checks,
                output_kind=spec.output,
                latency_ms=p.latency_ms,
                index=index,
                runs=outputs,
                embedder=embedder,
                produced=p,
                case=info,
                models=runtime.judges(spec, index),
            )
            for index, p in enumerate(produced)
        )
    except AitestError as error:
        return (), error
    return results, None


def _counts(p: Produced) -> tuple[int, int | None, int | None]:
    return p.model_calls, p.prompt_tokens, p.completion_tokens


def _identity(spec: Spec, case: Case, runtime: ModelRuntime, det: Determinism, nodeid: str) -> dict[str, Any]:
    """Who the case is, on which model, how many runs: the fields of its result known before it runs."""
    profile = runtime.profile_for(spec) if spec.needs_model else None
    return {
        "feature": spec.feature,
        "id": case.id,
        "location": case.location,
        "nodeid": nodeid,
        "owner": spec.owner,
        "critical": case.critical,
        "profile": profile.name if profile else None,
        "model": profile.identity() if profile else None,
        "agree": det.agree,
        "planned_runs": det.runs,
        "required": det.required,
    }


def _failed_to_run(identity: dict[str, Any], runs: tuple[RunResult, ...], error: AitestError) -> CaseResult:
    """A case that could not be judged: `missing` for a replay miss, else `error`."""
    outcome: Outcome = "missing" if isinstance(error, RecordingMiss) else "error"
    trace = error.user_traceback() if isinstance(error, TargetError) else ""
    return CaseResult(
        **identity,
        outcome=outcome,
        runs=runs,
        error=str(error),
        traceback=trace,
        reason=first_line(error.message),
        reason_location=error.location,
    )


def _check_reason(
    runs: tuple[RunResult, ...], summary: str, case_at: Location, scores: list[RunScore], threshold: float | None
) -> tuple[str, Location]:
    """One line for a failed case: the first failing check and its reason (else the determinism verdict); under
    a threshold, the critical check that failed, else the score against the threshold."""
    critical = next((s.critical for s in scores if s.critical is not None), None)
    if critical is not None:
        return first_line(f"{critical.label}: {critical.message}"), critical.location
    if threshold is not None and not any(r.problem for r in runs):
        return first_line(summary), case_at
    for run in runs:
        if run.problem:
            return first_line(run.problem), case_at
        for verdict in run.failures:
            return first_line(f"{verdict.label}: {verdict.message}"), verdict.location
    return first_line(summary), case_at


def canonical(output: Any, agree: str | None) -> str:
    """The form in which outputs are compared for `agree` (exact text, or parsed JSON)."""
    if agree == "json":
        try:
            value = parse_json(output) if isinstance(output, str) else output
        except ValueError:
            return as_text(output)
        return json.dumps(value, sort_keys=True)
    return as_text(output)


def _disagreement(runs: tuple[RunResult, ...], agree: str | None, threshold: float, embedder: Embedder | None) -> str:
    if not agree or len(runs) < 2:
        return ""
    if agree == "semantic":
        from aitest.embeddings import cosine

        assert embedder is not None  # agree: semantic uses embeddings
        vectors = embedder.embed([as_text(r.output) for r in runs])
        lowest = min(cosine(a, b) for i, a in enumerate(vectors) for b in vectors[i + 1 :])
        if lowest >= threshold:
            return ""
        return f"outputs do not agree (semantic): lowest pairwise similarity {lowest:.3f} < {threshold}"
    distinct = {canonical(r.output, agree) for r in runs}
    if len(distinct) == 1:
        return ""
    return f"outputs do not agree ({agree}): {len(distinct)} distinct outputs in {len(runs)} runs"
