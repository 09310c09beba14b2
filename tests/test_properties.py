"""Properties: generated variations through pytest, as a user runs them (pure-Python targets, no model)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import hypothesis
import jsonschema
import pytest

from aitest.reports.run_report import report_schema
from conftest import SANDBOX, Project

AITEST = str(Path(sys.executable).parent / "aitest")

APP = """
def robust(ticket):
    words = " ".join(ticket.lower().split())
    category = "billing" if ("charge" in words or "refund" in words) else "account"
    return {"category": category, "priority": "urgent" if "urgent" in words else "normal"}

def fragile(ticket):
    category = "billing" if "charged" in ticket.lower() else "account"
    return {"category": category, "priority": "normal"}

def pair(ticket, n):
    return ticket

def crashes_on_capitals(ticket):
    if ticket != ticket.lower() and ticket.isupper():
        raise ValueError("cannot read capitals")
    return "ok"
"""

CASES = """
cases:
  - id: double_charge
    vars: {ticket: "I was charged twice this month"}
  - id: refund
    vars: {ticket: "Please refund my last order"}
"""


def _spec(project: Project, target: str, properties: str, *, name: str = "triage") -> Path:
    project.module("app", APP)
    return project.spec(
        f"specs/{name}.yaml", f"feature: {name}\ntarget: app:{target}\noutput: json\n{CASES}properties:\n{properties}"
    )


def _report(project: Project, *args: str, name: str = "report.json") -> dict[str, Any]:
    project.run(f"--aitest-report={name}", *args)
    return json.loads((project.root / name).read_text())


def _property(report: dict[str, Any], pid: str) -> dict[str, Any]:
    return next(c for c in report["cases"] if c["id"] == pid)


def _inputs(prop: dict[str, Any]) -> list[tuple[str, str, list[str]]]:
    """The inputs a property tried, in order (the timings differ from run to run)."""
    return [(e["base"], json.dumps(e["vars"]), e["variations"]) for e in prop["extra"]["property"]["examples"]]


def test_a_property_that_holds_passes(project: Project) -> None:
    _spec(
        project,
        "robust",
        """
  - id: ignores_case_and_spacing
    vary: {ticket: [case, whitespace, filler, punctuation]}
    examples: 30
    expect: same
    path: category
""",
    )
    result = project.run("-v", "--aitest-report=report.json")
    result.stdout.fnmatch_lines(["*specs/triage.yaml::ignores_case_and_spacing PASSED*"])
    result.assert_outcomes(passed=3)
    result.stdout.fnmatch_lines(["aitest properties: 1 property run, * examples tried"])
    report = json.loads((project.root / "report.json").read_text())
    jsonschema.validate(report, report_schema())
    prop = _property(report, "ignores_case_and_spacing")
    assert prop["kind"] == "property" and prop["outcome"] == "passed"
    examples = prop["extra"]["property"]["examples"]
    assert 10 <= len(examples) <= 30  # Hypothesis tries up to `examples` distinct inputs
    assert {e["base"] for e in examples} == {"double_charge", "refund"}
    kinds = {note.split(":")[0] for e in examples for note in e["variations"]}
    assert kinds == {"case", "whitespace", "filler", "punctuation"}
    assert all(e["passed"] for e in examples)
    assert any(e["vars"]["ticket"] != "I was charged twice this month" for e in examples)


def test_a_broken_property_fails_with_the_smallest_input(project: Project) -> None:
    _spec(
        project,
        "fragile",
        """
  - id: survives_typos
    from: double_charge
    vary: {ticket: [case, whitespace, typos]}
    expect: same
    path: category
