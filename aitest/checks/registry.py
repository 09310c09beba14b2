"""Check names -> check types. Later families register themselves by being listed here."""

from __future__ import annotations

import importlib

from aitest.checks.base import Check

_FAMILIES = (
    "aitest.checks.text",
    "aitest.checks.json_schema",
    "aitest.checks.pii",
    "aitest.checks.latency",
    "aitest.checks.similarity",
)
_REGISTRY: dict[str, type[Check]] = {}
_LOADED = False


def register(cls: type[Check]) -> type[Check]:
    """Class decorator: make a check available under its ``name``."""
    _REGISTRY[cls.name] = cls
    return cls


def all_checks() -> dict[str, type[Check]]:
    """Every known check, importing the check families on first use."""
    global _LOADED
    if not _LOADED:
        for module in _FAMILIES:
            importlib.import_module(module)
        _LOADED = True
    return _REGISTRY
