"""What the tool checks share: matching a call against an expected one, labels of calls, the side-by-side block."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from aitest.checks.base import CheckSetup
from aitest.models.response import ToolCall
from aitest.trajectory import Trajectory, render_trajectory
from aitest.util.text import cut, plural

ARG_MODES = ("subset", "exact", "schema")
MAX_ROWS = 16  # rows of the expected | actual block (failure output shows at most 20 detail lines)
VALUE_LIMIT = 40  # characters of one argument value in a label
LABEL_LIMIT = 120  # characters of one call's label in a message

_VALIDATORS: dict[str, Any] = {}  # compiled once per schema text and spec folder


@dataclass(frozen=True)
class Made:
    """A call the model made, with the (1-based) step that made it."""

    step: int
    call: ToolCall

    def label(self) -> str:
        return f"{call_label(self.call)} at step {self.step}"


def calls_of(trajectory: Trajectory) -> list[Made]:
    """Every call of a trajectory in the order they were made, each with its step."""
    return [Made(number, call) for number, step in enumerate(trajectory, 1) for call in step.calls]


def at_steps(made: list[Made]) -> str:
    """``step 2`` or ``steps 1, 3``: where the calls were made."""
    numbers = ", ".join(str(m.step) for m in made[:10]) + (", ..." if len(made) > 10 else "")
    return f"step {numbers}" if len(made) == 1 else f"steps {numbers}"


def show_value(value: Any, limit: int = VALUE_LIMIT) -> str:
    """A JSON value on one line, cut: strings in double quotes, as the model wrote them."""
    return cut(json.dumps(value, ensure_ascii=False, sort_keys=True), limit)


def call_label(call: ToolCall, limit: int = LABEL_LIMIT) -> str:
    """``name(key="value", ...)`` with each value and the whole label cut."""
    args = ", ".join(f"{key}={show_value(value)}" for key, value in call.arguments.items())
    return cut(f"{call.name}({args})", limit)


def calls_made(made: list[Made], limit: int = 5) -> str:
    """The calls of a run for a message: ``lookup_order(order_id="77") at step 1, ...`` or ``none``."""
    if not made:
        return "none"
    shown = ", ".join(m.label() for m in made[:limit])
    return shown + (f" and {len(made) - limit} more" if len(made) > limit else "")


def json_equal(a: Any, b: Any) -> bool:
    """Equal as JSON values: true is not 1, and 1 equals 1.0."""
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        return a.keys() == b.keys() and all(json_equal(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(json_equal(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


def subset_difference(expected: Mapping[str, Any], actual: Mapping[str, Any], at: str = "") -> str | None:
    """Why ``actual`` does not hold every key of ``expected`` (nested mappings as subsets), or None."""
    for key, want in expected.items():
        where = f"{at}.{key}" if at else str(key)
        if key not in actual:
            return f"{where} is missing, expected {show_value(want)}"
        got = actual[key]
        if isinstance(want, Mapping) and isinstance(got, Mapping):
            nested = subset_difference(want, got, where)
            if nested:
                return nested
        elif not json_equal(want, got):
            return f"{where} is {show_value(got)}, expected {show_value(want)}"
    return None


def exact_difference(expected: Mapping[str, Any], actual: Mapping[str, Any]) -> str | None:
    """Why ``actual`` is not exactly ``expected``, or None."""
    extra = [key for key in actual if key not in expected]
    if extra:
        return f"unexpected argument {extra[0]}={show_value(actual[extra[0]])}"
    for key, want in expected.items():
        if key not in actual:
            return f"{key} is missing, expected {show_value(want)}"
        if not json_equal(want, actual[key]):
            return f"{key} is {show_value(actual[key])}, expected {show_value(want)}"
    return None


def pointer(error: Any) -> str:
    """The JSON pointer of a jsonschema error: where in the arguments it is."""
    return "/" + "/".join(str(p).replace("~", "~0").replace("/", "~1") for p in error.absolute_path)


def schema_difference(validator: Any, instance: Any) -> str | None:
    """The first schema error of ``instance`` (by pointer) as ``at /key: message``, or None when valid."""
    errors = sorted(validator.iter_errors(instance), key=lambda e: list(map(str, e.absolute_path)))
    if not errors:
        return None
    more = f" (and {len(errors) - 1} more schema errors)" if len(errors) > 1 else ""
    return f"at {pointer(errors[0])}: {cut(errors[0].message, 120)}{more}"


def compile_args_schema(schema: Any, setup: CheckSetup, origin: str) -> Any:
    """A Draft 2020-12 validator for an arguments schema, compiled once (SpecError when invalid)."""
    from aitest.checks.json_schema import compile_schema

    key = f"{setup.spec_dir}:{json.dumps(schema, sort_keys=True, default=str)}"
    if key not in _VALIDATORS:
        base = (setup.spec_dir / "__inline_schema__.json").resolve().as_uri()
        _VALIDATORS[key] = compile_schema(schema, base_uri=base, location=setup.location, origin=origin)
    return _VALIDATORS[key]


@dataclass(frozen=True)
class ExpectedCall:
    """A call a check expects: a tool name and, optionally, arguments matched as ``mode`` says."""

    name: str
    args: Mapping[str, Any] | None = None
    mode: str = "subset"
    validator: Any = None  # mode schema: the compiled ``args``

    def difference(self, call: ToolCall) -> str | None:
        """Why ``call`` is not this expected call, or None when it is."""
        if call.name != self.name:
            return f"{call.name} is not {self.name}"
        if self.args is None:
            return None
        if self.mode == "schema":
            return schema_difference(self.validator, call.arguments)
        if self.mode == "exact":
            return exact_difference(self.args, call.arguments)
        return subset_difference(self.args, call.arguments)

    def matches(self, call: ToolCall) -> bool:
        return self.difference(call) is None

    def label(self) -> str:
        if self.args is None:
            return self.name
        if self.mode == "schema":
            return f"{self.name}(arguments valid against {show_value(self.args)})"
        shown = ", ".join(f"{key}={show_value(value)}" for key, value in self.args.items())
        more = ", ..." if self.mode == "subset" else ""
        return cut(f"{self.name}({shown}{more})", LABEL_LIMIT)


def why_not_called(expected: ExpectedCall, made: list[Made], *, after: str = "") -> str:
    """Why none of ``made`` is ``expected``: the tool was not called, or was, with other arguments."""
    same_tool = [m for m in made if m.call.name == expected.name]
    if not same_tool or expected.args is None:
        return f"{expected.label()} was not called{after}"
    first = same_tool[0]
    return (
        f"{expected.name} was called{after}, but not with the expected arguments: "
        f"at step {first.step} {expected.difference(first.call)}"
    )


def max_matching(matches: list[list[bool]]) -> list[int | None]:
    """For each row, the column it is paired with in a maximum matching (each column used once), or None."""
    owner: dict[int, int] = {}  # column -> row

    def augment(row: int, seen: set[int]) -> bool:
        for column, fits in enumerate(matches[row]):
            if fits and column not in seen:
                seen.add(column)
                if column not in owner or augment(owner[column], seen):
                    owner[column] = row
                    return True
        return False

    for row in range(len(matches)):
        augment(row, set())
    paired: list[int | None] = [None] * len(matches)
    for column, row in owner.items():
        paired[row] = column
    return paired


def side_by_side(
    expected: list[str], trajectory: Trajectory, *, heading: str = "expected", rows: int = MAX_ROWS
) -> str:
    """The expected calls and the actual steps in two columns, for a failure's detail."""
    left = [cut(line, 50) for line in [heading, *expected]]
    right = [cut(line, 160) for line in ["actual", *render_trajectory(trajectory, limit=VALUE_LIMIT * 2)]]
    total = max(len(left), len(right))
    width = max(len(cell) for cell in left)
    lines = []
    for i in range(min(total, rows + 1)):
        a = left[i] if i < len(left) else ""
        b = right[i] if i < len(right) else ""
        lines.append(f"{a:<{width}} | {b}".rstrip())
        if i == 0:
            lines.append(f"{'-' * width}-+-{'-' * 6}")
    if total > rows + 1:
        lines.append(f"... ({total - rows - 1} more rows)")
    return "\n".join(lines)


