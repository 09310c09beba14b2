"""Run numbers agree everywhere: messages count runs from 1 and name the 0-based `run:` of recordings and reports."""

from __future__ import annotations

import json

import yaml
from recorded import Call, write_recording

from conftest import Project

SPEC = """
feature: queue
prompt: "Pick a queue for: {{ ticket }}"
determinism: {runs: 3}
cases:
  - id: charge
    vars: {ticket: charged twice}
    expect:
      - equals: billing
"""
PROMPT = "Pick a queue for: charged twice"


def test_the_failing_run_in_the_message_is_the_one_in_the_report_and_the_recording(project: Project) -> None:
    project.spec("specs/queue.yaml", SPEC)
    answers = ["billing", "general", "billing"]
    recording = write_recording(project.root, "queue", [Call(PROMPT, a, run) for run, a in enumerate(answers)])
    result = project.run("--aitest-report=report.json")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "  2/3 runs passed (need 3)",
            "    2x 'billing' (runs 1, 3)",
            "    1x 'general' (run 2)",
            "  first failing run: run 2 of 3 (run: 1 in recordings and reports):",
            "  equals at specs/queue.yaml:8:9: expected 'billing', got 'general'",
            "  output:",
            "    general",
        ]
    )
    report = json.loads((project.root / "report.json").read_text())
    failing = [run for run in report["cases"][0]["runs"] if not run["passed"]]
    assert [(run["run"], run["output"]) for run in failing] == [(1, "general")]
    entries = yaml.safe_load(recording.read_text())["entries"]
    assert {e["run"]: e["response"] for e in entries}[1] == "general"


def test_a_miss_names_runs_from_1_with_their_recorded_index(project: Project) -> None:
    project.spec("specs/queue.yaml", SPEC)
    write_recording(project.root, "queue", [Call(PROMPT, "billing", 0), Call(PROMPT, "billing", 1)])
    result = project.run()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "  no recorded response for this model call (specs/__recordings__/queue.yaml, 2 entries; *",
            "  nearest recorded request (run [12]; run: [01] in the file):",
            "    run differs: recorded run [12] (run: [01]), now run 3 (run: 2)",
            "  hint: record it with --aitest-record=new (or AITEST_RECORD=new)",
        ]
    )
