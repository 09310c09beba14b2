"""Provider names -> provider types, and the providers loaded in this process (one per profile)."""

from __future__ import annotations

import atexit
import importlib
from pathlib import Path
from typing import TYPE_CHECKING

from aitest.errors import ModelError
from aitest.models.providers.base import Provider
from aitest.util.text import shown

if TYPE_CHECKING:
    from aitest.models.profile import Profile

# the built-in providers; importing them is cheap (llama_cpp and httpx are imported when a model is used)
_BUILT_IN = {
    "llama_cpp": "aitest.models.providers.llama_cpp:LlamaCppProvider",
    "openai": "aitest.models.providers.openai:OpenAIProvider",
    "recorded": "aitest.models.providers.recorded:RecordedProvider",
}
_REGISTRY: dict[str, type[Provider]] = {}
_LOADED: dict[str, Provider] = {}  # one provider per profile per process (per xdist worker)


def register(cls: type[Provider]) -> type[Provider]:
    """Class decorator: make a provider available under its ``name``."""
    _REGISTRY[cls.name] = cls
    return cls


def provider_types() -> dict[str, type[Provider]]:
    """Every known provider: the built-in ones (imported on first use) and any registered."""
    if list(_REGISTRY)[: len(_BUILT_IN)] != list(_BUILT_IN):
        for name, path in _BUILT_IN.items():
            module, _, cls_name = path.partition(":")
            _REGISTRY.setdefault(name, getattr(importlib.import_module(module), cls_name))
        # the built-in ones first, in a stable order, whichever module was imported first
        ordered = {name: _REGISTRY[name] for name in _BUILT_IN} | _REGISTRY
        _REGISTRY.clear()
        _REGISTRY.update(ordered)
    return _REGISTRY


def provider_type(name: str) -> type[Provider]:
    known = provider_types()
    if name not in known:  # profiles are validated on load; this guards programmatic use
        raise ModelError(f"unknown provider {shown(name)}", hint=f"providers: {', '.join(known)}")
    return known[name]


def get_provider(profile: Profile, rootdir: Path) -> Provider:
    """The provider for a profile, created on first use and reused for the session."""
    key = profile.cache_key()
    if key not in _LOADED:
        _LOADED[key] = provider_type(profile.provider).from_profile(profile, rootdir)
    return _LOADED[key]


@atexit.register
def _close_all() -> None:
    """Free models before the interpreter tears llama-cpp-python down (avoids noise at exit)."""
    for provider in _LOADED.values():
        provider.close()
    _LOADED.clear()
