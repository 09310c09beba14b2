"""Check names -> check types: the built-in families listed here, then the installed packages' plugins."""

from __future__ import annotations

import importlib

from aitest.checks.base import Check

_FAMILIES = (
    "aitest.checks.text",
    "aitest.checks.json_schema",
    "aitest.checks.pii",
    "aitest.checks.latency",
    "aitest.checks.cost",
    "aitest.checks.similarity",
    "aitest.checks.custom",
    "aitest.checks.rubric",
    "aitest.checks.tools",
    "aitest.checks.structure",
    "aitest.checks.reply",
    "aitest.checks.metrics",
    "aitest.checks.combinators",
)
_REGISTRY: dict[str, type[Check]] = {}
_LOADED = False


def register(cls: type[Check]) -> type[Check]:
    """Class decorator: make a check available under its ``name``."""
    _REGISTRY[cls.name] = cls
    return cls


def all_checks() -> dict[str, type[Check]]:
    """Every known check: the built-in families, imported on first use, then the entry point group
    `aitest.checks` of installed packages (a built-in name wins)."""
    global _LOADED
    if not _LOADED:
        for module in _FAMILIES:
            importlib.import_module(module)
        _LOADED = True
        from aitest.checks.plugins import plugin_checks

        _REGISTRY.update(plugin_checks(frozenset(_REGISTRY)))
    return _REGISTRY
