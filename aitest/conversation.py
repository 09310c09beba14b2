"""The tool loop of prompt and messages specs: model -> tool calls -> tool results -> model, up to max_steps.

Every step goes through the model client, so it is recorded and replayed as an entry of its own, and
the client keeps the trajectory (each step's calls and the results fed back) for the checks.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aitest.errors import TargetError
from aitest.spec.template import render

if TYPE_CHECKING:
    from aitest.models.client import ModelClient
    from aitest.models.response import ToolCall
    from aitest.spec.model import Tools


@dataclass(frozen=True)
class Ended:
    """How a conversation ended: the final reply, and whether the model still called tools at its last turn."""

    text: str
    exceeded: bool = False


def converse(
    client: ModelClient, turns: tuple[dict[str, Any], ...], tools: Tools | None, variables: dict[str, Any]
) -> Ended:
    """Run a case's conversation. A forced ``tool_choice`` (required, or a tool's name) holds for the first
    step only, as the OpenAI Agents SDK resets it, so that a loop can end with a reply."""
    history, definitions, choice = first_step(turns, tools, variables)
    max_steps = tools.max_steps if tools is not None else 1
    text = ""
    for step in range(max_steps):
        response = client.respond(history, tools=definitions, tool_choice=choice if step == 0 else _later(choice))
        text = response.text
        if not response.tool_calls:
            return Ended(text)
        if step == max_steps - 1:
            # a single turn (max_steps: 1) tests which calls the model makes: they are judged, not answered
            return Ended(text, exceeded=max_steps > 1)
        history.append(response.message())
        for call in response.tool_calls:
            assert tools is not None  # calls come only when tools were offered
            history.append({"role": "tool", "tool_call_id": call.id, "content": result_of(call, tools)})
    return Ended(text)  # not reached: every turn returns or goes on


def first_step(
    turns: tuple[dict[str, Any], ...], tools: Tools | None, variables: dict[str, Any]
) -> tuple[list[dict[str, Any]], tuple[dict[str, Any], ...] | None, Any]:
    """What the first step sends: the rendered turns, the tool definitions (one tuple: see respond) and
    tool_choice. `aitest import` keys the logged answers by it."""
    history = [_rendered(turn, variables) for turn in turns]
    definitions = tools.definitions if tools is not None and tools.definitions else None
    return history, definitions, tools.choice if tools is not None else None


def _later(choice: Any) -> Any:
    return "auto" if choice not in (None, "auto", "none") else choice


def _rendered(turn: dict[str, Any], variables: dict[str, Any]) -> dict[str, Any]:
    content = turn.get("content")
    return {**turn, "content": render(content, variables)} if isinstance(content, str) else dict(turn)


def result_of(call: ToolCall, tools: Tools) -> str:
    """What the spec's `tool_results` return for a call, as the text of a tool turn. A tool that is not
    declared, or has no result in the spec, answers with an error the model can read."""
    if call.name not in tools.names:
        return json.dumps({"error": f"unknown tool '{call.name}'"})
    invalid = _invalid_arguments(call, tools)
    if invalid:  # as a real tool would refuse them (and valid_tool_calls fails the case)
        return json.dumps({"error": f"invalid arguments for {call.name}: {invalid}"}, ensure_ascii=False)
    source = tools.results.get(call.name)
    if source is None:
        return json.dumps({"error": f"no result for tool '{call.name}' (the spec's tool_results has none)"})
    value = source.value
    if source.function is not None:
        try:
            value = source.function(**call.arguments)
        except Exception as exc:
            raise TargetError(
                f"tool_results of '{call.name}' ({source.text}) raised {type(exc).__name__}: {exc} "
                f"(called with {call.label()})",
                original=exc,
                location=source.location,
            ) from exc
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)


def _invalid_arguments(call: ToolCall, tools: Tools) -> str:
    """Why a call's arguments are not valid against its tool's parameters schema; empty when they are."""
    from aitest.util.schema_quick import quick_valid

    schema = tools.parameters(call.name)
    if quick_valid(schema, call.arguments, schema):
        return ""
    from jsonschema import Draft202012Validator

    errors = sorted(Draft202012Validator(schema).iter_errors(call.arguments), key=lambda e: list(map(str, e.path)))
    return errors[0].message if errors else ""
