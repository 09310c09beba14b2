"""What `aitest compare` writes: compare.json, compare.md (sized for a pull-request comment) and the
terminal table. Regressions come first everywhere; the verdict line comes before anything else."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime, timezone
from typing import Any

from aitest.compare.calls import first_calls
from aitest.compare.engine import CaseComparison, Comparison, FeatureComparison, SideStats, evidence, shown_run
from aitest.compare.schema import COMPARE_VERSION
from aitest.compare.selection import select
from aitest.reports.run_report import checks_passed
from aitest.util.text import cut, first_line

ORDER = {"regressed": 0, "missing": 1, "improved": 2, "failed": 3, "passed": 4}


def ordered_cases(comparison: Comparison) -> list[CaseComparison]:
    return sorted(comparison.cases, key=lambda c: (ORDER[c.verdict], c.feature, c.id, c.candidate))


def _side(name: str, case: dict[str, Any] | None) -> dict[str, Any]:
    """One side of a case, its own outcome and reason only. A case marked `xfail` that passed its checks shows
    as `xpassed`, whatever strict xfail made of it (its reason says so)."""
    if case is None:
        return {"name": name, "outcome": "absent", "output": None, "latency_ms": None, "reason": "not in this side"}
    output, latency, output_of = shown_run(case)
    side: dict[str, Any] = {
        "name": name,
        "outcome": "xpassed" if case["outcome"] == "failed" and checks_passed(case) else case["outcome"],
        "output": output,
        "latency_ms": latency,
        "reason": case.get("reason", ""),
    }
    if output_of:
        side["output_of"] = output_of
    calls = first_calls(case)
    if calls is not None:  # a conversation: the first run's tool calls
        side["tool_calls"] = [{"name": call.name, "arguments": call.arguments} for call in calls]
    return side


def _stats(stats: SideStats) -> dict[str, Any]:
    return {**asdict(stats), "pass_rate": stats.rate}


def _feature(f: FeatureComparison) -> dict[str, Any]:
    return {
        "feature": f.feature,
        "candidate": f.candidate,
        "counts": f.counts,
        "baseline": _stats(f.baseline),
        "candidate_stats": _stats(f.other),
        "p_value": f.p_value,
        "p_adjusted": f.p_adjusted,
        "difference": asdict(f.difference),
        "statistical": asdict(f.statistical) if f.statistical else None,
        "agreement": f.agreement,
        "limits": asdict(f.limits),
        "gate": {"passed": f.passed, "reasons": f.reasons},
    }


def compare_document(comparison: Comparison) -> dict[str, Any]:
    """compare.json: the gate, every feature's statistics, the model ranking, and a flat list of cases."""
    base = comparison.baseline
    return {
        "aitest_compare": COMPARE_VERSION,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z"),
        "gate": {"passed": comparison.passed, "reasons": comparison.reasons()},
        "notes": comparison.notes,
        "baseline": {"name": base.name, "source": base.source, "models": base.models},
        "candidates": [
            {
                "name": side.name,
                "source": side.source,
                "models": side.models,
                "gate": {"passed": not comparison.reasons(side.name), "reasons": comparison.reasons(side.name)},
            }
            for side in comparison.candidates
        ],
        "features": [_feature(f) for f in comparison.features],
        "selection": {feature: chosen.as_dict() for feature, chosen in select(comparison).items()},
        "cases": [
            {
                "feature": c.feature,
                "id": c.id,
                "verdict": c.verdict,
                "critical": c.critical,
                "broken_critical": c.broken_critical,
                "agreement": c.agreement,
                "calls_changed": c.calls_changed,
                "calls_reason": c.calls_reason,
                "baseline": _side(base.name, c.baseline),
                "candidate": _side(c.candidate, c.other),
            }
            for c in ordered_cases(comparison)
        ],
    }


def _percent(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0%}"


def _rate(stats: SideStats) -> str:
    return f"{_percent(stats.rate)} [{stats.low:.0%}-{stats.high:.0%}]" if stats.cases else "n/a"


def _ms(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0f}"


def size(size: int | None, *, hosted: bool) -> str:
    """A model's size as the selection tables show it: a hosted model has no file to weigh."""
    if size is not None:
        return f"{size / 1e6:.0f} MB"
    return "n/a (hosted)" if hosted else "?"


def usd(value: float | None) -> str:
    """A cost in USD: n/a when a price is not known; small costs keep their first significant digits."""
    if value is None:
        return "n/a"
    return f"${value:,.2f}" if value == 0 or value >= 0.01 else f"${value:.2g}"


def _no_evidence(case: CaseComparison) -> str:
    """Why a `missing` case has no evidence: each side that lacks it, with that side's own reason."""
    parts = []
    for role, side in (("baseline", case.baseline), ("candidate", case.other)):
        if evidence(side) is not None:
            continue
        if side is None:
            parts.append(f"not on the {role}")
        else:
            reason = first_line(side.get("reason", "") or "") or "no reason recorded"
            parts.append(f"{side['outcome']} on the {role}: {reason}")
    return "; ".join(parts)


def _why(case: CaseComparison) -> str:
    """Why the case did not pass on the candidate: its first failing check, and its tool calls if they changed;
    for a `missing` case, which side has no evidence and why (never the other side's failure)."""
    if case.verdict == "missing":
        return cut(_no_evidence(case), 120)
    reason = first_line((case.other or {}).get("reason", "") or "")
    if case.calls_changed:
        reason = f"{reason}; {case.calls_reason}" if reason else case.calls_reason
    return cut(reason or "no reason recorded", 120)


