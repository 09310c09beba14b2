"""A client shaped like the OpenAI Python SDK's, over aitest's model client: code written against
``client.chat.completions.create(...)`` runs unchanged, and every step is recorded and replayed.

The ``model`` argument of ``create`` is accepted and ignored: the aitest model profile (the spec's
``model:``, ``--aitest-model`` or ``@pytest.mark.aitest_model``) decides which model answers, so that one
test runs on a local model, a hosted one, or its recording. Answers are the SDK's own
``openai.types.chat.ChatCompletion`` when the ``openai`` package is installed (it is imported on the
first call, never when pytest starts), else a stand-in with the same attributes and ``model_dump()``.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any, Protocol

from aitest.errors import AitestError
from aitest.models.response import Response

# arguments of create() that describe the call, not the answer: accepted and ignored
IGNORED = frozenset(
    {
        "user",
        "metadata",
        "store",
        "service_tier",
        "parallel_tool_calls",
        "prompt_cache_key",
        "safety_identifier",
        "stream_options",
        "timeout",
        "extra_headers",
        "extra_query",
        "extra_body",
    }
)
# arguments that would change the answer, accepted only at the value that changes nothing
NEUTRAL = {"frequency_penalty": 0, "presence_penalty": 0, "logprobs": False, "n": 1}
FINISH_REASONS = ("stop", "length", "tool_calls", "content_filter", "function_call")  # what the SDK's type allows


class Responder(Protocol):
    """What the client needs: aitest's ModelClient, or the ``aitest_model`` fixture's client."""

    def respond(
        self, messages: list[Any], tools: list[Any] | None = None, tool_choice: Any = None, **params: Any
    ) -> Response: ...


class UnsupportedArgument(AitestError, TypeError):
    """An argument of ``create()`` that aitest's OpenAI-shaped client cannot honour (``stream=True``, ``n=2``)."""


class OpenAICompat:
    """``client.chat.completions.create(...)`` over a model client (anything with ``respond``)."""

    def __init__(self, client: Responder) -> None:
        self.chat = _Chat(_Completions(client))

    def __repr__(self) -> str:
        return f"<aitest OpenAI-shaped client over {self.chat.completions.client!r}>"


@dataclass(frozen=True)
class _Chat:
    completions: _Completions


@dataclass
class _Completions:
    client: Responder
    answered: int = 0  # numbers the answers' ids: chatcmpl-aitest-0, -1, ... (the same in every replay)

    def create(
        self,
        *,
        messages: list[Any],
        model: str | None = None,
        tools: list[Any] | None = None,
        tool_choice: Any = None,
        temperature: float | None = None,
        max_tokens: int | None = None,
        max_completion_tokens: int | None = None,
        seed: int | None = None,
        stop: str | list[str] | None = None,
        top_p: float | None = None,
        response_format: Any = None,
        stream: bool | None = None,
        **other: Any,
    ) -> Any:
        """One chat completion, as the SDK's ``chat.completions.create``; ``model`` is ignored (the profile
        decides). Returns ``openai.types.chat.ChatCompletion`` when ``openai`` is installed."""
        __tracebackhide__ = True
        if stream and _given(stream):  # stream=False is the SDK's default, said aloud
            raise UnsupportedArgument(
                "create(stream=True): aitest's OpenAI-shaped client does not stream",
                hint="call create() without stream; the whole answer comes back at once",
            )
        _check_other({k: v for k, v in other.items() if _given(v)})
        params = {
            "temperature": temperature,
            "max_tokens": _max_tokens(max_tokens, max_completion_tokens),
            "seed": seed,
            "stop": stop,
            "top_p": top_p,
            "json_schema": _json_schema(response_format),
        }
        given = {k: v for k, v in params.items() if _given(v)}
        tools = tools if _given(tools) else None
        choice = tool_choice if _given(tool_choice) else None
        response = self.client.respond(list(messages), tools=tools, tool_choice=choice, **given)
        number, self.answered = self.answered, self.answered + 1
        return completion(response, f"chatcmpl-aitest-{number}", _model_name(self.client))


def completion(response: Response, completion_id: str, model: str) -> Any:
    """``response`` as the SDK's ChatCompletion (or the stand-in when ``openai`` cannot be imported)."""
    plain = _plain(response, completion_id, model)
    try:
        from openai.types.chat import ChatCompletion
    except ImportError:
        return StandIn.from_plain(plain)
    return ChatCompletion.model_validate(plain)


def _plain(response: Response, completion_id: str, model: str) -> dict[str, Any]:
    """The ChatCompletion as plain data. ``created`` is 0: a replayed answer is the recorded one, byte for byte."""
    calls = [call.wire() for call in response.tool_calls]
    message = {
        "role": "assistant",
        "content": response.text or (None if calls else ""),
        "tool_calls": calls or None,
        "refusal": None,
    }
    reason = response.finish_reason if response.finish_reason in FINISH_REASONS else None
    choice = {"index": 0, "message": message, "finish_reason": reason or ("tool_calls" if calls else "stop")}
    prompt, done = response.prompt_tokens, response.completion_tokens
    usage = None
    if prompt is not None or done is not None:
        usage = {
            "prompt_tokens": prompt or 0,
            "completion_tokens": done or 0,
            "total_tokens": (prompt or 0) + (done or 0),
        }
    return {
        "id": completion_id,
        "object": "chat.completion",
        "created": 0,
        "model": model,
        "choices": [{**choice, "logprobs": None}],
        "usage": usage,
    }


