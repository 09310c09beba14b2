"""Model profiles: `[tool.aitest.models.NAME]`, the built-in `gemma-270m`, and which one a spec uses."""

from __future__ import annotations

from typing import Any

from aitest.config import Config
from aitest.errors import ConfigError, Location
from aitest.models.profile import MAX_CONCURRENCY, Price, Profile
from aitest.models.providers.registry import provider_types
from aitest.util.text import did_you_mean, shown

__all__ = ["BUILTIN_PROFILES", "DEFAULT_PROFILE", "Profile", "all_profiles", "choose_profile"]

BUILTIN_PROFILES: dict[str, dict[str, Any]] = {
    # the GGUF carries no chat template; Gemma's own format makes chat() answer instead of stopping at once
    "gemma-270m": {
        "provider": "llama_cpp",
        "model_path": "bundled:gemma-3-270m",
        "n_ctx": 2048,
        "chat_format": "gemma",
    },
    # SmolLM2 135M Instruct (Q4_1): half Gemma's size; its GGUF carries its own chat template
    "smollm2-135m": {"provider": "llama_cpp", "model_path": "bundled:smollm2-135m", "n_ctx": 2048},
}
DEFAULT_PROFILE = "gemma-270m"
_TYPES: dict[str, type | tuple[type, ...]] = {"str": str, "int": int, "number": (int, float), "bool": bool}
_WORDS = {"str": "text", "int": "a whole number", "number": "a number", "bool": "true or false"}


def _check(name: str, raw: Any, location: Location) -> Profile:
    """A validated profile: a known provider, its options known, of their kinds, the required ones set."""
    if not isinstance(raw, dict):
        raise ConfigError(f"model profile {shown(name)} must be a table", location=location)
    providers = provider_types()
    provider = raw.get("provider")
    if provider not in providers:
        raise ConfigError(
            f"model profile {shown(name)}: provider must be one of {', '.join(providers)}, not {shown(provider)}",
            location=location,
        )
    kind = providers[provider]
    options = {k: v for k, v in raw.items() if k not in ("provider", "price")}
    price = _price(name, raw["price"], location) if "price" in raw else None
    for key, value in options.items():
        if key not in kind.options:
            raise ConfigError(
                f"model profile {shown(name)}: unknown option {shown(key)}{did_you_mean(key, list(kind.options))}",
                location=location,
                hint=f"{provider} options: {', '.join(kind.options)}",
            )
        wanted = kind.options[key]
        if wanted == "concurrency":
            _concurrency(name, value, location)
            continue
        if not isinstance(value, _TYPES[wanted]) or (isinstance(value, bool) and wanted != "bool"):
            raise ConfigError(f"model profile {shown(name)}: '{key}' must be {_WORDS[wanted]}", location=location)
    for key in kind.required:
        if key not in options:
            raise ConfigError(f"model profile {shown(name)}: missing '{key}'", location=location)
    return Profile(name, provider, options, location, price)


def _concurrency(name: str, value: Any, location: Location) -> None:
    """`concurrency = N` (1 to MAX_CONCURRENCY model calls in flight at once) or "auto" (the server's slots)."""
    if value == "auto" or (isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= MAX_CONCURRENCY):
        return
    written = (
        shown(value, 40)
        if isinstance(value, str)
        else str(value).lower()
        if isinstance(value, bool)
        else shown(value, 40)
    )
    raise ConfigError(
        f"model profile {shown(name)}: 'concurrency' must be a whole number from 1 to {MAX_CONCURRENCY} or \"auto\", "
        f"not {written}",
        location=location,
        hint='model calls in flight at once: e.g. concurrency = 8 (the server\'s parallel slots), or "auto"',
    )


def _price(name: str, raw: Any, location: Location) -> Price:
    """`price = {input = USD, output = USD}` per million tokens; either may be left out (0)."""
    example = "price = {input = 0.15, output = 0.60}"
    if not isinstance(raw, dict):
        raise ConfigError(f"model profile {shown(name)}: 'price' must be a table", location=location,
                          hint=f"USD per million tokens: {example}")  # fmt: skip
    for key, value in raw.items():
        if key not in ("input", "output"):
            known = did_you_mean(key, ["input", "output"])
            raise ConfigError(f"model profile {shown(name)}: unknown price key {shown(key)}{known}", location=location,
                              hint=f"USD per million tokens: {example}")  # fmt: skip
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0 or value != value:
            raise ConfigError(f"model profile {shown(name)}: price '{key}' must be a number of 0 or more "
                              "(USD per million tokens)", location=location, hint=example)  # fmt: skip
    return Price(float(raw.get("input", 0)), float(raw.get("output", 0)))


def all_profiles(config: Config) -> dict[str, Profile]:
    """Built-in profiles, overridden and extended by the project's configuration."""
    location = Location(str(config.rootdir / "pyproject.toml"))
    profiles = {name: _check(name, raw, location) for name, raw in BUILTIN_PROFILES.items()}
    for name, raw in config.models.items():
        profiles[name] = _check(name, raw, Location(location.file, config.line_of(f"models.{name}")))
    return profiles


def known_names(profiles: dict[str, Profile]) -> str:
    """The profiles' names for a hint, in order, each cut when it is long."""
    return ", ".join(shown(p, quoted=False) for p in sorted(profiles))


def choose_profile(config: Config, *, override: str | None, spec_model: str | None, where: Location) -> Profile:
    """--aitest-model beats the spec's `model:`, which beats default_model, which defaults to gemma-270m."""
    name = override or spec_model or config.default_model or DEFAULT_PROFILE
    profiles = all_profiles(config)
    if name not in profiles:
        source = "--aitest-model" if override else ("the spec's model" if spec_model else "default_model")
        pyproject = Location(str(config.rootdir / "pyproject.toml"), config.line_of("default_model"))
        raise ConfigError(
            f"unknown model profile {shown(name)} (from {source}){did_you_mean(name, list(profiles))}",
            location=(where if spec_model else pyproject) if not override else None,
            hint=f"known profiles: {known_names(profiles)}; define others under [tool.aitest.models.NAME]",
        )
    return profiles[name]
