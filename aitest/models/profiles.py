"""Model profiles: `[tool.aitest.models.NAME]`, the built-in `gemma-270m`, and which one a spec uses."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from aitest.config import Config
from aitest.errors import ConfigError, Location

BUILTIN_PROFILES: dict[str, dict[str, Any]] = {
    # the GGUF carries no chat template; Gemma's own format makes chat() answer instead of stopping at once
    "gemma-270m": {
        "provider": "llama_cpp",
        "model_path": "bundled:gemma-3-270m",
        "n_ctx": 2048,
        "chat_format": "gemma",
    },
}
DEFAULT_PROFILE = "gemma-270m"
_TYPES: dict[str, type | tuple[type, ...]] = {"str": str, "int": int, "number": (int, float), "bool": bool}
_WORDS = {"str": "text", "int": "a whole number", "number": "a number", "bool": "true or false"}
OPTIONS: dict[str, dict[str, str]] = {
    "llama_cpp": {"model_path": "str", "n_ctx": "int", "n_threads": "int", "seed": "int", "chat_format": "str"},
    "openai": {"base_url": "str", "model": "str", "api_key_env": "str", "timeout": "number", "retries": "int"},
}
REQUIRED = {"llama_cpp": ("model_path",), "openai": ("base_url", "model")}


@dataclass(frozen=True)
class Profile:
    name: str
    provider: str
    options: dict[str, Any] = field(default_factory=dict)
    location: Location | None = None

    def identity(self) -> dict[str, str]:
        """What a recording is keyed by: the provider and the model as configured (never a secret)."""
        model = self.options.get("model_path") if self.provider == "llama_cpp" else self.options.get("model")
        return {"provider": self.provider, "model": str(model)}

    def cache_key(self) -> str:
        return json.dumps({"provider": self.provider, **self.options}, sort_keys=True)

    def describe(self) -> str:
        identity = self.identity()
        return f"{self.name} ({identity['provider']} {identity['model']})"


def _check(name: str, raw: Any, location: Location) -> Profile:
    from aitest.spec.validate import did_you_mean

    if not isinstance(raw, dict):
        raise ConfigError(f"model profile '{name}' must be a table", location=location)
    provider = raw.get("provider")
    if provider not in OPTIONS:
        raise ConfigError(
            f"model profile '{name}': provider must be one of {', '.join(OPTIONS)}, not {provider!r}",
            location=location,
        )
    options = {k: v for k, v in raw.items() if k != "provider"}
    known = OPTIONS[provider]
    for key, value in options.items():
        if key not in known:
            raise ConfigError(
                f"model profile '{name}': unknown option '{key}'{did_you_mean(key, list(known))}",
                location=location,
                hint=f"{provider} options: {', '.join(known)}",
            )
        kind = _TYPES[known[key]]
        if not isinstance(value, kind) or (isinstance(value, bool) and known[key] != "bool"):
            kind_word = _WORDS[known[key]]
            raise ConfigError(f"model profile '{name}': '{key}' must be {kind_word}", location=location)
    for key in REQUIRED[provider]:
        if key not in options:
            raise ConfigError(f"model profile '{name}': missing '{key}'", location=location)
    return Profile(name, provider, options, location)


def all_profiles(config: Config) -> dict[str, Profile]:
    """Built-in profiles, overridden and extended by the project's configuration."""
    location = Location(str(config.rootdir / "pyproject.toml"))
    profiles = {name: _check(name, raw, location) for name, raw in BUILTIN_PROFILES.items()}
    for name, raw in config.models.items():
        profiles[name] = _check(name, raw, Location(location.file, config.line_of(f"models.{name}")))
    return profiles


def choose_profile(config: Config, *, override: str | None, spec_model: str | None, where: Location) -> Profile:
    """--aitest-model beats the spec's `model:`, which beats default_model, which defaults to gemma-270m."""
    name = override or spec_model or config.default_model or DEFAULT_PROFILE
    profiles = all_profiles(config)
    if name not in profiles:
        from aitest.spec.validate import did_you_mean

        source = "--aitest-model" if override else ("the spec's model" if spec_model else "default_model")
        pyproject = Location(str(config.rootdir / "pyproject.toml"), config.line_of("default_model"))
        raise ConfigError(
            f"unknown model profile '{name}' (from {source}){did_you_mean(name, list(profiles))}",
            location=(where if spec_model else pyproject) if not override else None,
            hint=f"known profiles: {', '.join(sorted(profiles))}; define others under [tool.aitest.models.NAME]",
        )
    return profiles[name]
