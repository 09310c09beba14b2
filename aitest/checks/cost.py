"""`max_cost`: what a run's model calls cost, their token counts priced by the model profile's `price`."""

from __future__ import annotations

import math
from typing import Any

from aitest.checks.base import Check, CheckContext, CheckResult, CheckSetup, Usage
from aitest.checks.registry import register
from aitest.errors import SpecError

PRICE_LINE = "price = {input = ..., output = ...}"


@register
class MaxCost(Check):
    name = "max_cost"
    aliases = ("cost",)  # promptfoo's; its threshold is the value
    example = "max_cost: 0.001"
    score_is_share = False  # its score is the cost in US dollars: a weighted case counts its verdict
    description = (
        "the run's model calls cost at most this many US dollars (token counts x the model profile's price, "
        "USD per million tokens; a local model without a price costs 0)"
    )
    value_schema = {"type": "number", "minimum": 0}

    def __init__(self, value: Any, options: dict[str, Any], setup: CheckSetup) -> None:
        super().__init__(value, options, setup)
        self.location = setup.location
        if isinstance(value, float) and math.isnan(value):
            raise SpecError("'max_cost' must be a number of US dollars, not nan", location=setup.location,
                            hint="e.g. max_cost: 0.001 (a tenth of a cent per run)")  # fmt: skip

    def run(self, ctx: CheckContext) -> CheckResult:
        usage = ctx.usage
        if usage is None:
            raise SpecError(
                "max_cost needs the token counts of a case's model calls, and aitest.check sees no model call",
                location=self.location,
                hint="put max_cost under expect: in a spec, whose runs count their tokens",
            )
        limit = f"max_cost ${written(self.value)}"
        if usage.calls == 0:
            return CheckResult(True, f"cost $0 <= {limit} (no model call)", score=0.0)
        if usage.price is None:
            return CheckResult(False, f"the cost is not known: model profile '{usage.profile}' has no price; add "
                               f"{PRICE_LINE} (USD per million tokens) to [tool.aitest.models.{usage.profile}] in "
                               "pyproject.toml")  # fmt: skip
        missing = _missing(usage)
        if missing:
            return CheckResult(False, f"the cost cannot be computed: the model calls of profile '{usage.profile}' "
                               f"reported no {missing} token counts")  # fmt: skip
        cost = usage.price.cost(usage.prompt_tokens, usage.completion_tokens)
        passed = cost <= self.value or math.isclose(cost, self.value, rel_tol=1e-9)
        shown = usd(cost, differ_from=None if passed else written(self.value))
        message = f"cost ${shown} {'<=' if passed else '>'} {limit} ({_breakdown(usage)})"
        return CheckResult(passed, message, score=cost)


def _missing(usage: Usage) -> str:
    """Which token counts the calls did not report, where the price makes them matter ('' when none)."""
    assert usage.price is not None
    gaps = [
        kind
        for kind, count, rate in (
            ("prompt", usage.prompt_tokens, usage.price.input),
            ("completion", usage.completion_tokens, usage.price.output),
        )
        if count is None and rate
    ]
    return " or ".join(gaps)


def _breakdown(usage: Usage) -> str:
    """How the cost was made: tokens, calls and the price, e.g. `812 prompt + 95 completion tokens at $0.15/$0.60
    per million`."""
    price = usage.price
    assert price is not None
    counts = ["?" if n is None else str(n) for n in (usage.prompt_tokens, usage.completion_tokens)]
    calls = f" over {usage.calls} model calls" if usage.calls > 1 else ""
    free = f": model profile '{usage.profile}' is free" if not price.input and not price.output else ""
    rates = f"${_rate(price.input)}/${_rate(price.output)} per million"
    return f"{counts[0]} prompt + {counts[1]} completion tokens{calls} at {rates}{free}"


def usd(amount: float, *, differ_from: str | None = None) -> str:
    """Dollars with three significant digits (more when that would read the same as ``differ_from``), never in
    scientific notation: 0.000179, 0.0003, 12.5."""
    if amount == 0 or not math.isfinite(amount):
        return f"{amount:g}"
    for digits in range(3, 16):
        decimals = max(0, digits - 1 - math.floor(math.log10(abs(amount))))
        text = f"{amount:.{decimals}f}"
        text = text.rstrip("0").rstrip(".") if "." in text else text
        if text != differ_from:
            return text
    return text


def written(value: float) -> str:
    """A number as the spec wrote it, never in scientific notation: 0.0003, not 3e-04."""
    from decimal import Decimal

    text = format(Decimal(repr(value)), "f") if isinstance(value, float) and math.isfinite(value) else str(value)
    return text.rstrip("0").rstrip(".") if "." in text else text


def _rate(per_million: float) -> str:
    """A price per million tokens as prices are written: cents at least (0.60, 2.50), more where given (0.075)."""
    cents = f"{per_million:.2f}"
    return cents if float(cents) == per_million else usd(per_million)