def _given(value: Any) -> bool:
    """Not None, nor the SDK's NOT_GIVEN / omit sentinels (code written for the SDK passes them)."""
    return value is not None and type(value).__name__ not in ("NotGiven", "Omit")


def _check_other(other: dict[str, Any]) -> None:
    __tracebackhide__ = True
    for name, value in other.items():
        if name in IGNORED or (name in NEUTRAL and value == NEUTRAL[name]):
            continue
        if name == "n":
            raise UnsupportedArgument(
                f"create(n={value!r}): aitest's OpenAI-shaped client returns one choice",
                hint="call create() once per answer you need (each call is recorded)",
            )
        supported = "messages, model (ignored), tools, tool_choice, temperature, max_tokens, seed, stop, top_p"
        raise UnsupportedArgument(
            f"create({name}=...): aitest's OpenAI-shaped client does not support {name}",
            hint=f"it takes {supported}, response_format (json_schema), and ignores {', '.join(sorted(IGNORED))}",
        )


def _max_tokens(max_tokens: Any, max_completion_tokens: Any) -> Any:
    __tracebackhide__ = True
    if _given(max_tokens) and _given(max_completion_tokens) and max_tokens != max_completion_tokens:
        raise UnsupportedArgument(
            f"create(max_tokens={max_tokens!r}, max_completion_tokens={max_completion_tokens!r}): they differ",
            hint="give one of them (max_completion_tokens is another name for max_tokens here)",
        )
    return max_tokens if _given(max_tokens) else max_completion_tokens


def _json_schema(response_format: Any) -> dict[str, Any] | None:
    """aitest's ``json_schema`` param from ``response_format``: the json_schema form's schema, llama.cpp's
    ``json_object`` with a schema, or any JSON object for a bare ``json_object``; None for text."""
    __tracebackhide__ = True
    if not _given(response_format):
        return None
    form = response_format.model_dump() if hasattr(response_format, "model_dump") else response_format
    kind = form.get("type") if isinstance(form, dict) else None
    if kind == "text":
        return None
    if kind == "json_object":
        schema = form.get("schema")
        return dict(schema) if isinstance(schema, dict) else {"type": "object"}
    inner = form.get("json_schema") if kind == "json_schema" else None
    schema = inner.get("schema") if isinstance(inner, dict) else None
    if isinstance(schema, dict):
        return dict(schema)
    raise UnsupportedArgument(
        f"create(response_format=...): cannot read {_short(form)}",
        hint='give {"type": "json_schema", "json_schema": {"name": ..., "schema": {...}}}, json_object or text',
    )


def _short(value: Any) -> str:
    text = json.dumps(value, default=lambda v: type(v).__name__) if isinstance(value, dict) else type(value).__name__
    return text if len(text) <= 80 else text[:79] + "…"


def _model_name(client: Any) -> str:
    """The model the profile names (the answer's ``model``), or "aitest" for a client without a profile."""
    profile = getattr(client, "profile", None)
    try:
        return str(profile.identity()["model"]) if profile is not None else "aitest"
    except Exception:  # a client of another shape: the name is cosmetic
        return "aitest"


# --- the stand-in, when the openai package is not installed --------------------------------------------


@dataclass(frozen=True)
class _Dumps:
    def model_dump(self, *, exclude_none: bool = False, **_: Any) -> dict[str, Any]:
        """Plain data, as pydantic's ``model_dump`` (so that a message appended to a chat is read back)."""
        data = asdict(self)  # type: ignore[call-overload]
        return _without_none(data) if exclude_none else data


@dataclass(frozen=True)
class Function(_Dumps):
    name: str
    arguments: str  # JSON text, as the SDK's


@dataclass(frozen=True)
class ToolCallStandIn(_Dumps):
    id: str
    function: Function
    type: str = "function"


@dataclass(frozen=True)
class Message(_Dumps):
    role: str
    content: str | None
    tool_calls: list[ToolCallStandIn] | None = None
    refusal: str | None = None


@dataclass(frozen=True)
class Choice(_Dumps):
    index: int
    message: Message
    finish_reason: str
    logprobs: None = None


@dataclass(frozen=True)
class Usage(_Dumps):
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


@dataclass(frozen=True)
class StandIn(_Dumps):
    """The attributes of ``openai.types.chat.ChatCompletion`` that code reads, without the openai package."""

    id: str
    choices: list[Choice]
    created: int
    model: str
    object: str = "chat.completion"
    usage: Usage | None = None

    @classmethod
    def from_plain(cls, plain: dict[str, Any]) -> StandIn:
        choices = []
        for raw in plain["choices"]:
            message = raw["message"]
            calls = [
                ToolCallStandIn(c["id"], Function(c["function"]["name"], c["function"]["arguments"]))
                for c in message.get("tool_calls") or ()
            ]
            turn = Message(message["role"], message["content"], calls or None)
            choices.append(Choice(raw["index"], turn, raw["finish_reason"]))
        usage = Usage(**plain["usage"]) if plain.get("usage") else None
        return cls(plain["id"], choices, plain["created"], plain["model"], plain["object"], usage)


def _without_none(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_none(v) for v in value]
    return value
