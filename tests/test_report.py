"""`--aitest-report`: the run report on real runs, its schema, and outcomes that match pytest's."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from recorded import GEMMA, Call, write_recording

from aitest.reports.run_report import report_schema
from conftest import REPO, Project, copy_examples

# what pytest's own terminal categories (pytest_report_teststatus) were, per node id, written at the end
OBSERVER = """
import json

SEEN = {}
CONFIG = []


def pytest_configure(config):
    CONFIG.append(config)


def pytest_runtest_logreport(report):
    config = CONFIG[0]
    if hasattr(config, "workerinput"):
        return  # under xdist the controller sees every report
    category = config.hook.pytest_report_teststatus(report=report, config=config)[0]
    if category:
        SEEN[report.nodeid] = category


def pytest_sessionfinish(session):
    if not hasattr(session.config, "workerinput"):
        with open("pytest_outcomes.json", "w") as out:
            json.dump(SEEN, out)
"""

# report outcome -> pytest's category: a case whose checks failed, whose code raised, or whose recording
# is missing is a pytest failure; `error` is also what pytest calls a failure outside the test's call
PYTEST_CATEGORY = {
    "passed": {"passed"},
    "failed": {"failed"},
    "missing": {"failed"},
    "error": {"failed", "error"},
    "skipped": {"skipped"},
    "xfailed": {"xfailed"},
    "xpassed": {"xpassed"},
}


def load_report(path: Path) -> dict[str, Any]:
    report = json.loads(path.read_text())
    jsonschema.validate(report, report_schema(), format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
    return report


def assert_matches_pytest(report: dict[str, Any], root: Path) -> dict[str, str]:
    seen: dict[str, str] = json.loads((root / "pytest_outcomes.json").read_text())
    outcomes = {case["nodeid"]: case["outcome"] for case in report["cases"]}
    assert outcomes.keys() == seen.keys()
    for nodeid, outcome in outcomes.items():
        assert seen[nodeid] in PYTEST_CATEGORY[outcome], (nodeid, outcome, seen[nodeid])
    return outcomes


def test_committed_report_schema_is_current() -> None:
    committed = json.loads((REPO / "docs" / "report.schema.json").read_text())
    assert committed == report_schema(), "run: aitest schema --report > docs/report.schema.json"


def test_replay_report_validates_and_matches_pytest(project: Project) -> None:
    copy_examples(project)
    project.pytester.makeconftest(OBSERVER)
    result = project.run("--aitest-report=out/report.json")
    result.assert_outcomes(passed=6, failed=15)  # 13 cases and both properties fail on Gemma 3 270M
    result.stdout.fnmatch_lines(["aitest run report: out/report.json (21 results)"])
    report = load_report(project.root / "out/report.json")
    assert report["aitest_report"] == 1 and report["record_mode"] == "none"
    assert report["totals"]["passed"] == 6 and report["totals"]["failed"] == 15
    status = next(c for c in report["cases"] if c["id"] == "where_is_my_order")  # a conversation's trajectory
    first = status["runs"][0]["trajectory"][0]
    assert first["calls"] == [
        {"id": "call_0", "name": "cancel_order", "arguments": {"order_id": "77", "reason": "wrong_item"}}
    ]
    assert first["results"][0]["call_id"] == "call_0" and first["finish_reason"] == "tool_calls"
    assert "shipped and can no longer be cancelled" in first["results"][0]["content"]
    assert_matches_pytest(report, project.root)
    triage = next(c for c in report["cases"] if c["id"] == "double_charge")
    assert triage["feature"] == "ticket_triage" and triage["profile"] == "gemma-270m"
    assert triage["model"] == {"provider": "llama_cpp", "model": "bundled:gemma-3-270m"}
    assert triage["determinism"] == {"runs": 2, "required": 2, "agree": "json"}
    assert [run["run"] for run in triage["runs"]] == [0, 1]
    recorded = (project.root / "specs/__recordings__/ticket_triage.yaml").read_text()
    for run in triage["runs"]:
        assert run["model_calls"] == 1 and run["latency_ms"] > 0
        assert run["tokens"]["prompt"] > 0 and run["tokens"]["completion"] > 0
        assert f"latency_ms: {run['latency_ms']}" in recorded  # the recorded time, on replay
        assert [c["name"] for c in run["checks"]] == ["schema", "equals", "one_of"]
    assert triage["outcome"] == "failed"
    assert triage["reason"] == "equals [path category]: expected 'billing', got 'general'"
    assert triage["reason_at"] == {"file": "specs/ticket_triage.yaml", "line": 15, "col": 9}
    reply = next(c for c in report["cases"] if c["id"] == "broken_item")
    similar = next(c for c in reply["runs"][0]["checks"] if c["name"] == "similar")
    assert similar["passed"] is False and similar["score"] == pytest.approx(0.580, abs=0.001)


MIXED = {
    "mixed": """
        def run(text):
            if text == "boom":
                raise ValueError("the feature broke")
            return text
        """,
}
MIXED_SPEC = """
feature: mixed
target: mixed:run
cases:
  - id: ok
    vars: {text: fine}
    expect: [{equals: fine}]
  - id: bad
    vars: {text: fine}
    expect: [{equals: other}]
  - id: boom
    vars: {text: boom}
  - id: skipme
    vars: {text: fine}
  - id: xfailme
    vars: {text: fine}
    expect: [{equals: other}]
  - id: xpassme
    vars: {text: fine}
  - id: setupboom
    vars: {text: fine}
