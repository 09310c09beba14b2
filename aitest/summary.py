"""The session's recording counts: gathered per process, merged across xdist workers, printed at the end."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from aitest.errors import AitestError
from aitest.models.client import SessionStats
from aitest.models.runtime import ModelRuntime


@dataclass
class SessionSummary:
    """The whole session's counts (every worker's), which entries were used, and what `rewrite` pruned."""

    stats: SessionStats = field(default_factory=SessionStats)
    used: dict[str, set[str]] = field(default_factory=dict)
    pruned: int = 0

    @staticmethod
    def payload(runtime: ModelRuntime) -> dict[str, Any]:
        """What a worker sends to the controller (plain data: it crosses a process boundary)."""
        return {**runtime.stats.to_payload(), "used": runtime.used_keys()}

    def add(self, payload: dict[str, Any] | None) -> None:
        if not payload:
            return
        self.stats.merge(payload)
        for feature, keys in payload["used"].items():
            self.used.setdefault(feature, set()).update(keys)

    def prune(self, runtime: ModelRuntime) -> None:
        """`rewrite`: each file touched by this run keeps exactly this run's entries.

        A feature whose model calls failed is not pruned (its old entries may be all it has),
        nor is a file that cannot be read (it is reported, never rewritten).
        """
        for feature, keys in self.used.items():
            if feature in self.stats.failed_features:
                self.stats.warnings.append(f"{feature}: not pruned, because some of its model calls failed")
                continue
            try:
                self.pruned += runtime.store.feature(feature).prune(keys)
            except AitestError as error:
                self.stats.warnings.append(f"not pruned: {error.location}: {error.message}")

    def unused(self, runtime: ModelRuntime) -> int:
        """Entries in the files of the features that ran, which no call of this run used."""
        total = 0
        for feature, keys in self.used.items():
            recording = runtime.store.feature(feature)
            recording.refresh()  # other workers may have written to it
            try:
                total += sum(1 for key in recording.entries() if key not in keys)
            except AitestError:
                continue
        return total

    def lines(self, mode: str, unused: int) -> list[str]:
        s = self.stats
        out = [self.latency_line(f, v) for f, v in sorted(s.latencies.items()) if v]
        if mode == "off":
            calls = "1 live model call" if s.live == 1 else f"{s.live} live model calls"
            return [*out, f"aitest: {calls} (recordings off)"] if s.live else out
        if not (s.replayed or s.recorded or s.missed or self.pruned or s.warnings):
            return out
        counts = f"{s.replayed} replayed, {s.recorded} recorded, {s.missed} missed, {unused} unused"
        line = f"aitest recordings ({mode}): {counts}"
        if self.pruned:
            line += f", {self.pruned} pruned"
        return [*out, line, *(f"aitest warning: {w}" for w in s.warnings)]

    @staticmethod
    def latency_line(feature: str, values: list[float]) -> str:
        ordered = sorted(values)
        p50 = ordered[(len(ordered) - 1) // 2]
        p95 = ordered[min(len(ordered) - 1, math.ceil(0.95 * len(ordered)) - 1)]
        runs = "1 run" if len(ordered) == 1 else f"{len(ordered)} runs"
        return f"aitest latency {feature}: p50 {p50:.0f} ms, p95 {p95:.0f} ms ({runs})"
