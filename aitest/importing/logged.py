"""One model call as a log holds it, in the OpenAI chat form whatever the format it came from."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field, replace
from typing import Any

from aitest.models.messages import canonical_arguments, normalize
from aitest.models.params import PARAMS
from aitest.models.response import ToolCall
from aitest.util.text import bounded, shown

MAX_DEPTH = 64  # nesting of arguments, schemas and params: deeper is refused as a recording would be


class NotOfFormat(ValueError):
    """A line that is not what the format says: the message is the `why` of `file:line: why`."""


class NoAnswer(ValueError):
    """A well-formed line that holds no answer to import (an error, a refusal by the API, no choices)."""


@dataclass(frozen=True)
class LoggedCall:
    """A request and the answer the logged model gave, with what the log says of its cost and time."""

    where: str  # file:line, for messages
    messages: tuple[dict[str, Any], ...]  # OpenAI form; contents as text
    text: str
    tool_calls: tuple[ToolCall, ...] = ()  # ids as logged
    tools: tuple[dict[str, Any], ...] = ()  # OpenAI function definitions, as sent
    tool_choice: Any = None
    params: dict[str, Any] = field(default_factory=dict)  # aitest's names (aitest.models.params)
    model: str | None = None
    finish_reason: str | None = None
    latency_ms: float | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None

    def with_texts(self, **changed: Any) -> LoggedCall:
        return replace(self, **changed)

    def identity(self) -> str:
        """The sha256 of what makes two requests the same (the turns in canonical form, so that the call ids
        an agent made up do not count; the tools; tool_choice): duplicates share it, and it orders the sample
        and names the case."""
        blob = json.dumps(
            {"messages": normalize(list(self.messages)), "tools": self.tools, "tool_choice": self.tool_choice},
            sort_keys=True,
            ensure_ascii=False,
        )
        return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def checked(call: LoggedCall) -> LoggedCall:
    """The call, when everything in it can be written and replayed: NotOfFormat naming what cannot (text
    that is not Unicode, values nested too deep, params, tools or tool_choice of the wrong shape)."""
    whole = [call.messages, call.text, [c.to_dict() for c in call.tool_calls], call.tools, call.params]
    try:
        json.dumps(whole, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        raise NotOfFormat("holds text that is not valid Unicode (a lone surrogate: a character cut in half?)") from None
    except (RecursionError, ValueError):
        raise NotOfFormat(f"holds values nested more than {MAX_DEPTH} levels deep") from None
    if _depth(whole) > MAX_DEPTH + 4:
        raise NotOfFormat(f"holds values nested more than {MAX_DEPTH} levels deep")
    for name, value in call.params.items():
        if not _fits(value, PARAMS[name]):
            raise NotOfFormat(f"its {name} ({shown(json.dumps(value), 40, quoted=False)}) is not a valid value for it")
    for tool in call.tools:
        function = tool["function"]
        if not isinstance(function.get("parameters", {}), dict) or not isinstance(function.get("description", ""), str):
            raise NotOfFormat(
                f"its tool {shown(str(function['name']), 40)} has parameters or a description of the wrong type"
            )
    choice = call.tool_choice
    named = isinstance(choice, dict) and isinstance((choice.get("function") or {}).get("name"), str)
    if choice is not None and not named and choice not in ("auto", "required", "none"):
        raise NotOfFormat("its tool_choice is not auto, required, none or {type: function, function: {name}}")
    if call.latency_ms is not None and not call.latency_ms < float("inf"):
        raise NotOfFormat("its latency is not a finite number")
    return call


def _depth(value: Any, level: int = 0) -> int:
    if level > MAX_DEPTH + 4:
        return level
    if isinstance(value, dict):
        return max((_depth(v, level + 1) for v in value.values()), default=level + 1)
    if isinstance(value, (list, tuple)):
        return max((_depth(v, level + 1) for v in value), default=level + 1)
    return level


def _fits(value: Any, schema: dict[str, Any]) -> bool:
    """Whether a param's value has the type its schema (aitest.models.params) asks for."""
    kinds = schema.get("type")
    kinds = [kinds] if isinstance(kinds, str) else kinds or []
    checks = {
        "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool) and v == v,
        "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
        "string": lambda v: isinstance(v, str),
        "array": lambda v: isinstance(v, list) and all(isinstance(i, str) for i in v),
        "object": lambda v: isinstance(v, dict),
    }
    if not any(checks[k](value) for k in kinds if k in checks):
        return False
    low, high = schema.get("minimum"), schema.get("maximum")
    return not isinstance(value, (int, float)) or ((low is None or value >= low) and (high is None or value <= high))


def malformed(exc: BaseException) -> str:
    """Why a line whose fields have unexpected shapes is not of the format (a reader's last resort)."""
    if isinstance(exc, RecursionError):
        return f"not of the format (nested more than {MAX_DEPTH} levels deep)"
    said = str(exc).splitlines()[0][:100] if str(exc) else type(exc).__name__
    return f"not of the format (a field of an unexpected type or value: {said})"


# what a reader catches per line, besides NotOfFormat and NoAnswer, so one odd line never stops an import
ODD = (TypeError, AttributeError, KeyError, IndexError, ValueError, RecursionError, OverflowError)


