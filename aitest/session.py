"""State of one test session: configuration, loaded specs, and the model runtime."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from aitest.config import Config, load_config
from aitest.errors import SpecError
from aitest.models.runtime import ModelRuntime
from aitest.spec.loader import load_spec
from aitest.spec.model import Spec


@dataclass
class AitestSession:
    config: Config
    runtime: ModelRuntime | None = None
    features: dict[str, Spec] = field(default_factory=dict)

    @classmethod
    def for_rootdir(cls, rootdir: Path) -> AitestSession:
        config = load_config(rootdir)
        return cls(config, ModelRuntime(config))

    def runtime_or_default(self) -> ModelRuntime:
        if self.runtime is None:
            self.runtime = ModelRuntime(self.config)
        return self.runtime

    def load(self, path: Path) -> Spec:
        """Load a spec, claim its feature name (unique across the suite), check its model profile."""
        spec = load_spec(path, rootdir=self.config.rootdir)
        first = self.features.get(spec.feature)
        if first is not None and first.file != spec.file:
            raise SpecError(
                f"feature '{spec.feature}' is already defined in {first.location}",
                location=spec.location,
                hint="feature names are unique in the suite; rename one",
            )
        needs_model = spec.prompt is not None or (spec.target is not None and spec.target.wants_model)
        if self.runtime is not None and needs_model:
            self.runtime.profile_for(spec)  # an unknown profile fails this spec at collection
        self.features[spec.feature] = spec
        return spec
