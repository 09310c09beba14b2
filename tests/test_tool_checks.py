"""The tool checks on handmade trajectories: each passing and failing with the message a user reads."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from aitest.checks.base import CheckContext, CheckResult, CheckSetup
from aitest.checks.registry import all_checks
from aitest.errors import Location, SpecError
from aitest.models.response import ToolCall
from aitest.spec.schema import check_schemas
from aitest.trajectory import Step, ToolResult, Trajectory


def _tool(name: str, properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
    parameters = {"type": "object", "properties": properties, "required": required, "additionalProperties": False}
    return {"type": "function", "function": {"name": name, "description": name, "parameters": parameters}}


TOOLS = {
    "lookup_order": _tool("lookup_order", {"order_id": {"type": "string"}}, ["order_id"]),
    "cancel_order": _tool("cancel_order", {"order_id": {"type": "string"}, "reason": {"type": "string"}}, ["order_id"]),
    "refund_order": _tool("refund_order", {"order_id": {"type": "string"}, "amount": {"type": "number"}}, ["order_id"]),
}
WHERE = Location("specs/orders.yaml", 12, 9)

Call = tuple[str, dict[str, Any]]


def trajectory(*steps: list[Call] | str) -> Trajectory:
    """Steps from ``[(name, args), ...]`` (calls, each answered with {"ok": true}) or a reply text."""
    out, number = [], 0
    for step in steps:
        if isinstance(step, str):
            out.append(Step(step, finish_reason="stop"))
            continue
        calls = []
        for name, args in step:
            calls.append(ToolCall(f"call_{number}", name, args))
            number += 1
        results = tuple(ToolResult(c.id, c.name, '{"ok": true}') for c in calls)
        out.append(Step("", tuple(calls), results, "tool_calls"))
    return tuple(out)


def prepare(check: dict[str, Any], tools: Any = TOOLS, spec_dir: Path = Path(".")) -> Any:
    name = next(iter(check))
    options = {k: v for k, v in check.items() if k != name}
    return all_checks()[name](check[name], options, CheckSetup(spec_dir, WHERE, tools=tools))


def run(check: dict[str, Any], steps: Trajectory, tools: Any = TOOLS) -> CheckResult:
    result = prepare(check, tools).run(CheckContext(value="Done.", trajectory=steps))
    assert isinstance(result, CheckResult)
    return result


LOOKUP = ("lookup_order", {"order_id": "77"})
CANCEL = ("cancel_order", {"order_id": "1234"})
REFUND = ("refund_order", {"order_id": "1234", "amount": 20})

# -- tool_called ---------------------------------------------------------------------------------------------


def test_tool_called_passes_with_a_subset_of_the_arguments() -> None:
    steps = trajectory([LOOKUP], [("cancel_order", {"order_id": "1234", "reason": "late"})], "Cancelled.")
    result = run({"tool_called": "cancel_order", "args": {"order_id": "1234"}}, steps)
    assert result.passed
    assert result.message == 'called cancel_order(order_id="1234", reason="late") at step 2'


def test_tool_called_fails_when_the_tool_was_not_called() -> None:
    result = run({"tool_called": "cancel_order"}, trajectory([LOOKUP], "It ships tomorrow."))
    assert not result.passed
    assert result.message == 'cancel_order was not called; calls made: lookup_order(order_id="77") at step 1'
    assert run({"tool_called": "cancel_order"}, trajectory("Hi")).message.endswith("calls made: none")


def test_tool_called_fails_when_the_arguments_differ() -> None:
    steps = trajectory([LOOKUP], [("cancel_order", {"order_id": "77"})])
    result = run({"tool_called": "cancel_order", "args": {"order_id": "1234"}}, steps)
    assert not result.passed
    assert result.message == (
        'cancel_order was called, but not with the expected arguments: at step 2 order_id is "77", expected "1234"'
    )


@pytest.mark.parametrize(
    ("expected", "actual", "why"),
    [
        ({"address": {"city": "Paris"}}, {"address": {"city": "Paris", "zip": "75001"}, "x": 1}, None),
        ({"address": {"city": "Paris"}}, {"address": {"city": "Lyon"}}, 'address.city is "Lyon", expected "Paris"'),
        ({"address": {"city": "Paris"}}, {"order_id": "1"}, 'address is missing, expected {"city": "Paris"}'),
        ({"items": [1, 2]}, {"items": [1, 2]}, None),
        ({"items": [1, 2]}, {"items": [1, 2, 3]}, "items is [1, 2, 3], expected [1, 2]"),
        ({"items": [{"sku": "a"}]}, {"items": [{"sku": "a", "n": 1}]}, 'items is [{"n": 1, "sku": "a"}], expected'),
        ({"express": True}, {"express": 1}, "express is 1, expected true"),
        ({"amount": 20}, {"amount": 20.0}, None),
    ],
)
def test_args_match_subset_is_recursive_on_mappings_and_strict_on_lists(
    expected: dict[str, Any], actual: dict[str, Any], why: str | None
) -> None:
    result = run({"tool_called": "cancel_order", "args": expected}, trajectory([("cancel_order", actual)]))
    assert result.passed is (why is None)
    if why:
        assert why in result.message


def test_args_match_exact() -> None:
    steps = trajectory([("cancel_order", {"order_id": "1234", "reason": "late"})])
    check = {"tool_called": "cancel_order", "args": {"order_id": "1234"}, "args_match": "exact"}
    result = run(check, steps)
    assert not result.passed
    assert result.message.endswith('at step 1 unexpected argument reason="late"')
    assert run({**check, "args": {"order_id": "1234", "reason": "late"}}, steps).passed
    assert run({**check, "args": {"order_id": "1234"}}, steps).passed is False
    assert run({"tool_called": "cancel_order", "args": {"order_id": "1234"}}, steps).passed  # subset by default


def test_args_match_schema() -> None:
    schema = {"type": "object", "properties": {"order_id": {"pattern": "^[0-9]+$"}}, "required": ["order_id"]}
    check = {"tool_called": "cancel_order", "args": schema, "args_match": "schema"}
    assert run(check, trajectory([CANCEL])).passed
    result = run(check, trajectory([("cancel_order", {"order_id": "abc"})]))
    assert not result.passed
    assert result.message == (
        "cancel_order was called, but not with the expected arguments: "
        "at step 1 at /order_id: 'abc' does not match '^[0-9]+$'"
    )


def test_times_counts_the_matching_calls() -> None:
    steps = trajectory([CANCEL], [LOOKUP], [CANCEL, ("cancel_order", {"order_id": "9"})])
    assert (
        run({"tool_called": "cancel_order", "times": 3}, steps).message == "called cancel_order 3 times (steps 1, 3, 3)"
    )
    with_args = {"tool_called": "cancel_order", "args": {"order_id": "1234"}}
    assert run({**with_args, "times": 2}, steps).passed
    result = run({**with_args, "times": 1}, steps)
    assert not result.passed
    assert result.message == 'expected 1 call of cancel_order(order_id="1234", ...), got 2 (steps 1, 3)'
    result = run({"tool_called": "cancel_order", "times": 2}, trajectory([LOOKUP], [CANCEL]))
    assert result.message == "expected 2 calls of cancel_order, got 1 (step 2)"
    result = run({"tool_called": "refund_order", "times": 1}, trajectory([LOOKUP]))
    assert result.message == 'expected 1 call of refund_order, got 0; calls made: lookup_order(order_id="77") at step 1'


def test_times_zero() -> None:
    assert run({"tool_called": "refund_order", "times": 0}, trajectory([LOOKUP])).message == (
        "refund_order was not called (times: 0)"
    )
    assert not run({"tool_called": "refund_order", "times": 0}, trajectory([REFUND])).passed


# -- not_tool_called, no_tool_calls, max_steps --------------------------------------------------------------


def test_not_tool_called() -> None:
    assert run({"not_tool_called": "refund_order"}, trajectory([LOOKUP], "Ok")).message == (
        "refund_order was not called"
    )
    result = run({"not_tool_called": "refund_order"}, trajectory([LOOKUP], [REFUND], [REFUND]))
    assert not result.passed
    assert result.message == (
        'called refund_order(order_id="1234", amount=20) at step 2 (and 1 more time), but refund_order must not be called'
    )


def test_not_tool_called_with_args_counts_only_matching_calls() -> None:
    check = {"not_tool_called": "refund_order", "args": {"amount": 100}}
    result = run(check, trajectory([REFUND]))
    assert result.passed
    assert result.message == "refund_order(amount=100, ...) was not called (called 1 time with other arguments)"
    result = run(check, trajectory([("refund_order", {"order_id": "1", "amount": 100})]))
    assert not result.passed
    assert result.message.startswith('called refund_order(order_id="1", amount=100) at step 1, but')


def test_no_tool_calls() -> None:
    assert run({"no_tool_calls": None}, trajectory("Hello!")).message == "no tool calls in 1 step"
    assert run({"no_tool_calls": True}, ()).passed
    result = run({"no_tool_calls": None}, trajectory([LOOKUP], [CANCEL], "Done"))
    assert not result.passed
    assert result.message == (
        'expected no tool calls, got 2: lookup_order(order_id="77") at step 1, cancel_order(order_id="1234") at step 2'
    )


def test_max_steps() -> None:
    steps = trajectory([LOOKUP], [CANCEL], "Done")
    assert run({"max_steps": 3}, steps).message == "3 model steps, at most 3"
    result = run({"max_steps": 2}, steps)
    assert not result.passed
    assert result.message == "took 3 model steps, more than the maximum 2"
    assert "step 3: reply" in result.detail


# -- tool_calls and its orders ------------------------------------------------------------------------------

RUNS = {
    "exact": trajectory([LOOKUP], [CANCEL], "Done"),
    "between": trajectory([LOOKUP], [REFUND], [CANCEL]),
    "reversed": trajectory([CANCEL], [LOOKUP]),
    "lookup_twice": trajectory([LOOKUP], [LOOKUP]),
    "lookup_only": trajectory([LOOKUP]),
    "parallel": trajectory([LOOKUP, CANCEL]),
    "none": trajectory("I cannot help."),
}
BOTH = ["lookup_order", "cancel_order"]
TWICE = ["lookup_order", "lookup_order"]
ONCE = ["lookup_order"]

ORDER_CASES = [
    # order, expected, run, passes
    ("in_order", BOTH, "exact", True),
    ("in_order", BOTH, "between", True),
    ("in_order", BOTH, "reversed", False),
    ("in_order", BOTH, "parallel", True),
    ("in_order", BOTH, "none", False),
    ("in_order", TWICE, "lookup_twice", True),
    ("in_order", TWICE, "lookup_only", False),
    ("in_order", ONCE, "lookup_twice", True),
    ("exact", BOTH, "exact", True),
    ("exact", BOTH, "parallel", True),
    ("exact", BOTH, "between", False),
    ("exact", BOTH, "reversed", False),
    ("exact", BOTH, "none", False),
    ("exact", TWICE, "lookup_twice", True),
    ("exact", ONCE, "lookup_twice", False),
    ("any_order", BOTH, "exact", True),
    ("any_order", BOTH, "between", True),
    ("any_order", BOTH, "reversed", True),
    ("any_order", BOTH, "lookup_only", False),
    ("any_order", BOTH, "none", False),
    ("any_order", TWICE, "lookup_only", False),
    ("any_order", ONCE, "lookup_twice", True),
    ("superset", BOTH, "between", True),
    ("superset", BOTH, "reversed", True),
    ("superset", BOTH, "lookup_only", False),
    ("superset", TWICE, "lookup_only", False),
    ("subset", BOTH, "exact", True),
    ("subset", BOTH, "reversed", True),
    ("subset", BOTH, "lookup_only", True),
    ("subset", BOTH, "between", False),
    ("subset", BOTH, "none", False),
    ("subset", ONCE, "lookup_twice", False),
    ("subset", TWICE, "lookup_twice", True),
]


@pytest.mark.parametrize(("order", "expected", "run_name", "passes"), ORDER_CASES)
def test_tool_calls_orders(order: str, expected: list[str], run_name: str, passes: bool) -> None:
    result = run({"tool_calls": expected, "order": order}, RUNS[run_name])
    assert result.passed is passes, result.message
    if not passes:
        assert "expected (" + order + ")" in result.detail and "| actual" in result.detail


def test_in_order_is_the_default_and_says_what_came_out_of_order() -> None:
    result = run({"tool_calls": BOTH}, RUNS["reversed"])
    assert result.message == (
        "cancel_order was not called after lookup_order at step 2; "
        'calls made: cancel_order(order_id="1234") at step 1, lookup_order(order_id="77") at step 2'
    )
    assert run({"tool_calls": BOTH}, RUNS["between"]).message == (
        "called in order: lookup_order at step 1, cancel_order at step 3"
    )
    assert run({"tool_calls": BOTH}, RUNS["none"]).message == "lookup_order was not called; calls made: none"


def test_exact_order_messages() -> None:
    check = {"tool_calls": BOTH, "order": "exact"}
    assert run(check, RUNS["between"]).message == (
        'call 2 is refund_order(order_id="1234", amount=20) at step 2, expected cancel_order'
    )
    assert run(check, RUNS["lookup_only"]).message == "expected 2 calls, got 1; missing: cancel_order"
    assert run({**check, "tool_calls": ONCE}, RUNS["lookup_twice"]).message == (
        'expected 1 call, got 2; extra: lookup_order(order_id="77") at step 2'
    )


def test_any_order_and_subset_messages() -> None:
    assert run({"tool_calls": TWICE, "order": "any_order"}, RUNS["lookup_only"]).message == (
        'missing 1 of 2 expected calls: lookup_order; calls made: lookup_order(order_id="77") at step 1'
    )
    assert run({"tool_calls": BOTH, "order": "subset"}, RUNS["between"]).message == (
        'refund_order(order_id="1234", amount=20) at step 2 is not among the expected calls'
    )
    assert run({"tool_calls": ONCE, "order": "subset"}, RUNS["lookup_twice"]).message == (
        'lookup_order(order_id="77") at step 2 is not among the expected calls '
        "(lookup_order is expected at most 1 time, called 2)"
    )
    assert run({"tool_calls": BOTH, "order": "subset"}, RUNS["none"]).message == (
        "no tool call was made; expected some of: lookup_order, cancel_order"
    )


def test_tool_calls_items_with_args() -> None:
    expected = [
        {"name": "lookup_order", "args": {"order_id": "77"}},
        {"name": "cancel_order", "args": {"order_id": "1"}},
    ]
    result = run({"tool_calls": expected}, RUNS["exact"])
    assert not result.passed
    assert result.message.startswith(
        "cancel_order was called after lookup_order at step 1, but not with the expected arguments: "
        'at step 2 order_id is "1234", expected "1"'
    )
    expected[1]["args"] = {"order_id": "1234"}
    assert run({"tool_calls": expected, "args_match": "exact"}, RUNS["exact"]).passed


def test_any_order_pairs_each_expected_call_with_its_own_call() -> None:
    """A greedy pairing would give the first lookup_order to the bare item and then miss order 1."""
    steps = trajectory([("lookup_order", {"order_id": "1"})], [("lookup_order", {"order_id": "2"})])
    expected = ["lookup_order", {"name": "lookup_order", "args": {"order_id": "1"}}]
    assert run({"tool_calls": expected, "order": "any_order"}, steps).passed
    assert run({"tool_calls": list(reversed(expected)), "order": "subset"}, steps).passed


def test_failure_detail_shows_expected_and_actual_side_by_side() -> None:
    result = run({"tool_calls": BOTH, "order": "exact"}, RUNS["between"])
    lines = result.detail.splitlines()
    assert lines[0].split("|")[0].strip() == "expected (exact)" and lines[0].endswith("| actual")
    assert lines[2].startswith("lookup_order") and lines[2].endswith(
        '| step 1: lookup_order(order_id="77") -> {"ok": true}'
    )
    assert lines[3].startswith("cancel_order") and "| step 2: refund_order(" in lines[3]
    assert lines[4].strip().startswith('| step 3: cancel_order(order_id="1234")')
    assert len({line.index("|") for line in lines if "|" in line}) == 1  # one column edge


def test_failure_messages_and_details_stay_bounded() -> None:
    huge = {"order_id": "9" * 5000, "note": "x" * 5000}
    steps = trajectory(*[[("lookup_order", huge)] for _ in range(40)])
    result = run({"tool_calls": ["cancel_order"] * 30, "order": "exact"}, steps)
    assert not result.passed
    assert len(result.message) < 400
    lines = result.detail.splitlines()
    assert len(lines) <= 20 and lines[-1].startswith("... (")
    assert max(map(len, lines)) <= 300
    assert len(run({"no_tool_calls": None}, steps).message) < 1200


# -- tool_call_f1 ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("calls", "f1"),
    [
        ([[LOOKUP], [CANCEL]], 1.0),
        ([[LOOKUP], [CANCEL], [LOOKUP]], 1.0),  # names as a set
        ([[LOOKUP]], 2 / 3),  # precision 1, recall 1/2
        ([[LOOKUP], [CANCEL], [REFUND]], 0.8),  # precision 2/3, recall 1
        ([[LOOKUP], [REFUND]], 0.5),  # precision 1/2, recall 1/2
        ([[REFUND]], 0.0),
        ([], 0.0),
    ],
)
def test_tool_call_f1_scores(calls: list[list[Call]], f1: float) -> None:
    result = run({"tool_call_f1": BOTH}, trajectory(*calls, "Done"))
    assert result.score == pytest.approx(f1)
    assert result.passed is (f1 == 1.0)


def test_tool_call_f1_threshold_and_messages() -> None:
    steps = trajectory([LOOKUP], [REFUND])
    result = run({"tool_call_f1": BOTH}, steps)
    assert result.message == (
        "tool call F1 0.50, below the threshold 1.0 "
        "(precision 0.50, recall 0.50; not expected: refund_order; not called: cancel_order)"
    )
    assert "expected (tool_call_f1)" in result.detail
    passed = run({"tool_call_f1": BOTH, "threshold": 0.5}, steps)
    assert passed.passed and passed.score == pytest.approx(0.5)
    assert passed.message.startswith("tool call F1 0.50 >= 0.5")


# -- valid_tool_calls -----------------------------------------------------------------------------------------


def test_valid_tool_calls_passes_on_valid_calls() -> None:
    assert run({"valid_tool_calls": None}, RUNS["exact"]).message == "2 tool calls, all valid"
    assert run({"valid_tool_calls": True}, RUNS["none"]).message == "0 tool calls, all valid"


def test_valid_tool_calls_names_the_bad_argument() -> None:
    result = run({"valid_tool_calls": None}, trajectory([LOOKUP], [("cancel_order", {"order_id": 1234})]))
    assert not result.passed
    assert result.message == "step 2: cancel_order(order_id=1234): at /order_id: 1234 is not of type 'string'"
    assert "declared tools" in result.detail and "cancel_order(order_id: string, reason?: string)" in result.detail
    missing = run({"valid_tool_calls": None}, trajectory([("lookup_order", {})]))
    assert missing.message == "step 1: lookup_order(): at /: 'order_id' is a required property"


def test_valid_tool_calls_names_an_undeclared_tool() -> None:
    steps = trajectory([("cancel_ordr", {"order_id": "1"})], [("refund_order", {"order_id": "1", "amount": "all"})])
    result = run({"valid_tool_calls": None}, steps)
    assert not result.passed
    assert result.message == (
        '2 invalid tool calls; first: step 1: cancel_ordr(order_id="1") calls a tool the spec does not declare; '
        "did you mean 'cancel_order'?"
    )
    assert "step 2: refund_order(" in result.detail and "at /amount: 'all' is not of type 'number'" in result.detail


# -- preparation ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "check",
    [
        {"tool_called": "cancel_ordr"},
        {"not_tool_called": "cancel_ordr"},
        {"tool_calls": ["lookup_order", {"name": "cancel_ordr"}]},
        {"tool_call_f1": ["lookup_order", "cancel_ordr"]},
    ],
)
def test_a_check_naming_an_undeclared_tool_fails_at_load(check: dict[str, Any]) -> None:
    name = next(iter(check))
    with pytest.raises(SpecError) as error:
        prepare(check)
    assert error.value.message == (
        f"check '{name}' names tool 'cancel_ordr', which the spec does not declare; did you mean 'cancel_order'?"
    )
    assert error.value.location == WHERE
    assert error.value.hint == "declared tools: cancel_order, lookup_order, refund_order"
    prepare(check, tools=None)  # without `tools:` any name goes (a target's own tools)


def test_an_invalid_args_schema_fails_at_load(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match=r"invalid JSON Schema \(args of cancel_order\) at /type"):
        prepare(
            {"tool_called": "cancel_order", "args": {"type": "nonsense"}, "args_match": "schema"}, spec_dir=tmp_path
        )
    with pytest.raises(SpecError, match="invalid JSON Schema"):
        prepare({"tool_calls": [{"name": "cancel_order", "args": {"type": 3}}], "args_match": "schema"})
    with pytest.raises(SpecError, match="args_match: schema but no args"):
        prepare({"tool_called": "cancel_order", "args_match": "schema"})


def test_an_empty_tool_calls_list_fails_at_load() -> None:
    with pytest.raises(SpecError) as error:
        prepare({"tool_calls": [], "order": "exact"})
    assert error.value.message == "check 'tool_calls' lists no calls"
    assert "no_tool_calls" in error.value.hint and error.value.location == WHERE


def test_valid_tool_calls_needs_the_specs_tools() -> None:
    with pytest.raises(SpecError) as error:
        prepare({"valid_tool_calls": None}, tools=None)
    assert "needs the spec's `tools:`" in error.value.message and error.value.location == WHERE


def test_an_invalid_tool_parameters_schema_fails_at_load() -> None:
    tools = {"bad": {"type": "function", "function": {"name": "bad", "parameters": {"type": "objekt"}}}}
    with pytest.raises(SpecError, match=r"parameters of tool 'bad'"):
        prepare({"valid_tool_calls": None}, tools=tools)


# -- the spec format ------------------------------------------------------------------------------------------

NEW_CHECKS = ("tool_called", "not_tool_called", "no_tool_calls", "tool_calls", "tool_call_f1", "valid_tool_calls")


def test_the_spec_schema_describes_the_tool_checks() -> None:
    schemas = check_schemas()
    for name in (*NEW_CHECKS, "max_steps"):
        assert schemas[name]["properties"][name]["description"]
    assert set(schemas["tool_called"]["properties"]) >= {"args", "args_match", "times", "path", "critical"}
    assert schemas["tool_calls"]["properties"]["order"]["enum"] == [
        "in_order",
        "exact",
        "any_order",
        "superset",
        "subset",
    ]
    assert schemas["no_tool_calls"]["properties"]["no_tool_calls"]["enum"] == [None, True]


def test_aitest_schema_prints_the_tool_checks() -> None:
    done = subprocess.run([sys.executable, "-m", "aitest.cli", "schema"], capture_output=True, text=True, check=True)
    text = json.dumps(json.loads(done.stdout))
    for name in (*NEW_CHECKS, "max_steps"):
        assert f'"{name}"' in text
