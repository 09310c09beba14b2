"""A model profile: a named provider and its options, as configured."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from aitest.errors import Location


@dataclass(frozen=True)
class Price:
    """USD per million tokens, as a profile's `price = {input = ..., output = ...}` gives it."""

    input: float = 0.0
    output: float = 0.0

    def cost(self, prompt_tokens: int | None, completion_tokens: int | None) -> float:
        """The USD cost of a call (or of a run's calls) from its token counts; a count not known costs 0."""
        return ((prompt_tokens or 0) * self.input + (completion_tokens or 0) * self.output) / 1_000_000

    def as_dict(self) -> dict[str, float]:
        return {"input": self.input, "output": self.output}


MAX_CONCURRENCY = 64  # model calls in flight at once per profile and process: more threads than any server's slots

LOCAL_PROVIDERS = frozenset({"llama_cpp"})  # a model on this machine: it costs 0 unless a price is given


def price_or_default(provider: str | None, price: Price | None) -> Price | None:
    """The price a cost is computed with: the profile's, else 0 for a local model; None (not known) for a
    hosted one that gives none."""
    if price is not None:
        return price
    return Price() if provider in LOCAL_PROVIDERS else None


@dataclass(frozen=True)
class Profile:
    name: str
    provider: str
    options: dict[str, Any] = field(default_factory=dict)
    location: Location | None = None
    price: Price | None = None  # None: not given (a local model then costs 0, a hosted one is unknown)

    def identity(self) -> dict[str, str]:
        """What a recording is keyed by: the provider and the model as configured (never a secret)."""
        from aitest.models.providers.registry import provider_type

        model = self.options.get(provider_type(self.provider).model_option)
        if model is None and self.provider == "recorded":
            model = self.name  # a recorded profile that names no model is keyed by its own name
        return {"provider": self.provider, "model": str(model)}

    def cache_key(self) -> str:
        return json.dumps({"provider": self.provider, **self.options}, sort_keys=True)

    def describe(self) -> str:
        identity = self.identity()
        return f"{self.name} ({identity['provider']} {identity['model']})"
