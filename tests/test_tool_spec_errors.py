"""Bad chat and tool specs: each mistake is one or two lines with file:line:col, in `aitest validate` and at
collection, and a bad spec fails alone."""

from __future__ import annotations

import pytest
from test_spec_errors_all import AITEST

from conftest import Project

TOOLS = """
- type: function
  function:
    name: lookup_order
    description: Look up an order.
    parameters: {type: object, properties: {order_id: {type: string}}, required: [order_id]}
"""


@pytest.mark.parametrize(
    ("files", "lines"),
    [
        (
            {"specs/f.yaml": "feature: f\ntools: tools/missing.yaml\nmessages:\n  - user: hi\ncases:\n  - id: one\n"},
            [
                "specs/f.yaml:2:8: tools file tools/missing.yaml: the file is not found",
                "  hint: give a YAML or JSON file of OpenAI function definitions, relative to this spec",
            ],
        ),
        (
            {
                "specs/tools/t.json": '{"name": "x"}',
                "specs/f.yaml": "feature: f\ntools: tools/t.json\nmessages:\n  - user: hi\ncases:\n  - id: one\n",
            },
            ["specs/tools/t.json:1:1: tools must be a list of function definitions, not a mapping", "  hint: *"],
        ),
        (
            {
                "specs/tools/t.yaml": "- type: function\n  function:\n    name: x\n    parameters: {type: object, properties: {a: {type: strng}}}\n",
                "specs/f.yaml": "feature: f\ntools: tools/t.yaml\nmessages:\n  - user: hi\ncases:\n  - id: one\n",
            },
            ["specs/tools/t.yaml:4:17: the parameters of tool 'x' are not a valid JSON Schema: *"],
        ),
        (
            {
                "specs/f.yaml": "feature: f\ntools: [{type: function, function: {name: 'a b'}}]\nmessages:\n  - user: hi\ncases:\n  - id: one\n"
            },
            ["specs/f.yaml:2:*: a tool needs a name of letters, digits, _ and - (at most 64), not 'a b'"],
        ),
        (
            {"specs/f.yaml": "feature: f\nmessages:\n  - bot: hi\ncases:\n  - id: one\n"},
            ["specs/f.yaml:3:5: unknown role 'bot'", "  hint: roles: system, user, assistant, tool"],
        ),
        (
            {"specs/f.yaml": "feature: f\nmessages:\n  - {role: usr, content: hi}\ncases:\n  - id: one\n"},
            ["specs/f.yaml:3:12: unknown role 'usr'; did you mean 'user'?", "  hint: *"],
        ),
        (
            {"specs/f.yaml": "feature: f\nmessages:\n  - system: be brief\n  - user:\ncases:\n  - id: one\n"},
            [
                "specs/f.yaml:4:10: the user turn has no content",
                "  hint: give its text, e.g. '- user: Where is my order?'",
            ],
        ),
        (
            {"specs/f.yaml": "feature: f\nmessages:\n  - user: 1234\ncases:\n  - id: one\n"},
            ["specs/f.yaml:3:11: a turn's content must be text, not a whole number", "  hint: quote it*"],
        ),
        (
            {"specs/f.yaml": "feature: f\nprompt: hi\nmessages:\n  - user: hi\ncases:\n  - id: one\n"},
            [
                "specs/f.yaml:3:1: a spec needs exactly one of 'prompt', 'messages' and 'target', not prompt and messages together",
                "  hint: *",
            ],
        ),
        (
            {
                "specs/f.yaml": "feature: f\nmessages:\n  - user: '{{ question }}'\ncases:\n  - id: one\n    vars: {q: x}\n"
            },
            [
                "specs/f.yaml:3:5: the user turn uses {{ question }}, but case(s) 'one' have no var 'question'",
                "  hint: *",
            ],
        ),
        (
            {
                "specs/f.yaml": "feature: f\nmessages:\n  - user: hi\ncases:\n  - id: one\n    messages:\n      - user: '{{ nope }}'\n"
            },
            ["specs/f.yaml:7:9: the user turn uses {{ nope }}, but the case has no var 'nope'", "  hint: *"],
        ),
        (
            {
                "specs/tools/t.yaml": TOOLS,
                "specs/f.yaml": "feature: f\ntools: tools/t.yaml\nmessages:\n  - user: hi\ntool_results:\n  lookup_ordr: {status: x}\ncases:\n  - id: one\n",
            },
            [
                "specs/f.yaml:6:3: tool_results names tool 'lookup_ordr', which is not declared; did you mean 'lookup_order'?",
                "  hint: declared tools: lookup_order",
            ],
        ),
        (
            {
                "specs/tools/t.yaml": TOOLS,
                "specs/f.yaml": "feature: f\ntools: tools/t.yaml\nmessages:\n  - user: hi\ncases:\n  - id: one\n    expect:\n      - not_tool_called: lookup_ordr\n",
            },
            [
                "specs/f.yaml:8:26: check 'not_tool_called' names tool 'lookup_ordr', which the spec does not declare; did you mean 'lookup_order'?",
                "  hint: declared tools: lookup_order",
            ],
        ),
        (
            {"specs/f.yaml": "feature: f\nmessages:\n  - user: hi\ntool_choice: required\ncases:\n  - id: one\n"},
            ["specs/f.yaml:4:1: tool_choice needs tools: declare the tools the model may call", "  hint: *"],
        ),
        (
            {
                "specs/tools/t.yaml": TOOLS,
                "specs/f.yaml": "feature: f\ntools: tools/t.yaml\nmessages:\n  - user: hi\nmax_steps: 0\ncases:\n  - id: one\n",
            },
            ["specs/f.yaml:5:12: 'max_steps' must be at least 1, not 0"],
        ),
        (
            {
                "specs/tools/t.yaml": TOOLS,
                "specs/f.yaml": "feature: f\ntools: tools/t.yaml\nmessages:\n  - user: hi\ntool_results:\n  lookup_order: {python: os:system}\ncases:\n  - id: one\n",
            },
            ["specs/f.yaml:6:26: tool result function *os:system*"],
        ),
        (
            {"specs/f.yaml": "feature: f\nprompt: hi\ncases:\n  - id: one\n    messages:\n      - user: hello\n"},
            [
                "specs/f.yaml:5:5: a case's messages replace the user turns of the spec's messages:, and this spec has none",
                "  hint: *",
            ],
        ),
        (
            {
                "specs/f.yaml": "feature: f\ntarget: feature:echo\ntools: [{name: x, parameters: {type: object}}]\nmax_steps: 2\ncases:\n  - id: one\n    vars: {text: a}\n"
            },
            ["specs/f.yaml:4:1: max_steps is for prompt and messages specs: a target chooses its own", "  hint: *"],
        ),
        (
            {"specs/f.yaml": "feature: f\nmessages:\n  - user: hi\n  - tool: '{}'\ncases:\n  - id: one\n"},
            [
                "specs/f.yaml:4:5: a tool turn answers a call, but no call of the assistant turn before it is left to answer",
                "  hint: *",
            ],
        ),
        (
            {
                "specs/f.yaml": "feature: f\nmessages:\n  - user: hi\n  - {role: assistant, tool_calls: [lookup]}\ncases:\n  - id: one\n"
            },
            ["specs/f.yaml:4:36: a tool call needs an id and a function with a name", "  hint: e.g. *"],
        ),
    ],
    ids=[
        "tools_file_missing",
        "tools_not_a_list",
        "tools_bad_schema",
        "tool_bad_name",
        "unknown_role",
        "unknown_role_openai_form",
        "no_content",
        "content_not_text",
        "prompt_and_messages",
        "turn_var_missing",
        "case_turn_var_missing",
        "tool_results_undeclared",
        "check_names_undeclared_tool",
        "tool_choice_without_tools",
        "max_steps_zero",
        "tool_result_function_not_own_code",
        "case_messages_without_spec_messages",
        "max_steps_on_a_target",
        "tool_turn_without_a_call",
        "tool_call_not_a_mapping",
    ],
)
def test_each_mistake_is_one_located_error(project: Project, files: dict[str, str], lines: list[str]) -> None:
    for name, text in files.items():
        project.file(name, text)
    result = project.pytester.run(AITEST, "validate")
    assert result.ret == 1
    result.stdout.fnmatch_lines(lines, consecutive=True)
    assert "Traceback" not in result.stdout.str() + result.stderr.str()


def test_a_bad_chat_spec_fails_alone_and_a_tools_file_is_not_a_spec(project: Project) -> None:
    project.file("specs/tools/orders.yaml", TOOLS)
    project.spec("specs/bad.yaml", "feature: bad\nmessages:\n  - bot: hi\ncases:\n  - id: one\n")
    result = project.run("specs", "--aitest-record=off")
    result.assert_outcomes(failed=1)  # the bad spec's one error item; the tools file collects nothing
    result.stdout.fnmatch_lines(["*specs/bad.yaml:3:5: unknown role 'bot'*"])
    assert "orders.yaml" not in result.stdout.str()
