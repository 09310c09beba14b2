"""Tool calls over the openai provider: what a server receives and what we read back, against a scripted
loopback server, and against the real llama_cpp.server."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from llama_server import FakeServer, fake_http_server, llama_server

from aitest.errors import ModelError
from aitest.models.client import ModelClient
from aitest.models.profiles import Profile
from aitest.models.providers.openai import OpenAIProvider
from aitest.models.response import ToolCall
from aitest.recordings.mode import RecordMode
from aitest.stats import CallStats

FIXTURES = (fake_http_server, llama_server)  # pytest finds them here; the tests take them by name
KEY = "sk-test-77aa0e3b"
LOOKUP = {
    "type": "function",
    "function": {
        "name": "lookup_order",
        "description": "Find an order by its number",
        "parameters": {"type": "object", "properties": {"order_id": {"type": "string"}}, "required": ["order_id"]},
    },
}
CANCEL = {
    "type": "function",
    "function": {
        "name": "cancel_order",
        "parameters": {"type": "object", "properties": {"order_id": {"type": "string"}}, "required": ["order_id"]},
    },
}
NAMED = {"type": "function", "function": {"name": "lookup_order"}}


def calls_body(*calls: tuple[str, str, Any], text: str | None = None, finish: str | None = "tool_calls") -> str:
    """An OpenAI chat answer holding ``calls`` as (id, name, arguments as sent: JSON text or anything)."""
    tool_calls = [{"id": i, "type": "function", "function": {"name": n, "arguments": a}} for i, n, a in calls]
    message = {"role": "assistant", "content": text, "tool_calls": tool_calls}
    choice = {"index": 0, "message": message, "finish_reason": finish}
    usage = {"prompt_tokens": 40, "completion_tokens": 12, "total_tokens": 52}
    return json.dumps({"id": "chatcmpl-1", "object": "chat.completion", "choices": [choice], "usage": usage})


def text_body(text: str, finish: str = "stop") -> str:
    choice = {"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": finish}
    usage = {"prompt_tokens": 60, "completion_tokens": 9, "total_tokens": 69}
    return json.dumps({"id": "chatcmpl-2", "object": "chat.completion", "choices": [choice], "usage": usage})


def hosted(base_url: str, **options: Any) -> Profile:
    return Profile("hosted", "openai", {"base_url": base_url, "model": "gpt-test", "retries": 0, **options})


def make(base_url: str, **options: Any) -> OpenAIProvider:
    return OpenAIProvider.from_profile(hosted(base_url, **options))


USER = [{"role": "user", "content": "Where is order 77?"}]


# --- what the provider sends and reads ---------------------------------------------------------------


def test_respond_sends_tools_and_tool_choice_and_reads_the_calls(fake_http_server: FakeServer) -> None:
    arguments = '{"order_id": "77", "verbose": true}'
    fake_http_server.respond((200, calls_body(("call_x9", "lookup_order", arguments)), {}))
    result = make(fake_http_server.base_url).respond(USER, [LOOKUP, CANCEL], NAMED, {"temperature": 0})
    (request,) = fake_http_server.requests
    assert request.path == "/v1/chat/completions"
    assert request.body == {
        "model": "gpt-test",
        "messages": USER,
        "tools": [LOOKUP, CANCEL],
        "tool_choice": NAMED,
        "temperature": 0,
    }
    assert result.tool_calls == (ToolCall("call_x9", "lookup_order", {"order_id": "77", "verbose": True}),)
    assert (result.text, result.finish_reason, result.prompt_tokens, result.completion_tokens) == (
        "",
        "tool_calls",
        40,
        12,
    )


def test_respond_without_tool_choice_leaves_it_out(fake_http_server: FakeServer) -> None:
    fake_http_server.respond((200, text_body("It shipped."), {}))
    result = make(fake_http_server.base_url).respond(USER, [LOOKUP], None, {})
    assert "tool_choice" not in fake_http_server.requests[0].body
    assert fake_http_server.requests[0].body["tools"] == [LOOKUP]
    assert (result.text, result.tool_calls, result.finish_reason) == ("It shipped.", (), "stop")


def test_several_calls_in_one_answer_keep_their_order(fake_http_server: FakeServer) -> None:
    body = calls_body(("a", "lookup_order", '{"order_id": "1"}'), ("b", "cancel_order", '{"order_id": "2"}'))
    fake_http_server.respond((200, body, {}))
    result = make(fake_http_server.base_url).respond(USER, [LOOKUP, CANCEL], "required", {})
    assert [(c.name, c.arguments) for c in result.tool_calls] == [
        ("lookup_order", {"order_id": "1"}),
        ("cancel_order", {"order_id": "2"}),
    ]
    assert fake_http_server.requests[0].body["tool_choice"] == "required"


def test_finish_reason_of_complete_and_chat(fake_http_server: FakeServer) -> None:
    fake_http_server.respond((200, text_body("Once upon", finish="length"), {}))
    provider = make(fake_http_server.base_url)
    assert provider.chat(USER, {"max_tokens": 2}).finish_reason == "length"
    plain = {"choices": [{"index": 0, "text": "Paris", "finish_reason": "stop"}]}
    fake_http_server.respond((200, json.dumps(plain), {}))
    assert provider.complete("Capital:", {}).finish_reason == "stop"


def test_a_call_without_arguments_text_has_no_arguments(fake_http_server: FakeServer) -> None:
    fake_http_server.respond((200, calls_body(("c", "list_orders", "")), {}))
    (call,) = make(fake_http_server.base_url).respond(USER, [LOOKUP], None, {}).tool_calls
    assert (call.name, call.arguments) == ("list_orders", {})


@pytest.mark.parametrize(
    ("call", "expected"),
    [
        (
            ("c", "lookup_order", '{"order_id": 77,' + " " * 50 + "x" * 300),
            "returned a call of tool 'lookup_order' whose arguments are not a JSON object: "
            '{"order_id": 77, ' + "x" * 102 + "…",
        ),
        (
            ("c", "lookup_order", '["77"]'),
            "returned a call of tool 'lookup_order' whose arguments are not a JSON object: [\"77\"]",
        ),
        (("c", "", '{"order_id": "77"}'), "returned a tool call without a function name: {"),
    ],
    ids=["not-json", "not-an-object", "no-name"],
)
def test_malformed_tool_calls_are_one_line_errors(
    fake_http_server: FakeServer, call: tuple[str, str, str], expected: str
) -> None:
    fake_http_server.respond((200, calls_body(call), {}))
    with pytest.raises(ModelError) as info:
        make(fake_http_server.base_url).respond(USER, [LOOKUP], None, {})
    error = info.value
    assert error.message.startswith(f"{fake_http_server.base_url}/chat/completions (model profile 'hosted') ")
    assert expected in error.message
    assert "\n" not in error.message and len(error.message) < 300
    assert error.hint == "the server returned malformed tool_calls"


def test_a_key_the_server_echoes_into_a_call_is_masked(
    fake_http_server: FakeServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AITEST_TOOLS_KEY", KEY)
    arguments = json.dumps({"note": f"key {KEY}", KEY: [KEY]})
    fake_http_server.respond((200, calls_body(("c", "lookup_order", arguments)), {}))
    result = make(fake_http_server.base_url, api_key_env="AITEST_TOOLS_KEY").respond(USER, [LOOKUP], None, {})
    assert result.tool_calls[0].arguments == {"note": "key ***", "***": ["***"]}
    fake_http_server.respond((200, calls_body(("c", "lookup_order", f"not json {KEY}")), {}))
    with pytest.raises(ModelError) as info:
        make(fake_http_server.base_url, api_key_env="AITEST_TOOLS_KEY").respond(USER, [LOOKUP], None, {})
    assert KEY not in str(info.value) and "not json ***" in str(info.value)


# --- a loop through the model client: ids renumbered, the tool result reaches the server --------------


def test_the_tool_result_reaches_the_server_under_the_renumbered_call_id(
    fake_http_server: FakeServer, tmp_path: Path
) -> None:
    fake_http_server.respond(
        (200, calls_body(("call_Zk3f", "lookup_order", '{"order_id": "77"}')), {}),
        (200, text_body("Order 77 ships on December 9."), {}),
    )
    client = ModelClient(hosted(fake_http_server.base_url), RecordMode.OFF, None, CallStats(), tmp_path)
    messages: list[dict[str, Any]] = list(USER)
    first = client.respond(messages, tools=[LOOKUP], tool_choice="lookup_order", temperature=0)
    assert first.tool_calls == (ToolCall("call_0", "lookup_order", {"order_id": "77"}),)
    assert first.finish_reason == "tool_calls"
    messages.append(first.message())
    result = {"status": "shipped", "eta": "2026-12-09"}
    messages.append({"role": "tool", "tool_call_id": "call_0", "content": json.dumps(result)})
    final = client.respond(messages, tools=[LOOKUP], temperature=0)
    assert (final.text, final.tool_calls, final.finish_reason) == ("Order 77 ships on December 9.", (), "stop")

    sent_first, sent_second = (r.body for r in fake_http_server.requests)
    assert sent_first["tool_choice"] == NAMED and "tool_choice" not in sent_second
    assistant, tool = sent_second["messages"][1:]
    assert assistant["tool_calls"] == [
        {"id": "call_0", "type": "function", "function": {"name": "lookup_order", "arguments": '{"order_id": "77"}'}}
    ]
    assert tool == {"role": "tool", "tool_call_id": "call_0", "content": json.dumps(result)}
    (step_one, _) = client.trajectory
    assert [(r.call_id, r.name, json.loads(r.content)) for r in step_one.results] == [
        ("call_0", "lookup_order", result)
    ]


# --- the real llama-cpp-python server -------------------------------------------------------------------


@pytest.fixture(scope="module")
def tool_server(llama_server: str) -> Iterator[OpenAIProvider]:
    """The server as the other tests run it (``--chat_format gemma``): llama-cpp-python's generic chat
    formats answer a tool_choice that names a tool with a call, its arguments decoded under a grammar made
    from the tool's parameters schema (llama_chat_format.chat_formatter_to_chat_completion_handler)."""
    provider = make(llama_server, timeout=120)
    yield provider
    provider.close()


def test_a_named_tool_choice_gets_a_call_of_that_tool_from_llama_cpp_server(tool_server: OpenAIProvider) -> None:
    # a bounded string: left free, the 270M model repeats digits until max_tokens cuts the JSON short
    bounded = {
        "type": "object",
        "properties": {"order_id": {"type": "string", "maxLength": 8}},
        "required": ["order_id"],
    }
    lookup = {"type": "function", "function": {**LOOKUP["function"], "parameters": bounded}}
    messages = [{"role": "user", "content": "Where is my order 1234?"}]
    result = tool_server.respond(messages, [lookup, CANCEL], NAMED, {"temperature": 0, "max_tokens": 48, "seed": 1})
    (call,) = result.tool_calls
    assert call.name == "lookup_order"
    # decoded under the schema's grammar: an object with a bounded string (its value is the model's guess;
    # the 270M model answers '12345678' here, the tool descriptions being left out of the prompt)
    order_id = call.arguments["order_id"]
    assert list(call.arguments) == ["order_id"] and isinstance(order_id, str) and len(order_id) <= 8
    assert call.id.startswith("call__0_lookup_order_cmpl-")  # random per run: the model client renumbers it
    assert (result.text, result.finish_reason) == ("", "tool_calls")
