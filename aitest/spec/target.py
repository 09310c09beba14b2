"""Resolving `target: module.path:function` to the feature's own callable."""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import sys
import traceback
from pathlib import Path
from typing import Any

from aitest.errors import Location, SpecError
from aitest.spec.model import Target
from aitest.util.text import cut, did_you_mean


def resolve_target(text: str, location: Location, rootdir: Path, packages: tuple[str, ...] = ()) -> Target:
    """Import the target from the project (the rootdir is importable); SpecError when it cannot be.

    A target must be the project's own code (a module under ``rootdir``) or in one of ``packages``
    (`[tool.aitest] target_packages`): a YAML file must never be able to call `os:system`.
    """
    module_name, _, func_name = text.partition(":")
    root = str(rootdir)
    if root not in sys.path:
        sys.path.insert(0, root)
    _check_own_code(text, module_name, location, rootdir, packages)
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name and (module_name == exc.name or module_name.startswith(exc.name + ".")):
            raise SpecError(
                f"target module '{module_name}' not found (no module named '{exc.name}')",
                location=location,
                hint=f"targets are imported from the project root {rootdir}; check the module path",
            ) from None
        raise _import_failed(module_name, exc, location) from None
    except Exception as exc:
        raise _import_failed(module_name, exc, location) from None
    function = getattr(module, func_name, None)
    if function is None:
        names = [n for n in vars(module) if not n.startswith("_") and callable(getattr(module, n))]
        raise SpecError(
            f"module '{module_name}' has no function '{func_name}'{did_you_mean(func_name, names)}",
            location=location,
        )
    if not callable(function):
        raise SpecError(f"target '{text}' is not callable", location=location)
    return Target(text, function, "model" in _parameters(function), location)


def _check_own_code(text: str, module_name: str, location: Location, rootdir: Path, packages: tuple[str, ...]) -> None:
    """Refuse a target outside the project before anything of it is imported."""
    top = module_name.split(".")[0]
    if top in packages:
        return
    try:
        found = importlib.util.find_spec(top)  # locates a top-level module without running it
    except (ImportError, ValueError):
        found = None
    if found is None:
        return  # not importable at all: the import below says so
    places = [found.origin] if found.origin and found.origin not in ("built-in", "frozen") else []
    places += list(found.submodule_search_locations or [])
    outside = [p for p in places if not _inside_project(Path(p), rootdir)]
    if places and not outside:
        return
    where = "built into Python" if not places else f"at {cut(outside[0], 120)}"
    raise SpecError(
        f"target '{text}' is not the project's own code (module '{top}' is {where})",
        location=location,
        hint=f"targets are modules under the project root {rootdir}, or in packages listed in "
        "[tool.aitest] target_packages",
    )


def _inside_project(path: Path, rootdir: Path) -> bool:
    """Under the project root, but not in an environment kept there (.venv/lib/.../site-packages)."""
    resolved = path.resolve()
    if not resolved.is_relative_to(rootdir.resolve()):
        return False
    prefixes = {Path(p).resolve() for p in (sys.prefix, sys.exec_prefix, sys.base_prefix)}
    if any(resolved.is_relative_to(prefix) for prefix in prefixes):
        return False
    return not {"site-packages", "dist-packages"} & set(resolved.parts)


def _import_failed(module_name: str, exc: BaseException, location: Location) -> SpecError:
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if "importlib" not in f.filename]
    where = f" ({frames[-1].filename}:{frames[-1].lineno})" if frames else ""
    return SpecError(
        f"importing target module '{module_name}' raised {type(exc).__name__}: {exc}{where}",
        location=location,
        hint="fix the error in the feature's module; aitest imports it like pytest imports a test",
    )


def _parameters(function: Any) -> dict[str, inspect.Parameter]:
    try:
        return dict(inspect.signature(function).parameters)
    except (TypeError, ValueError):
        return {}


def check_vars(target: Target, variables: dict[str, Any], location: Location) -> None:
    """The case's vars must fit the target's signature (a typo in a var name is caught here)."""
    params = _parameters(target.function)
    if not params or any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        return
    accepted = [n for n, p in params.items() if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY) and n != "model"]
    for name in variables:
        if name not in accepted:
            raise SpecError(
                f"var '{name}' is not a parameter of {target.text}{did_you_mean(name, accepted)}",
                location=location,
                hint=f"its parameters: {', '.join(accepted) or 'none'}",
            )
    missing = [
        n for n, p in params.items() if n in accepted and p.default is inspect.Parameter.empty and n not in variables
    ]
    if missing:
        raise SpecError(
            f"vars lack {', '.join(repr(m) for m in missing)}, required by {target.text}",
            location=location,
            hint="add them under the case's vars",
        )
