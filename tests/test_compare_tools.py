"""`aitest compare` on conversations with tool calls: agreement counts equal calls, a changed call regresses
like a changed answer, and every report (compare.json, the table, the Markdown, the HTML) shows the calls.
The sides are run reports written by hand, as a run of an order assistant would write them."""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import pytest

from aitest.compare.calls import call_agreement, calls_change
from aitest.compare.engine import CaseComparison, Comparison, compare
from aitest.compare.schema import compare_schema
from aitest.compare.sides import Side
from aitest.models.response import ToolCall
from aitest.reports.compare_html import html
from aitest.reports.compare_report import compare_document, markdown, terminal

Call = tuple[str, dict[str, Any]]
CANCEL: Call = ("cancel_order", {"order_id": "1234"})
LOOKUP: Call = ("lookup_order", {"order_id": "1234"})
REFUND: Call = ("refund_order", {"order_id": "1234", "amount": 20})


def trajectory(calls: list[Call], reply: str, *, results: list[str] | None = None) -> list[dict[str, Any]]:
    """One step per call (its result fed back), then the reply: as a run report keeps a conversation."""
    steps = []
    for i, (name, arguments) in enumerate(calls):
        content = (results or [])[i] if i < len(results or []) else json.dumps({"ok": True, "order_id": "1234"})
        steps.append({"text": "", "calls": [{"id": f"call_{i}", "name": name, "arguments": arguments}],
                      "results": [{"call_id": f"call_{i}", "name": name, "content": content}],
                      "finish_reason": "tool_calls"})  # fmt: skip
    steps.append({"text": reply, "calls": [], "results": [], "finish_reason": "stop"})
    return steps


def case(
    case_id: str,
    outcome: str,
    calls: list[Call] | None,
    reply: str = "Done: order 1234 is cancelled.",
    *,
    kind: str = "case",
    results: list[str] | None = None,
) -> dict[str, Any]:
    """A run-report case; ``calls=None``: a feature that is no conversation (its run has no trajectory)."""
    run: dict[str, Any] = {
        "run": 0, "passed": outcome == "passed", "output": reply, "latency_ms": 120.0, "model_calls": 2,
        "tokens": {"prompt": 50, "completion": 9}, "problem": "", "checks": [],
    }  # fmt: skip
    if calls is not None:
        run["trajectory"] = trajectory(calls, reply, results=results)
    reason = "" if outcome == "passed" else "tool_called cancel_order: it was not called"
    return {"feature": "orders", "id": case_id, "kind": kind, "outcome": outcome, "reason": reason, "runs": [run]}


def side(name: str, *cases: dict[str, Any]) -> Side:
    return Side(name, "report", cases={(c["feature"], c["id"]): c for c in cases})


def one(base: dict[str, Any], other: dict[str, Any], **options: Any) -> CaseComparison:
    (found,) = compare(side("base.json", base), [side("cand.json", other)], **options).cases
    return found


def changed_call() -> Comparison:
    """The order assistant's swap: one case now looks the order up instead of cancelling it (its checks still
    pass), one makes the same calls, one is no conversation."""
    base = side(
        "base.json",
        case("cancel_by_number", "passed", [CANCEL]),
        case("status", "passed", [LOOKUP], "It ships on <b>December 9</b>."),
        case("greeting", "passed", None, "Hello!"),
    )
    other = side(
        "cand.json",
        case("cancel_by_number", "passed", [LOOKUP], "Order 1234 is <script>alert('x')</script> shipped."),
        case("status", "passed", [LOOKUP], "It ships on <b>December 9</b>."),
        case("greeting", "passed", None, "Hello!"),
    )
    return compare(base, [other])


def test_call_agreement_counts_equal_calls_position_by_position() -> None:
    a, b, c = (ToolCall(f"call_{i}", n, args) for i, (n, args) in enumerate((CANCEL, LOOKUP, REFUND)))
    assert call_agreement([], []) == 1.0  # neither side called a tool
    assert call_agreement([a, b], [ToolCall("call_9", *CANCEL), b]) == 1.0  # ids do not count
    assert call_agreement([a, b], [a, c, b]) == pytest.approx(1 / 3)  # only the first position is equal
    assert call_agreement([a], []) == 0.0
    assert call_agreement([a], [ToolCall("call_0", "cancel_order", {"order_id": "12345"})]) == 0.0  # arguments count
    assert calls_change([a, b], [a, b]) == ""
    assert calls_change([a, b], [a]) == 'tool calls changed from call 2: lookup_order(order_id="1234") -> no call'