"""
MARKS = """
import pytest


def pytest_collection_modifyitems(items):
    for item in items:
        if item.name == "skipme":
            item.add_marker(pytest.mark.skip(reason="not today"))
        if item.name in ("xfailme", "xpassme"):
            item.add_marker(pytest.mark.xfail(reason="known gap"))


def pytest_runtest_setup(item):
    if item.name == "setupboom":
        raise RuntimeError("setup broke")
"""


def mixed_project(project: Project) -> None:
    project.module("mixed", MIXED["mixed"])
    project.spec("specs/mixed.yaml", MIXED_SPEC)
    project.spec(
        "specs/prompted.yaml",
        'feature: prompted\nprompt: "Say {{ word }}"\ncases:\n  - id: unrecorded\n    vars: {word: hi}\n',
    )
    project.spec("specs/broken.yaml", "feature: broken\ncases: [\n")
    project.pytester.makeconftest(OBSERVER + MARKS)


def test_every_outcome_is_reported_as_pytest_saw_it(project: Project) -> None:
    mixed_project(project)
    result = project.run("--aitest-report=report.json")
    result.assert_outcomes(passed=1, failed=4, skipped=1, xfailed=1, xpassed=1, errors=1)
    report = load_report(project.root / "report.json")
    outcomes = assert_matches_pytest(report, project.root)
    assert outcomes == {
        "specs/broken.yaml::spec": "error",
        "specs/mixed.yaml::ok": "passed",
        "specs/mixed.yaml::bad": "failed",
        "specs/mixed.yaml::boom": "error",
        "specs/mixed.yaml::skipme": "skipped",
        "specs/mixed.yaml::xfailme": "xfailed",
        "specs/mixed.yaml::xpassme": "xpassed",
        "specs/mixed.yaml::setupboom": "error",
        "specs/prompted.yaml::unrecorded": "missing",
    }
    cases = {c["nodeid"]: c for c in report["cases"]}
    assert cases["specs/mixed.yaml::boom"]["reason"] == "mixed:run raised ValueError: the feature broke"
    assert "raise ValueError" in cases["specs/mixed.yaml::boom"]["traceback"]
    assert (
        cases["specs/mixed.yaml::skipme"]["reason"] == "not today" and cases["specs/mixed.yaml::skipme"]["runs"] == []
    )
    assert cases["specs/mixed.yaml::xfailme"]["reason"] == "known gap"
    assert "setup broke" in cases["specs/mixed.yaml::setupboom"]["reason"]
    missing = cases["specs/prompted.yaml::unrecorded"]
    assert missing["reason"].startswith("no recording for this feature: specs/__recordings__/prompted.yaml")
    assert missing["profile"] == "gemma-270m" and missing["runs"] == []
    broken = cases["specs/broken.yaml::spec"]
    assert broken["kind"] == "spec" and broken["reason"].startswith("malformed YAML")
    assert report["totals"] == {
        "passed": 1, "failed": 1, "error": 3, "missing": 1, "skipped": 1, "xfailed": 1, "xpassed": 1,
    }  # fmt: skip


def test_xdist_workers_report_as_one_run(project: Project) -> None:
    mixed_project(project)
    project.run("--aitest-report=single.json")
    single = load_report(project.root / "single.json")
    result = project.pytester.runpytest_subprocess("-n", "2", "-p", "no:cacheprovider", "--aitest-report=merged.json")
    result.assert_outcomes(passed=1, failed=4, skipped=1, xfailed=1, xpassed=1, errors=1)
    merged = load_report(project.root / "merged.json")
    assert_matches_pytest(merged, project.root)

    def comparable(report: dict[str, Any]) -> list[tuple[str, str, str]]:
        return [(c["nodeid"], c["outcome"], c["reason"]) for c in report["cases"]]

    assert comparable(merged) == comparable(single)
    assert merged["totals"] == single["totals"]


def test_live_report_on_the_bundled_model(project: Project, gemma: Path) -> None:
    project.spec(
        "specs/greet.yaml",
        'feature: greet\nprompt: "Write one short greeting for {{ name }}.\\nGreeting:"\n'
        "params: {temperature: 0, max_tokens: 6, seed: 1}\n"
        "cases:\n  - id: ada\n    vars: {name: Ada}\n    expect: [{min_length: 1}, {max_latency_ms: 60000}]\n",
    )
    project.pytester.makeconftest(OBSERVER)
    result = project.run("--aitest-record=off", "--aitest-report=live.json")
    result.assert_outcomes(passed=1)
    report = load_report(project.root / "live.json")
    assert_matches_pytest(report, project.root)
    (case,) = report["cases"]
    assert report["record_mode"] == "off"
    assert case["model"] == {"provider": "llama_cpp", "model": "bundled:gemma-3-270m"}
    (run,) = case["runs"]
    assert isinstance(run["output"], str) and run["output"]
    assert run["model_calls"] == 1 and 0 < run["latency_ms"] < 60000
    assert run["tokens"]["prompt"] > 0 and 0 < run["tokens"]["completion"] <= 6
    assert [(c["name"], c["passed"]) for c in run["checks"]] == [("min_length", True), ("max_latency_ms", True)]


def test_report_path_from_the_configuration(project: Project) -> None:
    project.pytester.makepyprojecttoml('[tool.aitest]\nspecs = ["specs"]\nreport = "reports/aitest.json"\n')
    project.spec("specs/echo.yaml", "feature: echo\ntarget: feature:echo\ncases:\n  - id: a\n    vars: {text: hi}\n")
    project.run().assert_outcomes(passed=1)
    report = load_report(project.root / "reports/aitest.json")
    assert [(c["id"], c["outcome"], c["profile"]) for c in report["cases"]] == [("a", "passed", None)]
    project.run("--aitest-report=other.json").assert_outcomes(passed=1)  # the flag wins
    assert (project.root / "other.json").is_file()


def test_a_report_is_written_even_without_specs(project: Project) -> None:
    project.pytester.makepyfile(test_plain="def test_plain():\n    assert True\n")
    project.run("--aitest-report=empty.json").assert_outcomes(passed=1)
    report = load_report(project.root / "empty.json")
    assert report["cases"] == [] and report["totals"]["passed"] == 0


def test_a_report_path_that_is_a_folder_is_a_usage_error(project: Project) -> None:
    (project.root / "out").mkdir()
    result = project.run("--aitest-report=out")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--aitest-report=out: that is a folder; give a file path, e.g. out/aitest.json"])


def test_an_unwritable_report_path_fails_the_run_with_one_line(project: Project) -> None:
    project.spec("specs/echo.yaml", "feature: echo\ntarget: feature:echo\ncases:\n  - id: a\n    vars: {text: hi}\n")
    (project.root / "blocker").write_text("a file, not a folder")
    result = project.run("--aitest-report=blocker/report.json")
    result.assert_outcomes(passed=1)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stdout.fnmatch_lines(["aitest error: cannot write the run report to */blocker/report.json: *"])


PRICED = """
[tool.aitest]
specs = ["specs"]

