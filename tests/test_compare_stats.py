"""The statistics of `aitest compare`, against values computed by hand (docs/compare.md shows the formulas)."""

from __future__ import annotations

import math

import pytest

from aitest.compare.stats import (
    cluster_bootstrap,
    holm,
    mcnemar_p,
    noninferiority,
    paired_difference,
    percentile,
    wilson,
)


def test_wilson_intervals() -> None:
    # 17/20: p = .85, z = 1.96: centre (0.85 + 0.09604) / 1.19208 = 0.79363, half 0.15403
    assert wilson(17, 20) == pytest.approx((0.6396, 0.9477), abs=1e-4)
    assert wilson(90, 100) == pytest.approx((0.8256, 0.9448), abs=1e-4)
    low, high = wilson(20, 20)
    assert high == 1.0 and low == pytest.approx(0.8389, abs=1e-4)  # all passed: the failure rate is below ~3/n
    assert wilson(0, 0) == (0.0, 1.0)


def test_exact_mcnemar_one_sided() -> None:
    assert mcnemar_p(4, 0) == 0.0625  # 1/16: four regressions alone are weak evidence
    assert mcnemar_p(3, 1) == 0.3125  # (4 + 1) / 16
    assert mcnemar_p(0, 5) == 1.0
    assert mcnemar_p(0, 0) == 1.0
    assert mcnemar_p(10, 2) == pytest.approx(sum(math.comb(12, k) for k in range(10, 13)) / 4096)


def test_paired_difference_and_margin_verdicts() -> None:
    # b = 2 regressions, c = 5 fixes in n = 50: d = 0.06, se = sqrt(7 - 9/50)/50 = 0.052230
    diff = paired_difference(2, 5, 50)
    assert diff.value == pytest.approx(0.06)
    assert (diff.low, diff.high) == pytest.approx((-0.04237, 0.16237), abs=1e-5)
    assert noninferiority(diff, 0.05, n=50, discordant=7 / 50).verdict == "pass"  # -0.042 > -0.05
    # margin 0.03: -0.042 < -0.03 and 0.162 > 0 -> inconclusive; n = (1.6449 + 0.8416)^2 * 0.14 / 0.0009 = 961.7
    verdict = noninferiority(diff, 0.03, n=50, discordant=7 / 50)
    assert verdict.verdict == "inconclusive" and verdict.more_cases == 962 - 50
    worse = paired_difference(12, 0, 40)  # d = -0.3, se = sqrt(12 - 3.6)/40 = 0.072457; high = -0.158
    assert worse.high == pytest.approx(-0.3 + 1.959964 * 0.072457, abs=1e-5)
    assert noninferiority(worse, 0.05, n=40, discordant=0.3).verdict == "fail"


def test_holm_adjustment() -> None:
    assert holm([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.06, 0.06])
    assert holm([0.5]) == [0.5]
    assert holm([0.6, 0.9]) == pytest.approx([1.0, 1.0])


def test_cluster_bootstrap_counts_runs_and_resamples_cases() -> None:
    # 10 cases of 3 runs: the baseline passes all; the candidate fails one run in 2 cases -> d = -2/30
    cases = [(3, 3, 3, 3)] * 8 + [(3, 3, 2, 3)] * 2
    diff = cluster_bootstrap(cases, resamples=2000, seed=0)
    assert diff.value == pytest.approx(-2 / 30)
    assert diff.low < diff.value < diff.high <= 0.0
    assert cluster_bootstrap(cases, resamples=2000, seed=0) == diff  # the same on every machine


def test_percentiles_by_nearest_rank() -> None:
    assert percentile([5, 1, 3, 2, 4], 0.5) == 3
    assert percentile([1, 2, 3, 4], 0.5) == 2
    assert percentile(list(range(1, 101)), 0.95) == 95
    assert percentile([], 0.5) is None


def test_a_propertys_run_counts_in_the_pass_rate_not_in_the_latency() -> None:
    from aitest.compare.engine import _side_stats

    def run(ms: float) -> dict[str, object]:
        return {"latency_ms": ms, "model_calls": 1, "tokens": {"completion": 10}, "passed": True}

    case = {"kind": "case", "outcome": "passed", "runs": [run(100.0), run(200.0)]}
    prop = {"kind": "property", "outcome": "failed", "runs": [run(19_000.0)]}  # its smallest failing input
    stats = _side_stats([case, prop])
    assert (stats.cases, stats.passed) == (2, 1)
    assert stats.p95 == 200.0
