"""Tool checks: which tools the model called, with which arguments, in which order, in how many steps."""

from __future__ import annotations

import json
from abc import abstractmethod
from typing import Any

from aitest.checks.base import Check, CheckContext, CheckResult, CheckSetup
from aitest.checks.registry import register
from aitest.checks.tool_match import (
    ARG_MODES,
    ORDERS,
    ExpectedCall,
    Made,
    at_steps,
    call_label,
    calls_made,
    calls_of,
    compile_args_schema,
    schema_difference,
    side_by_side,
    why_not_called,
)
from aitest.errors import SpecError
from aitest.trajectory import Trajectory
from aitest.util.schema_quick import plain_schema, quick_valid
from aitest.util.text import cut, did_you_mean, plural, shown

_ARGS: dict[str, dict[str, Any]] = {
    "args": {
        "type": "object",
        "description": "the call's arguments: a subset of them (default), all of them, or a JSON Schema (args_match)",
    },
    "args_match": {
        "enum": list(ARG_MODES),
        "description": "subset (default): every given key equal, nested mappings as subsets; exact; "
        "schema: args is a JSON Schema the arguments must be valid against",
    },
}
_NO_VALUE: dict[str, Any] = {"enum": [None, True], "description": "no value: write the bare name"}
_TOOL_NAME: dict[str, Any] = {"type": "string", "minLength": 1, "description": "the name of a declared tool"}


def declared_only(check: str, names: list[str], setup: CheckSetup) -> None:
    """Every tool a check names must be declared by the spec's `tools:` (when it has them)."""
    if setup.tools is None:
        return
    declared = sorted(setup.tools)
    for name in names:
        if name not in setup.tools:
            raise SpecError(
                f"check '{check}' names tool {shown(name)}, which the spec does not declare"
                f"{did_you_mean(name, declared)}",
                location=setup.location,
                hint=cut("declared tools: " + (", ".join(declared) or "none"), 300),
            )


def expected_call(name: str, args: Any, mode: str, setup: CheckSetup) -> ExpectedCall:
    """An expected call, its ``args`` schema compiled now when ``mode`` is schema."""
    if mode == "schema" and args is not None:
        validator = compile_args_schema(args, setup, origin=f"args of {name}")
        return ExpectedCall(name, args, mode, validator)
    return ExpectedCall(name, args, mode)


class _ToolCheck(Check):
    """A check of the trajectory (the output's value is not looked at)."""

    def run(self, ctx: CheckContext) -> CheckResult:
        return self.judge(ctx.trajectory)

    @abstractmethod
    def judge(self, trajectory: Trajectory) -> CheckResult:
        """Judge the run's trajectory."""

    def failed(
        self, message: str, expected: list[str], trajectory: Trajectory, *, score: float | None = None, how: str = ""
    ) -> CheckResult:
        """A failure whose detail shows the expected (``how``: in which way) and the actual trajectory side by side."""
        detail = side_by_side(expected, trajectory, heading=f"expected ({how or self.name})")
        return CheckResult(False, message, score=score, detail=detail)


class _OneTool(_ToolCheck):
    """tool_called / not_tool_called: calls of one tool, optionally with given arguments."""

    value_schema = _TOOL_NAME
    options = _ARGS

    def __init__(self, value: Any, options: dict[str, Any], setup: CheckSetup) -> None:
        super().__init__(value, options, setup)
        declared_only(self.name, [value], setup)
        mode = options.get("args_match", "subset")
        if mode == "schema" and "args" not in options:
            raise SpecError(
                f"check '{self.name}' has args_match: schema but no args",
                location=setup.location,
                hint="give args: a JSON Schema the call's arguments must be valid against",
            )
        self.expected = expected_call(value, options.get("args"), mode, setup)

    def matching(self, trajectory: Trajectory) -> tuple[list[Made], list[Made]]:
        """Every call made, and those that are the expected call."""
        made = calls_of(trajectory)
        return made, [m for m in made if self.expected.matches(m.call)]


@register
class ToolCalled(_OneTool):
    name = "tool_called"
    example = "tool_called: cancel_order"
    description = "the model called the tool (with args: with those arguments); times: exactly that many times"
    options = {
        **_ARGS,
        "times": {"type": "integer", "minimum": 0, "description": "exactly this many matching calls (default: 1+)"},
    }

    def judge(self, trajectory: Trajectory) -> CheckResult:
        made, hits = self.matching(trajectory)
        times = self.opts.get("times")
        label = self.expected.label()
        if times is None:
            if hits:
                return CheckResult(True, f"called {hits[0].label()}")
            message = why_not_called(self.expected, made)
            if not any(m.call.name == self.value for m in made):  # else the message shows the call it got
                message += f"; calls made: {calls_made(made)}"
            return self.failed(message, [label], trajectory)
        if len(hits) == times:
            if not hits:
                return CheckResult(True, f"{label} was not called (times: 0)")
            return CheckResult(True, f"called {label} {plural(times, 'time')} ({at_steps(hits)})")
        at = f" ({at_steps(hits)})" if hits else f"; calls made: {calls_made(made)}"
        message = f"expected {plural(times, 'call')} of {label}, got {len(hits)}{at}"
        return self.failed(message, [f"{label} x {times}"], trajectory)