[tool.aitest.models.prod-llm]
provider = "recorded"
price = {input = 0.15, output = 0.6}
"""


def test_the_models_section_keeps_each_profiles_price(project: Project) -> None:
    """A priced profile's price, per million tokens; a profile without one: null (a local model then costs 0)."""
    project.pytester.makepyprojecttoml(PRICED)
    project.module("ask", "def ask(question, model):\n    return model.complete(question)\n")
    for feature, profile in (("hosted", "prod-llm"), ("local", "gemma-270m")):
        spec = f"feature: {feature}\nmodel: {profile}\ntarget: ask:ask\ncases:\n  - id: a\n    vars: {{question: hi}}\n"
        project.spec(f"specs/{feature}.yaml", spec)
    recorded = {"provider": "recorded", "model": "prod-llm"}
    write_recording(project.root, "hosted", [Call("hi", "hello", completion_tokens=2, model=recorded)])
    write_recording(project.root, "local", [Call("hi", "hello", completion_tokens=2, model=GEMMA)])
    project.run("--aitest-report=report.json").assert_outcomes(passed=2)
    report = load_report(project.root / "report.json")
    assert report["models"] == {
        "prod-llm": {**recorded, "bytes": None, "price": {"input": 0.15, "output": 0.6}},
        "gemma-270m": {**GEMMA, "bytes": 253_113_024, "price": None},
    }
