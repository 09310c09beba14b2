"""Model selection: per feature, every model ranked (meets the gate, pass rate, size) with its latency, speed
and cost of 1,000 cases, and the model named as the one that keeps the behavior.

A model is named only when it meets the gate *and* its own pass rate reaches the feature's bar (the gate's
`min_pass_rate`, else 0.8): a candidate that merely does no worse than a baseline failing most cases keeps no
behavior worth keeping. When none does, the reason says why, in words.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from aitest.compare.engine import Comparison, FeatureComparison, SideStats
from aitest.compare.sides import Side

DEFAULT_BAR = 0.8  # the pass rate a model must reach to be named, when the gate sets no min_pass_rate


@dataclass(frozen=True)
class Ranked:
    """One model's row in a feature's ranking (compare.json keeps it as it is)."""

    name: str
    baseline: bool
    meets_gate: bool
    clears_bar: bool  # meets the gate and reaches the bar: it may be named
    pass_rate: float | None
    latency_p50_ms: float | None
    latency_p95_ms: float | None
    tokens_per_s: float | None
    bytes: int | None
    hosted: bool  # no model file: a size does not apply
    cost_per_1000: float | None  # USD; None when a price is not known
    gate_reasons: tuple[str, ...] = ()
    agreement: float | None = None  # with the baseline's outputs (None for the baseline itself)

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "gate_reasons": list(self.gate_reasons)}


@dataclass(frozen=True)
class Selection:
    """A feature's ranking, its bar, and the model named (None when no candidate keeps the behavior)."""

    feature: str
    bar: float
    ranking: list[Ranked]
    model: str | None
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "reason": self.reason,
            "bar": self.bar,
            "ranking": [r.as_dict() for r in self.ranking],
        }


def select(comparison: Comparison) -> dict[str, Selection]:
    """Every feature's selection, by feature name."""
    chosen: dict[str, Selection] = {}
    for feature in sorted({f.feature for f in comparison.features}):
        group = [f for f in comparison.features if f.feature == feature]
        bar = next((f.limits.min_pass_rate for f in group if f.limits.min_pass_rate is not None), DEFAULT_BAR)
        base = _ranked(comparison.baseline, group[0].baseline, bar, baseline=True)
        others = [_ranked(_side(comparison, f.candidate), f.other, bar, feature=f) for f in group]
        ranking = sorted([base, *others], key=lambda r: (not r.meets_gate, -(r.pass_rate or 0), _size_key(r)))
        model, reason = _choose(base, others, bar)
        chosen[feature] = Selection(feature, bar, ranking, model, reason)
    return chosen


def _side(comparison: Comparison, name: str) -> Side:
    return next(s for s in comparison.candidates if s.name == name)


def _size_key(row: Ranked) -> float:
    return float("inf") if row.bytes is None else row.bytes


def _ranked(
    side: Side, stats: SideStats, bar: float, *, baseline: bool = False, feature: FeatureComparison | None = None
) -> Ranked:
    meets = baseline or (feature is not None and feature.passed)  # the baseline is the reference: its own gate
    rate = stats.rate
    return Ranked(
        name=side.name,
        baseline=baseline,
        meets_gate=meets,
        clears_bar=meets and rate is not None and rate >= bar,
        pass_rate=rate,
        latency_p50_ms=stats.p50,
        latency_p95_ms=stats.p95,
        tokens_per_s=stats.tokens_per_s,
        bytes=side.size,
        hosted=side.hosted,
        cost_per_1000=stats.cost_per_1000,
        gate_reasons=tuple(feature.reasons) if feature is not None else (),
        agreement=feature.agreement if feature is not None else None,
    )


def _percent(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0%}"


def _choose(base: Ranked, candidates: list[Ranked], bar: float) -> tuple[str | None, str]:
    """The candidate named (the smallest of those that clear the bar; a size not known counts as the largest),
    and why; or None, and why not: the baseline sets no behavior worth keeping, or no candidate keeps it."""
    keeping = [r for r in candidates if r.clears_bar]
    if keeping:
        best = min(keeping, key=lambda r: (_size_key(r), -(r.pass_rate or 0)))
        reason = f"{best.name} keeps the behavior: it meets the gate and passes {_percent(best.pass_rate)}, "
        reason += f"at or above the {_percent(bar)} bar"
        if len(keeping) > 1:
            reason += f" (the smallest of the {len(keeping)} candidates that do)"
        if base.pass_rate is None or base.pass_rate < bar:
            reason += f"; the baseline {base.name} passes {_percent(base.pass_rate)}, below it"
        return best.name, reason
    closest = _closest(candidates)
    if base.pass_rate is None or base.pass_rate < bar:
        if base.pass_rate is None:
            why = f"the baseline {base.name} has no evidence (no case passed or failed on it)"
        else:
            why = f"the baseline {base.name} passes {_percent(base.pass_rate)}, below the {_percent(bar)} bar"
        mostly = base.pass_rate is None or base.pass_rate < 0.5
        worth = "a baseline that fails most cases sets no behavior worth keeping" if mostly else (
            "the behavior it sets is not reliable enough to keep")  # fmt: skip
        reason = f"no model named: {why}; {worth}"
        either = f"; no candidate meets the gate and passes {_percent(bar)} either"
        return None, reason + (f"{either} (closest: {closest})" if closest else "")
    reason = f"no model named: no candidate meets the gate and passes {_percent(bar)}"
    reason += f" (closest: {closest})" if closest else ""
    return None, reason + f"; the baseline {base.name} stays (it passes {_percent(base.pass_rate)})"


def _closest(candidates: list[Ranked]) -> str:
    """The candidate nearest to being named, described: its pass rate and whether it met the gate."""
    if not candidates:
        return ""
    best = max(candidates, key=lambda r: (r.pass_rate if r.pass_rate is not None else -1.0, r.meets_gate,
                                          r.agreement if r.agreement is not None else -1.0, -_size_key(r)))  # fmt: skip
    if best.pass_rate is None:
        return f"{best.name}, with no evidence"
    gate = "meets the gate" if best.meets_gate else "does not meet the gate"
    if not best.meets_gate and best.gate_reasons:
        gate += f": {best.gate_reasons[0]}"
    return f"{best.name} passes {_percent(best.pass_rate)} and {gate}"