""",
    )
    result = project.run("--aitest-report=report.json")
    result.assert_outcomes(passed=2, failed=1)
    out = result.stdout.str()
    assert "triage::survives_typos failed (specs/triage.yaml:" in out
    assert "property: same [path category] must hold when ticket varies by case, whitespace, typos" in out
    result.stdout.fnmatch_lines(
        [
            "  broken after * examples; the smallest input that breaks it (* shrinking steps):",
            "  base case: double_charge (specs/triage.yaml:6:9)",
            "    ticket: 'I was charged twice this month'",
            "  varied by typos: 'charged' -> *:",
            "    ticket: 'I was *d twice this month'",
            "  same [[]path category] at specs/triage.yaml:*: 'account' here, 'billing' for the unvaried case",
            "  output:",
            '*"category": "account"*',
        ]
    )
    # shrinking kept the one variation that matters, and one typo of it
    minimal = _property(json.loads((project.root / "report.json").read_text()), "survives_typos")["extra"]
    assert minimal["property"]["minimal"]["variations"] == [
        next(line.strip()[len("varied by ") : -1] for line in out.splitlines() if "varied by" in line)
    ]
    assert minimal["property"]["minimal"]["variations"][0].count("->") == 1
    result.stdout.fnmatch_lines(["FAILED specs/triage.yaml::survives_typos - same [[]path category]: 'account' he*"])


def test_two_runs_try_the_same_inputs_and_another_property_other_ones(project: Project) -> None:
    props = """
  - id: first
    vary: {ticket: [case, typos, whitespace]}
    expect: same
  - id: second
    vary: {ticket: [case, typos, whitespace]}
    expect: same
"""
    _spec(project, "robust", props)
    one = _report(project, name="one.json")
    two = _report(project, name="two.json")
    first = [_inputs(_property(r, "first")) for r in (one, two)]
    assert first[0] == first[1] and len(first[0]) > 5
    assert _inputs(_property(one, "second")) != first[0]  # the seed is the property's own


def test_a_directional_property_with_a_fixed_edit(project: Project) -> None:
    _spec(
        project,
        "robust",
        """
  - id: urgent_raises_priority
    vary: {ticket: [{append: " This is urgent!"}]}
    expect:
      - equals: urgent
        path: priority
  - id: polite_prefix_keeps_category
    from: [refund]
    vary: {ticket: [{prepend: "Hello, "}, {replace: {refund: money back}}]}
    expect: same
    path: category
""",
    )
    report = _report(project, "-v")
    urgent = _property(report, "urgent_raises_priority")
    assert urgent["outcome"] == "passed"
    tried = urgent["extra"]["property"]["examples"]
    assert sorted(e["vars"]["ticket"] for e in tried) == [
        "I was charged twice this month This is urgent!",
        "Please refund my last order This is urgent!",
    ]  # a fixed edit gives one input per base case: Hypothesis stops when there is nothing new
    polite = _property(report, "polite_prefix_keeps_category")
    assert polite["outcome"] == "failed"  # "money back" is not a billing word for this feature
    assert polite["extra"]["property"]["minimal"]["vars"] == {"ticket": "Hello, Please money back my last order"}
    assert polite["extra"]["property"]["minimal"]["variations"] == [
        "prepend: 'Hello, '",
        "replace: 'refund' -> 'money back'",
    ]


def test_a_target_that_raises_on_a_variation_breaks_the_property(project: Project) -> None:
    _spec(
        project,
        "crashes_on_capitals",
        """
  - id: reads_any_case
    vary: {ticket: [case]}
    expect: same
""",
    ).write_text(
        "feature: triage\ntarget: app:crashes_on_capitals\n" + CASES + "properties:\n"
        "  - id: reads_any_case\n    vary: {ticket: [case]}\n    expect: same\n"
    )
    result = project.run()
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(
        [
            "  varied by case: upper:",
            "  raised at specs/triage.yaml:*: app:crashes_on_capitals raised ValueError: cannot read capitals",
        ]
    )


def test_the_case_checks_invariant_notes_an_unvaried_case_that_fails_too(project: Project) -> None:
    project.module("app", APP)
    project.spec(
        "specs/triage.yaml",
        "feature: triage\ntarget: app:robust\noutput: json\n"
        "cases:\n  - id: refund\n    vars: {ticket: Please refund my last order}\n"
        "    expect: [{equals: account, path: category}]\n"
        "properties:\n  - id: keeps_checks\n    vary: {ticket: [whitespace]}\n    expect: checks\n"
        "  - id: directional\n    vary: {ticket: [{append: ' urgent'}]}\n"
        "    expect: [{equals: normal, path: priority}]\n",
    )
    result = project.run()
    result.assert_outcomes(failed=3)
    result.stdout.fnmatch_lines(
        ["  note: the unvaried case fails these checks too, so the variation is not what breaks them"]
    )
    assert result.stdout.str().count("  note: ") == 1  # a directional test's unvaried case is not expected to pass


def test_examples_cap_from_the_command_line_and_the_config(project: Project) -> None:
    _spec(
        project,
        "robust",
        """
  - id: ignores_case
    vary: {ticket: [case, whitespace]}
    examples: 50
    expect: same
