"""Importing `module.path:function` from the project's own code: targets and `python:` checks.

A YAML file names the function, so it must never reach `os:system`: the module must lie under the
project root (outside any environment kept there), or in a package listed in `[tool.aitest]
target_packages`. The check is made before anything of the module is imported.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from aitest.errors import Location, SpecError
from aitest.util.text import cut, did_you_mean, shown


def import_own_callable(
    text: str, location: Location, rootdir: Path, packages: tuple[str, ...] = (), *, what: str = "target"
) -> Callable[..., Any]:
    """The callable ``text`` names (``module.path:function``); SpecError at ``location`` when it cannot be had.

    ``what`` names it in messages ("target", "python check").
    """
    module_name, _, func_name = text.partition(":")
    root = str(rootdir)
    if root not in sys.path:
        sys.path.insert(0, root)
    _check_own_code(text, module_name, location, rootdir, packages, what)
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name and (module_name == exc.name or module_name.startswith(exc.name + ".")):
            raise SpecError(
                f"{what} module {shown(module_name)} not found (no module named {shown(exc.name)})",
                location=location,
                hint=f"{what}s are imported from the project root {rootdir}; check the module path",
            ) from None
        raise _import_failed(module_name, exc, location, what) from None
    except Exception as exc:
        raise _import_failed(module_name, exc, location, what) from None
    function = getattr(module, func_name, None)
    if function is None:
        names = [n for n in vars(module) if not n.startswith("_") and callable(getattr(module, n))]
        raise SpecError(
            f"module {shown(module_name)} has no function {shown(func_name)}{did_you_mean(func_name, names)}",
            location=location,
        )
    if not callable(function):
        raise SpecError(f"{what} {shown(text)} is not callable", location=location)
    return function  # type: ignore[no-any-return]


def _check_own_code(
    text: str, module_name: str, location: Location, rootdir: Path, packages: tuple[str, ...], what: str
) -> None:
    """Refuse a module outside the project before anything of it is imported."""
    top = module_name.split(".")[0]
    if top in packages:
        return
    try:
        found = importlib.util.find_spec(top)  # locates a top-level module without running it
    except (ImportError, ValueError):
        found = None
    if found is None:
        return  # not importable at all: the import says so
    places = [found.origin] if found.origin and found.origin not in ("built-in", "frozen") else []
    places += list(found.submodule_search_locations or [])
    outside = [p for p in places if not _inside_project(Path(p), rootdir)]
    if places and not outside:
        return
    where = "built into Python" if not places else f"at {cut(outside[0], 120)}"
    raise SpecError(
        f"{what} {shown(text)} is not the project's own code (module {shown(top)} is {where})",
        location=location,
        hint=f"{what}s are modules under the project root {rootdir}, or in packages listed in "
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


def _import_failed(module_name: str, exc: BaseException, location: Location, what: str) -> SpecError:
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if "importlib" not in f.filename]
    where = f" ({frames[-1].filename}:{frames[-1].lineno})" if frames else ""
    return SpecError(
        f"importing {what} module {shown(module_name)} raised {type(exc).__name__}: "
        f"{shown(str(exc), 200, quoted=False)}{where}",
        location=location,
        hint=f"fix the error in the {what}'s module; aitest imports it like pytest imports a test",
    )


def parameters(function: Any) -> dict[str, inspect.Parameter]:
    """The parameters of a callable by name; empty when Python cannot tell (some built-ins)."""
    try:
        return dict(inspect.signature(function).parameters)
    except (TypeError, ValueError):
        return {}
