"""OpenAI chat-completion request/response pairs, one JSON object per line: ``{"request": {...},
"response": {...}}``; the response may be a list of streamed ``chat.completion.chunk`` objects, joined here."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from aitest.importing.jsonl import logged_calls
from aitest.importing.logged import (
    LoggedCall,
    NoAnswer,
    NotOfFormat,
    Skipped,
    count,
    message_of,
    milliseconds,
    params_of,
    tool_calls_of,
    tools_of,
)
from aitest.util.text import shown

_LATENCY_KEYS = ("latency_ms", "duration_ms", "elapsed_ms")


def read(path: Path, shown: str) -> Iterator[LoggedCall | Skipped]:
    return logged_calls(path, shown, call_of)


def call_of(line: Any, where: str) -> LoggedCall:
    if not isinstance(line, dict) or "request" not in line or "response" not in line:
        raise NotOfFormat("not a request/response pair (an object with 'request' and 'response')")
    request, response = line["request"], line["response"]
    base = request_call(request, where)
    latency = next((milliseconds(line[k]) for k in _LATENCY_KEYS if k in line), None)
    return answered(base, response, latency)


def request_call(request: Any, where: str) -> LoggedCall:
    """The request half: turns, tools, params and the model asked for."""
    if not isinstance(request, dict) or not isinstance(request.get("messages"), list) or not request["messages"]:
        raise NotOfFormat("the request has no 'messages' list (a chat-completion request)")
    messages = tuple(message_of(m, f"turn {i + 1}") for i, m in enumerate(request["messages"]))
    tools, choice = tools_of(request, "the request")
    model = request.get("model") if isinstance(request.get("model"), str) else None
    return LoggedCall(where, messages, "", tools=tools, tool_choice=choice, params=params_of(request), model=model)


def answered(base: LoggedCall, response: Any, latency: float | None) -> LoggedCall:
    """The call with its answer from a chat.completion, or from its streamed chunks."""
    if isinstance(response, list):
        response = joined_chunks(response)
    if not isinstance(response, dict):
        raise NotOfFormat("the response is not a chat.completion object")
    if response.get("error"):
        error = response["error"]
        said = error.get("message") if isinstance(error, dict) else error
        raise NoAnswer(f"the logged call failed: {shown(str(said), 120, quoted=False)}")
    choices = response.get("choices")
    if not isinstance(choices, list):
        raise NotOfFormat("the response has no 'choices' list")
    if not choices:
        raise NoAnswer("the response has no choices")
    choice = choices[0]
    message = choice.get("message") if isinstance(choice, dict) else None
    if not isinstance(message, dict):
        raise NotOfFormat("the response's first choice has no message")
    finish = choice.get("finish_reason")
    if finish == "content_filter":
        raise NoAnswer("the response was withheld by the provider's content filter (finish_reason content_filter)")
    text = message.get("content")
    refusal = message.get("refusal")
    if not text and isinstance(refusal, str) and refusal:
        text = refusal  # the model refused: that is its answer, imported as what it is
    if text is not None and not isinstance(text, str):
        raise NotOfFormat("the response's content is not text")
    raw_calls = message.get("tool_calls")
    if not raw_calls and isinstance(message.get("function_call"), dict):  # the legacy form of one tool call
        raw_calls = [{"id": "call_0", "type": "function", "function": message["function_call"]}]
        finish = "tool_calls" if finish == "function_call" else finish
    calls = tool_calls_of(raw_calls, "the response") if raw_calls else ()
    usage: dict[str, Any] = response["usage"] if isinstance(response.get("usage"), dict) else {}
    model = response.get("model") if isinstance(response.get("model"), str) else base.model
    return LoggedCall(
        base.where, base.messages, text or "", calls, base.tools, base.tool_choice, base.params, model,
        finish if isinstance(finish, str) else None, latency,
        count(usage.get("prompt_tokens")), count(usage.get("completion_tokens")),
    )  # fmt: skip


def joined_chunks(chunks: list[Any]) -> dict[str, Any]:
    """A streamed answer (``chat.completion.chunk`` objects) as the one chat.completion it adds up to."""
    text: list[str] = []
    calls: dict[int, dict[str, Any]] = {}
    finish = None
    usage = None
    model = None
    for chunk in chunks:
        if not isinstance(chunk, dict):
            raise NotOfFormat("a streamed chunk is not an object")
        if chunk.get("error"):
            return {"error": chunk["error"]}
        model = chunk.get("model", model)
        usage = chunk.get("usage") or usage
        for choice in chunk.get("choices") or ():
            if not isinstance(choice, dict) or choice.get("index", 0) != 0:
                continue
            delta = choice.get("delta") or {}
            if not isinstance(delta, dict):
                raise NotOfFormat("a streamed chunk's delta is not an object")
            if isinstance(delta.get("content"), str):
                text.append(delta["content"])
            for part in delta.get("tool_calls") or ():
                function = part.get("function") if isinstance(part, dict) else None
                if not isinstance(function or {}, dict) or not isinstance(part.get("index", 0), int):
                    raise NotOfFormat("a streamed chunk's tool call is not {index, id, function: {name, arguments}}")
                slot = calls.setdefault(part.get("index", 0), {"id": None, "name": "", "arguments": ""})
                slot["id"] = part.get("id") or slot["id"]
                slot["name"] += str((function or {}).get("name") or "")
                slot["arguments"] += str((function or {}).get("arguments") or "")
            finish = choice.get("finish_reason") or finish
    if not text and not calls and finish is None:
        return {"choices": []}
    message: dict[str, Any] = {"role": "assistant", "content": "".join(text)}
    if calls:
        message["tool_calls"] = [
            {"id": c["id"], "type": "function", "function": {"name": c["name"], "arguments": c["arguments"]}}
            for _, c in sorted(calls.items())
        ]
    return {"model": model, "choices": [{"message": message, "finish_reason": finish}], "usage": usage}