def message_of(raw: Any, what: str) -> dict[str, Any]:
    """A request's turn in OpenAI form with its content as text; NotOfFormat for anything else."""
    if not isinstance(raw, dict) or not isinstance(raw.get("role"), str):
        raise NotOfFormat(f"{what} is not a message with a role")
    role = raw["role"]
    if role == "developer":
        role = "system"  # the newer OpenAI name of the system turn
    if role not in ("system", "user", "assistant", "tool"):
        raise NotOfFormat(f"{what} has the role {shown(role)}, not system, user, assistant or tool")
    out: dict[str, Any] = {"role": role, "content": content_of(raw.get("content"), what)}
    calls = raw.get("tool_calls")
    if role == "assistant" and calls:
        out["tool_calls"] = [call.wire() for call in tool_calls_of(calls, what)]
        if not out["content"]:
            out["content"] = None
    if role == "tool":
        if not isinstance(raw.get("tool_call_id"), str):
            raise NotOfFormat(f"{what} is a tool turn without a tool_call_id")
        out["tool_call_id"] = raw["tool_call_id"]
    return out


def content_of(content: Any, what: str) -> str:
    """Text content: a string, or the text parts of a list of parts; an image or audio part is refused
    (aitest's cases are text)."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        texts = []
        for part in content:
            if isinstance(part, str):
                texts.append(part)
            elif isinstance(part, dict) and part.get("type") in ("text", "input_text", "output_text"):
                texts.append(str(part.get("text", "")))
            else:
                kind = part.get("type") if isinstance(part, dict) else type(part).__name__
                raise NoAnswer(f"{what} holds a {shown(kind)} part: only text is imported")
        return "".join(texts)
    raise NotOfFormat(f"{what}'s content is {type(content).__name__}, not text")


def tool_calls_of(raw: Any, what: str) -> tuple[ToolCall, ...]:
    """OpenAI ``tool_calls`` (``{id, type, function: {name, arguments: JSON text}}``) as ToolCalls."""
    if not isinstance(raw, list):
        raise NotOfFormat(f"{what}'s tool_calls is not a list")
    calls = []
    for i, call in enumerate(raw):
        function = call.get("function") if isinstance(call, dict) else None
        if not isinstance(function, dict) or not isinstance(function.get("name"), str):
            raise NotOfFormat(f"{what}'s tool call {i + 1} has no function name")
        arguments = function.get("arguments", "{}")
        try:
            parsed = json.loads(canonical_arguments(arguments)) if arguments not in ("", None) else {}
        except ValueError:
            why = (
                f"{what}'s tool call {i + 1} ({shown(function['name'], quoted=False)}) has arguments that are not JSON"
            )
            raise NotOfFormat(why) from None
        if not isinstance(parsed, dict):
            raise NotOfFormat(
                f"{what}'s tool call {i + 1} ({shown(function['name'], quoted=False)}) "
                "has arguments that are not an object"
            )
        calls.append(ToolCall(str(call.get("id") or f"call_{i}"), function["name"], parsed))
    return tuple(calls)


_RENAMED = {"max_completion_tokens": "max_tokens"}
_KEPT = ("temperature", "max_tokens", "seed", "stop", "top_p")


def params_of(request: dict[str, Any]) -> dict[str, Any]:
    """The sampling params aitest knows, from an OpenAI request; `response_format`'s JSON Schema becomes
    `json_schema` (the local model is then constrained as the hosted one was)."""
    params: dict[str, Any] = {}
    for key, value in request.items():
        name = _RENAMED.get(key, key)
        if name in _KEPT and value is not None and not isinstance(value, bool):
            params[name] = value
    fmt = request.get("response_format")
    if isinstance(fmt, dict) and fmt.get("type") == "json_schema" and isinstance(fmt.get("json_schema"), dict):
        schema = fmt["json_schema"].get("schema")
        if isinstance(schema, dict):
            params["json_schema"] = schema
    return params


def tools_of(request: dict[str, Any], what: str) -> tuple[tuple[dict[str, Any], ...], Any]:
    """The request's function tools and its tool_choice (None without tools)."""
    tools = request.get("tools") or []
    if not tools and isinstance(request.get("functions"), list):  # the legacy form of tools
        tools = [{"type": "function", "function": f} for f in request["functions"]]
    if not isinstance(tools, list):
        raise NotOfFormat(f"{what}'s tools is not a list")
    out = []
    for tool in tools:
        function = tool.get("function") if isinstance(tool, dict) else None
        if not isinstance(function, dict) or not isinstance(function.get("name"), str):
            raise NotOfFormat(f"{what} has a tool that is not an OpenAI function definition")
        out.append({"type": "function", "function": function})
    return tuple(out), (request.get("tool_choice") if out else None)


def count(value: Any) -> int | None:
    """A token count as logged: a whole number from 0, else unknown."""
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def milliseconds(value: Any) -> float | None:
    """A latency as logged: a finite number from 0, else unknown."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < float("inf"):
        return None
    return float(value)


@dataclass(frozen=True)
class Skipped:
    """A line not imported: ``bad`` when it is not of the format (exit 1 unless --skip-bad), else a line
    that holds no answer to import (an error, a filtered response, no choices)."""

    where: str
    why: str
    bad: bool = True

    def __str__(self) -> str:
        return bounded(f"{self.where}: {self.why}")
