"""The OpenAI-SDK-shaped client: code written against ``client.chat.completions.create`` runs unchanged over
aitest's model client, gets the SDK's own types back, and is recorded and replayed (``aitest_openai``)."""

from __future__ import annotations

import contextlib
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml
from llama_server import FakeServer, fake_http_server
from test_openai_tools import LOOKUP, calls_body, hosted, text_body

from aitest.errors import AitestError
from aitest.models.client import ModelClient
from aitest.models.openai_compat import OpenAICompat, StandIn, UnsupportedArgument
from aitest.models.response import Response, ToolCall
from aitest.recordings.mode import RecordMode
from aitest.stats import CallStats
from conftest import Project, sandbox

with contextlib.suppress(ImportError):  # the SDK (the dev extra): the tests that use it are marked SDK
    import openai
    from openai.types.chat import ChatCompletion
SDK = pytest.mark.needs("openai")
FIXTURES = (fake_http_server,)  # pytest finds it here; the tests take it by name
SCHEMA = {"type": "object", "properties": {"answer": {"type": "string"}}, "required": ["answer"]}
ORDER = {"status": "shipped", "eta": "2026-12-09"}


def answer(client: Any, question: str) -> Any:
    """Code as a user writes it against the OpenAI SDK: run the tools the model calls, then ask again."""
    messages: list[Any] = [{"role": "user", "content": question}]
    for _ in range(4):
        completion = client.chat.completions.create(model="gpt-4o-mini", messages=messages, tools=[LOOKUP])
        message = completion.choices[0].message
        if not message.tool_calls:
            return completion
        messages.append(message)
        for call in message.tool_calls:
            assert call.function.name == "lookup_order"
            json.loads(call.function.arguments)  # the SDK gives arguments as JSON text
            messages.append({"role": "tool", "tool_call_id": call.id, "content": json.dumps(ORDER)})
    raise AssertionError("no final answer")


@dataclass
class Scripted:
    """A model client that answers from a script and keeps what it was asked."""

    answers: list[Response]
    asked: list[dict[str, Any]] = field(default_factory=list)

    def respond(
        self, messages: list[Any], tools: list[Any] | None = None, tool_choice: Any = None, **params: Any
    ) -> Response:
        self.asked.append({"messages": messages, "tools": tools, "tool_choice": tool_choice, "params": params})
        return self.answers.pop(0)


CALL = Response("", (ToolCall("call_0", "lookup_order", {"order_id": "77"}),), "tool_calls", 40, 12)
FINAL = Response("Order 77 ships on December 9.", (), "stop", 60, 9)


# --- the client over any model client -----------------------------------------------------------------


@SDK
def test_create_returns_the_sdks_own_types() -> None:
    completion = OpenAICompat(Scripted([CALL])).chat.completions.create(messages=[], tools=[LOOKUP])
    assert isinstance(completion, ChatCompletion)
    choice = completion.choices[0]
    (call,) = choice.message.tool_calls or []
    assert (call.id, call.type, call.function.name) == ("call_0", "function", "lookup_order")
    assert json.loads(call.function.arguments) == {"order_id": "77"}
    assert (choice.message.role, choice.message.content, choice.finish_reason) == ("assistant", None, "tool_calls")
    assert completion.usage is not None and (completion.usage.prompt_tokens, completion.usage.total_tokens) == (40, 52)
    assert completion.id == "chatcmpl-aitest-0" and completion.object == "chat.completion"


@SDK
def test_create_passes_params_and_ignores_what_describes_the_call() -> None:
    model = Scripted([FINAL])
    schema_form = {"type": "json_schema", "json_schema": {"name": "out", "schema": SCHEMA, "strict": True}}
    OpenAICompat(model).chat.completions.create(
        model="gpt-4o",  # the profile decides
        messages=[{"role": "user", "content": "hi"}],
        temperature=0.2,
        max_completion_tokens=30,
        seed=7,
        stop=["\n"],
        top_p=0.9,
        response_format=schema_form,
        tool_choice=openai.NOT_GIVEN,
        user="u-1",
        metadata={"run": "x"},
        store=False,
        n=1,
        stream=False,
        frequency_penalty=0,
        extra_headers={"X-Trace": "1"},
    )
    (asked,) = model.asked
    assert asked["params"] == {"temperature": 0.2, "max_tokens": 30, "seed": 7, "stop": ["\n"], "top_p": 0.9,
                               "json_schema": SCHEMA}  # fmt: skip
    assert (asked["tools"], asked["tool_choice"]) == (None, None)


