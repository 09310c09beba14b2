"""Every tool check passing and failing in a real spec run by pytest, with the message a user sees.

The trajectories come from the scripted server of tests/tool_server.py through the openai provider: a
case's message says which calls the "model" makes (one `CALL name {args}` line per call, all in one step).
"""

from __future__ import annotations

import json
import re

from llama_server import FakeServer, fake_http_server
from tool_server import pyproject, tool_server

from conftest import Project

FIXTURES = (tool_server, fake_http_server)
LOOKUP = 'CALL lookup_order {"order_id": "77"}'
CANCEL = 'CALL cancel_order {"order_id": "1234", "reason": "other"}'
BOTH = json.dumps(f"{LOOKUP}\n{CANCEL}")  # two calls in one step, lookup first (a YAML double-quoted text)
SPEC = f"""
feature: orders
tools:
  - {{type: function, function: {{name: lookup_order, parameters: {{type: object, properties: {{order_id: {{type: string}}}}}}}}}}
  - {{type: function, function: {{name: cancel_order, parameters: {{type: object, properties: {{order_id: {{type: string}}, reason: {{type: string}}}}}}}}}}
  - {{type: function, function: {{name: refund_order, parameters: {{type: object, properties: {{order_id: {{type: integer}}}}}}}}}}
messages:
  - user: "{{{{ m }}}}"
tool_results: {{lookup_order: {{status: shipped}}, cancel_order: {{status: cancelled}}}}
cases:
  - {{id: ok_called, vars: {{m: '{LOOKUP}'}}, expect: [{{tool_called: lookup_order}}]}}
  - {{id: bad_called, vars: {{m: '{LOOKUP}'}}, expect: [{{tool_called: cancel_order}}]}}
  - {{id: ok_args_subset, vars: {{m: '{CANCEL}'}}, expect: [{{tool_called: cancel_order, args: {{order_id: "1234"}}}}]}}
  - {{id: bad_args_subset, vars: {{m: '{CANCEL}'}}, expect: [{{tool_called: cancel_order, args: {{order_id: "99"}}}}]}}
  - {{id: ok_args_exact, vars: {{m: '{CANCEL}'}}, expect: [{{tool_called: cancel_order, args: {{order_id: "1234", reason: other}}, args_match: exact}}]}}
  - {{id: bad_args_exact, vars: {{m: '{CANCEL}'}}, expect: [{{tool_called: cancel_order, args: {{order_id: "1234"}}, args_match: exact}}]}}
  - {{id: ok_args_schema, vars: {{m: '{CANCEL}'}}, expect: [{{tool_called: cancel_order, args: {{properties: {{order_id: {{pattern: "^[0-9]+$"}}}}}}, args_match: schema}}]}}
  - {{id: bad_args_schema, vars: {{m: '{CANCEL}'}}, expect: [{{tool_called: cancel_order, args: {{properties: {{order_id: {{maxLength: 2}}}}}}, args_match: schema}}]}}
  - {{id: ok_times, vars: {{m: '{LOOKUP}'}}, expect: [{{tool_called: lookup_order, times: 1}}]}}
  - {{id: bad_times, vars: {{m: '{LOOKUP}'}}, expect: [{{tool_called: lookup_order, times: 2}}]}}
  - {{id: ok_not_called, vars: {{m: '{LOOKUP}'}}, expect: [{{not_tool_called: refund_order}}]}}
  - {{id: bad_not_called, vars: {{m: '{LOOKUP}'}}, expect: [{{not_tool_called: lookup_order}}]}}
  - {{id: ok_none, vars: {{m: hello}}, expect: [no_tool_calls]}}
  - {{id: bad_none, vars: {{m: '{LOOKUP}'}}, expect: [no_tool_calls]}}
  - {{id: ok_in_order, vars: {{m: {BOTH}}}, expect: [{{tool_calls: [lookup_order, cancel_order]}}]}}
  - {{id: bad_in_order, vars: {{m: {BOTH}}}, expect: [{{tool_calls: [cancel_order, lookup_order]}}]}}
  - {{id: ok_exact, vars: {{m: {BOTH}}}, expect: [{{tool_calls: [lookup_order, {{name: cancel_order, args: {{order_id: "1234"}}}}], order: exact}}]}}
  - {{id: bad_exact, vars: {{m: {BOTH}}}, expect: [{{tool_calls: [lookup_order], order: exact}}]}}
  - {{id: ok_any_order, vars: {{m: {BOTH}}}, expect: [{{tool_calls: [cancel_order, lookup_order], order: any_order}}]}}
  - {{id: bad_any_order, vars: {{m: {BOTH}}}, expect: [{{tool_calls: [refund_order, lookup_order], order: any_order}}]}}
  - {{id: ok_superset, vars: {{m: {BOTH}}}, expect: [{{tool_calls: [cancel_order], order: superset}}]}}
  - {{id: bad_superset, vars: {{m: '{LOOKUP}'}}, expect: [{{tool_calls: [cancel_order], order: superset}}]}}
  - {{id: ok_subset, vars: {{m: '{LOOKUP}'}}, expect: [{{tool_calls: [lookup_order, cancel_order], order: subset}}]}}
  - {{id: bad_subset, vars: {{m: {BOTH}}}, expect: [{{tool_calls: [lookup_order], order: subset}}]}}
  - {{id: ok_f1, vars: {{m: {BOTH}}}, expect: [{{tool_call_f1: [lookup_order, cancel_order]}}]}}
  - {{id: bad_f1, vars: {{m: '{LOOKUP}'}}, expect: [{{tool_call_f1: [lookup_order, cancel_order], threshold: 0.9}}]}}
  - {{id: ok_valid, vars: {{m: '{LOOKUP}'}}, expect: [valid_tool_calls]}}
  - {{id: bad_valid, vars: {{m: 'CALL refund_order {{"order_id": "x"}}'}}}}
  - {{id: ok_steps, vars: {{m: '{LOOKUP}'}}, expect: [{{max_steps: 2}}]}}
  - {{id: bad_steps, vars: {{m: '{LOOKUP}'}}, expect: [{{max_steps: 1}}]}}
"""
MESSAGES = {
    "bad_called": 'cancel_order was not called; calls made: lookup_order(order_id="77") at step 1',
    "bad_args_subset": 'cancel_order was called, but not with the expected arguments: at step 1 order_id is "1234", expected "99"',
    "bad_args_exact": 'unexpected argument reason="other"',
    "bad_args_schema": "is too long",
    "bad_times": "expected 2 calls of lookup_order, got 1",
    "bad_not_called": "but lookup_order must not be called",
    "bad_none": 'expected no tool calls, got 1: lookup_order(order_id="77") at step 1',
    "bad_in_order": "lookup_order was not called after cancel_order",
    "bad_exact": "expected 1 call, got 2; extra: cancel_order",
    "bad_any_order": "missing 1 of 2 expected calls: refund_order",
    "bad_superset": "missing 1 of 1 expected call: cancel_order",
    "bad_subset": "is not among the expected calls",
    "bad_f1": "tool call F1 0.67, below the threshold 0.9",
    "bad_valid": "refund_order(order_id=\"x\"): at /order_id: 'x' is not of type 'integer'",
    "bad_steps": "took 2 model steps, more than the maximum 1",
}


def test_every_tool_check_passes_and_fails_where_it_should(project: Project, tool_server: FakeServer) -> None:
    project.pytester.makepyprojecttoml(pyproject(tool_server.base_url))
    project.spec("specs/orders.yaml", SPEC)
    result = project.run("--aitest-record=once", "-v", "--tb=short")
    outcomes = dict(re.findall(r"specs/orders.yaml::(\w+) (PASSED|FAILED)", result.stdout.str()))
    assert len(outcomes) == 30
    assert {k for k, v in outcomes.items() if v == "PASSED"} == {k for k in outcomes if k.startswith("ok_")}
    text = result.stdout.str()
    for case, message in MESSAGES.items():
        block = text.split(f"orders::{case} failed", 1)[1].split("orders::", 1)[0]
        assert message in block, f"{case}: {message!r} not in\n{block}"
    assert "expected (in_order)" in text or "expected" in text  # the side-by-side block of a failing check
    replay = project.run("-q")  # the same verdicts from the recording
    replay.assert_outcomes(passed=15, failed=15)
