"""Per-case JUnit properties, so that CI dashboards can chart the profile, model, latency and scores."""

from __future__ import annotations

from collections import Counter

from aitest.result import CaseResult
from aitest.trajectory import all_calls


def junit_properties(result: CaseResult) -> list[tuple[str, str]]:
    """``(name, value)`` pairs for pytest's ``user_properties`` (written by ``--junitxml``).

    Names are stable across runs: ``aitest.check.LABEL`` is the check's verdict (``passed``, or
    ``failed`` with how many runs failed it), ``aitest.score.LABEL`` its mean score where it has one;
    a label repeated in a case gets ``#2``, ``#3``.
    """
    props: list[tuple[str, str]] = [("aitest.outcome", result.outcome)]
    if result.profile is not None and result.model is not None:
        props += [
            ("aitest.profile", result.profile),
            ("aitest.model", f"{result.model['provider']} {result.model['model']}"),
        ]
    latencies = sorted(result.latencies())
    if latencies:
        middle = len(latencies) // 2
        median = latencies[middle] if len(latencies) % 2 else (latencies[middle - 1] + latencies[middle]) / 2
        props.append(("aitest.latency_ms", f"{median:.1f}"))
    tokens = [r.completion_tokens for r in result.runs if r.completion_tokens is not None]
    if tokens:
        props.append(("aitest.completion_tokens", str(sum(tokens))))
    if not result.runs:
        return props
    if result.runs[0].trajectory:
        calls = all_calls(result.runs[0].trajectory)
        props.append(("aitest.steps", str(len(result.runs[0].trajectory))))
        props.append(("aitest.tool_calls", ", ".join(c.label() for c in calls) or "(none)"))
    seen: Counter[str] = Counter()
    for position, verdict in enumerate(result.runs[0].checks):
        seen[verdict.label] += 1
        label = verdict.label if seen[verdict.label] == 1 else f"{verdict.label}#{seen[verdict.label]}"
        same = [run.checks[position] for run in result.runs if position < len(run.checks)]
        failed = sum(not v.passed for v in same)
        verdict_text = "passed" if not failed else "failed" if len(same) == 1 else f"failed ({failed}/{len(same)} runs)"
        props.append(("aitest.check." + label, verdict_text))
        scores = [v.score for v in same if v.score is not None]
        if scores:
            props.append(("aitest.score." + label, f"{sum(scores) / len(scores):.4f}"))
    return props
