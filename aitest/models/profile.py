"""A model profile: a named provider and its options, as configured."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from aitest.errors import Location


@dataclass(frozen=True)
class Profile:
    name: str
    provider: str
    options: dict[str, Any] = field(default_factory=dict)
    location: Location | None = None

    def identity(self) -> dict[str, str]:
        """What a recording is keyed by: the provider and the model as configured (never a secret)."""
        from aitest.models.providers.registry import provider_type

        model = self.options.get(provider_type(self.provider).model_option)
        return {"provider": self.provider, "model": str(model)}

    def cache_key(self) -> str:
        return json.dumps({"provider": self.provider, **self.options}, sort_keys=True)

    def describe(self) -> str:
        identity = self.identity()
        return f"{self.name} ({identity['provider']} {identity['model']})"