""",
    )
    report = _report(project, "--aitest-max-examples=4")
    info = _property(report, "ignores_case")["extra"]["property"]
    assert info["budget"] == 4 and info["cut_short"] and len(info["examples"]) <= 4
    assert len(_inputs(_property(_report(project, name="whole.json"), "ignores_case"))) > 10
    result = project.run("--aitest-max-examples=4")
    result.stdout.fnmatch_lines(
        [
            "aitest properties: 1 property cut short to 4 examples by --aitest-max-examples or "
            "[tool.aitest] max_examples: triage::ignores_case (asks 50)"
        ]
    )
    (project.root / "pyproject.toml").write_text('[tool.aitest]\nspecs = ["specs"]\nmax_examples = 3\n')
    info = _property(_report(project, name="config.json"), "ignores_case")["extra"]["property"]
    assert info["budget"] == 3 and len(info["examples"]) <= 3
    # a property with fewer inputs than the cap (a fixed edit: one per case) is not cut short
    project.spec(
        "specs/triage.yaml",
        (project.root / "specs/triage.yaml").read_text()
        + "  - id: urgent\n    examples: 50\n    vary: {ticket: [{append: ' urgent'}]}\n    expect: same\n",
    )
    capped = _report(project, "--aitest-max-examples=4", name="capped.json")
    assert not _property(capped, "urgent")["extra"]["property"]["cut_short"]
    assert _property(capped, "ignores_case")["extra"]["property"]["cut_short"]
    bad = project.run("--aitest-max-examples=0")
    bad.stderr.fnmatch_lines(["*--aitest-max-examples=0: use 1 to 1000 examples"])


def test_hypothesis_writes_nothing_in_the_project_or_the_specs(project: Project) -> None:
    _spec(project, "fragile", "  - id: t\n    vary: {ticket: [typos, case]}\n    examples: 40\n    expect: same\n")
    project.run()
    assert not (project.root / ".hypothesis").exists()
    assert not (project.root / "specs" / ".hypothesis").exists()


def test_properties_under_xdist_report_like_one_process(project: Project) -> None:
    _spec(
        project,
        "fragile",
        "  - id: a\n    vary: {ticket: [typos]}\n    expect: same\n"
        "  - id: b\n    vary: {ticket: [case]}\n    expect: same\n",
    )
    single = _report(project, name="single.json")
    split = _report(project, "-n", "2", name="split.json")
    for pid in ("a", "b"):
        assert _inputs(_property(single, pid)) == _inputs(_property(split, pid))
        assert _property(single, pid)["outcome"] == _property(split, pid)["outcome"]


def test_k_selects_a_property_by_id(project: Project) -> None:
    _spec(project, "robust", "  - id: ignores_case\n    vary: {ticket: [case]}\n    expect: same\n")
    result = project.run("-k", "ignores_case", "-v")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*::ignores_case PASSED*"])


BASE = "feature: triage\ntarget: app:pair\ncases:\n  - id: a\n    vars: {ticket: hello, n: 3}\n"


@pytest.mark.parametrize(
    ("properties", "message"),
    [
        (
            "  - id: p\n    vary: {ticket: [typo]}\n    expect: same\n",
            "specs/bad.yaml:8:21: unknown variation 'typo'; did you mean 'typos'?",
        ),
        (
            "  - id: p\n    vary: {tickt: [case]}\n    expect: same\n",
            "specs/bad.yaml:8:12: vary: case 'a' has no var 'tickt'; did you mean 'ticket'?",
        ),
        (
            "  - id: p\n    vary: {n: [typos]}\n    expect: same\n",
            "specs/bad.yaml:8:12: vary: 'n' of case 'a' is a whole number, but typos edits text",
        ),
        (
            "  - id: p\n    vary: {ticket: [case]}\n    examples: 0\n    expect: same\n",
            "specs/bad.yaml:9:15: 'examples' must be at least 1, not 0",
        ),
        (
            "  - id: p\n    vary: {ticket: [case]}\n    examples: 5000\n    expect: same\n",
            "specs/bad.yaml:9:15: 'examples' must be at most 1000, not 5000",
        ),
        (
            "  - id: a\n    vary: {ticket: [case]}\n    expect: same\n",
            "specs/bad.yaml:7:9: property id 'a' is also the id of a case (line 4)",
        ),
        (
            "  - id: p\n    from: [b]\n    vary: {ticket: [case]}\n    expect: same\n",
            "specs/bad.yaml:8:12: from: no case 'b' in this file",
        ),
        (
            "  - id: p\n    vary: {ticket: [append]}\n    expect: same\n",
            "specs/bad.yaml:8:21: the variation 'append' needs a value",
        ),
        (
            "  - id: p\n    vary: {ticket: [{replace: {bye: hi}}]}\n    expect: same\n",
            "specs/bad.yaml:8:22: replace: 'bye' is not in 'ticket' of case 'a': the edit would change nothing",
        ),
        (
            "  - id: p\n    vary: {ticket: [case]}\n    expect: sme\n",
            "specs/bad.yaml:9:13: 'expect' must be one of same, similar, checks, not 'sme'; did you mean 'same'?",
        ),
        (
            "  - id: p\n    vary: {ticket: [case]}\n    expect: checks\n    path: x\n",
            "specs/bad.yaml:10:5: path applies to 'same' and 'similar', not to checks",
        ),
        (
            "  - id: p\n    vary: {ticket: [case]}\n    expect: [{equls: hello}]\n",
            "specs/bad.yaml:9:15: unknown check 'equls'; did you mean 'equals'?",
        ),
        (
            "  - id: p\n    from: [a, 7]\n    vary: {ticket: [case]}\n    expect: same\n",
            "specs/bad.yaml:8:15: item 2 of 'from' must be text, not a whole number",
        ),
        (
            "  - id: p\n    vary: {ticket: [case]}\n    expect: {similar: 1.5}\n",
            "specs/bad.yaml:9:23: 'similar' must be at most 1, not 1.5",
        ),
        (
            "  - id: p\n    vary: {ticket: [case]}\n    exampels: 5\n    expect: same\n",
            "specs/bad.yaml:9:5: unknown key 'exampels'; did you mean 'examples'?",
        ),
    ],
)
def test_bad_properties_are_located_errors(project: Project, properties: str, message: str) -> None:
    project.module("app", APP)
    project.spec("specs/bad.yaml", BASE + "properties:\n" + properties)
    result = project.pytester.run(AITEST, "validate")
    assert result.ret == 1
    result.stdout.fnmatch_lines([message])
    collected = project.run()
    collected.stdout.fnmatch_lines([f"*{message}*"])


def test_the_editor_schema_describes_properties() -> None:
    from aitest.spec.schema import spec_schema

    schema = spec_schema()
    good = {
        "feature": "x",
        "target": "a:b",
        "cases": [{"id": "a", "vars": {"t": "x"}}],
        "properties": [
            {"id": "p", "vary": {"t": ["case", {"append": "!"}, {"typos": 2}]}, "examples": 5, "expect": "same"},
            {"id": "q", "vary": {"t": [{"choices": [1, 2]}]}, "expect": [{"equals": 1}]},
            {"id": "r", "vary": {"t": ["filler"]}, "expect": {"similar": 0.7}, "path": "a.b"},
        ],
    }
    jsonschema.validate(good, schema)
    for bad in ({"id": "p", "vary": {"t": ["typo"]}, "expect": "same"}, {"id": "p", "vary": {"t": ["case"]}}):
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate({**good, "properties": [bad]}, schema)


MODEL_SPEC = """
feature: sentiment
model: gemma-270m
params: {temperature: 0, max_tokens: 4, seed: 1}
prompt: "Review: {{ review }}\\nSentiment (positive or negative):"
cases:
  - id: happy
    vars: {review: "I love this kettle, it works great"}
  - id: sad
    vars: {review: "Broken after two days, very disappointed"}
