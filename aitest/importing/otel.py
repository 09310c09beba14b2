"""OpenTelemetry GenAI spans exported as OTLP JSON (``resourceSpans[].scopeSpans[].spans[]``): the
collector's file exporter (one export per line) or one JSON document.

What is read, by semantic-convention version (https://opentelemetry.io/docs/specs/semconv/gen-ai/):
- v1.37.0 and later: ``gen_ai.system_instructions``, ``gen_ai.input.messages`` and ``gen_ai.output.messages``
  (JSON of ``{role, parts: [{type: text | tool_call | tool_call_response, ...}], finish_reason}``) and
  ``gen_ai.tool.definitions``;
- v1.28 to v1.36: the span events ``gen_ai.system.message``, ``gen_ai.user.message``,
  ``gen_ai.assistant.message``, ``gen_ai.tool.message`` and ``gen_ai.choice``;
- before, as OpenLLMetry still exports: indexed ``gen_ai.prompt.N.role/content/tool_calls.M.*`` and
  ``gen_ai.completion.N.*`` attributes, with ``llm.request.functions.N.*`` for tools.
Tokens from ``gen_ai.usage.input_tokens``/``output_tokens`` (or the older ``prompt_tokens``/
``completion_tokens``), the model from ``gen_ai.response.model`` (else ``gen_ai.request.model``), the
latency from the span's start and end. Spans with no prompt (HTTP, tool or agent spans) are passed over.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from aitest.importing.jsonl import json_lines
from aitest.importing.logged import (
    ODD,
    LoggedCall,
    NoAnswer,
    NotOfFormat,
    Skipped,
    checked,
    count,
    malformed,
    message_of,
    tool_calls_of,
)
from aitest.models.response import ToolCall
from aitest.util.text import shown

MAX_DOCUMENT_BYTES = 64_000_000  # one pretty-printed export; larger exports are read as JSON lines
_PARAMS = {
    "gen_ai.request.temperature": "temperature",
    "gen_ai.request.max_tokens": "max_tokens",
    "gen_ai.request.top_p": "top_p",
    "gen_ai.request.seed": "seed",
    "gen_ai.request.stop_sequences": "stop",
}
_EVENT_ROLES = {
    "gen_ai.system.message": "system",
    "gen_ai.user.message": "user",
    "gen_ai.assistant.message": "assistant",
    "gen_ai.tool.message": "tool",
}


def read(path: Path, shown: str) -> Iterator[LoggedCall | Skipped]:
    with path.open("rb") as handle:
        head = handle.read(4096).lstrip()
    first_line = head.split(b"\n", 1)[0].strip()
    whole = head.startswith(b"{") and not _is_json(first_line)
    if whole:  # one pretty-printed document
        if path.stat().st_size > MAX_DOCUMENT_BYTES:
            yield Skipped(f"{shown}:1", f"a pretty-printed export over {MAX_DOCUMENT_BYTES // 1_000_000} MB: "
                          "export as JSON lines (the collector's file exporter) to import it")  # fmt: skip
            return
        try:
            documents: Iterator[tuple[int, Any]] = iter([(1, json.loads(path.read_text("utf-8")))])
        except (ValueError, UnicodeDecodeError) as exc:
            yield Skipped(f"{shown}:1", f"not JSON ({str(exc).split(':')[0]})")
            return
    else:
        documents = json_lines(path)
    for number, document in documents:
        where = f"{shown}:{number}"
        if isinstance(document, NotOfFormat):
            yield Skipped(where, str(document))
            continue
        if not isinstance(document, dict) or not isinstance(document.get("resourceSpans"), list):
            yield Skipped(where, "not an OTLP JSON export (an object with 'resourceSpans')")
            continue
        try:
            spans = list(_spans(document))
        except ODD as exc:
            yield Skipped(where, malformed(exc))
            continue
        for n, span in enumerate(spans, 1):
            at = f"{where} (span {n})"
            try:
                call = span_call(span, at)
                call = checked(call) if call is not None else None
            except NotOfFormat as why:
                yield Skipped(at, str(why))
            except NoAnswer as why:
                yield Skipped(at, str(why), bad=False)
            except ODD as exc:
                yield Skipped(at, malformed(exc))
            else:
                if call is not None:
                    yield call


def _is_json(text: bytes) -> bool:
    try:
        json.loads(text)
    except (ValueError, RecursionError):
        return False
    return True


def _spans(document: dict[str, Any]) -> Iterator[Any]:
    for resource in document["resourceSpans"]:
        scopes = resource.get("scopeSpans") if isinstance(resource, dict) else None
        for scope in scopes if isinstance(scopes, list) else ():
            spans = scope.get("spans") if isinstance(scope, dict) else None
            yield from spans if isinstance(spans, list) else ()


def value_of(raw: Any) -> Any:
    """An OTLP ``AnyValue`` as a Python value (int64 values arrive as text in OTLP JSON)."""
    if not isinstance(raw, dict):
        return None
    if "stringValue" in raw:
        return raw["stringValue"]
    if "intValue" in raw:
        try:
            return int(raw["intValue"])
        except (TypeError, ValueError):
            return None
    if "doubleValue" in raw:
        return raw["doubleValue"]
    if "boolValue" in raw:
        return raw["boolValue"]
    if "arrayValue" in raw:
        values = raw["arrayValue"].get("values") if isinstance(raw["arrayValue"], dict) else None
        return [value_of(v) for v in values] if isinstance(values, list) else None
    if "kvlistValue" in raw:
        values = raw["kvlistValue"].get("values") if isinstance(raw["kvlistValue"], dict) else None
        return attributes(values)
    return None


def attributes(raw: Any) -> dict[str, Any]:
    if not isinstance(raw, list):
        return {}
    return {a["key"]: value_of(a.get("value")) for a in raw if isinstance(a, dict) and isinstance(a.get("key"), str)}


def span_call(span: Any, where: str) -> LoggedCall | None:
    """The model call a GenAI span holds; None for a span that is not one (no prompt in it)."""
    if not isinstance(span, dict):
        raise NotOfFormat("a span is not an object")
    attrs = attributes(span.get("attributes"))
    raw_events: list[Any] = span["events"] if isinstance(span.get("events"), list) else []
    events = [(str(e.get("name")), attributes(e.get("attributes"))) for e in raw_events if isinstance(e, dict)]
    if "gen_ai.input.messages" in attrs:
        messages, text, calls, finish = _current(attrs)
    elif any(k.startswith("gen_ai.prompt.") for k in attrs):
        messages, text, calls, finish = _indexed(attrs)
    elif any(name in _EVENT_ROLES for name, _ in events):
        messages, text, calls, finish = _events(events)
    else:
        return None
    if not messages:
        return None
    if text is None and not calls:
        raise NoAnswer("the span has a prompt but no completion")
    finishes = attrs.get("gen_ai.response.finish_reasons")
    if finish is None and isinstance(finishes, list) and finishes:
        finish = str(finishes[0])
    model = attrs.get("gen_ai.response.model") or attrs.get("gen_ai.request.model")
    params = {name: attrs[key] for key, name in _PARAMS.items() if attrs.get(key) is not None}
    tools = _tools(attrs)
    return LoggedCall(
        where, tuple(messages), text or "", calls, tools, None, params, str(model) if model else None, finish,
        _latency(span),
        count(attrs.get("gen_ai.usage.input_tokens", attrs.get("gen_ai.usage.prompt_tokens"))),
        count(attrs.get("gen_ai.usage.output_tokens", attrs.get("gen_ai.usage.completion_tokens"))),
    )  # fmt: skip


Answer = tuple[list[dict[str, Any]], str | None, tuple[ToolCall, ...], str | None]


def _json(text: Any, what: str) -> Any:
    if not isinstance(text, str):
        return text
    try:
        return json.loads(text)
    except ValueError:
        raise NotOfFormat(f"{what} is not JSON") from None


def _current(attrs: dict[str, Any]) -> Answer:
    """v1.37+: messages of parts."""
    messages: list[dict[str, Any]] = []
    system = _json(attrs.get("gen_ai.system_instructions"), "gen_ai.system_instructions")
    if system:
        parts = system if isinstance(system, list) else [system]
        messages.append({"role": "system", "content": "".join(_part_text(p) for p in parts)})
    given = _json(attrs["gen_ai.input.messages"], "gen_ai.input.messages")
    if not isinstance(given, list):
        raise NotOfFormat("gen_ai.input.messages is not a list of messages")
    for i, raw in enumerate(given):
        messages.extend(_from_parts(raw, f"gen_ai.input.messages[{i}]"))
    output = _json(attrs.get("gen_ai.output.messages"), "gen_ai.output.messages")
    if not output:
        return messages, None, (), None
    if not isinstance(output, list) or not isinstance(output[0], dict):
        raise NotOfFormat("gen_ai.output.messages is not a list of messages")
    answer = _from_parts(output[0], "gen_ai.output.messages[0]")[0]
    calls = tool_calls_of(answer.get("tool_calls") or [], "the output") if answer.get("tool_calls") else ()
    finish = output[0].get("finish_reason")
    return messages, answer.get("content") or "", calls, str(finish) if finish else None


def _part_text(part: Any) -> str:
    if isinstance(part, str):
        return part
    if isinstance(part, dict) and part.get("type") == "text":
        return str(part.get("content", ""))
    kind = part.get("type") if isinstance(part, dict) else type(part).__name__
    raise NoAnswer(f"the span holds a {shown(kind)} part: only text is imported")


def _from_parts(raw: Any, what: str) -> list[dict[str, Any]]:
    """One v1.37 message as OpenAI turns (a message of tool responses is one tool turn per response)."""
    if not isinstance(raw, dict) or not isinstance(raw.get("role"), str):
        raise NotOfFormat(f"{what} is not a message with a role")
    parts = raw.get("parts") or []
    if not isinstance(parts, list):
        raise NotOfFormat(f"{what}'s parts is not a list")
    texts, calls, results = [], [], []
    for part in parts:
        kind = part.get("type") if isinstance(part, dict) else None
        if kind == "tool_call":
            function = {"name": part.get("name"), "arguments": part.get("arguments") or {}}
            calls.append({"id": part.get("id"), "type": "function", "function": function})
        elif kind == "tool_call_response":
            response = part.get("response")
            content = response if isinstance(response, str) else json.dumps(response, ensure_ascii=False)
            results.append({"role": "tool", "tool_call_id": str(part.get("id")), "content": content})
        else:
            texts.append(_part_text(part))
    if results:
        return [message_of(r, what) for r in results]
    turn: dict[str, Any] = {"role": raw["role"], "content": "".join(texts)}
    if calls:
        turn["tool_calls"] = calls
    return [message_of(turn, what)]


def _indexed(attrs: dict[str, Any]) -> Answer:
    """Before v1.28 (OpenLLMetry): gen_ai.prompt.N.* and gen_ai.completion.N.*."""
    messages = []
    for i in range(10_000):
        prefix = f"gen_ai.prompt.{i}."
        if prefix + "role" not in attrs and prefix + "content" not in attrs:
            break
        messages.append(message_of(_turn(attrs, prefix, "user"), f"gen_ai.prompt.{i}"))
    prefix = "gen_ai.completion.0."
    if prefix + "content" not in attrs and prefix + "tool_calls.0.name" not in attrs:
        return messages, None, (), None
    answer = message_of(_turn(attrs, prefix, "assistant"), "gen_ai.completion.0")
    calls = tool_calls_of(answer["tool_calls"], "the completion") if answer.get("tool_calls") else ()
    finish = attrs.get(prefix + "finish_reason")
    return messages, answer.get("content") or "", calls, str(finish) if finish else None


def _turn(attrs: dict[str, Any], prefix: str, role: str) -> dict[str, Any]:
    turn: dict[str, Any] = {"role": attrs.get(prefix + "role") or role, "content": attrs.get(prefix + "content")}
    calls = []
    for j in range(10_000):
        at = f"{prefix}tool_calls.{j}."
        if at + "name" not in attrs:
            break
        function = {"name": attrs[at + "name"], "arguments": attrs.get(at + "arguments") or "{}"}
        calls.append({"id": attrs.get(at + "id"), "type": "function", "function": function})
    if calls:
        turn["tool_calls"] = calls
    if attrs.get(prefix + "tool_call_id"):
        turn["tool_call_id"] = attrs[prefix + "tool_call_id"]
    return turn


def _events(events: list[tuple[Any, dict[str, Any]]]) -> Answer:
    """v1.28 to v1.36: one span event per turn, and gen_ai.choice for the answer."""
    messages = []
    answer: dict[str, Any] | None = None
    finish = None
    for name, attrs in events:
        if name in _EVENT_ROLES:
            turn = {"role": _EVENT_ROLES[name], "content": attrs.get("content")}
            if attrs.get("tool_calls"):
                turn["tool_calls"] = _json(attrs["tool_calls"], f"{name}'s tool_calls")
            if attrs.get("id"):
                turn["tool_call_id"] = attrs["id"]
            messages.append(message_of(turn, str(name)))
        elif name == "gen_ai.choice" and answer is None:
            message = _json(attrs.get("message"), "gen_ai.choice's message") or {"content": attrs.get("content")}
            if not isinstance(message, dict):
                raise NotOfFormat("gen_ai.choice's message is not an object")
            answer = message_of({"role": "assistant", **message}, "gen_ai.choice")
            finish = attrs.get("finish_reason")
    if answer is None:
        return messages, None, (), None
    calls = tool_calls_of(answer["tool_calls"], "gen_ai.choice") if answer.get("tool_calls") else ()
    return messages, answer.get("content") or "", calls, str(finish) if finish else None


def _tools(attrs: dict[str, Any]) -> tuple[dict[str, Any], ...]:
    given = _json(attrs.get("gen_ai.tool.definitions"), "gen_ai.tool.definitions")
    tools = []
    if isinstance(given, list):
        for tool in given:
            if isinstance(tool, dict):
                function: dict[str, Any] = tool["function"] if isinstance(tool.get("function"), dict) else tool
                tools.append({"type": "function", "function": {k: v for k, v in function.items() if k != "type"}})
    for i in range(10_000):
        at = f"llm.request.functions.{i}."
        if at + "name" not in attrs:
            break
        function = {"name": attrs[at + "name"]}
        if attrs.get(at + "description"):
            function["description"] = attrs[at + "description"]
        if attrs.get(at + "parameters"):
            function["parameters"] = _json(attrs[at + "parameters"], f"{at}parameters")
        tools.append({"type": "function", "function": function})
    return tuple(tools)


def _latency(span: dict[str, Any]) -> float | None:
    try:
        start, end = int(span["startTimeUnixNano"]), int(span["endTimeUnixNano"])
    except (KeyError, TypeError, ValueError, OverflowError):
        return None
    return (end - start) / 1_000_000 if end >= start else None
