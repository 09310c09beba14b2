"""Conversations and tool calls in specs: the loop, tool results, a case's own history, max_steps, replay.

The model here is a scripted OpenAI-compatible server on loopback (tests/tool_server.py) reached through
the real openai provider: these tests are about aitest's loop, recordings and checks. The built-in models
run tool specs in tests/test_llama_tools.py and tests/test_tool_examples.py.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import yaml
from llama_server import FakeServer, fake_http_server
from tool_server import pyproject, tool_server

from conftest import SANDBOX, Project

FIXTURES = (tool_server, fake_http_server)
# the tools of the two targets below that run their own loop: one tool, `track`
TRACK_TOOLS = (
    'TOOLS = [{"type": "function", "function": {"name": "track", '
    '"parameters": {"type": "object", "properties": {"id": {"type": "string"}}}}}]'
)
TOOLS = """
- type: function
  function:
    name: lookup_order
    description: Look up an order by its number.
    parameters:
      type: object
      properties: {order_id: {type: string}}
      required: [order_id]
- type: function
  function:
    name: cancel_order
    description: Cancel an order.
    parameters:
      type: object
      properties: {order_id: {type: string}, reason: {type: string, enum: [wrong_item, other]}}
      required: [order_id]
"""
SPEC = """
feature: orders
tools: tools/orders.yaml
messages:
  - system: You are the order assistant.
  - user: "{{ message }}"
tool_results:
  lookup_order: {status: shipped, eta: "2026-12-09"}
  cancel_order: {python: shop:cancel}
max_steps: 3
cases:
"""
SHOP = """
def cancel(order_id, reason="other"):
    if order_id == "0":
        raise ValueError("no order 0")
    return {"order_id": order_id, "status": "cancelled"}
"""


def prepare(project: Project, server: FakeServer, cases: str, spec: str = SPEC) -> None:
    project.pytester.makepyprojecttoml(pyproject(server.base_url))
    project.file("specs/tools/orders.yaml", TOOLS)
    project.module("shop", SHOP)
    project.spec("specs/orders.yaml", spec + cases)


def replay_offline(project: Project) -> subprocess.CompletedProcess[str]:
    """Replay the project's specs in a process of its own: no network, no httpx, no model package."""
    (project.root / "sitecustomize.py").write_text(SANDBOX)
    env = {**os.environ, "PYTHONPATH": str(project.root)}
    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "specs"]
    return subprocess.run(command, cwd=project.root, capture_output=True, text=True, env=env, timeout=120)


def recording(project: Project, feature: str = "orders") -> dict:
    return yaml.safe_load((project.root / f"specs/__recordings__/{feature}.yaml").read_text())


def test_a_tool_result_reaches_the_model_and_the_final_reply_is_the_output(
    project: Project, tool_server: FakeServer
) -> None:
    prepare(
        project,
        tool_server,
        """
  - id: status
    vars: {message: 'CALL lookup_order {"order_id": "77"}'}
    expect:
      - tool_called: lookup_order
        args: {order_id: "77"}
      - tool_calls: [lookup_order]
        order: exact
      - contains: "2026-12-09"
      - max_steps: 2
""",
    )
    result = project.run("--aitest-record=once", "-v")
    result.assert_outcomes(passed=1)
    second = tool_server.requests[1].body
    assert second["messages"][-1] == {
        "role": "tool",
        "tool_call_id": "call_0",
        "content": '{"status": "shipped", "eta": "2026-12-09"}',
    }
    assert second["messages"][-2]["tool_calls"][0]["id"] == "call_0"  # the server's random id, renumbered
    assert second["tools"][0]["function"]["description"] == "Look up an order by its number."
    entries = recording(project)["entries"]
    assert len(entries) == 2  # one entry per step
    step1 = next(e for e in entries if e.get("tool_calls"))
    assert step1["tool_calls"] == [{"id": "call_0", "name": "lookup_order", "arguments": {"order_id": "77"}}]
    assert step1["finish_reason"] == "tool_calls"
    step2 = next(e for e in entries if not e.get("tool_calls"))
    assert step2["request"]["messages"][-1]["content"] == '{"status": "shipped", "eta": "2026-12-09"}'
    assert step2["response"].startswith("Done:")
    replay = project.run("-v")  # replay: the renumbered ids make step 2's key match whatever ids the server made
    replay.assert_outcomes(passed=1)