@pytest.mark.parametrize(
    ("response_format", "schema"),
    [
        ({"type": "json_object"}, {"type": "object"}),
        ({"type": "json_object", "schema": SCHEMA}, SCHEMA),
        ({"type": "text"}, None),
    ],
)
def test_other_response_formats(response_format: dict[str, Any], schema: dict[str, Any] | None) -> None:
    model = Scripted([FINAL])
    OpenAICompat(model).chat.completions.create(messages=[], response_format=response_format)
    assert model.asked[0]["params"].get("json_schema") == schema


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"stream": True}, "create(stream=True): aitest's OpenAI-shaped client does not stream"),
        ({"n": 2}, "create(n=2): aitest's OpenAI-shaped client returns one choice"),
        ({"logit_bias": {"42": 10}}, "create(logit_bias=...): aitest's OpenAI-shaped client does not support"),
        ({"max_tokens": 5, "max_completion_tokens": 6}, "create(max_tokens=5, max_completion_tokens=6): they differ"),
        ({"response_format": {"type": "yaml"}}, 'create(response_format=...): cannot read {"type": "yaml"}'),
    ],
)
def test_what_it_cannot_honour_is_a_type_error_that_says_so(arguments: dict[str, Any], message: str) -> None:
    model = Scripted([FINAL])
    with pytest.raises(UnsupportedArgument) as info:
        OpenAICompat(model).chat.completions.create(messages=[], **arguments)
    assert isinstance(info.value, TypeError) and isinstance(info.value, AitestError)
    assert info.value.message.startswith(message) and "\n" not in info.value.message and info.value.hint
    assert model.asked == []


def test_without_the_openai_package_a_stand_in_has_the_same_shape(monkeypatch: pytest.MonkeyPatch) -> None:
    def both() -> list[Any]:
        client = OpenAICompat(Scripted([CALL, FINAL]))
        return [client.chat.completions.create(messages=[]) for _ in range(2)]

    real = both()
    monkeypatch.setitem(sys.modules, "openai.types.chat", None)  # `from openai.types.chat import ...` fails
    stand_ins = both()
    for stand_in, sdk in zip(stand_ins, real, strict=True):
        assert isinstance(stand_in, StandIn)
        assert stand_in.model_dump(exclude_none=True) == sdk.model_dump(exclude_none=True)
    call = stand_ins[0].choices[0].message.tool_calls[0]
    assert (call.id, call.function.name, call.function.arguments) == ("call_0", "lookup_order", '{"order_id": "77"}')
    assert stand_ins[1].choices[0].message.content == "Order 77 ships on December 9."
    assert (stand_ins[1].choices[0].finish_reason, stand_ins[1].usage and stand_ins[1].usage.completion_tokens) == (
        "stop",
        9,
    )
    # the stand-in message goes back into the conversation as the SDK's does
    model = Scripted([FINAL])
    OpenAICompat(model).chat.completions.create(messages=[stand_ins[0].choices[0].message])
    assert model.asked[0]["messages"][0].model_dump(exclude_none=True) == {
        "role": "assistant",
        "tool_calls": [{"id": "call_0", "type": "function", "function": CALL.tool_calls[0].wire()["function"]}],
    }


# --- the same code against the real SDK and against aitest ------------------------------------------------

SCRIPT = (
    (200, calls_body(("call_Qx81", "lookup_order", '{"order_id":"77"}')), {}),
    (200, text_body("Order 77 ships on December 9."), {}),
)


@SDK
def test_code_written_for_the_sdk_runs_unchanged_over_aitest(fake_http_server: FakeServer, tmp_path: Path) -> None:
    fake_http_server.respond(*SCRIPT)
    sdk = openai.OpenAI(base_url=fake_http_server.base_url, api_key="sk-unused", max_retries=0)
    via_sdk = answer(sdk, "Where is order 77?")
    fake_http_server.respond(*SCRIPT)
    client = ModelClient(hosted(fake_http_server.base_url), RecordMode.OFF, None, CallStats(), tmp_path)
    via_aitest = answer(OpenAICompat(client), "Where is order 77?")

    assert type(via_aitest) is type(via_sdk) is ChatCompletion
    assert via_aitest.choices[0].message.content == via_sdk.choices[0].message.content
    assert via_aitest.choices[0].finish_reason == via_sdk.choices[0].finish_reason == "stop"
    sdk_second, aitest_second = (r.body for r in fake_http_server.requests[1::2])
    assert sdk_second["messages"][2] == {"role": "tool", "tool_call_id": "call_Qx81", "content": json.dumps(ORDER)}
    assert aitest_second["messages"][2] == {"role": "tool", "tool_call_id": "call_0", "content": json.dumps(ORDER)}
    assert aitest_second["messages"][1]["tool_calls"][0]["id"] == "call_0"
    assert aitest_second["model"] == "gpt-test"  # the profile's model, not the code's gpt-4o-mini
    assert client.trajectory[0].calls[0].arguments == {"order_id": "77"}


# --- aitest_openai in an ordinary test: recorded, then replayed offline ------------------------------------

