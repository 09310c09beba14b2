"""State of one test session: configuration, loaded specs, and what they resolved to."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from aitest.config import Config, load_config
from aitest.errors import SpecError
from aitest.spec.loader import load_spec
from aitest.spec.model import Spec


@dataclass
class AitestSession:
    config: Config
    features: dict[str, Spec] = field(default_factory=dict)

    @classmethod
    def for_rootdir(cls, rootdir: Path) -> AitestSession:
        return cls(load_config(rootdir))

    def load(self, path: Path) -> Spec:
        """Load a spec and claim its feature name (unique across the suite)."""
        spec = load_spec(path, rootdir=self.config.rootdir)
        first = self.features.get(spec.feature)
        if first is not None and first.file != spec.file:
            raise SpecError(
                f"feature '{spec.feature}' is already defined in {first.location}",
                location=spec.location,
                hint="feature names are unique in the suite; rename one",
            )
        self.features[spec.feature] = spec
        return spec