def test_tool_results_from_a_function_of_the_arguments_and_a_function_that_raises(
    project: Project, tool_server: FakeServer
) -> None:
    prepare(
        project,
        tool_server,
        """
  - id: cancel
    vars: {message: 'CALL cancel_order {"order_id": "1234", "reason": "wrong_item"}'}
    expect:
      - contains: cancelled
  - id: raises
    vars: {message: 'CALL cancel_order {"order_id": "0"}'}
  - id: other
    vars: {message: hi}
    expect:
      - no_tool_calls
""",
    )
    result = project.run("--aitest-record=once")
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*specs/orders.yaml:8:*tool_results of 'cancel_order' (shop:cancel) raised ValueError: no order 0 (called with cancel_order(order_id=\"0\"))*",
        ]
    )


def test_a_case_brings_its_own_history_and_keeps_the_system_turn(project: Project, tool_server: FakeServer) -> None:
    prepare(
        project,
        tool_server,
        """
  - id: later
    messages:
      - user: 'CALL cancel_order {"order_id": "1234"}'
      - assistant: Sure. Which order?
      - user: It's 1234.
    expect:
      - tool_called: cancel_order
""",
    )
    project.run("--aitest-record=once").assert_outcomes(passed=1)
    roles = [(m["role"], m.get("content")) for m in tool_server.requests[0].body["messages"]]
    assert roles == [
        ("system", "You are the order assistant."),
        ("user", 'CALL cancel_order {"order_id": "1234"}'),
        ("assistant", "Sure. Which order?"),
        ("user", "It's 1234."),
    ]


def test_a_model_that_keeps_calling_tools_past_max_steps_fails_and_says_so(
    project: Project, tool_server: FakeServer
) -> None:
    prepare(
        project,
        tool_server,
        """
  - id: loops
    vars: {message: LOOP lookup_order}
""",
    )
    result = project.run("--aitest-record=once")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*max_steps at specs/orders.yaml:9:*the model was still calling tools after max_steps=3 model turns (lookup_order()); raise max_steps*",
            "*trajectory:*",
            "*step 1: lookup_order() -> *",
            "*step 3: lookup_order()",
        ]
    )
    assert len(tool_server.requests) == 3


def test_malformed_tool_calls_from_a_server_are_one_line_and_nothing_is_recorded(
    project: Project, tool_server: FakeServer
) -> None:
    prepare(
        project,
        tool_server,
        """
  - id: bad
    vars: {message: BADARGS lookup_order}
""",
    )
    result = project.run("--aitest-record=once")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        ["*lookup_order*arguments are not a JSON object*", "*hint: the server returned malformed tool_calls*"]
    )
    assert "Traceback" not in result.stdout.str()
    assert not (project.root / "specs/__recordings__/orders.yaml").exists()


def test_a_forced_tool_choice_holds_for_the_first_step_only(project: Project, tool_server: FakeServer) -> None:
    spec = SPEC.replace("max_steps: 3", "max_steps: 3\ntool_choice: lookup_order")
    prepare(
        project,
        tool_server,
        """
  - id: forced
    vars: {message: 'CALL lookup_order {"order_id": "1"}'}
""",
        spec,
    )
    project.run("--aitest-record=once").assert_outcomes(passed=1)
    choices = [r.body.get("tool_choice") for r in tool_server.requests]
    assert choices == [{"type": "function", "function": {"name": "lookup_order"}}, "auto"]


def test_replay_needs_no_network_and_no_model_packages(project: Project, tool_server: FakeServer) -> None:
    prepare(
        project,
        tool_server,
        """
  - id: status
    vars: {message: 'CALL lookup_order {"order_id": "77"}'}
    expect:
      - tool_called: lookup_order
  - id: cancel
    vars: {message: 'CALL cancel_order {"order_id": "5"}'}
    expect:
      - tool_called: cancel_order
        args: {order_id: "6"}
""",
    )
    project.run("--aitest-record=once").assert_outcomes(passed=1, failed=1)
    done = replay_offline(project)
    assert "1 failed, 1 passed" in done.stdout, done.stdout + done.stderr
    assert "network is blocked" not in done.stdout
    assert "cancel_order was called, but not with the expected arguments" in done.stdout  # judged from the replay


