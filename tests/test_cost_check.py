"""`max_cost`: a run's token counts priced by its model profile, passing and failing as a user sees it."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest
from llama_server import FakeServer, fake_http_server
from recorded import GEMMA
from tool_server import tool_server

from aitest.recordings import fileformat
from aitest.recordings.entry import Entry, Request, entry_key
from aitest.util.files import write_atomic
from conftest import Project

FIXTURES = (tool_server, fake_http_server)
GPT = {"provider": "openai", "model": "gpt-4o-mini"}
PYPROJECT = """
[tool.aitest]
specs = ["specs"]
default_model = "{default}"

[tool.aitest.models.gpt]
provider = "openai"
base_url = "http://127.0.0.1:9/v1"
model = "gpt-4o-mini"
price = {{input = 0.15, output = 0.60}}

[tool.aitest.models.gpt-unpriced]
provider = "openai"
base_url = "http://127.0.0.1:9/v1"
model = "gpt-4o-mini"

[tool.aitest.models.imported]
provider = "recorded"
model = "gpt-4o-mini"

[tool.aitest.models.local-priced]
provider = "llama_cpp"
model_path = "bundled:gemma-3-270m"
price = {{input = 1, output = 2}}
"""
TRIAGE = """
feature: triage
prompt: "Classify: {{ ticket }}"
cases:
  - id: cheap
    vars: {ticket: short}
  - id: dear
    vars: {ticket: long}
expect:
  - max_cost: 0.0001
"""


@dataclass(frozen=True)
class Call:
    """One recorded `complete` call of a run, with the token counts the provider reported."""

    prompt: str
    prompt_tokens: int | None
    completion_tokens: int | None
    run: int = 0
    response: str = "billing"


def record(root: Path, feature: str, calls: list[Call], model: dict[str, str]) -> None:
    """The feature's recording, as aitest keys it, holding ``calls`` of ``model``."""
    entries = {}
    for call in calls:
        request = Request("complete", prompt=call.prompt, params={})
        key = entry_key(model, request, call.run)
        entries[key] = Entry(
            key, model, request, call.run, call.response, 100.0, call.prompt_tokens, call.completion_tokens
        )
    write_atomic(root / "specs" / "__recordings__" / f"{feature}.yaml", fileformat.dump(feature, entries))


def configure(project: Project, default: str = "gpt") -> None:
    project.pytester.makepyprojecttoml(PYPROJECT.format(default=default))


def test_a_run_over_the_budget_fails_with_its_tokens_and_price_and_one_within_passes(project: Project) -> None:
    configure(project)
    project.spec("specs/triage.yaml", TRIAGE)
    record(project.root, "triage", [Call("Classify: short", 100, 10), Call("Classify: long", 812, 95)], GPT)
    result = project.run("-v", "--aitest-report=report.json")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*specs/triage.yaml::cheap PASSED*",
            "triage::dear failed (specs/triage.yaml:6:9)",
            "  max_cost at specs/triage.yaml:9:5: cost $0.000179 > max_cost $0.0001 "
            "(812 prompt + 95 completion tokens at $0.15/$0.60 per million)",
        ]
    )
    cases = {c["id"]: c for c in json.loads((project.root / "report.json").read_text())["cases"]}
    (cheap,) = cases["cheap"]["runs"][0]["checks"]
    assert cheap["passed"] is True
    assert cheap["score"] == pytest.approx((100 * 0.15 + 10 * 0.60) / 1e6)
    assert cheap["message"] == (
        "cost $0.000021 <= max_cost $0.0001 (100 prompt + 10 completion tokens at $0.15/$0.60 per million)"
    )
    assert cases["dear"]["runs"][0]["checks"][0]["score"] == pytest.approx(178.8e-6)


