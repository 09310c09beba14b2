"""`max_latency_ms`: the model's time for the case (the recorded time when replayed)."""

from __future__ import annotations

from aitest.checks.base import Check, CheckContext, CheckResult
from aitest.checks.registry import register


@register
class MaxLatency(Check):
    name = "max_latency_ms"
    aliases = ("latency",)  # promptfoo's; its threshold is the value
    example = "max_latency_ms: 2000"
    description = "the case's model time (live, or as recorded when replayed) is at most N milliseconds"
    value_schema = {"type": "number", "exclusiveMinimum": 0}

    def run(self, ctx: CheckContext) -> CheckResult:
        latency = float(ctx.latency_ms)
        if latency <= self.value:
            return CheckResult(True, f"{latency:.0f} ms <= {self.value} ms")
        return CheckResult(False, f"took {latency:.0f} ms, over the budget of {self.value} ms")
