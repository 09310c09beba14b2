"""The lines aitest adds to pytest's terminal summary: latency per feature, recording counts, warnings."""

from __future__ import annotations

from aitest.compare.stats import percentile
from aitest.recordings.mode import RecordMode
from aitest.stats import CallStats


def latency_line(feature: str, values: list[float]) -> str:
    p50, p95 = percentile(values, 0.5) or 0.0, percentile(values, 0.95) or 0.0
    runs = "1 run" if len(values) == 1 else f"{len(values)} runs"
    return f"aitest latency {feature}: p50 {p50:.0f} ms, p95 {p95:.0f} ms ({runs})"


def summary_lines(
    mode: RecordMode, stats: CallStats, *, latencies: dict[str, list[float]], unused: int, pruned: int
) -> list[str]:
    out = [latency_line(f, v) for f, v in sorted(latencies.items()) if v]
    if not mode.uses_files:
        calls = "1 live model call" if stats.live == 1 else f"{stats.live} live model calls"
        return [*out, f"aitest: {calls} (recordings off)"] if stats.live else out
    if not (stats.replayed or stats.recorded or stats.missed or pruned or stats.warnings):
        return out
    counts = f"{stats.replayed} replayed, {stats.recorded} recorded, {stats.missed} missed, {unused} unused"
    line = f"aitest recordings ({mode.value}): {counts}"
    if pruned:
        line += f", {pruned} pruned"
    return [*out, line, *(f"aitest warning: {w}" for w in stats.warnings)]