def test_a_target_runs_its_own_loop_and_the_yaml_checks_see_its_calls(
    project: Project, tool_server: FakeServer
) -> None:
    project.pytester.makepyprojecttoml(pyproject(tool_server.base_url))
    project.module(
        "desk",
        """
import json

{TRACK_TOOLS}


def answer(message, model):
    messages = [{"role": "user", "content": message}]
    for _ in range(3):
        response = model.respond(messages, tools=TOOLS)
        if not response.tool_calls:
            return response.text
        messages.append(response.message())
        for call in response.tool_calls:
            messages.append({"role": "tool", "tool_call_id": call.id, "content": json.dumps({"where": "Lyon", **call.arguments})})
    return ""
""".replace("{TRACK_TOOLS}", TRACK_TOOLS),
    )
    project.spec(
        "specs/desk.yaml",
        """
feature: desk
target: desk:answer
cases:
  - id: track
    vars: {message: 'CALL track {"id": "AC1"}'}
    expect:
      - tool_called: track
        args: {id: AC1}
      - contains: Lyon
  - id: wrong
    vars: {message: 'CALL track {"id": "AC2"}'}
    expect:
      - tool_called: track
        args: {id: AC1}
""",
    )
    result = project.run("--aitest-record=once", "-v")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*desk::wrong failed*", "*tool_called*track*"])
    project.run().assert_outcomes(passed=1, failed=1)  # replayed step by step


def test_a_miss_names_the_step_and_how_the_conversation_differs(project: Project, tool_server: FakeServer) -> None:
    prepare(
        project,
        tool_server,
        """
  - id: status
    vars: {message: 'CALL lookup_order {"order_id": "77"}'}
""",
    )
    project.run("--aitest-record=once").assert_outcomes(passed=1)
    spec = project.root / "specs/orders.yaml"
    spec.write_text(spec.read_text().replace("status: shipped", "status: lost"))
    result = project.run()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*no recorded response for step 2 of this conversation (specs/__recordings__/orders.yaml, 2 entries; model openai scripted)*",
            "*prompt differs:*",
            '*-[[]tool call_0] {"status": "shipped", "eta": "2026-12-09"}*',
            '*+[[]tool call_0] {"status": "lost", "eta": "2026-12-09"}*',
        ]
    )
    result.stdout.fnmatch_lines(["*record it with --aitest-record=new*"])


def test_a_single_turn_spec_judges_the_calls_without_answering_them(project: Project, tool_server: FakeServer) -> None:
    spec = SPEC.replace("max_steps: 3", "max_steps: 1")
    prepare(
        project,
        tool_server,
        """
  - id: routes
    vars: {message: 'CALL cancel_order {"order_id": "1234"}'}
    expect:
      - tool_called: cancel_order
        args: {order_id: "1234"}
""",
        spec,
    )
    project.run("--aitest-record=once").assert_outcomes(passed=1)
    assert len(tool_server.requests) == 1  # one model turn; its call is not answered


def test_a_target_written_against_the_openai_sdk_runs_unchanged_recorded_and_replayed(
    project: Project, tool_server: FakeServer
) -> None:
    project.pytester.makepyprojecttoml(pyproject(tool_server.base_url))
    project.module(
        "sdk_desk",
        """
import json

import openai as openai_package

{TRACK_TOOLS}


def answer(message, openai):
    messages = [{"role": "user", "content": message}]
    for _ in range(3):
        completion = openai.chat.completions.create(model="gpt-4o-mini", messages=messages, tools=TOOLS)
        assert isinstance(completion, openai_package.types.chat.ChatCompletion)  # the SDK's own type
        message = completion.choices[0].message
        if not message.tool_calls:
            return message.content
        messages.append(message)
        for call in message.tool_calls:
            arguments = json.loads(call.function.arguments)
            messages.append({"role": "tool", "tool_call_id": call.id, "content": json.dumps({"where": "Lyon", **arguments})})
    return ""
""".replace("{TRACK_TOOLS}", TRACK_TOOLS),
    )
    project.spec(
        "specs/desk.yaml",
        """
feature: desk
target: sdk_desk:answer
cases:
  - id: track
    vars: {message: 'CALL track {"id": "AC1"}'}
    expect:
      - tool_called: track
        args: {id: AC1}
      - contains: Lyon
      - max_steps: 2
""",
    )
    project.run("--aitest-record=once").assert_outcomes(passed=1)
    assert tool_server.requests[1].body["messages"][1]["tool_calls"][0]["id"] == "call_0"
    done = replay_offline(project)
    assert "1 passed" in done.stdout, done.stdout + done.stderr


