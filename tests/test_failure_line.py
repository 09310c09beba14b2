"""What a failure says in one line (pytest's short summary, --tb=line, JUnit) and JUnit's per-case properties."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from conftest import Project, copy_examples, literal_brackets

TRIAGE = """
feature: triage
target: feature:triage
output: json
expect:
  - schema: {type: object, required: [category]}
cases:
  - id: double_charge
    vars: {ticket: "I was charged twice"}
    expect:
      - equals: billing
        path: category
  - id: reset_password
    vars: {ticket: "How do I reset my password?"}
    expect:
      - equals: billing
        path: category
      - contains: nothing
"""
REASON = "equals [path category]: expected 'billing', got 'account'"


@pytest.fixture
def triage(project: Project, monkeypatch: pytest.MonkeyPatch) -> Project:
    monkeypatch.setenv("COLUMNS", "200")  # pytest cuts summary lines to the terminal's width
    project.spec("specs/triage.yaml", TRIAGE)
    return project


def test_short_summary_names_the_first_failing_check(triage: Project) -> None:
    result = triage.run("-rf")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines([literal_brackets(f"FAILED specs/triage.yaml::reset_password - {REASON}")])


def test_tb_line_gives_the_check_line_and_its_reason(triage: Project) -> None:
    result = triage.run("--tb=line")
    result.stdout.fnmatch_lines([literal_brackets(f"*specs/triage.yaml:15: {REASON}")])
    assert "output:" not in result.stdout.str()


def test_tb_short_lists_failing_checks_without_details(triage: Project) -> None:
    long = triage.run("--tb=long").stdout.str()
    short = triage.run("--tb=short")
    short.stdout.fnmatch_lines(
        [
            "triage::reset_password failed (specs/triage.yaml:12:9)",
            "  2 of 3 checks failed:",
            literal_brackets("  equals [path category] at specs/triage.yaml:15:9: expected 'billing', got 'account'"),
            "  contains at specs/triage.yaml:17:9: 'nothing' not found in the output",
            "  output:",
        ]
    )
    assert len(short.stdout.str().splitlines()) < len(long.splitlines())  # the JSON output is cut to 5 lines
    short.stdout.fnmatch_lines(["*... (* more lines)"])


def test_tb_no_prints_no_failure_section_but_keeps_the_reason(triage: Project) -> None:
    result = triage.run("--tb=no", "-rf")
    assert "FAILURES" not in result.stdout.str()
    result.stdout.fnmatch_lines([literal_brackets(f"FAILED specs/triage.yaml::reset_password - {REASON}")])


def test_the_reason_survives_xdist(triage: Project) -> None:
    result = triage.pytester.runpytest_subprocess("-n", "2", "-p", "no:cacheprovider", "-rf", "--tb=line")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines([literal_brackets(f"*specs/triage.yaml:15: {REASON}")])
    result.stdout.fnmatch_lines([literal_brackets(f"FAILED specs/triage.yaml::reset_password - {REASON}")])


def test_errors_and_misses_give_their_own_reason(project: Project) -> None:
    project.module("boom", "def run(text):\n    raise KeyError(text)\n")
    project.spec("specs/boom.yaml", "feature: boom\ntarget: boom:run\ncases:\n  - id: a\n    vars: {text: x}\n")
    project.spec(
        "specs/prompted.yaml",
        'feature: prompted\nprompt: "Say {{ word }}"\ncases:\n  - id: unrecorded\n    vars: {word: hi}\n',
    )
    result = project.run("-rf", "-vv")
    result.stdout.fnmatch_lines(["FAILED specs/boom.yaml::a - boom:run raised KeyError: 'x'"])
    result.stdout.fnmatch_lines(
        [
            "FAILED specs/prompted.yaml::unrecorded - no recording for this feature: "
            "specs/__recordings__/prompted.yaml does not exist (model llama_cpp bundled:gemma-3-270m)"
        ]
    )


def junit_cases(path: Path) -> dict[str, ET.Element]:
    return {case.get("name", ""): case for case in ET.parse(path).getroot().iter("testcase")}


def properties(case: ET.Element) -> dict[str, str]:
    return {p.get("name", ""): p.get("value", "") for p in case.iter("property")}


def test_junit_carries_the_reason_and_per_check_properties(triage: Project) -> None:
    triage.run("--junitxml=junit.xml")
    cases = junit_cases(triage.root / "junit.xml")
    failure = cases["reset_password"].find("failure")
    assert failure is not None and failure.get("message") == REASON
    assert properties(cases["reset_password"]) == {
        "aitest.outcome": "failed",
        "aitest.check.schema": "passed",
        "aitest.check.equals [path category]": "failed",
        "aitest.check.contains": "failed",
    }
    assert properties(cases["double_charge"])["aitest.check.equals [path category]"] == "passed"


def test_junit_properties_of_a_model_feature_replayed(project: Project) -> None:
    copy_examples(project)
    result = project.pytester.runpytest_subprocess("-n", "2", "-p", "no:cacheprovider", "--junitxml=junit.xml")
    result.assert_outcomes(passed=6, failed=15)  # 13 cases and both properties fail on Gemma 3 270M
    cases = junit_cases(project.root / "junit.xml")
    cancel = properties(cases["cancel_by_number"])  # a conversation: its steps and calls
    assert cancel["aitest.steps"] == "2"
    assert cancel["aitest.tool_calls"] == 'lookup_order(order_id="1234")'
    assert cancel["aitest.check.tool_called"] == "failed" and cancel["aitest.check.valid_tool_calls"] == "passed"
    reply = properties(cases["broken_item"])
    assert reply["aitest.outcome"] == "failed"
    assert reply["aitest.profile"] == "gemma-270m"
    assert reply["aitest.model"] == "llama_cpp bundled:gemma-3-270m"
    assert float(reply["aitest.latency_ms"]) > 0
    assert reply["aitest.check.similar"] == "failed"
    assert float(reply["aitest.score.similar"]) == pytest.approx(0.580, abs=0.001)
    triage = properties(cases["double_charge"])  # determinism: 2 runs
    assert triage["aitest.check.equals [path category]"] == "failed (2/2 runs)"
    assert triage["aitest.check.schema"] == "passed"
