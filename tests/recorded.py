"""Recordings written by hand, for tests of aitest's own logic around them (replay, messages, counts)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aitest.recordings import fileformat
from aitest.recordings.entry import Entry, Request, entry_key
from aitest.util.files import write_atomic

GEMMA = {"provider": "llama_cpp", "model": "bundled:gemma-3-270m"}


@dataclass(frozen=True)
class Call:
    """One recorded call: ``complete(prompt, **params)`` answered with ``response``."""

    prompt: str
    response: str
    run: int = 0
    params: dict[str, Any] = field(default_factory=dict)
    latency_ms: float = 100.0
    completion_tokens: int | None = None
    model: dict[str, str] = field(default_factory=lambda: dict(GEMMA))


def write_recording(root: Path, name: str, calls: list[Call], *, folder: str = "specs/__recordings__") -> Path:
    """The recording ``<folder>/<name>.yaml`` holding ``calls``, keyed as aitest keys them."""
    entries = {}
    for call in calls:
        request = Request("complete", prompt=call.prompt, params=dict(call.params))
        key = entry_key(call.model, request, call.run)
        entries[key] = Entry(
            key, call.model, request, call.run, call.response, call.latency_ms, 3, call.completion_tokens
        )
    path = root / folder / f"{name}.yaml"
    write_atomic(path, fileformat.dump(name, entries))
    return path


# a project's conftest.py registering the provider `echo`, which answers at once with the prompt's last line:
# for tests of aitest's own logic around recordings, where a model would only make them slow
ECHO = """
from aitest.models.providers.base import Completion, Provider
from aitest.models.providers.registry import register


@register
class Echo(Provider):
    name = "echo"
    options = {"model": "str"}
    required = ("model",)
    model_option = "model"

    @classmethod
    def from_profile(cls, profile, rootdir=None):
        return cls()

    def complete(self, prompt, params):
        return Completion("echo: " + prompt.splitlines()[-1], 3, 2)

    def chat(self, messages, params):
        return Completion("echo", 3, 1)
"""
