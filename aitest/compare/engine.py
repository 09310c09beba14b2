"""Baseline vs candidates: a verdict per case, statistics per feature, the gate, and the model ranking.

Plain data in (run-report cases), plain data out; nothing here imports pytest.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, fields
from typing import Any

from aitest.compare.calls import compare_calls
from aitest.compare.cost import cost_per_1000
from aitest.compare.sides import CompareError, Side
from aitest.compare.stats import (
    Difference,
    Noninferiority,
    cluster_bootstrap,
    holm,
    mcnemar_p,
    noninferiority,
    paired_difference,
    percentile,
    wilson,
)
from aitest.reports.run_report import checks_passed
from aitest.util.text import shown

VERDICTS = ("regressed", "improved", "passed", "failed", "missing")
FAILED = ("failed", "error", "xfailed")  # a pass: checks_passed (strict xfail too); other outcomes: no evidence
Similarity = Callable[[str, str], float | None]  # two texts -> cosine similarity, None when it cannot tell


@dataclass(frozen=True)
class Limits:
    """The gate of one feature: a spec's `gate:`, with the command line's flags over it."""

    max_regressions: int = 0
    min_pass_rate: float | None = None
    min_agreement: float | None = None
    allow_missing: bool = False
    margin: float | None = None
    allow_inconclusive: bool = False

    @classmethod
    def of(cls, gate: dict[str, Any], overrides: dict[str, Any]) -> Limits:
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in gate.items() if k in known}
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)


@dataclass
class CaseComparison:
    feature: str
    id: str
    candidate: str  # the candidate side's name
    verdict: str
    baseline: dict[str, Any] | None  # the run-report case of each side
    other: dict[str, Any] | None
    critical: bool = False
    broken_critical: list[str] = field(default_factory=list)  # critical checks that passed before, fail now
    agreement: float | None = None
    calls_changed: bool = False  # the first runs made different tool calls (name or arguments)
    calls_reason: str = ""  # how: "tool calls changed: a(x=1) -> b(x=1)"


@dataclass
class SideStats:
    cases: int  # with evidence
    passed: int
    low: float
    high: float
    p50: float | None
    p95: float | None
    tokens_per_s: float | None
    cost_per_1000: float | None = None  # USD per 1,000 cases; None when a model's price is not known

    @property
    def rate(self) -> float | None:
        return self.passed / self.cases if self.cases else None


@dataclass
class FeatureComparison:
    feature: str
    candidate: str
    counts: dict[str, int]
    baseline: SideStats
    other: SideStats
    p_value: float
    difference: Difference
    limits: Limits
    agreement: float | None
    statistical: Noninferiority | None = None
    p_adjusted: float = 1.0
    reasons: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.reasons


@dataclass
class Comparison:
    baseline: Side
    candidates: list[Side]
    cases: list[CaseComparison]
    features: list[FeatureComparison]
    notes: list[str] = field(default_factory=list)

    def reasons(self, candidate: str | None = None) -> list[str]:
        """Why the gate fails (for one candidate, or for all): empty when it passes."""
        return [
            f"{f.feature}: {reason}" + (f" ({f.candidate})" if len(self.candidates) > 1 else "")
            for f in self.features
            if candidate is None or f.candidate == candidate
            for reason in f.reasons
        ]

    @property
    def passed(self) -> bool:
        return not self.reasons()


def evidence(case: dict[str, Any] | None) -> bool | None:
    """Did the case pass (True), fail (False), or give no evidence (None: absent, missing, skipped)? A case
    marked `xfail` counts by what the model did: passing its checks is a pass, whatever strict xfail made of it."""
    if case is None:
        return None
    if checks_passed(case):
        return True
    if case["outcome"] in FAILED:
        return False
    return None


def verdict(base: dict[str, Any] | None, other: dict[str, Any] | None) -> str:
    before, after = evidence(base), evidence(other)
    if before is None or after is None:
        return "missing"
    if before and after:
        return "passed"
    if before:
        return "regressed"
    return "improved" if after else "failed"


def compare(
    baseline: Side,
    candidates: list[Side],
    *,
    overrides: dict[str, Any] | None = None,
    similarity: Similarity | None = None,
) -> Comparison:
    """Every case and feature of ``baseline`` against each candidate."""
    if not candidates:
        raise CompareError("give at least one --candidate")
    result = Comparison(baseline, candidates, [], [])
    for candidate in candidates:
        if candidate.identities and candidate.identities == baseline.identities:
            model = ", ".join(f"{p} {m}" for p, m in sorted(candidate.identities))
            result.notes.append(
                f"baseline and candidate {candidate.name} are the same model ({model}): their differences are noise"
            )
        keys = sorted(set(baseline.cases) | set(candidate.cases))
        for feature in sorted({k[0] for k in keys}):
            pairs = [
                _case(feature, case_id, candidate.name, baseline.cases.get((feature, case_id)),
                      candidate.cases.get((feature, case_id)), similarity)
                for f, case_id in keys
                if f == feature
            ]  # fmt: skip
            result.cases.extend(pairs)
            gate = {**baseline.gates.get(feature, {}), **candidate.gates.get(feature, {})}
            limits = Limits.of(gate, overrides or {})
            result.features.append(_feature(feature, (baseline, candidate), pairs, limits))
    if not result.cases:
        raise CompareError(
            "no cases to compare: neither side holds a result",
            hint="check the spec paths, or that the reports were written by runs that collected specs",
        )
    _adjust(result.features)
    return result


def _case(
    feature: str,
    case_id: str,
    candidate: str,
    base: dict[str, Any] | None,
    other: dict[str, Any] | None,
    similarity: Similarity | None,
) -> CaseComparison:
    found = CaseComparison(feature, case_id, candidate, verdict(base, other), base, other)
    found.critical = bool((base or {}).get("critical") or (other or {}).get("critical"))
    if base and other and base.get("kind", "case") == "case":  # a property's runs are of different inputs
        found.broken_critical = _broken_critical(base, other)
        found.agreement = agreement(_first_output(base), _first_output(other), similarity)
        calls = compare_calls(base, other)
        if calls is not None:  # a conversation: equal calls count in the agreement, changed ones regress
            if calls.made:  # with no call on either side, the reply's agreement alone says how alike they are
                reply = found.agreement
                found.agreement = calls.agreement if reply is None else (calls.agreement + reply) / 2
            found.calls_reason = calls.change if evidence(base) is not None and evidence(other) is not None else ""
            found.calls_changed = bool(found.calls_reason)
            if found.calls_changed and evidence(base):
                found.verdict = "regressed"  # a call that changed is a regression like a changed answer
    return found


def _first_output(case: dict[str, Any]) -> Any:
    return case["runs"][0]["output"] if case.get("runs") else None


def shown_run(case: dict[str, Any]) -> tuple[Any, float | None, str]:
    """The output a report shows for a side, its latency, and (for a property) which input it is the output of:
    a case's first run; a property's run of its smallest failing input or, when it held, its first input."""
    runs = case.get("runs") or []
    if runs:
        of = "the smallest input that breaks it" if case.get("kind") == "property" else ""
        return runs[0]["output"], runs[0]["latency_ms"], of
    examples = ((case.get("extra") or {}).get("property") or {}).get("examples") or []
    if case.get("kind") == "property" and examples and evidence(case):
        tried = f"{len(examples)} inputs" if len(examples) > 1 else "1 input"
        return examples[0]["output"], examples[0]["latency_ms"], f"the first of {tried} tried (it held on each)"
    return None, None, ""


def _broken_critical(base: dict[str, Any], other: dict[str, Any]) -> list[str]:
    """Critical checks that held on every baseline run and fail on some candidate run."""
    broken: list[str] = []
    base_runs, other_runs = base.get("runs") or [], other.get("runs") or []
    if not base_runs:
        return broken
    for position, check in enumerate(base_runs[0]["checks"]):
        if not check.get("critical"):
            continue
        held = all(position < len(r["checks"]) and r["checks"][position]["passed"] for r in base_runs)
        judged = any(r["checks"] for r in other_runs)  # an unfinished run (the target raised) has no checks
        fails = (other.get("outcome") == "error" and not judged) or any(
            position < len(r["checks"]) and not r["checks"][position]["passed"] for r in other_runs
        )
        if held and fails:
            path = check.get("path")
            label = f"{check['name']} [path {shown(path, quoted=False)}]" if path else check["name"]
            broken.append(label)
    return broken


def agreement(before: Any, after: Any, similarity: Similarity | None) -> float | None:
    """How alike two outputs are: 1.0 when equal; for JSON, the share of equal leaf fields; for text,
    the embedding similarity where it can be had (else None)."""
    from aitest.checks.base import as_text, parse_json

    if before is None or after is None:
        return None
    if before == after:
        return 1.0
    parsed = []
    for value in (before, after):
        try:
            parsed.append(parse_json(value) if isinstance(value, str) else value)
        except ValueError:
            parsed.append(None)
    if all(isinstance(v, (dict, list)) for v in parsed):
        left, right = _leaves(parsed[0]), _leaves(parsed[1])
        paths = set(left) | set(right)
        return sum(1 for p in paths if p in left and p in right and left[p] == right[p]) / len(paths) if paths else 1.0
    if similarity is None:
        return None
    return similarity(as_text(before), as_text(after))


def _leaves(value: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, item in value.items():
            out.update(_leaves(item, f"{prefix}.{key}" if prefix else str(key)))
        return out or {prefix: {}}
    if isinstance(value, list):
        out = {}
        for index, item in enumerate(value):
            out.update(_leaves(item, f"{prefix}[{index}]"))
        return out or {prefix: []}
    return {prefix: value}


def _side_stats(cases: list[dict[str, Any]], models: dict[str, dict[str, Any]] | None = None) -> SideStats:
    judged = [c for c in cases if evidence(c) is not None]
    passed = sum(1 for c in judged if evidence(c))
    low, high = wilson(passed, len(judged))
    # latency and speed from the cases' runs: a property keeps only the run of its smallest failing input
    runs = [r for c in cases if c.get("kind", "case") == "case" for r in c.get("runs") or []]
    latencies = [r["latency_ms"] for r in runs if r.get("model_calls")]
    timed = [r for r in runs if r.get("model_calls") and r["tokens"]["completion"] is not None and r["latency_ms"] > 0]
    seconds = sum(r["latency_ms"] for r in timed) / 1000
    tokens_per_s = sum(r["tokens"]["completion"] for r in timed) / seconds if seconds else None
    return SideStats(len(judged), passed, low, high, percentile(latencies, 0.5), percentile(latencies, 0.95),
                     tokens_per_s, cost_per_1000(cases, models or {}))  # fmt: skip


def _runs(case: dict[str, Any]) -> tuple[int, int]:
    """(passed runs, runs) of a case; a case that could not run counts as one failed run."""
    runs = case.get("runs") or []
    if not runs:
        return (1, 1) if evidence(case) else (0, 1)
    return sum(1 for r in runs if r["passed"]), len(runs)


def _feature(feature: str, sides: tuple[Side, Side], pairs: list[CaseComparison], limits: Limits) -> FeatureComparison:
    counts = {v: sum(1 for p in pairs if p.verdict == v) for v in VERDICTS}
    paired = [p for p in pairs if p.verdict != "missing"]
    # the statistics count pass -> fail pairs only: a case whose calls changed while it passed on both sides is
    # a regression for the gate, but no evidence of a lower pass rate
    regressions = sum(1 for p in paired if p.verdict == "regressed" and not evidence(p.other))
    improvements = counts["improved"]
    repeated = any(len((c or {}).get("runs") or []) > 1 for p in paired for c in (p.baseline, p.other))
    if repeated:  # runs count one by one, resampled by case
        diff = cluster_bootstrap([(*_runs(p.baseline or {}), *_runs(p.other or {})) for p in paired])
    else:
        diff = paired_difference(regressions, improvements, len(paired))
    agreements = [p.agreement for p in paired if p.agreement is not None]
    found = FeatureComparison(
        feature=feature,
        candidate=sides[1].name,
        counts=counts,
        baseline=_side_stats([p.baseline for p in pairs if p.baseline], sides[0].models),
        other=_side_stats([p.other for p in pairs if p.other], sides[1].models),
        p_value=mcnemar_p(regressions, improvements),
        difference=diff,
        limits=limits,
        agreement=sum(agreements) / len(agreements) if agreements else None,
    )
    if limits.margin is not None:
        share = (regressions + improvements) / len(paired) if paired else 0.0
        found.statistical = noninferiority(diff, limits.margin, n=len(paired), discordant=share)
    found.reasons = _reasons(found, pairs)
    return found


def _reasons(found: FeatureComparison, pairs: list[CaseComparison]) -> list[str]:
    """Why this feature fails the gate; critical cases and checks first, with zero tolerance."""
    limits, counts, reasons = found.limits, found.counts, []
    for pair in pairs:
        if pair.critical and pair.verdict in ("regressed", "missing"):
            reasons.append(f"critical case {pair.id} {pair.verdict}")
        for check in pair.broken_critical:
            reasons.append(f"critical check {check} of case {pair.id} broke")
    if counts["missing"] and not limits.allow_missing:
        reasons.append(f"{counts['missing']} case(s) missing on a side: no evidence")
    statistical = found.statistical
    if statistical is None and counts["regressed"] > limits.max_regressions:
        allowed = f", {limits.max_regressions} allowed" if limits.max_regressions else ""
        reasons.append(f"{counts['regressed']} case(s) regressed{allowed}")
    elif statistical is not None and statistical.verdict == "fail":
        reasons.append(f"significantly worse (pass rate {found.difference.value:+.1%}, 95% up to "
                       f"{found.difference.high:+.1%})")  # fmt: skip
    elif statistical is not None and statistical.verdict == "inconclusive" and not limits.allow_inconclusive:
        reasons.append(
            f"inconclusive for a margin of {limits.margin:.0%} (95% down to {found.difference.low:+.1%}; "
            f"about {statistical.more_cases} more cases would decide)"
        )
    rate = found.other.rate
    if limits.min_pass_rate is not None and (rate is None or rate < limits.min_pass_rate):
        shown = "unknown" if rate is None else f"{rate:.0%}"
        reasons.append(f"pass rate {shown}, below the minimum {limits.min_pass_rate:.0%}")
    if limits.min_agreement is not None and (found.agreement is None or found.agreement < limits.min_agreement):
        shown = "unknown" if found.agreement is None else f"{found.agreement:.2f}"
        reasons.append(f"agreement with the baseline {shown}, below the minimum {limits.min_agreement:.2f}")
    return reasons


def _adjust(features: list[FeatureComparison]) -> None:
    """Holm-adjust the p-values of several candidates on the same feature."""
    for feature in {f.feature for f in features}:
        group = [f for f in features if f.feature == feature]
        for f, adjusted in zip(group, holm([f.p_value for f in group]), strict=True):
            f.p_adjusted = adjusted