TEST_FILE = '''
import json

TOOLS = [LOOKUP]

def lookup_order(order_id):
    return {"status": "shipped", "eta": "2026-12-09"}

def answer(client, question):
    """Written against the OpenAI SDK."""
    messages = [{"role": "user", "content": question}]
    for _ in range(4):
        completion = client.chat.completions.create(model="gpt-4o-mini", messages=messages, tools=TOOLS)
        message = completion.choices[0].message
        if not message.tool_calls:
            return completion
        messages.append(message)
        for call in message.tool_calls:
            result = lookup_order(**json.loads(call.function.arguments))
            messages.append({"role": "tool", "tool_call_id": call.id, "content": json.dumps(result)})

def test_order(aitest_openai):
    final = answer(aitest_openai, "Where is order 77?")
    again = [aitest_openai.chat.completions.create(messages=[{"role": "user", "content": "A colour?"}])
             for _ in range(2)]
    seen = {
        "type": f"{type(final).__module__}.{type(final).__name__}",
        "final": final.model_dump(exclude_none=True),
        "again": [c.choices[0].message.content for c in again],
    }
    with open("seen.json", "w") as out:
        json.dump(seen, out)
    assert "December" in final.choices[0].message.content
'''.replace("[LOOKUP]", json.dumps([LOOKUP]))


def offline(project: Project, *blocked: str) -> None:
    (project.root / "sitecustomize.py").write_text(sandbox("llama_cpp", "torch", "sentence_transformers", *blocked))


def test_aitest_openai_records_then_replays_offline(project: Project, fake_http_server: FakeServer) -> None:
    project.pytester.makepyprojecttoml(
        '[tool.aitest]\nspecs = ["specs"]\ndefault_model = "hosted"\n\n[tool.aitest.models.hosted]\n'
        f'provider = "openai"\nbase_url = "{fake_http_server.base_url}"\nmodel = "gpt-test"\nretries = 0\n'
    )
    project.file("tests/test_orders.py", TEST_FILE)
    fake_http_server.respond(*SCRIPT, (200, text_body("red"), {}), (200, text_body("blue"), {}))
    live = project.run("tests", "--aitest-record=once")
    live.assert_outcomes(passed=1)
    live.stdout.fnmatch_lines(["aitest recordings (once): 0 replayed, 4 recorded, 0 missed, 0 unused"])
    recorded = json.loads((project.root / "seen.json").read_text())
    assert recorded["type"] == "openai.types.chat.chat_completion.ChatCompletion"
    assert recorded["again"] == ["red", "blue"]  # the same question twice: two answers, in order
    entries = yaml.safe_load((project.root / "specs/__recordings__/tests/test_orders/test_order.yaml").read_text())
    steps = [e for e in entries["entries"] if e["request"]["messages"][0]["content"] == "Where is order 77?"]
    steps.sort(key=lambda e: len(e["request"]["messages"]))
    assert [len(e["request"]["messages"]) for e in steps] == [1, 3]
    assert steps[0]["tool_calls"] == [{"id": "call_0", "name": "lookup_order", "arguments": {"order_id": "77"}}]
    assert steps[1]["request"]["messages"][2]["tool_call_id"] == "call_0"
    assert len(fake_http_server.requests) == 4

    (project.root / "seen.json").unlink()
    offline(project)
    replay = project.pytester.runpytest_subprocess("-p", "no:cacheprovider", "tests")
    replay.assert_outcomes(passed=1)
    replay.stdout.fnmatch_lines(["aitest recordings (none): 4 replayed, 0 recorded, 0 missed, 0 unused"])
    assert json.loads((project.root / "seen.json").read_text()) == recorded  # the same objects, offline
    assert len(fake_http_server.requests) == 4

    offline(project, "openai")  # without the SDK: the stand-in, with the same data
    without_sdk = project.pytester.runpytest_subprocess("-p", "no:cacheprovider", "tests")
    without_sdk.assert_outcomes(passed=1)
    seen = json.loads((project.root / "seen.json").read_text())
    assert seen["type"] == "aitest.models.openai_compat.StandIn"
    assert (seen["final"], seen["again"]) == (recorded["final"], recorded["again"])


def test_a_miss_through_aitest_openai_fails_with_the_miss_message_in_the_tests_own_lines(project: Project) -> None:
    project.file("tests/test_orders.py", TEST_FILE)
    result = project.run("tests")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            ">*completion = client.chat.completions.create(model=*",
            "E * aitest.errors.RecordingMiss: no recording for this test: "
            "specs/__recordings__/tests/test_orders/test_order.yaml does not exist (model *)",
            "E *  hint: record it with --aitest-record=once (or AITEST_RECORD=once)",
            "tests/test_orders.py:12: RecordingMiss",
        ]
    )
    out = result.stdout.str()
    assert "aitest/models/openai_compat.py" not in out and "aitest/fixture.py" not in out