def test_the_cost_sums_every_call_of_a_run_and_each_determinism_run_is_costed_alone(project: Project) -> None:
    configure(project)
    project.module("bot", "def ask(q, model):\n    return model.complete(q) + model.complete(q + '?')\n")
    project.spec(
        "specs/bot.yaml",
        "feature: bot\ntarget: bot:ask\ndeterminism: {runs: 2, min_pass: 1}\n"
        "cases:\n  - id: a\n    vars: {q: hi}\n    expect: [{max_cost: 0.0002}]\n",
    )
    # run 0: 2 x (400 prompt + 50 completion) = $0.00018; run 1: 2 x (500 + 100) = $0.00027
    run0 = [Call("hi", 400, 50), Call("hi?", 400, 50)]
    run1 = [Call("hi", 500, 100, run=1), Call("hi?", 500, 100, run=1)]
    record(project.root, "bot", run0 + run1, GPT)
    result = project.run("--aitest-report=report.json")
    result.assert_outcomes(passed=1)
    (case,) = json.loads((project.root / "report.json").read_text())["cases"]
    messages = [run["checks"][0]["message"] for run in case["runs"]]
    assert messages == [
        "cost $0.00018 <= max_cost $0.0002 (800 prompt + 100 completion tokens over 2 model calls at $0.15/$0.60 "
        "per million)",
        "cost $0.00027 > max_cost $0.0002 (1000 prompt + 200 completion tokens over 2 model calls at $0.15/$0.60 "
        "per million)",
    ]


def test_a_tool_loop_costs_every_step_live_and_the_same_when_replayed(
    project: Project, tool_server: FakeServer
) -> None:
    project.pytester.makepyprojecttoml(
        '[tool.aitest]\nspecs = ["specs"]\ndefault_model = "scripted"\n\n'
        f'[tool.aitest.models.scripted]\nprovider = "openai"\nbase_url = "{tool_server.base_url}"\n'
        'model = "scripted"\nprice = {input = 1, output = 2}\n'
    )
    project.spec(
        "specs/orders.yaml",
        """
        feature: orders
        tools:
          - {type: function, function: {name: lookup_order, parameters: {type: object}}}
        messages:
          - user: "{{ m }}"
        tool_results: {lookup_order: {status: shipped}}
        cases:
          - id: loop
            vars: {m: 'CALL lookup_order {"order_id": "77"}'}
            expect: [{max_cost: 0.00005}]
        """,
    )
    # step 1: 1 message (10 prompt tokens) + 5; step 2: user, assistant, tool (30) + 5 -> $0.00006
    line = (
        "  max_cost at specs/orders.yaml:10:14: cost $0.00006 > max_cost $0.00005 "
        "(40 prompt + 10 completion tokens over 2 model calls at $1.00/$2.00 per million)"
    )
    live = project.run("--aitest-record=once")
    live.assert_outcomes(failed=1)
    live.stdout.fnmatch_lines([line])
    replay = project.run()
    replay.assert_outcomes(failed=1)
    replay.stdout.fnmatch_lines([line])
    assert "replayed" in replay.stdout.str()


def test_a_local_model_without_a_price_costs_nothing_and_with_one_is_priced(project: Project) -> None:
    configure(project, default="gemma-270m")
    project.spec(
        "specs/local.yaml",
        "feature: local\nprompt: 'Say {{ w }}'\ncases:\n  - id: a\n    vars: {w: hi}\n    expect: [{max_cost: 0}]\n",
    )
    project.spec(
        "specs/priced.yaml",
        "feature: priced\nmodel: local-priced\nprompt: 'Say {{ w }}'\n"
        "cases:\n  - id: a\n    vars: {w: hi}\n    expect: [{max_cost: 0}]\n",
    )
    for feature in ("local", "priced"):
        record(project.root, feature, [Call("Say hi", 300, 20)], GEMMA)
    result = project.run("--aitest-report=report.json")  # replayed: no model is loaded
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        [
            "  max_cost at specs/priced.yaml:7:14: cost $0.00034 > max_cost $0 "
            "(300 prompt + 20 completion tokens at $1.00/$2.00 per million)"
        ]
    )
    cases = {c["feature"]: c for c in json.loads((project.root / "report.json").read_text())["cases"]}
    (local,) = cases["local"]["runs"][0]["checks"]
    assert local["passed"] is True and local["score"] == 0
    assert local["message"] == (
        "cost $0 <= max_cost $0 (300 prompt + 20 completion tokens at $0.00/$0.00 per million: "
        "model profile 'gemma-270m' is free)"
    )