def verdict_line(comparison: Comparison) -> str:
    names = ", ".join(s.name for s in comparison.candidates)
    head = f"{comparison.baseline.name} (baseline) vs {names}"
    if comparison.passed:
        counts = sum(f.counts["improved"] for f in comparison.features)
        return f"GATE PASSED: {head}: no case regressed, none missing" + (f"; {counts} improved" if counts else "")
    reasons = comparison.reasons()
    more = f" (+{len(reasons) - 3} more)" if len(reasons) > 3 else ""
    return f"GATE FAILED: {head}: " + "; ".join(reasons[:3]) + more


def terminal(comparison: Comparison) -> str:
    """The table `aitest compare` prints: the verdict, then regressions, then features, then the ranking."""
    lines = [verdict_line(comparison), *(f"note: {n}" for n in comparison.notes), ""]
    flagged = [c for c in ordered_cases(comparison) if c.verdict in ("regressed", "missing", "improved")]
    for case in flagged:
        why = f": {_why(case)}" if case.verdict != "improved" else ""
        lines.append(f"  {case.verdict:<9} {case.feature}::{case.id} ({case.candidate}){why}")
    if flagged:
        lines.append("")
    header = f"  {'feature':<22} {'candidate':<16} {'reg':>3} {'imp':>3} {'miss':>4}  {'baseline pass':<17} "
    header += f"{'candidate pass':<17} {'p':>5} {'agree':>5}  {'p50 ms':>13}  gate"
    lines.append(header)
    for f in comparison.features:
        latency = f"{_ms(f.baseline.p50)}->{_ms(f.other.p50)}"
        agree = "n/a" if f.agreement is None else f"{f.agreement:.2f}"
        c = f.counts
        lines.append(
            f"  {f.feature:<22} {f.candidate:<16} {c['regressed']:>3} {c['improved']:>3} {c['missing']:>4}  "
            f"{_rate(f.baseline):<17} {_rate(f.other):<17} {f.p_adjusted:>5.2f} {agree:>5}  {latency:>13}  "
            f"{'pass' if f.passed else 'FAIL'}"
        )
    lines.append("")
    lines.append("model selection (meets the gate, pass rate, p50, size, cost per 1,000 cases):")
    for feature, chosen in select(comparison).items():
        ranked = ", ".join(
            f"{r.name}{' (baseline)' if r.baseline else ''} {'yes' if r.meets_gate else 'no'} "
            f"{_percent(r.pass_rate)} {_ms(r.latency_p50_ms)} ms {size(r.bytes, hosted=r.hosted)} "
            f"{usd(r.cost_per_1000)}"
            for r in chosen.ranking
        )
        lines += [f"  {feature}: {ranked}", f"    {chosen.reason}"]
    return "\n".join(lines)


def markdown(comparison: Comparison) -> str:
    """compare.md: the verdict first, regressions before anything else, the rest folded."""
    mark = "✅" if comparison.passed else "❌"
    out = [f"### {mark} {verdict_line(comparison)}", ""]
    out += [f"> {n}" for n in comparison.notes] + ([""] if comparison.notes else [])
    regressions = [c for c in ordered_cases(comparison) if c.verdict in ("regressed", "missing")]
    if regressions:
        out += ["| verdict | case | candidate | why |", "|---|---|---|---|"]
        out += [f"| **{c.verdict}** | `{c.feature}::{c.id}` | {c.candidate} | {_md(_why(c))} |" for c in regressions]
        out.append("")
    out += [
        "| feature | candidate | regressed | improved | missing | baseline pass (95%) | candidate pass (95%) "
        "| p (McNemar) | agreement | p50 / p95 ms | gate |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for f in comparison.features:
        agree = "n/a" if f.agreement is None else f"{f.agreement:.2f}"
        latency = f"{_ms(f.baseline.p50)}/{_ms(f.baseline.p95)} → {_ms(f.other.p50)}/{_ms(f.other.p95)}"
        gate = "pass" if f.passed else "**fail**: " + _md("; ".join(f.reasons))
        out.append(
            f"| {f.feature} | {f.candidate} | {f.counts['regressed']} | {f.counts['improved']} | "
            f"{f.counts['missing']} | {_rate(f.baseline)} | {_rate(f.other)} | {f.p_adjusted:.3f} | {agree} | "
            f"{latency} | {gate} |"
        )
    out += _markdown_selection(comparison)
    others = [c for c in ordered_cases(comparison) if c.verdict not in ("regressed", "missing")]
    if others:
        out += ["", f"<details><summary>{len(others)} other cases</summary>", "", "| verdict | case | candidate |",
                "|---|---|---|"]  # fmt: skip
        out += [f"| {c.verdict} | `{c.feature}::{c.id}` | {c.candidate} |" for c in others]
        out += ["", "</details>"]
    return "\n".join(out) + "\n"


def _markdown_selection(comparison: Comparison) -> list[str]:
    """The model named per feature (or why none is), then every model's row."""
    selection = select(comparison)
    out = ["", "**Model selection** (named: the smallest candidate that meets the gate and reaches the feature's "
           "pass-rate bar):", ""]  # fmt: skip
    out += [f"- **{feature}**: {_md(chosen.reason)}" for feature, chosen in selection.items()]
    out += ["", "| feature | model | meets the gate | pass rate | p50 / p95 ms | size | cost per 1,000 cases |",
            "|---|---|---|---|---|---|---|"]  # fmt: skip
    for feature, chosen in selection.items():
        for r in chosen.ranking:
            name = f"**{r.name}**" if r.name == chosen.model else r.name
            out.append(
                f"| {feature} | {name}{' (baseline)' if r.baseline else ''} | {'yes' if r.meets_gate else 'no'} | "
                f"{_percent(r.pass_rate)} | {_ms(r.latency_p50_ms)} / {_ms(r.latency_p95_ms)} | "
                f"{size(r.bytes, hosted=r.hosted)} | {usd(r.cost_per_1000)} |"
            )
    return out


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")