@pytest.mark.parametrize(
    ("before", "after", "reply_after", "similarity", "expected"),
    [
        ([CANCEL, LOOKUP], [CANCEL, REFUND, LOOKUP], None, None, (1 / 3 + 1.0) / 2),  # the same reply: 1.0
        ([CANCEL, LOOKUP], [CANCEL, REFUND, LOOKUP], "Something else.", None, 1 / 3),  # reply unknown: calls alone
        ([CANCEL], [LOOKUP], "Something else.", 0.5, (0.0 + 0.5) / 2),  # the reply's embedding similarity
        ([], [], None, None, 1.0),  # no call on either side, the same reply
        ([CANCEL], [CANCEL], None, None, 1.0),
    ],
)
def test_the_case_agreement_is_the_mean_of_the_calls_and_the_reply(
    before: list[Call], after: list[Call], reply_after: str | None, similarity: float | None, expected: float
) -> None:
    other = case("c", "passed", after, reply_after or "Done: order 1234 is cancelled.")
    found = one(case("c", "passed", before), other, similarity=lambda a, b: similarity)
    assert found.agreement == pytest.approx(expected)


def test_a_changed_call_regresses_even_when_the_checks_pass() -> None:
    comparison = changed_call()
    verdicts = {c.id: (c.verdict, c.calls_changed, c.calls_reason) for c in comparison.cases}
    assert verdicts == {
        "cancel_by_number": (
            "regressed",
            True,
            'tool calls changed: cancel_order(order_id="1234") -> lookup_order(order_id="1234")',
        ),
        "status": ("passed", False, ""),
        "greeting": ("passed", False, ""),
    }
    (feature,) = comparison.features
    assert feature.counts["regressed"] == 1 and feature.reasons == ["1 case(s) regressed"]
    assert not comparison.passed


def test_the_same_calls_pass_whatever_their_ids() -> None:
    other = case("c", "passed", [CANCEL, LOOKUP])
    other["runs"][0]["trajectory"][0]["calls"][0]["id"] = "call_7"  # another id for the same call
    found = one(case("c", "passed", [CANCEL, LOOKUP]), other)
    assert (found.verdict, found.calls_changed, found.agreement) == ("passed", False, 1.0)


@pytest.mark.parametrize(
    ("before", "after", "reason", "agreement"),
    [
        ([CANCEL], [], 'tool calls changed: cancel_order(order_id="1234") -> no call', 0.5),
        ([], [CANCEL], 'tool calls changed: no call -> cancel_order(order_id="1234")', 0.5),
        ([CANCEL], None, 'tool calls changed: cancel_order(order_id="1234") -> no call', 0.5),  # no trajectory
        (None, [CANCEL], 'tool calls changed: no call -> cancel_order(order_id="1234")', 0.5),
        ([LOOKUP, CANCEL], [LOOKUP], 'tool calls changed from call 2: cancel_order(order_id="1234") -> no call', 0.75),
    ],
)
def test_calls_on_one_side_only_are_a_change(
    before: list[Call] | None, after: list[Call] | None, reason: str, agreement: float
) -> None:
    found = one(case("c", "passed", before), case("c", "passed", after))
    assert (found.verdict, found.calls_changed, found.calls_reason) == ("regressed", True, reason)
    assert found.agreement == pytest.approx(agreement)  # the mean of the calls' and the same reply's 1.0


@pytest.mark.parametrize(
    ("base_outcome", "other_outcome", "verdict", "changed"),
    [
        ("failed", "passed", "improved", True),  # a fix that calls another tool is still a fix
        ("failed", "failed", "failed", True),
        ("passed", "failed", "regressed", True),
        ("passed", "missing", "missing", False),  # no evidence on a side: nothing to say about its calls
        ("skipped", "passed", "missing", False),
    ],
)
def test_only_a_baseline_pass_turns_a_changed_call_into_a_regression(
    base_outcome: str, other_outcome: str, verdict: str, changed: bool
) -> None:
    found = one(case("c", base_outcome, [CANCEL]), case("c", other_outcome, [LOOKUP]))
    assert (found.verdict, found.calls_changed) == (verdict, changed)


def test_a_property_is_not_compared_by_its_calls() -> None:
    found = one(case("p", "passed", [CANCEL], kind="property"), case("p", "passed", [LOOKUP], kind="property"))
    assert (found.verdict, found.calls_changed, found.agreement) == ("passed", False, None)


