"""Resolving `target: module.path:function` to the feature's own callable."""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any

from aitest.errors import Location, SpecError
from aitest.spec.model import Target
from aitest.util.own_code import import_own_callable, parameters
from aitest.util.text import did_you_mean, shown

CLIENTS = ("model", "openai")  # parameters aitest fills itself: the model client, the OpenAI-shaped one


def resolve_target(text: str, location: Location, rootdir: Path, packages: tuple[str, ...] = ()) -> Target:
    """Import the target from the project (the rootdir is importable); SpecError when it cannot be.

    A target must be the project's own code (a module under ``rootdir``) or in one of ``packages``
    (`[tool.aitest] target_packages`): a YAML file must never be able to call `os:system`.
    """
    function = import_own_callable(text, location, rootdir, packages, what="target")
    names = parameters(function)
    return Target(text, function, "model" in names, location, wants_openai="openai" in names)


def check_vars(target: Target, variables: dict[str, Any], location: Location) -> None:
    """The case's vars must fit the target's signature (a typo in a var name is caught here)."""
    params = parameters(target.function)
    if not params or any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        return
    accepted = [
        n for n, p in params.items() if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY) and n not in CLIENTS
    ]
    for name in variables:
        if name not in accepted:
            raise SpecError(
                f"var {shown(name)} is not a parameter of {shown(target.text, 120, quoted=False)}"
                f"{did_you_mean(name, accepted)}",
                location=location,
                hint=f"its parameters: {', '.join(accepted) or 'none'}",
            )
    missing = [
        n for n, p in params.items() if n in accepted and p.default is inspect.Parameter.empty and n not in variables
    ]
    if missing:
        raise SpecError(
            f"vars lack {', '.join(repr(m) for m in missing)}, required by {shown(target.text, 120, quoted=False)}",
            location=location,
            hint="add them under the case's vars",
        )