properties:
  - id: ignores_case_and_typos
    vary: {review: [case, typos]}
    examples: 6
    expect: same
"""


def test_a_recorded_property_replays_offline_and_a_new_one_misses(project: Project, gemma: Path) -> None:
    project.spec("specs/sentiment.yaml", MODEL_SPEC)
    recorded = _report(project, "--aitest-record=new", name="recorded.json")
    prop = _property(recorded, "ignores_case_and_typos")
    assert prop["outcome"] in ("passed", "failed") and prop["profile"] == "gemma-270m"
    entries = (project.root / "specs/__recordings__/sentiment.yaml").read_text()
    assert all(e["vars"]["review"] in entries for e in prop["extra"]["property"]["examples"])
    (project.root / "sitecustomize.py").write_text(SANDBOX)
    replay = project.pytester.runpytest_subprocess("-p", "no:cacheprovider", "--aitest-report=replayed.json")
    replay.stdout.fnmatch_lines(["aitest recordings (none): * replayed, 0 recorded, 0 missed, 0 unused"])
    replayed = _property(json.loads((project.root / "replayed.json").read_text()), "ignores_case_and_typos")
    assert replayed["outcome"] == prop["outcome"]
    assert _inputs(replayed) == _inputs(prop)  # shrinking included
    assert [e["output"] for e in replayed["extra"]["property"]["examples"]] == [
        e["output"] for e in prop["extra"]["property"]["examples"]
    ]
    assert replayed["extra"]["property"]["inputs"] == "recorded"
    assert replayed["extra"]["property"]["hypothesis"] == hypothesis.__version__  # the version that drew them
    # a property the recording has never seen: its inputs are a miss, with the flag that records them
    spec = project.root / "specs/sentiment.yaml"
    spec.write_text(spec.read_text() + "  - id: ignores_filler\n    vary: {review: [filler]}\n    expect: same\n")
    miss = project.pytester.runpytest_subprocess("-p", "no:cacheprovider", "-k", "ignores_filler")
    miss.assert_outcomes(failed=1)
    miss.stdout.fnmatch_lines(
        [
            "*no recorded inputs for property 'ignores_filler' (specs/__recordings__/sentiment.yaml; model *",
            "*hint: record them with --aitest-record=new*",
        ]
    )


def test_every_property_error_of_a_file_in_one_round(project: Project) -> None:
    project.module("app", APP)
    project.spec(
        "specs/bad.yaml",
        BASE + "properties:\n"
        "  - id: p\n    vary: {ticket: [typo, case]}\n    from: [b]\n    expect: same\n"
        "  - id: q\n    vary: {ticket: [case]}\n    expect: [{equls: x}]\n"
        "  - id: a\n    vary: {tickt: [case]}\n    expect: same\n",
    )
    result = project.pytester.run(AITEST, "validate")
    assert result.ret == 1
    result.stdout.fnmatch_lines(
        [
            "specs/bad.yaml:8:21: unknown variation 'typo'; did you mean 'typos'?",
            "*",
            "specs/bad.yaml:9:12: from: no case 'b' in this file",
            "*",
            "specs/bad.yaml:13:15: unknown check 'equls'; did you mean 'equals'?",
            "*",
            "specs/bad.yaml:14:9: property id 'a' is also the id of a case (line 4)",
            "*",
            "specs/bad.yaml:15:12: vary: case 'a' has no var 'tickt'; did you mean 'ticket'?",
        ]
    )


def test_validate_counts_the_properties(project: Project) -> None:
    _spec(project, "robust", "  - id: p\n    vary: {ticket: [case]}\n    expect: same\n")
    result = project.pytester.run(AITEST, "validate")
    assert result.ret == 0
    result.stderr.fnmatch_lines(["specs/triage.yaml: ok (triage, 2 cases, 1 property)"])


CHECKS_APP = """
def is_short(output):
    return (len(output) < 40, f"{len(output)} characters")
