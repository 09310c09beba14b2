"""What `aitest compare` writes: compare.json, compare.md (sized for a pull-request comment) and the
terminal table. Regressions come first everywhere; the verdict line comes before anything else."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime, timezone
from typing import Any

from aitest.compare.calls import first_calls
from aitest.compare.engine import CaseComparison, Comparison, FeatureComparison, SideStats
from aitest.util.text import cut, first_line

COMPARE_VERSION = 1
ORDER = {"regressed": 0, "missing": 1, "improved": 2, "failed": 3, "passed": 4}


def ordered_cases(comparison: Comparison) -> list[CaseComparison]:
    return sorted(comparison.cases, key=lambda c: (ORDER[c.verdict], c.feature, c.id, c.candidate))


def _side(name: str, case: dict[str, Any] | None) -> dict[str, Any]:
    if case is None:
        return {"name": name, "outcome": "absent", "output": None, "latency_ms": None, "reason": "not in this side"}
    runs = case.get("runs") or []
    side: dict[str, Any] = {
        "name": name,
        "outcome": case["outcome"],
        "output": runs[0]["output"] if runs else None,
        "latency_ms": runs[0]["latency_ms"] if runs else None,
        "reason": case.get("reason", ""),
    }
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
        "selection": {
            feature: {"ranking": rows, "smallest": comparison.smallest(feature)}
            for feature, rows in comparison.selection().items()
        },
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


def _size(size: int | None) -> str:
    return "?" if size is None else f"{size / 1e6:.0f} MB"


def _why(case: CaseComparison) -> str:
    """Why the case did not pass on the candidate: its first failing check, and its tool calls if they changed."""
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
    lines.append("model selection (meets the gate, pass rate, p50, size):")
    for feature, rows in comparison.selection().items():
        ranked = ", ".join(
            f"{r['name']}{' (baseline)' if r['baseline'] else ''} {'yes' if r['meets_gate'] else 'no'} "
            f"{_percent(r['pass_rate'])} {_ms(r['latency_p50_ms'])} ms {_size(r['bytes'])}"
            for r in rows
        )
        smallest = comparison.smallest(feature)
        lines.append(f"  {feature}: {ranked}" + (f"; smallest that meets it: {smallest}" if smallest else ""))
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
    out += ["", "**Model selection** (the smallest model that meets the gate):", ""]
    for feature, rows in comparison.selection().items():
        smallest = comparison.smallest(feature) or "none"
        ranked = ", ".join(f"{r['name']} ({_percent(r['pass_rate'])}, {_size(r['bytes'])})" for r in rows
                           if r["meets_gate"]) or "no model"  # fmt: skip
        out.append(f"- {feature}: **{smallest}**; meets the gate: {ranked}")
    others = [c for c in ordered_cases(comparison) if c.verdict not in ("regressed", "missing")]
    if others:
        out += ["", f"<details><summary>{len(others)} other cases</summary>", "", "| verdict | case | candidate |",
                "|---|---|---|"]  # fmt: skip
        out += [f"| {c.verdict} | `{c.feature}::{c.id}` | {c.candidate} |" for c in others]
        out += ["", "</details>"]
    return "\n".join(out) + "\n"


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def compare_schema() -> dict[str, Any]:
    """The JSON Schema of compare.json (docs/compare.schema.json)."""
    number = {"type": ["number", "null"]}
    side_case = {
        "type": "object",
        "properties": {
            "name": {"type": "string", "description": "the profile or report this side came from"},
            "outcome": {"type": "string", "description": "a run-report outcome, or absent"},
            "output": {"description": "the first run's output"},
            "latency_ms": number,
            "reason": {"type": "string"},
            "tool_calls": {
                "type": "array",
                "description": "the first run's tool calls, in order (a conversation only)",
                "items": {
                    "type": "object",
                    "properties": {"name": {"type": "string"}, "arguments": {"type": "object"}},
                    "required": ["name", "arguments"],
                    "additionalProperties": False,
                },
            },
        },
        "required": ["name", "outcome", "output", "latency_ms", "reason"],
        "additionalProperties": False,
    }
    gate = {
        "type": "object",
        "properties": {"passed": {"type": "boolean"}, "reasons": {"type": "array", "items": {"type": "string"}}},
        "required": ["passed", "reasons"],
        "additionalProperties": False,
    }
    stats = {
        "type": "object",
        "properties": {
            "cases": {"type": "integer"},
            "passed": {"type": "integer"},
            "pass_rate": number,
            "low": {"type": "number"},
            "high": {"type": "number"},
            "p50": number,
            "p95": number,
            "tokens_per_s": number,
        },
        "required": ["cases", "passed", "pass_rate", "low", "high", "p50", "p95", "tokens_per_s"],
    }
    side = {
        "type": "object",
        "properties": {
            "name": {"type": "string"},
            "source": {"enum": ["profile", "report"]},
            "models": {},
            "gate": gate,
        },
        "required": ["name", "source", "models"],
    }
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "aitest compare report",
        "type": "object",
        "properties": {
            "aitest_compare": {"const": COMPARE_VERSION},
            "created": {"type": "string", "format": "date-time"},
            "gate": gate,
            "notes": {"type": "array", "items": {"type": "string"}},
            "baseline": side,
            "candidates": {"type": "array", "items": side, "minItems": 1},
            "features": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "feature": {"type": "string"},
                        "candidate": {"type": "string"},
                        "counts": {
                            "type": "object",
                            "properties": {v: {"type": "integer", "minimum": 0} for v in ORDER},
                            "required": list(ORDER),
                        },
                        "baseline": stats,
                        "candidate_stats": stats,
                        "p_value": {"type": "number", "minimum": 0, "maximum": 1},
                        "p_adjusted": {"type": "number", "minimum": 0, "maximum": 1},
                        "difference": {"type": "object", "required": ["value", "low", "high"]},
                        "statistical": {"type": ["object", "null"]},
                        "agreement": number,
                        "limits": {"type": "object"},
                        "gate": gate,
                    },
                    "required": [
                        "feature",
                        "candidate",
                        "counts",
                        "baseline",
                        "candidate_stats",
                        "p_value",
                        "p_adjusted",
                        "difference",
                        "statistical",
                        "agreement",
                        "limits",
                        "gate",
                    ],
                },
            },
            "selection": {"type": "object"},
            "cases": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "feature": {"type": "string"},
                        "id": {"type": "string"},
                        "verdict": {"enum": list(ORDER)},
                        "critical": {"type": "boolean"},
                        "broken_critical": {"type": "array", "items": {"type": "string"}},
                        "agreement": number,
                        "calls_changed": {
                            "type": "boolean",
                            "description": "the first runs made different tool calls (a changed call regresses)",
                        },
                        "calls_reason": {"type": "string", "description": "how the tool calls changed, one line"},
                        "baseline": side_case,
                        "candidate": side_case,
                    },
                    "required": [
                        "feature",
                        "id",
                        "verdict",
                        "critical",
                        "broken_critical",
                        "agreement",
                        "calls_changed",
                        "calls_reason",
                        "baseline",
                        "candidate",
                    ],
                    "additionalProperties": False,
                },
            },
        },
        "required": [
            "aitest_compare",
            "created",
            "gate",
            "notes",
            "baseline",
            "candidates",
            "features",
            "selection",
            "cases",
        ],
        "additionalProperties": False,
    }
