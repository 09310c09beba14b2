"""The statistics of a paired comparison (see docs/compare.md): plain Python, no SciPy.

Wilson intervals for pass rates, the exact one-sided McNemar test on the discordant cases, a
paired difference with its interval (analytic, or a cluster bootstrap over cases when cases ran
several times), the non-inferiority verdict for a margin, and Holm's adjustment.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass

Z95 = 1.959963984540054  # two-sided 95%
Z_ONE_SIDED_95 = 1.6448536269514722
Z_POWER_80 = 0.8416212335729143


def wilson(k: float, n: float, z: float = Z95) -> tuple[float, float]:
    """The Wilson score interval of a pass rate k/n (0..1 each); (0, 1) when there are no cases."""
    if n <= 0:
        return 0.0, 1.0
    p = k / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z / denominator * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return max(0.0, centre - half), min(1.0, centre + half)


def mcnemar_p(regressions: int, improvements: int) -> float:
    """One-sided exact McNemar test, "is the candidate worse?": P(X >= b) for X ~ Binomial(b + c, 1/2)."""
    n = regressions + improvements
    if n == 0:
        return 1.0
    tail: float = sum(math.comb(n, k) for k in range(regressions, n + 1)) / 2**n
    return min(1.0, tail)


@dataclass(frozen=True)
class Difference:
    """Candidate minus baseline pass rate, with its 95% interval."""

    value: float
    low: float
    high: float


def paired_difference(regressions: int, improvements: int, n: int, z: float = Z95) -> Difference:
    """d = (c - b) / n with the standard error sqrt(b + c - (c - b)^2 / n) / n of paired proportions."""
    if n <= 0:
        return Difference(0.0, -1.0, 1.0)
    b, c = regressions, improvements
    d = (c - b) / n
    se = math.sqrt(max(0.0, b + c - (c - b) ** 2 / n)) / n
    return Difference(d, max(-1.0, d - z * se), min(1.0, d + z * se))


def cluster_bootstrap(
    cases: Sequence[tuple[int, int, int, int]], *, resamples: int = 2000, seed: int = 0
) -> Difference:
    """The pass-rate difference counted per run, its interval from resampling cases (each keeps its runs).

    ``cases``: (baseline passed runs, baseline runs, candidate passed runs, candidate runs) per case.
    Runs of one case are not independent evidence; resampling whole cases respects that.
    """

    def difference(sample: Sequence[tuple[int, int, int, int]]) -> float:
        base_runs = sum(c[1] for c in sample) or 1
        cand_runs = sum(c[3] for c in sample) or 1
        return sum(c[2] for c in sample) / cand_runs - sum(c[0] for c in sample) / base_runs

    if not cases:
        return Difference(0.0, -1.0, 1.0)
    rng = random.Random(seed)  # the same interval on every machine
    values = sorted(difference(rng.choices(cases, k=len(cases))) for _ in range(resamples))
    low = values[int(0.025 * (resamples - 1))]
    high = values[math.ceil(0.975 * (resamples - 1))]
    return Difference(difference(cases), low, high)


@dataclass(frozen=True)
class Noninferiority:
    """The statistical verdict for a margin: pass, fail, or inconclusive with about how many more cases."""

    verdict: str  # "pass" | "fail" | "inconclusive"
    more_cases: int = 0


def noninferiority(diff: Difference, margin: float, *, n: int, discordant: float) -> Noninferiority:
    """pass: the 95% lower bound of d is above -margin; fail: the upper bound is below 0 (significantly
    worse); otherwise inconclusive, with the cases n = (z_0.95 + z_0.80)^2 * q / margin^2 would need,
    q being the share of discordant cases (at least one case's worth)."""
    if diff.low > -margin:
        return Noninferiority("pass")
    if diff.high < 0:
        return Noninferiority("fail")
    q = max(discordant, 1 / max(n, 1))
    needed = math.ceil((Z_ONE_SIDED_95 + Z_POWER_80) ** 2 * q / margin**2)
    return Noninferiority("inconclusive", max(needed - n, 1))


def holm(pvalues: Sequence[float]) -> list[float]:
    """Holm's step-down adjustment of p-values (same order as given)."""
    m = len(pvalues)
    order = sorted(range(m), key=lambda i: pvalues[i])
    adjusted = [1.0] * m
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * pvalues[i]))
        adjusted[i] = running
    return adjusted


def percentile(values: Sequence[float], q: float) -> float | None:
    """The nearest-rank percentile (q in 0..1) of ``values``; None when there are none."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]