def _steps(made: list[Made]) -> str:
    return cut(", ".join(f"{m.call.name} at step {m.step}" for m in made), 200)


def _labels(expected: list[ExpectedCall]) -> str:
    return cut(", ".join(e.label() for e in expected), 200)


def in_order(expected: list[ExpectedCall], made: list[Made]) -> tuple[bool, str]:
    """The expected calls appear in this order; other calls may come between."""
    matched: list[Made] = []
    position = 0
    for item in expected:
        hit = next((i for i in range(position, len(made)) if item.matches(made[i].call)), None)
        if hit is None:
            after = f" after {matched[-1].call.name} at step {matched[-1].step}" if matched else ""
            return False, f"{why_not_called(item, made[position:], after=after)}; calls made: {calls_made(made)}"
        matched.append(made[hit])
        position = hit + 1
    return True, f"called in order: {_steps(matched)}"


def exact(expected: list[ExpectedCall], made: list[Made]) -> tuple[bool, str]:
    """The same calls in the same order, nothing else."""
    for number, (item, actual) in enumerate(zip(expected, made, strict=False), 1):
        difference = item.difference(actual.call)
        if difference is not None:
            why = f" ({difference})" if actual.call.name == item.name else ""
            return False, f"call {number} is {actual.label()}, expected {item.label()}{why}"
    if len(made) < len(expected):
        missing = expected[len(made) :]
        return False, f"expected {plural(len(expected), 'call')}, got {len(made)}; missing: {_labels(missing)}"
    if len(made) > len(expected):
        extra = calls_made(made[len(expected) :])
        return False, f"expected {plural(len(expected), 'call')}, got {len(made)}; extra: {extra}"
    return True, f"exactly the expected {plural(len(made), 'call')}: {_steps(made)}"


