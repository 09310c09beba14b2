"""The session's recording counts: gathered per process, merged across xdist workers, printed at the end."""

from __future__ import annotations

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

    @staticmethod
    def payload(runtime: ModelRuntime) -> dict[str, Any]:
        """What a worker sends to the controller (plain data: it crosses a process boundary)."""
        s = runtime.stats
        return {
            "counts": [s.replayed, s.recorded, s.missed, s.live],
            "used": runtime.used_keys(),
            "warnings": list(s.warnings),
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

    def prune(self, runtime: ModelRuntime) -> None:
        """`rewrite`: each file touched by this run keeps exactly this run's entries."""
        for feature, keys in self.used.items():
            self.pruned += runtime.store.feature(feature).prune(keys)

    def unused(self, runtime: ModelRuntime) -> int:
        """Entries in the files of the features that ran, which no call of this run used."""
        total = 0
        for feature, keys in self.used.items():
            recording = runtime.store.feature(feature)
            recording._entries = None  # re-read: other workers may have written to it
            try:
                total += sum(1 for key in recording.entries() if key not in keys)
            except AitestError:
                continue
        return total

    def lines(self, mode: str, unused: int) -> list[str]:
        if mode == "off":
            return [f"aitest: {self.live} live model calls (recordings off)"] if self.live else []
        if not (self.replayed or self.recorded or self.missed):
            return []
        counts = f"{self.replayed} replayed, {self.recorded} recorded, {self.missed} missed, {unused} unused"
        line = f"aitest recordings ({mode}): {counts}"
        if self.pruned:
            line += f", {self.pruned} pruned"
        return [line, *(f"aitest warning: {w}" for w in self.warnings)]
