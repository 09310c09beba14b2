"""Checks from installed packages: the entry point group `aitest.checks`.

An entry point's name is the check's name in a spec; it points at a Check subclass or a plain
function (called as a `python:` function is, with the spec's value as ``arg``). They are loaded
when the check registry is built (on the first spec, never when pytest starts). A built-in name
wins. One that fails to load stands in the registry as a check whose use is a spec error naming
the entry point, so that specs which do not use it still run.
"""

from __future__ import annotations

import inspect
import warnings
from collections.abc import Collection
from typing import TYPE_CHECKING, Any, ClassVar

from aitest.checks.base import Check, CheckContext, CheckResult, CheckSetup
from aitest.checks.function import CheckFunction, raised, verdict_of
from aitest.errors import AitestError, SpecError
from aitest.util.text import cut, type_word

if TYPE_CHECKING:
    from importlib.metadata import EntryPoint

GROUP = "aitest.checks"
RESERVED = ("path", "critical", "type", "value")  # keys of a check item that are not check names


class _Problem(Exception):
    """Why an entry point gives no usable check."""


def plugin_checks(taken: Collection[str]) -> dict[str, type[Check]]:
    """The checks of every installed package's entry points, by name; ``taken`` names are skipped."""
    found: dict[str, type[Check]] = {}
    for point in _entry_points():
        where = describe(point)
        if point.name in taken or point.name in RESERVED or point.name in found:
            kind = "an option of every check" if point.name in RESERVED else "already taken"
            _warn(point, f"{where} is ignored: the name '{point.name}' is {kind}")
            continue
        try:
            found[point.name] = _load(point, where)
        except _Problem as problem:
            message = f"check '{point.name}' could not be loaded from {where}: {problem}"
            _warn(point, message)
            attributes = {"name": point.name, "problem": message, "description": cut(message, 300)}
            found[point.name] = type(f"Broken_{point.name}", (_Broken,), attributes)
    return found


def _entry_points() -> list[EntryPoint]:
    from importlib.metadata import entry_points

    try:
        return list(entry_points(group=GROUP))
    except Exception as exc:  # damaged metadata of some installed package: no plugins, and say why
        warnings.warn(f"aitest: check plugins not loaded: reading entry points raised {exc!r}", stacklevel=3)
        return []


def _warn(point: EntryPoint, message: str) -> None:
    """A warning that points at the package's entry_points.txt, not at aitest's code."""
    dist = getattr(point, "dist", None)
    folder = getattr(dist, "_path", None)  # a PathDistribution's .dist-info folder
    where, line = f"<entry points {GROUP}>", 1
    if dist is not None and folder is not None:
        where = str(folder / "entry_points.txt")
        rows = (dist.read_text("entry_points.txt") or "").splitlines()
        line = next((n for n, row in enumerate(rows, 1) if row.split("=")[0].strip() == point.name), 1)
    warnings.warn_explicit(f"aitest: {message}", UserWarning, where, line)


def describe(point: EntryPoint) -> str:
    """How messages name an entry point: its line, group and package."""
    dist = getattr(point, "dist", None)
    package = f", package {dist.name} {dist.version}" if dist is not None else ""
    return f"the entry point '{point.name} = {point.value}' (group {GROUP}{package})"


def _load(point: EntryPoint, where: str) -> type[Check]:
    try:
        loaded = point.load()
    except Exception as exc:
        raise _Problem(f"importing it raised {type(exc).__name__}: {cut(str(exc), 200)}") from None
    if isinstance(loaded, type) and issubclass(loaded, Check):
        _check_class(loaded)
        return _guarded(loaded, point.name, f"check '{point.name}' ({point.value})")
    if inspect.isfunction(loaded) or inspect.isbuiltin(loaded):
        try:
            function = CheckFunction.of(loaded, point.value)
        except ValueError as exc:
            raise _Problem(str(exc)) from None
        doc = (inspect.getdoc(loaded) or "").strip().splitlines()
        attributes = {"name": point.name, "function": function, "description": doc[0] if doc else where}
        return type(f"Function_{point.name}", (_FunctionCheck,), attributes)
    raise _Problem(f"it is {_kind(loaded)}, neither a Check subclass nor a function")


def _kind(loaded: Any) -> str:
    if inspect.ismodule(loaded):
        return f"the module {loaded.__name__}"
    if isinstance(loaded, type):
        return f"the class {loaded.__name__}, which does not derive from aitest.checks.base.Check"
    return type_word(loaded) if type_word(loaded)[0] in "aet" else f"a {type(loaded).__name__} object"


def _check_class(cls: type[Check]) -> None:
    """What the schema and the engine need of a plugin's Check subclass."""
    if inspect.isabstract(cls):
        raise _Problem(f"{cls.__name__} does not implement run(ctx) (or judge(value), for a ValueCheck)")
    schema = getattr(cls, "value_schema", None)
    if not isinstance(schema, dict):
        raise _Problem(f"{cls.__name__}.value_schema must be a JSON Schema (a dict), not {type_word(schema)}")
    options = getattr(cls, "options", {})
    if not isinstance(options, dict) or not all(isinstance(o, dict) for o in options.values()):
        raise _Problem(f"{cls.__name__}.options must map each option's name to a JSON Schema")
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import SchemaError

    for label, part in [("value_schema", schema), *((f"options['{k}']", v) for k, v in options.items())]:
        try:
            Draft202012Validator.check_schema(part)
        except SchemaError as exc:
            raise _Problem(f"{cls.__name__}.{label} is not a valid JSON Schema: {cut(exc.message, 120)}") from None


def _guarded(cls: type[Check], name: str, who: str) -> type[Check]:
    """The plugin's class under its entry point's name: whatever it raises or returns reads as a verdict."""

    def __init__(self: Any, value: Any, options: dict[str, Any], setup: CheckSetup) -> None:
        self.aitest_location = setup.location
        try:
            cls.__init__(self, value, options, setup)
        except AitestError:
            raise
        except Exception as exc:
            raise SpecError(f"{raised(who, exc)} while preparing", location=setup.location) from None

    def run(self: Any, ctx: CheckContext) -> CheckResult:
        try:
            returned = cls.run(self, ctx)
        except AitestError:
            raise
        except Exception as exc:
            return CheckResult(False, raised(who, exc))
        return verdict_of(returned, who, self.aitest_location)

    return type(cls.__name__, (cls,), {"name": name, "__init__": __init__, "run": run})


class _FunctionCheck(Check):
    """A plugin function as a check: `- NAME: VALUE` calls it with VALUE as its ``arg``."""

    function: ClassVar[CheckFunction]
    value_schema: ClassVar[dict[str, Any]] = {}

    def __init__(self, value: Any, options: dict[str, Any], setup: CheckSetup) -> None:
        super().__init__(value, options, setup)
        self.location = setup.location

    def run(self, ctx: CheckContext) -> CheckResult:
        return self.function.call(ctx, self.value, self.location)


class _Broken(Check):
    """Stands for a plugin check that failed to load: using it is a spec error that says why."""

    problem: ClassVar[str]
    value_schema: ClassVar[dict[str, Any]] = {}
    any_options = True

    def __init__(self, value: Any, options: dict[str, Any], setup: CheckSetup) -> None:
        raise SpecError(
            self.problem,
            location=setup.location,
            hint="fix or reinstall the package that provides it, or remove the check from the spec",
        )

    def run(self, ctx: CheckContext) -> CheckResult:  # pragma: no cover - __init__ refuses to prepare it
        return CheckResult(False, self.problem)
