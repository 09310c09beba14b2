"""Chat messages in one canonical OpenAI form: what is sent, recorded and keyed.

Tool-call ids are renumbered by position (``call_0``, ``call_1``, ... across the conversation) and
arguments are canonical JSON text, so that step N of a replayed conversation finds its recording
whatever ids the model (or llama-cpp-python's random ``cmpl-<uuid>``) made up when it was recorded.
"""

from __future__ import annotations

import json
from typing import Any

from aitest.models.response import ToolCall


def as_plain(message: Any) -> dict[str, Any]:
    """A message as a plain dict: a mapping as it is, an object of the openai SDK through ``model_dump``."""
    if isinstance(message, dict):
        return dict(message)
    dump = getattr(message, "model_dump", None)
    if callable(dump):
        plain = dump(exclude_none=True)
        if isinstance(plain, dict):
            return plain
    raise TypeError(f"a chat message must be a mapping with 'role' and 'content', not {type(message).__name__}")


def canonical_arguments(arguments: Any) -> str:
    """Arguments as canonical JSON text (sorted keys); text that is not JSON is kept as it is."""
    if isinstance(arguments, str):
        try:
            return json.dumps(json.loads(arguments), sort_keys=True, ensure_ascii=False)
        except ValueError:
            return arguments
    return json.dumps(arguments, sort_keys=True, ensure_ascii=False)


def call_id(position: int) -> str:
    return f"call_{position}"


def normalize(messages: list[Any]) -> list[dict[str, Any]]:
    """The canonical form of a conversation: None fields dropped, tool-call ids renumbered in order
    (tool turns follow their call's new id), arguments canonical JSON."""
    renamed: dict[str, str] = {}
    out = []
    for raw in messages:
        message = {k: v for k, v in as_plain(raw).items() if v is not None}
        calls = message.get("tool_calls")
        if isinstance(calls, list):
            message["tool_calls"] = [_call(as_plain(call), renamed) for call in calls]
            if not message["tool_calls"]:
                del message["tool_calls"]
        if message.get("role") == "tool" and "tool_call_id" in message:
            old = str(message["tool_call_id"])
            message["tool_call_id"] = renamed.get(old, old)
        out.append(message)
    return out


def _call(call: dict[str, Any], renamed: dict[str, str]) -> dict[str, Any]:
    new = call_id(len(renamed))
    old = str(call.get("id", new))
    renamed[old] = new
    function = as_plain(call.get("function") or {})
    name = str(function.get("name", call.get("name", "")))
    arguments = canonical_arguments(function.get("arguments", call.get("arguments", {})))
    return {"id": new, "type": "function", "function": {"name": name, "arguments": arguments}}


def calls_so_far(messages: list[dict[str, Any]]) -> int:
    """How many tool calls a (normalized) conversation holds: the next call's number."""
    return sum(len(m.get("tool_calls") or ()) for m in messages)


def renumber(calls: tuple[ToolCall, ...], start: int) -> tuple[ToolCall, ...]:
    """A response's calls with the ids that continue the conversation's numbering."""
    return tuple(ToolCall(call_id(start + i), c.name, c.arguments) for i, c in enumerate(calls))


def tool_choice_value(choice: Any) -> Any:
    """``tool_choice`` as sent and keyed: auto | required | none, or ``{type: function, function: {name}}``
    for a tool's name (the OpenAI form is accepted as it is)."""
    if choice is None or choice in ("auto", "required", "none"):
        return choice
    if isinstance(choice, str):
        return {"type": "function", "function": {"name": choice}}
    plain = as_plain(choice)
    name = (plain.get("function") or {}).get("name") if isinstance(plain.get("function"), dict) else None
    return {"type": "function", "function": {"name": str(name or plain.get("name", ""))}}


def forced_tool(choice: Any) -> str | None:
    """The tool a (canonical) tool_choice names, else None."""
    if isinstance(choice, dict):
        return str(choice["function"]["name"])
    return None


def tool_definitions(tools: list[Any] | None) -> list[dict[str, Any]]:
    """OpenAI function definitions as plain dicts: ``{type: function, function: {...}}``; the bare
    ``{name, description, parameters}`` form is wrapped."""
    out = []
    for raw in tools or ():
        tool = as_plain(raw)
        if "function" not in tool:
            tool = {"type": "function", "function": tool}
        out.append({"type": tool.get("type", "function"), "function": dict(tool["function"])})
    return out


def content_text(content: Any) -> str:
    """A message's content as text: a string, or the text parts of a list of parts (the OpenAI form)."""
    if content is None:
        return ""
    if isinstance(content, list):
        return "".join(str(p.get("text", "")) if isinstance(p, dict) else str(p) for p in content)
    return str(content)
