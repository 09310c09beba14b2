"""What the session counts of model calls: replayed, recorded, missed, live; merged across xdist workers."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class CallStats:
    """Counters the model clients of one process add to; the session owns them and merges workers' copies."""

    replayed: int = 0
    recorded: int = 0
    missed: int = 0
    live: int = 0
    warnings: list[str] = field(default_factory=list)
    failed_features: set[str] = field(default_factory=set)  # a model call failed: never prune these

    def warn(self, warning: str) -> None:
        if warning not in self.warnings:
            self.warnings.append(warning)

    def to_payload(self) -> dict[str, Any]:
        """Plain data, to cross from an xdist worker to the controller."""
        return {
            "counts": [self.replayed, self.recorded, self.missed, self.live],
            "warnings": list(self.warnings),
            "failed": sorted(self.failed_features),
        }

    def merge(self, payload: dict[str, Any]) -> None:
        """Add another process's counts (from ``to_payload``) to these."""
        replayed, recorded, missed, live = payload["counts"]
        self.replayed += replayed
        self.recorded += recorded
        self.missed += missed
        self.live += live
        for warning in payload["warnings"]:
            self.warn(warning)
        self.failed_features.update(payload["failed"])