def test_compare_json_carries_the_calls_and_validates() -> None:
    document = compare_document(changed_call())
    jsonschema.validate(document, compare_schema(), format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
    cases = {c["id"]: c for c in document["cases"]}
    first = document["cases"][0]
    assert first["id"] == "cancel_by_number" and first["verdict"] == "regressed"  # regressions first
    assert first["calls_changed"] is True
    assert first["calls_reason"] == 'tool calls changed: cancel_order(order_id="1234") -> lookup_order(order_id="1234")'
    assert first["baseline"]["tool_calls"] == [{"name": "cancel_order", "arguments": {"order_id": "1234"}}]
    assert first["candidate"]["tool_calls"] == [{"name": "lookup_order", "arguments": {"order_id": "1234"}}]
    assert cases["status"]["calls_changed"] is False and cases["status"]["calls_reason"] == ""
    assert "tool_calls" not in cases["greeting"]["baseline"]  # no conversation: no calls to list
    assert cases["cancel_by_number"]["agreement"] == pytest.approx(0.0)  # calls differ; the reply is unknown


def test_the_table_and_the_markdown_name_the_changed_call() -> None:
    comparison = changed_call()
    change = 'tool calls changed: cancel_order(order_id="1234") -> lookup_order(order_id="1234")'
    lines = terminal(comparison).splitlines()
    assert f"  regressed orders::cancel_by_number (cand.json): {change}" in lines
    assert f"| **regressed** | `orders::cancel_by_number` | cand.json | {change} |" in markdown(comparison)


def test_a_failed_check_and_a_changed_call_are_both_said() -> None:
    comparison = compare(side("base.json", case("c", "passed", [CANCEL])), [side("cand.json", case("c", "failed", []))])
    assert "regressed orders::c (cand.json): tool_called cancel_order: it was not called; tool calls changed: " \
        'cancel_order(order_id="1234") -> no call' in terminal(comparison)  # fmt: skip


def test_the_html_shows_both_trajectories_escaped() -> None:
    hostile = '{"note": "<img src=x onerror=alert(1)>"}'
    base = case("c", "passed", [CANCEL, ("notify", {"text": "<script>alert(1)</script>"})], results=["{}", hostile])
    other = case("c", "passed", [CANCEL, LOOKUP], "<script>alert(2)</script>")
    page = html(compare(side("base.json", base), [side("cand.json", other)]))
    assert "<script" not in page and "<img" not in page  # model output shows as text, never runs
    assert page.count('<details class="trajectory baseline" open>') == 1
    assert page.count('<details class="trajectory candidate" open>') == 1
    assert "baseline trajectory: 3 step(s), 2 tool call(s)" in page
    assert "notify(text=&quot;&lt;script&gt;alert(1)&lt;/script&gt;&quot;)" in page  # the call, with its arguments
    assert "&lt;img src=x onerror=alert(1)&gt;" in page  # the result fed back
    assert "&lt;script&gt;alert(2)&lt;/script&gt;" in page  # the candidate's reply
    assert page.count('class="call changed"') == 2  # the second call, on each side
    assert page.count('class="call"') == 2  # cancel_order, equal on both sides
    assert '<span class="del">- 2. notify(' in page and '<span class="add">+ 2. lookup_order(' in page
    assert '<p class="calls-changed">tool calls changed from call 2: ' in page


def test_the_html_of_a_feature_without_conversations_is_as_before() -> None:
    base, other = case("c", "passed", None, "Hello!"), case("c", "passed", None, "Hi!")
    page = html(compare(side("base.json", base), [side("cand.json", other)]))
    assert "trajectory" not in page.split("</style>")[1] and "calls-diff" not in page.split("</style>")[1]


def test_a_chat_without_calls_is_judged_by_its_reply_alone() -> None:
    """No call on either side: the reply's agreement alone, not raised by a call agreement of 1.0."""
    found = one(case("c", "passed", []), case("c", "passed", [], "Something else."), similarity=lambda a, b: 0.4)
    assert found.agreement == pytest.approx(0.4)


def test_a_changed_call_counts_in_the_gate_but_not_in_the_pass_rate_statistics() -> None:
    (feature,) = changed_call().features
    assert feature.counts["regressed"] == 1  # the gate: a changed call is a regression
    assert feature.p_value == pytest.approx(1.0)  # McNemar: no case went from pass to fail
    assert feature.difference.value == pytest.approx(0.0)
