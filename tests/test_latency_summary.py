"""The latency summary and the report count the model time of a run whose target raised after the model answered."""

from __future__ import annotations

import json

from recorded import Call, write_recording

from conftest import Project

TARGETS = """
def ask(question, model):
    reply = model.complete(question)
    raise ValueError(f"cannot parse {reply!r}")

def early(question, model):
    raise ValueError("no model call yet")
"""


def test_a_run_that_raised_after_the_model_answered_counts_its_model_time(project: Project) -> None:
    project.module("boom", TARGETS)
    project.spec("specs/boom.yaml", "feature: boom\ntarget: boom:ask\ncases:\n  - id: a\n    vars: {question: 2+2?}\n")
    project.spec("specs/early.yaml", "feature: early\ntarget: boom:early\ncases:\n  - id: a\n    vars: {question: x}\n")
    write_recording(project.root, "boom", [Call("2+2?", "four", latency_ms=1500.0, completion_tokens=1)])
    result = project.run("--aitest-report=report.json")
    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines(
        [
            "boom::a failed (specs/boom.yaml:4:9)",
            "  boom:ask raised ValueError: cannot parse 'four'",
            "aitest latency boom: p50 1500 ms, p95 1500 ms (1 run)",
            "aitest recordings (none): 1 replayed, 0 recorded, 0 missed, 0 unused",
        ]
    )
    assert "aitest latency early" not in result.stdout.str()  # no model answered: no model time
    cases = {c["feature"]: c for c in json.loads((project.root / "report.json").read_text())["cases"]}
    assert cases["boom"]["outcome"] == "error"
    assert cases["boom"]["runs"] == [
        {
            "run": 0,
            "passed": False,
            "output": None,
            "latency_ms": 1500.0,
            "model_calls": 1,
            "tokens": {"prompt": 3, "completion": 1},
            "problem": "the run did not finish: boom:ask raised ValueError: cannot parse 'four'",
            "checks": [],
        }
    ]
    assert cases["early"]["runs"] == []