def any_order(expected: list[ExpectedCall], made: list[Made]) -> tuple[bool, str]:
    """Every expected call is made (a call repeated in the list must be made as often), in any order."""
    paired = max_matching([[item.matches(m.call) for m in made] for item in expected])
    missing = [item for item, column in zip(expected, paired, strict=True) if column is None]
    if missing:
        what = f"missing {len(missing)} of {plural(len(expected), 'expected call')}: {_labels(missing)}"
        return False, f"{what}; calls made: {calls_made(made)}"
    found = sorted((made[column] for column in paired if column is not None), key=lambda m: m.step)
    return True, f"made all {plural(len(expected), 'expected call')}: {_steps(found)}"


def subset(expected: list[ExpectedCall], made: list[Made]) -> tuple[bool, str]:
    """Every call made is one of the expected (each expected call used once), and at least one call is made."""
    if not made:
        return False, f"no tool call was made; expected some of: {_labels(expected)}"
    paired = max_matching([[item.matches(m.call) for item in expected] for m in made])
    extra = [m for m, column in zip(made, paired, strict=True) if column is None]
    if not extra:
        return True, f"all {plural(len(made), 'call')} made are among the expected ones"
    first = extra[0]
    same_tool = [item for item in expected if item.name == first.call.name]
    called = sum(1 for m in made if m.call.name == first.call.name)
    why = ""
    if same_tool and called > len(same_tool):
        why = f" ({first.call.name} is expected at most {plural(len(same_tool), 'time')}, called {called})"
    elif same_tool:
        why = f" ({same_tool[0].difference(first.call)})"
    more = f"; and {len(extra) - 1} more" if len(extra) > 1 else ""
    return False, f"{first.label()} is not among the expected calls{why}{more}"


# `order` of tool_calls -> (passed, message); superset is any_order under the name LangSmith's users know
ORDERS = {"in_order": in_order, "exact": exact, "any_order": any_order, "superset": any_order, "subset": subset}