@register
class NotToolCalled(_OneTool):
    name = "not_tool_called"
    example = "not_tool_called: refund_order"
    description = "the model did not call the tool (with args: not with those arguments)"

    def judge(self, trajectory: Trajectory) -> CheckResult:
        made, hits = self.matching(trajectory)
        label = self.expected.label()
        if not hits:
            others = sum(1 for m in made if m.call.name == self.value)
            other = f" (called {plural(others, 'time')} with other arguments)" if others else ""
            return CheckResult(True, f"{label} was not called{other}")
        more = f" (and {plural(len(hits) - 1, 'more time')})" if len(hits) > 1 else ""
        message = f"called {hits[0].label()}{more}, but {label} must not be called"
        return self.failed(message, [f"no {label}"], trajectory)


@register
class NoToolCalls(_ToolCheck):
    name = "no_tool_calls"
    example = "no_tool_calls"
    description = "the model called no tool"
    value_schema = _NO_VALUE

    def judge(self, trajectory: Trajectory) -> CheckResult:
        made = calls_of(trajectory)
        if not made:
            return CheckResult(True, f"no tool calls in {plural(len(trajectory), 'step')}")
        message = f"expected no tool calls, got {len(made)}: {calls_made(made)}"
        return self.failed(message, ["(no calls)"], trajectory)


@register
class MaxSteps(_ToolCheck):
    name = "max_steps"
    example = "max_steps: 3"
    description = "the run took at most N model steps"
    value_schema = {"type": "integer", "minimum": 1}

    def judge(self, trajectory: Trajectory) -> CheckResult:
        steps = len(trajectory)
        if steps <= self.value:
            return CheckResult(True, f"{plural(steps, 'model step')}, at most {self.value}")
        message = f"took {plural(steps, 'model step')}, more than the maximum {self.value}"
        return self.failed(message, [f"at most {plural(self.value, 'step')}"], trajectory)


@register
class ToolCallF1(_ToolCheck):
    name = "tool_call_f1"
    example = "tool_call_f1: [lookup_order, cancel_order]"
    description = "F1 of the set of tools called against the expected set is at least the threshold"
    value_schema = {"type": "array", "items": _TOOL_NAME, "minItems": 1}
    options = {"threshold": {"type": "number", "minimum": 0, "maximum": 1, "description": "default 1.0"}}

    def __init__(self, value: Any, options: dict[str, Any], setup: CheckSetup) -> None:
        super().__init__(value, options, setup)
        declared_only(self.name, list(value), setup)
        self.threshold = float(options.get("threshold", 1.0))

    def judge(self, trajectory: Trajectory) -> CheckResult:
        called = list(dict.fromkeys(m.call.name for m in calls_of(trajectory)))
        expected = list(dict.fromkeys(self.value))
        hits = len(set(called) & set(expected))
        precision = hits / len(called) if called else 0.0
        recall = hits / len(expected)
        f1 = 2 * precision * recall / (precision + recall) if hits else 0.0
        parts = [f"precision {precision:.2f}, recall {recall:.2f}"]
        unexpected = [n for n in called if n not in expected]
        missing = [n for n in expected if n not in called]
        if unexpected:
            parts.append("not expected: " + cut(", ".join(unexpected), 120))
        if missing:
            parts.append("not called: " + cut(", ".join(missing), 120))
        why = "; ".join(parts)
        if f1 >= self.threshold:
            return CheckResult(True, f"tool call F1 {f1:.2f} >= {self.threshold} ({why})", score=f1)
        message = f"tool call F1 {f1:.2f}, below the threshold {self.threshold} ({why})"
        return self.failed(message, expected, trajectory, score=f1)


def _expected_item(item: Any) -> tuple[str, Any]:
    """An item of `tool_calls`: a tool's name, or {name, args}."""
    return (item, None) if isinstance(item, str) else (item["name"], item.get("args"))


