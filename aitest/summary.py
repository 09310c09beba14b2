"""The session's recording counts: gathered per process, merged across xdist workers, printed at the end."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from aitest.errors import AitestError
from aitest.models.runtime import ModelRuntime


@dataclass
class SessionSummary:
    replayed: int = 0
    recorded: int = 0
    missed: int = 0
    live: int = 0
    pruned: int = 0
    used: dict[str, set[str]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    failed: set[str] = field(default_factory=set)
    latencies: dict[str, list[float]] = field(default_factory=dict)

    @staticmethod
    def payload(runtime: ModelRuntime) -> dict[str, Any]:
        """What a worker sends to the controller (plain data: it crosses a process boundary)."""
        s = runtime.stats
        return {
            "counts": [s.replayed, s.recorded, s.missed, s.live],
            "used": runtime.used_keys(),
            "warnings": list(s.warnings),
            "failed": sorted(s.failed_features),
            "latencies": s.latencies,
        }

    def add(self, payload: dict[str, Any] | None) -> None:
        if not payload:
            return
        replayed, recorded, missed, live = payload["counts"]
        self.replayed += replayed
        self.recorded += recorded
        self.missed += missed
        self.live += live
        for feature, keys in payload["used"].items():
            self.used.setdefault(feature, set()).update(keys)
        self.warnings.extend(w for w in payload["warnings"] if w not in self.warnings)
        self.failed.update(payload["failed"])
        for feature, values in payload["latencies"].items():
            self.latencies.setdefault(feature, []).extend(values)

    def prune(self, runtime: ModelRuntime) -> None:
        """`rewrite`: each file touched by this run keeps exactly this run's entries.

        A feature whose model calls failed is not pruned (its old entries may be all it has),
        nor is a file that cannot be read (it is reported, never rewritten).
        """
        for feature, keys in self.used.items():
            if feature in self.failed:
                self.warnings.append(f"{feature}: not pruned, because some of its model calls failed")
                continue
            try:
                self.pruned += runtime.store.feature(feature).prune(keys)
            except AitestError as error:
                self.warnings.append(f"not pruned: {error.location}: {error.message}")

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
        out = [self.latency_line(f, v) for f, v in sorted(self.latencies.items()) if v]
        if mode == "off":
            calls = "1 live model call" if self.live == 1 else f"{self.live} live model calls"
            return [*out, f"aitest: {calls} (recordings off)"] if self.live else out
        if not (self.replayed or self.recorded or self.missed or self.pruned or self.warnings):
            return out
        counts = f"{self.replayed} replayed, {self.recorded} recorded, {self.missed} missed, {unused} unused"
        line = f"aitest recordings ({mode}): {counts}"
        if self.pruned:
            line += f", {self.pruned} pruned"
        return [*out, line, *(f"aitest warning: {w}" for w in self.warnings)]

    @staticmethod
    def latency_line(feature: str, values: list[float]) -> str:
        ordered = sorted(values)
        p50 = ordered[(len(ordered) - 1) // 2]
        p95 = ordered[min(len(ordered) - 1, math.ceil(0.95 * len(ordered)) - 1)]
        runs = "1 run" if len(ordered) == 1 else f"{len(ordered)} runs"
        return f"aitest latency {feature}: p50 {p50:.0f} ms, p95 {p95:.0f} ms ({runs})"