"""


def test_checks_that_cannot_judge_stop_the_property_in_one_line(project: Project) -> None:
    """A judge's replay miss (rubric) makes the property `missing`; an embedding model that cannot load
    (similar) makes it an error: each one line, never Hypothesis's traceback of our frames."""
    project.module("app", APP)
    project.spec(
        "specs/judged.yaml",
        "feature: judged\ntarget: app:crashes_on_capitals\ncases:\n  - id: a\n    vars: {ticket: hello there}\n"
        "properties:\n  - id: polite\n    vary: {ticket: [case]}\n    expect: [{rubric: Is the reply polite?}]\n"
        "  - id: close\n    vary: {ticket: [whitespace]}\n    expect: {similar: 0.9}\n",
    )
    (project.root / "pyproject.toml").write_text('[tool.aitest]\nspecs = ["specs"]\nembeddings = "no-such-model"\n')
    # in a process of its own: numpy, imported on the way, must not be unloaded by pytester's in-process run
    result = project.pytester.runpytest_subprocess("-p", "no:cacheprovider", "--aitest-report=report.json")
    out = result.stdout.str()
    assert "Traceback" not in out and "aitest/properties/" not in out and "hypothesis/" not in out, out
    result.stdout.fnmatch_lines(["judged::polite failed*", "  no recording for this feature: *", "*hint: record it*"])
    report = json.loads((project.root / "report.json").read_text())
    assert _property(report, "polite")["outcome"] == "missing"
    assert _property(report, "close")["outcome"] == "error"
    result.stdout.fnmatch_lines(["aitest recordings (none): 0 replayed, 0 recorded, 1 missed, 0 unused"])