@register
class ToolCalls(_ToolCheck):
    name = "tool_calls"
    example = "tool_calls: [lookup_order, cancel_order]"
    description = "the model made the expected calls, in the way `order` says"
    value_schema = {
        "type": "array",
        "items": {
            "anyOf": [
                _TOOL_NAME,
                {
                    "type": "object",
                    "properties": {"name": _TOOL_NAME, "args": _ARGS["args"]},
                    "required": ["name"],
                    "additionalProperties": False,
                },
            ]
        },
    }
    options = {
        "order": {
            "enum": list(ORDERS),
            "description": "in_order (default): in this order, others between; exact: these calls only, in order; "
            "any_order / superset: all of them, in any order; subset: every call made is one of them",
        },
        "args_match": _ARGS["args_match"],
    }

    def __init__(self, value: Any, options: dict[str, Any], setup: CheckSetup) -> None:
        super().__init__(value, options, setup)
        if not value:
            raise SpecError(
                "check 'tool_calls' lists no calls",
                location=setup.location,
                hint="for a run that calls no tool, use no_tool_calls",
            )
        mode = options.get("args_match", "subset")
        items = [_expected_item(item) for item in value]
        declared_only(self.name, [name for name, _ in items], setup)
        self.expected = [expected_call(name, args, mode, setup) for name, args in items]
        self.order = options.get("order", "in_order")

    def judge(self, trajectory: Trajectory) -> CheckResult:
        passed, message = ORDERS[self.order](self.expected, calls_of(trajectory))
        if passed:
            return CheckResult(True, message)
        return self.failed(message, [e.label() for e in self.expected], trajectory, how=self.order)


def parameters_of(definition: Any) -> Any:
    """The JSON Schema of a tool's arguments, from its OpenAI function definition (none given: any object)."""
    function = definition.get("function", definition) if isinstance(definition, dict) else {}
    return function.get("parameters") or {"type": "object"}


def signature(name: str, parameters: Any) -> str:
    """``name(key: type, optional?: type)`` for the expected side of valid_tool_calls."""
    properties = parameters.get("properties", {}) if isinstance(parameters, dict) else {}
    required = parameters.get("required", []) if isinstance(parameters, dict) else []
    shown = []
    for key, schema in properties.items():
        kind = schema.get("type", "any") if isinstance(schema, dict) else "any"
        shown.append(f"{key}{'' if key in required else '?'}: {'|'.join(kind) if isinstance(kind, list) else kind}")
    return f"{name}({', '.join(shown)})"


@register
class ValidToolCalls(_ToolCheck):
    name = "valid_tool_calls"
    aliases = ("is-valid-openai-tools-call",)
    example = "valid_tool_calls"
    description = "every call names a declared tool, with arguments valid against that tool's parameters"
    value_schema = _NO_VALUE

    def __init__(self, value: Any, options: dict[str, Any], setup: CheckSetup) -> None:
        super().__init__(value, options, setup)
        if setup.tools is None:
            raise SpecError(
                "check 'valid_tool_calls' needs the spec's `tools:`, the tools to check the calls against",
                location=setup.location,
                hint="declare the tools under tools: (OpenAI function definitions), or remove this check",
            )
        self.signatures = [signature(n, parameters_of(d)) for n, d in sorted(setup.tools.items())]
        self.setup = setup
        self.declared = dict(setup.tools)
        self.validators: dict[str, Any] = {}  # compiled when first needed: most calls pass the pre-check
        for name, definition in self.declared.items():
            if not plain_schema(parameters_of(definition)):  # an unusual schema is checked now, at load
                self.validator(name)
        # the fast pre-check treats `format` as an annotation, while the validators assert it: not for those
        self.schemas = {n: parameters_of(d) for n, d in setup.tools.items() if '"format"' not in json.dumps(d)}

    def validator(self, name: str) -> Any:
        if name not in self.validators:
            origin = f"parameters of tool {shown(name)}"
            self.validators[name] = compile_args_schema(parameters_of(self.declared[name]), self.setup, origin=origin)
        return self.validators[name]

    def problem(self, made: Made) -> str | None:
        """What is wrong with one call, or None."""
        name = made.call.name
        if name not in self.declared:
            guess = did_you_mean(name, sorted(self.declared))
            return f"step {made.step}: {call_label(made.call)} calls a tool the spec does not declare{guess}"
        schema = self.schemas.get(name)
        if schema is not None and quick_valid(schema, made.call.arguments, schema):
            return None  # valid for sure: jsonschema's full walk is only needed to say what is wrong
        difference = schema_difference(self.validator(name), made.call.arguments)
        return None if difference is None else f"step {made.step}: {call_label(made.call)}: {difference}"

    def judge(self, trajectory: Trajectory) -> CheckResult:
        made = calls_of(trajectory)
        problems = [p for p in map(self.problem, made) if p is not None]
        if not problems:
            return CheckResult(True, f"{plural(len(made), 'tool call')}, all valid")
        message = problems[0] if len(problems) == 1 else f"{len(problems)} invalid tool calls; first: {problems[0]}"
        listed = [*problems[:3], *([f"... and {len(problems) - 3} more"] if len(problems) > 3 else [])]
        block = side_by_side(self.signatures, trajectory, heading="declared tools", rows=12)
        return CheckResult(False, message, detail="\n".join([*(listed if len(problems) > 1 else []), block]))