def test_the_same_invariant_of_a_property_compares_the_calls_as_well_as_the_reply(
    project: Project, tool_server: FakeServer
) -> None:
    prepare(
        project,
        tool_server,
        """
  - id: status
    vars: {message: 'CALL lookup_order {"order_id": "77"}'}
properties:
  - id: same_lookup_whatever_the_number
    vary:
      message: [{choices: ['CALL lookup_order {"order_id": "78"}']}]
    examples: 3
    expect: same
""",
    )
    result = project.run("--aitest-record=once")
    result.assert_outcomes(passed=1, failed=1)  # the reply is the same ("Done: " and the fixed result), the call is not
    result.stdout.fnmatch_lines(
        [
            """*same at specs/orders.yaml:*: tool calls 'lookup_order(order_id="78")' here, 'lookup_order(order_id="77")' for the unvaried case"""
        ]
    )


def test_arguments_invalid_against_the_schema_get_an_error_back_and_fail_valid_tool_calls(
    project: Project, tool_server: FakeServer
) -> None:
    prepare(
        project,
        tool_server,
        """
  - id: bad_reason
    vars: {message: 'CALL cancel_order {"order_id": "1", "reason": "bored"}'}
    expect:
      - contains: invalid arguments for cancel_order
""",
    )
    result = project.run("--aitest-record=once")
    result.assert_outcomes(failed=1)  # judged, not an error: the function was never called with them
    result.stdout.fnmatch_lines(
        ['*valid_tool_calls*cancel_order(order_id="1", reason="bored")*\'bored\' is not one of*']
    )
    fed = tool_server.requests[1].body["messages"][-1]
    assert fed["role"] == "tool" and "invalid arguments for cancel_order: 'bored' is not one of" in fed["content"]


def test_a_short_tool_turn_answers_the_call_before_it_and_a_written_valid_tool_calls_stays_critical(
    project: Project, tool_server: FakeServer
) -> None:
    prepare(
        project,
        tool_server,
        """
  - id: history
    messages:
      - user: hello
      - role: assistant
        tool_calls: [{id: x9, type: function, function: {name: lookup_order, arguments: '{"order_id": "5"}'}}]
      - tool: '{"status": "lost"}'
    expect:
      - valid_tool_calls
""",
    )
    project.run("--aitest-record=once", "--aitest-report=report.json").assert_outcomes(passed=1)
    sent = tool_server.requests[0].body["messages"]
    assert sent[2]["tool_calls"][0]["id"] == "call_0"  # renumbered, and the tool turn follows it
    assert sent[3] == {"role": "tool", "content": '{"status": "lost"}', "tool_call_id": "call_0"}
    checks = json.loads((project.root / "report.json").read_text())["cases"][0]["runs"][0]["checks"]
    assert [(c["name"], c["critical"]) for c in checks] == [("valid_tool_calls", True)]  # written once, not twice


def test_tools_changed_in_place_between_two_steps_are_sent_and_keyed_as_they_are_now(tmp_path) -> None:
    from aitest.models.client import ModelClient
    from aitest.models.profile import Profile
    from aitest.recordings.mode import RecordMode
    from aitest.stats import CallStats

    client = ModelClient(Profile("p", "openai", {"model": "m"}), RecordMode.OFF, None, CallStats(), tmp_path)
    tools = [{"name": "a", "parameters": {"type": "object"}}]
    first = client._tools(tools)
    tools.append({"name": "b", "parameters": {"type": "object"}})
    second = client._tools(tools)
    assert first[1]["names"] == ["a"] and second[1]["names"] == ["a", "b"]
    assert [t["function"]["name"] for t in second[0] or []] == ["a", "b"]
