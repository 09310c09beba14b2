"""Reading an OpenAI-compatible answer: its text, its tool calls (arguments JSON text -> dict) and why it stopped."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from aitest.models.providers.base import Completion
from aitest.models.response import ToolCall

SNIPPET = 120  # characters of a malformed call's arguments shown in the error


class MalformedToolCall(Exception):
    """A tool call the server returned cannot be read; the message says which and shows a cut snippet."""


def read_completion(data: Any, mask: Callable[[str], str]) -> Completion:
    """The Completion in a decoded /chat/completions or /completions body. KeyError, IndexError, TypeError or
    AttributeError when the body is not such an answer; MalformedToolCall for a bad call. ``mask`` hides
    the API key in every text kept (a server that echoes it reaches no message or recording)."""
    choice = data["choices"][0]
    message = choice.get("message")
    text = message.get("content") if message is not None else choice["text"]
    calls = read_tool_calls(message.get("tool_calls"), mask) if message is not None else ()
    if text is not None and not isinstance(text, str):
        raise TypeError("the answer's content is not text")
    usage = data.get("usage") or {}
    reason = choice.get("finish_reason")
    return Completion(
        mask(text or ""),
        usage.get("prompt_tokens"),
        usage.get("completion_tokens"),
        calls,
        str(reason) if reason is not None else None,
    )


def read_tool_calls(raw: Any, mask: Callable[[str], str]) -> tuple[ToolCall, ...]:
    """``message.tool_calls`` as ToolCalls; None or an empty list is no call."""
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise MalformedToolCall(f"tool_calls that are not a list: {_cut(mask(_json(raw)))}")
    return tuple(_tool_call(index, call, mask) for index, call in enumerate(raw))


def _tool_call(index: int, call: Any, mask: Callable[[str], str]) -> ToolCall:
    function = call.get("function") if isinstance(call, dict) else None
    name = function.get("name") if isinstance(function, dict) else None
    if not isinstance(name, str) or not name:
        raise MalformedToolCall(f"a tool call without a function name: {_cut(mask(_json(call)))}")
    name = mask(name)
    arguments = function.get("arguments") if isinstance(function, dict) else None
    parsed = _arguments(arguments)
    if not isinstance(parsed, dict):
        shown = arguments if isinstance(arguments, str) else _json(arguments)
        raise MalformedToolCall(
            f"a call of tool '{_cut(name)}' whose arguments are not a JSON object: {_cut(mask(shown))}"
        )
    call_id = call.get("id")
    return ToolCall(str(call_id) if call_id else f"call_{index}", name, _masked(parsed, mask))


def _arguments(arguments: Any) -> Any:
    """Decoded arguments: JSON text (the OpenAI form), a mapping as it is (some servers), and no text at all
    (``""``, as some servers send for a tool without parameters) as no arguments. None when not JSON."""
    if isinstance(arguments, dict):
        return arguments
    if not isinstance(arguments, str):
        return None
    if not arguments.strip():
        return {}
    try:
        return json.loads(arguments)
    except ValueError:
        return None


def _masked(value: Any, mask: Callable[[str], str]) -> Any:
    """``value`` with ``mask`` applied to every string in it, keys included."""
    if isinstance(value, str):
        return mask(value)
    if isinstance(value, dict):
        return {mask(str(k)): _masked(v, mask) for k, v in value.items()}
    if isinstance(value, list):
        return [_masked(v, mask) for v in value]
    return value


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


def _cut(text: str) -> str:
    """``text`` on one line, at most SNIPPET characters (an ellipsis marks the cut)."""
    flat = " ".join(text.split())
    return flat if len(flat) <= SNIPPET else flat[: SNIPPET - 1] + "…"
