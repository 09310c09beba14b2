"""What 1,000 cases cost on a side: the tokens of its cases' runs at each profile's `price` (USD per million
tokens, from the run report's `models`). A local model without a price costs 0; any other model without
one makes the cost unknown (None), never a guess."""

from __future__ import annotations

from typing import Any

from aitest.models.profile import Price, price_or_default

FREE = Price()


def price_of(case: dict[str, Any], models: dict[str, dict[str, Any]]) -> Price | None:
    """The price of the model a reported case ran on: its profile's, 0 for a local model without one, else None."""
    entry = models.get(case.get("profile") or "", {})
    price = entry.get("price")
    if price:
        return Price(float(price.get("input", 0)), float(price.get("output", 0)))
    provider = entry.get("provider") or (case.get("model") or {}).get("provider")
    return price_or_default(provider, None)


def cost_per_1000(cases: list[dict[str, Any]], models: dict[str, dict[str, Any]]) -> float | None:
    """USD per 1,000 cases: every run's tokens (prompt and completion) summed over the cases that ran, divided
    by their number. None when no case ran, or a model called has no price (or a priced call counted no token)."""
    ran = [c for c in cases if c.get("kind", "case") == "case" and c.get("runs")]
    if not ran:
        return None
    total = 0.0
    for case in ran:
        calls = [r for r in case["runs"] if r.get("model_calls")]
        if not calls:
            continue  # the feature's code called no model
        price = price_of(case, models)
        if price is None:
            return None
        for run in calls:
            tokens = run.get("tokens") or {}
            prompt, completion = tokens.get("prompt"), tokens.get("completion")
            if price != FREE and prompt is None and completion is None:
                return None  # a priced call whose tokens were not counted: its cost is not known
            total += price.cost(prompt, completion)
    return total / len(ran) * 1000