@pytest.mark.parametrize("profile", ["gpt-unpriced", "imported"])
def test_a_hosted_profile_without_a_price_fails_saying_where_to_add_it(project: Project, profile: str) -> None:
    configure(project, default=profile)
    project.spec("specs/triage.yaml", TRIAGE)
    model = {**GPT, "provider": "recorded"} if profile == "imported" else GPT
    record(project.root, "triage", [Call("Classify: short", 100, 10), Call("Classify: long", 812, 95)], model)
    result = project.run()
    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines(
        [
            f"  max_cost at specs/triage.yaml:9:5: the cost is not known: model profile '{profile}' has no price; "
            f"add price = {{input = ..., output = ...}} (USD per million tokens) to [tool.aitest.models.{profile}] "
            "in pyproject.toml"
        ]
    )


def test_calls_that_reported_no_token_counts_cannot_be_costed(project: Project) -> None:
    configure(project)
    project.spec("specs/triage.yaml", TRIAGE)
    record(project.root, "triage", [Call("Classify: short", None, None), Call("Classify: long", 812, None)], GPT)
    result = project.run()
    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines(
        [
            "triage::cheap failed (specs/triage.yaml:4:9)",
            "  max_cost at specs/triage.yaml:9:5: the cost cannot be computed: the model calls of profile 'gpt' "
            "reported no prompt or completion token counts",
            "triage::dear failed (specs/triage.yaml:6:9)",
            "  max_cost at specs/triage.yaml:9:5: the cost cannot be computed: the model calls of profile 'gpt' "
            "reported no completion token counts",
        ]
    )


def test_a_target_that_calls_no_model_costs_nothing(project: Project) -> None:
    configure(project, default="gpt-unpriced")  # no price, but no call to price either
    project.spec(
        "specs/echo.yaml",
        "feature: echo\ntarget: feature:echo\ncases:\n  - id: a\n    vars: {text: hi}\n    expect: [{max_cost: 0}]\n",
    )
    project.run().assert_outcomes(passed=1)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("-0.01", "specs/bad.yaml:6:25: 'max_cost' must be at least 0, not -0.01"),
        ("'$0.01'", "specs/bad.yaml:6:25: 'max_cost' must be a number, not text"),
        ("true", "specs/bad.yaml:6:25: 'max_cost' must be a number, not true or false"),
        (".nan", "specs/bad.yaml:6:25: 'max_cost' must be a number of US dollars, not nan"),
    ],
)
def test_a_bad_value_is_an_error_at_its_line_when_the_spec_is_collected(
    project: Project, value: str, message: str
) -> None:
    configure(project)
    project.spec(
        "specs/bad.yaml",
        f"feature: bad\ntarget: feature:echo\ncases:\n  - id: a\n    vars: {{text: hi}}\n"
        f"    expect: [{{max_cost: {value}}}]\n",
    )
    result = project.run()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([f"*{message}*"])


def test_aitest_check_refuses_max_cost_in_one_line(project: Project) -> None:
    configure(project)
    project.module(
        "test_cost",
        "from aitest import check\n\ndef test_reply():\n    check('ok', [{'max_cost': 0.01}])\n",
    )
    result = project.run("test_cost.py")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "E   *SpecError: *test_cost.py:4:1: max_cost needs the token counts of a case's model calls, "
            "and aitest.check sees no model call",
            "E  *hint: put max_cost under expect: in a spec, whose runs count their tokens",
        ]
    )
    assert "aitest/checks" not in result.stdout.str()  # not aitest's frames