def test_a_python_check_judges_every_varied_output(project: Project) -> None:
    project.module("app", APP)
    project.module("checks", CHECKS_APP)
    project.spec(
        "specs/short.yaml",
        "feature: short\ntarget: app:crashes_on_capitals\ncases:\n  - id: a\n    vars: {ticket: hello there}\n"
        "properties:\n  - id: stays_short\n    vary: {ticket: [whitespace, filler]}\n"
        "    expect: [{python: 'checks:is_short'}]\n",
    )
    project.run().assert_outcomes(passed=2)


def test_a_similar_property_on_the_real_embedding_model(project: Project, minilm: None) -> None:
    _spec(project, "robust", "  - id: close\n    vary: {ticket: [case, whitespace]}\n    expect: {similar: 0.95}\n")
    result = project.run("--aitest-report=report.json")
    result.assert_outcomes(passed=3)
    examples = _property(json.loads((project.root / "report.json").read_text()), "close")["extra"]["property"]
    assert examples["invariant"] == "similar >= 0.95" and examples["tried"] > 3


def test_skipped_and_xfail_cases_are_not_varied_unless_named(project: Project) -> None:
    project.module("app", APP)
    spec = (
        "feature: triage\ntarget: app:robust\noutput: json\ncases:\n"
        "  - id: a\n    vars: {ticket: I was charged twice}\n"
        "  - id: later\n    vars: {ticket: refund in bitcoin}\n    skip: waiting for the new refund policy\n"
        "  - id: known\n    vars: {ticket: my invoice is wrong}\n    xfail: the model misroutes invoices\n"
        "    expect: [{equals: billing, path: category}]\n"
        "properties:\n  - id: p\n    vary: {ticket: [case]}\n    expect: same\n"
    )
    project.spec("specs/triage.yaml", spec)
    report = _report(project)
    info = _property(report, "p")["extra"]["property"]
    assert info["bases"] == ["a"] and {e["base"] for e in info["examples"]} == {"a"}
    project.spec(
        "specs/triage.yaml", spec.replace("vary: {ticket: [case]}", "from: [later]\n    vary: {ticket: [case]}")
    )
    result = project.pytester.run(AITEST, "validate")
    result.stdout.fnmatch_lines(
        [
            "specs/triage.yaml:16:12: from: case 'later' is skipped (waiting for the new refund policy), so it cannot be varied"
        ]
    )


def test_property_errors_come_in_the_same_round_as_a_broken_case(project: Project) -> None:
    project.module("app", APP)
    project.spec(
        "specs/bad.yaml",
        "feature: triage\ntarget: app:pair\ncases:\n  - id: a\n    vars: {ticket: hello, n: 3, extra: 1}\n"
        "properties:\n"
        "  - id: p2\n    vary: {tickt: [case]}\n    examples: 0\n    expect: same\n"
        "  - id: p3\n    from: [zz]\n    vary: {ticket: [case]}\n    expect: checks\n    path: x\n"
        "  - id: p3\n    vary: {ticket: [{choices: []}, {append: ''}]}\n    expect: same\n",
    )
    result = project.pytester.run(AITEST, "validate")
    lines = [line for line in result.stdout.lines if not line.startswith("  hint")]
    assert lines == [
        "specs/bad.yaml:5:11: var 'extra' is not a parameter of app:pair",
        "specs/bad.yaml:8:12: vary: case 'a' has no var 'tickt'; did you mean 'ticket'?",
        "specs/bad.yaml:9:15: 'examples' must be at least 1, not 0",
        "specs/bad.yaml:12:12: from: no case 'zz' in this file",
        "specs/bad.yaml:15:5: path applies to 'same' and 'similar', not to checks",
        "specs/bad.yaml:16:9: duplicate property id 'p3' (first at line 11)",
        "specs/bad.yaml:17:31: choices: a list of 1 to 1000 values, not an empty list",
        "specs/bad.yaml:17:45: append: a text to add, not empty text",
    ]
