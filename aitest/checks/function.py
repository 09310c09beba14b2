"""A Python function as a check: which arguments it takes, calling it, and reading what it returns.

Shared by `python: module:function` and by plugin functions (entry point group `aitest.checks`).
The function gets the output first (whatever its first parameter is called), and by name, where
it has such parameters, ``value`` (what the check looks at: parsed JSON, the `path` field),
``case`` (a CaseInfo: feature, id, vars) and ``arg`` (a value the spec gives it). It returns a
bool, a ``(passed, message)`` pair, a mapping with ``passed``, ``message`` and ``score``, or a
CheckResult.
"""

from __future__ import annotations

import inspect
import math
import os
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aitest.checks.base import CheckContext, CheckResult, show
from aitest.errors import AitestError, CheckError, Location
from aitest.util.own_code import parameters
from aitest.util.text import first_line, type_word

BY_NAME = ("value", "case", "arg")  # given by name, where the function has a parameter so named
RETURNS = "True or False, a (passed, message) pair, or a mapping with passed, message and score"
SIGNATURE_HINT = "def check(output, value=None, case=None, arg=None): the output first, the others by name"
_PACKAGE_DIR = str(Path(__file__).resolve().parent.parent)
_MAPPING_KEYS = ("passed", "message", "score")


@dataclass(frozen=True)
class CheckFunction:
    """A function used as a check, and how to call it."""

    function: Callable[..., Any]
    text: str  # how messages name it, e.g. myapp.checks:is_polite
    output: str | None  # the parameter that gets the output ("" for the first of *args), None: none does
    positional: bool  # the output goes by position (a positional-only parameter, or *args)
    takes: frozenset[str]  # which of BY_NAME it gets

    @classmethod
    def of(cls, function: Callable[..., Any], text: str) -> CheckFunction:
        """How to call ``function``; ValueError saying what is wrong with its parameters."""
        params = parameters(function)
        if not params:  # Python cannot tell (some built-ins): the output alone
            return cls(function, text, "", True, frozenset())
        everything = any(p.kind is p.VAR_KEYWORD for p in params.values())
        named = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
        takes = frozenset(n for n in BY_NAME if everything or (n in params and params[n].kind in named))
        output, positional = _output_parameter(params)
        for name, param in params.items():
            unfilled = param.default is param.empty and param.kind not in (param.VAR_POSITIONAL, param.VAR_KEYWORD)
            if unfilled and name != output and name not in takes:
                given = ", ".join(BY_NAME)
                raise ValueError(f"its parameter '{name}' is not one aitest gives (the output first, then {given})")
        if output is None and not takes:
            raise ValueError("it takes no parameter; give it one for the output")
        return cls(function, text, output, positional, takes)

    def call(self, ctx: CheckContext, arg: Any, location: Location | None) -> CheckResult:
        """Call the function on one output; an exception it raises fails the check with one line."""
        args: list[Any] = []
        kwargs: dict[str, Any] = {}
        if self.output is not None:
            if self.positional:
                args.append(ctx.output)
            else:
                kwargs[self.output] = ctx.output
        given = {"value": ctx.value, "case": ctx.case, "arg": arg}
        kwargs.update((name, given[name]) for name in self.takes)
        try:
            returned = self.function(*args, **kwargs)
        except AitestError:
            raise  # ours (a recording miss, a model error): shown as such
        except Exception as exc:
            return CheckResult(False, raised(self.text, exc))
        return verdict_of(returned, self.text, location)


def _output_parameter(params: Mapping[str, inspect.Parameter]) -> tuple[str | None, bool]:
    """The parameter that gets the output: one named `output`, else the first positional one not named
    as the others; ("", True) for *args."""
    if "output" in params:
        param = params["output"]
        return "output", param.kind is param.POSITIONAL_ONLY
    for name, param in params.items():
        if param.kind is param.VAR_POSITIONAL:
            return "", True
        if param.kind in (param.POSITIONAL_ONLY, param.POSITIONAL_OR_KEYWORD) and name not in BY_NAME:
            return name, param.kind is param.POSITIONAL_ONLY
    return None, False


def raised(who: str, exc: BaseException) -> str:
    """One line for an exception raised by the user's check: what raised what, and where in their code."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if not f.filename.startswith(_PACKAGE_DIR)]
    where = ""
    if frames:
        path = frames[-1].filename
        try:
            shown = os.path.relpath(path) if Path(path).resolve().is_relative_to(Path.cwd()) else path
        except ValueError:
            shown = path
        where = f" ({shown}:{frames[-1].lineno})"
    return f"{who} raised {type(exc).__name__}: {first_line(str(exc), 160)}{where}"


def _is_bool(value: Any) -> bool:
    """Python's bool, or numpy's (which is not a subclass of it)."""
    kind = type(value)
    return isinstance(value, bool) or (kind.__module__ == "numpy" and kind.__name__ in ("bool", "bool_"))


def verdict_of(returned: Any, who: str, location: Location | None) -> CheckResult:
    """What a check function returned, as a CheckResult; CheckError naming it when it is not a verdict."""
    if isinstance(returned, CheckResult):
        return returned
    if _is_bool(returned):
        return CheckResult(bool(returned), f"{who} returned {bool(returned)}")
    if isinstance(returned, (tuple, list)) and len(returned) == 2 and _is_bool(returned[0]):
        passed, message = bool(returned[0]), returned[1]
        if not isinstance(message, str):
            raise _not_a_verdict(who, returned, f"its message is {type_word(message)}, not text", location)
        return CheckResult(passed, message or f"{who} returned {passed}")
    if isinstance(returned, Mapping):
        return _from_mapping(returned, who, location)
    why = "is a return statement missing?" if returned is None else ""
    raise _not_a_verdict(who, returned, why, location)


def _from_mapping(returned: Mapping[Any, Any], who: str, location: Location | None) -> CheckResult:
    unknown = [k for k in returned if k not in _MAPPING_KEYS]
    if unknown:
        raise _not_a_verdict(who, returned, f"unknown key {show(unknown[0])} (keys: passed, message, score)", location)
    passed, message, score = returned.get("passed"), returned.get("message", ""), returned.get("score")
    if not _is_bool(passed):
        raise _not_a_verdict(who, returned, "its 'passed' must be True or False", location)
    if not isinstance(message, str):
        raise _not_a_verdict(who, returned, "its 'message' must be text", location)
    if score is not None and (
        isinstance(score, bool) or not isinstance(score, (int, float)) or not math.isfinite(score)
    ):
        raise _not_a_verdict(who, returned, "its 'score' must be a number", location)
    verdict = bool(passed)
    return CheckResult(verdict, message or f"{who} returned {verdict}", None if score is None else float(score))


def _not_a_verdict(who: str, returned: Any, why: str, location: Location | None) -> CheckError:
    got = f"{show(returned)} ({type_word(returned)})" if returned is not None else "None"
    return CheckError(
        f"{who} returned {got}; {why or 'that is not a verdict'}",
        location=location,
        hint=f"a check function returns {RETURNS}",
    )
