"""Providers: llama_cpp (in process) and openai (any OpenAI-compatible HTTP server)."""

from __future__ import annotations

import atexit
from pathlib import Path

from aitest.errors import ModelError
from aitest.models.profiles import Profile
from aitest.models.providers.base import Provider

_LOADED: dict[str, Provider] = {}  # one provider per profile per process (per xdist worker)


@atexit.register
def _close_all() -> None:
    """Free models before the interpreter tears llama-cpp-python down (avoids noise at exit)."""
    for provider in _LOADED.values():
        close = getattr(provider, "close", None)
        if close is not None:
            close()
    _LOADED.clear()


def get_provider(profile: Profile, rootdir: Path) -> Provider:
    """The provider for a profile, created on first use and reused for the session."""
    key = profile.cache_key()
    if key not in _LOADED:
        if profile.provider == "llama_cpp":
            from aitest.models.providers.llama_cpp import LlamaCppProvider

            _LOADED[key] = LlamaCppProvider.from_profile(profile, rootdir)
        elif profile.provider == "openai":
            from aitest.models.providers.openai import OpenAIProvider

            _LOADED[key] = OpenAIProvider.from_profile(profile)
        else:  # profiles are validated on load; this guards programmatic use
            raise ModelError(f"unknown provider '{profile.provider}'", location=profile.location)
    return _LOADED[key]
