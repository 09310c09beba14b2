"""`aitest compare` as a user runs it: sides from run reports (here written by two runs of a feature whose
answers depend on which "model" answers), every verdict and gate rule, the reports, and bad input."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from aitest.compare.schema import compare_schema
from conftest import REPO, Project, copy_examples

# what each "model" answers per ticket: the feature's target reads the model's name from MODEL
TARGET = """
import os

ANSWERS = {
    "a": {"both_pass": "billing", "both_fail": "nope", "regress": "billing", "improve": "nope", "only_a": "billing"},
    "b": {"both_pass": "billing", "both_fail": "nope", "regress": "nope", "improve": "billing", "only_b": "billing"},
}


def classify(ticket):
    return {"category": ANSWERS[os.environ["MODEL"]][ticket], "model": os.environ["MODEL"]}
"""
SPEC = """
feature: triage
target: triage:classify
output: json
{gate}
cases:
{cases}
"""


def case(name: str, critical: bool = False) -> str:
    extra = "\n    critical: true" if critical else ""
    return f"  - id: {name}\n    vars: {{ticket: {name}}}{extra}\n    expect: [{{equals: billing, path: category}}]"


def write_report(
    project: Project, model: str, names: list[str], *, gate: str = "", critical: tuple[str, ...] = ()
) -> Path:
    cases = "\n".join(case(n, n in critical) for n in names)
    project.spec("specs/triage.yaml", SPEC.format(gate=gate, cases=cases))
    os.environ.__setitem__("MODEL", model)
    project.run(f"--aitest-report=reports/{model}.json")
    return project.root / "reports" / f"{model}.json"


def aitest(project: Project, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "aitest.cli", "compare", *args],
        cwd=project.root,
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=120,
    )


@pytest.fixture(autouse=True)
def _restore_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """The feature reads MODEL (and REGRESS) from the environment: each test's settings end with it."""
    monkeypatch.setenv("MODEL", "a")
    monkeypatch.setenv("REGRESS", "0")


@pytest.fixture
def sides(project: Project) -> Project:
    project.module("triage", TARGET)
    write_report(project, "a", ["both_pass", "both_fail", "regress", "improve", "only_a"])
    write_report(project, "b", ["both_pass", "both_fail", "regress", "improve", "only_b"])
    return project


def test_every_verdict_in_the_table_and_the_reports(sides: Project) -> None:
    result = aitest(sides, "--baseline", "reports/a.json", "--candidate", "reports/b.json", "--report-dir", "out")
    assert result.returncode == 1, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == (
        "GATE FAILED: reports/a.json (baseline) vs reports/b.json: triage: 2 case(s) missing on a side: no evidence; "
        "triage: 1 case(s) regressed"
    )
    flagged = [line.split()[:2] for line in lines[1:8] if line.startswith("  ") and "::" in line]
    assert flagged == [
        ["regressed", "triage::regress"], ["missing", "triage::only_a"], ["missing", "triage::only_b"],
        ["improved", "triage::improve"],
    ]  # fmt: skip
    report = json.loads((sides.root / "out/compare.json").read_text())
    jsonschema.validate(report, compare_schema(), format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
    assert report["gate"] == {
        "passed": False,
        "reasons": ["triage: 2 case(s) missing on a side: no evidence", "triage: 1 case(s) regressed"],
    }
    verdicts = {c["id"]: c["verdict"] for c in report["cases"]}
    assert verdicts == {
        "regress": "regressed", "only_a": "missing", "only_b": "missing", "improve": "improved",
        "both_fail": "failed", "both_pass": "passed",
    }  # fmt: skip
    regress = report["cases"][0]
    assert regress["baseline"] == {
        "name": "reports/a.json", "outcome": "passed", "output": {"category": "billing", "model": "a"},
        "latency_ms": regress["baseline"]["latency_ms"], "reason": "",
    }  # fmt: skip
    assert regress["candidate"]["outcome"] == "failed"
    assert regress["candidate"]["reason"] == "equals [path category]: expected 'billing', got 'nope'"
    assert regress["agreement"] == 0.0  # JSON: no leaf field equal
    (feature,) = report["features"]
    assert feature["counts"] == {"regressed": 1, "improved": 1, "passed": 1, "failed": 1, "missing": 2}
    assert feature["p_value"] == 0.75  # one regression, one fix: P(X >= 1), X ~ Bin(2, 1/2)
    # each side's pass rate over the cases it has evidence for: 3 of 5 on either side
    assert feature["baseline"]["pass_rate"] == 0.6 and feature["candidate_stats"]["pass_rate"] == 0.6
    assert feature["agreement"] == 0.25  # the mean over paired cases: 0.5, 0.5, 0.0, 0.0
    assert report["cases"][-1]["agreement"] == 0.5  # both_pass: category equal, model differs
    markdown = (sides.root / "out/compare.md").read_text()
    assert markdown.startswith("### ❌ GATE FAILED: reports/a.json (baseline) vs reports/b.json")
    assert markdown.index("| **regressed** | `triage::regress`") < markdown.index("| feature |")
    page = (sides.root / "out/compare.html").read_text()
    assert "<script" not in page and "http" not in page.replace("http://www.w3.org/2000/svg", "")
    assert page.count('<tr class="case ') == 6 and page.count("<svg") == 2


def test_the_gate_passes_when_limits_allow_and_says_so(sides: Project) -> None:
    result = aitest(sides, "--baseline", "reports/a.json", "--candidate", "reports/b.json",
                    "--max-regressions", "1", "--allow-missing")  # fmt: skip
    assert result.returncode == 0, result.stdout
    assert result.stdout.startswith(
        "GATE PASSED: reports/a.json (baseline) vs reports/b.json: no case regressed, none missing; 1 improved"
    ) or result.stdout.startswith("GATE PASSED")
    assert "triage" in result.stdout and "pass" in result.stdout


@pytest.mark.parametrize(
    ("flags", "reason"),
    [
        (["--min-pass-rate", "0.9"], "triage: pass rate 60%, below the minimum 90%"),
        (["--min-agreement", "0.9"], "triage: agreement with the baseline 0.25, below the minimum 0.90"),
    ],
)
def test_pass_rate_and_agreement_limits(sides: Project, flags: list[str], reason: str) -> None:
    result = aitest(sides, "--baseline", "reports/a.json", "--candidate", "reports/b.json", "--max-regressions", "1",
                    "--allow-missing", *flags, "--report-dir", "out")  # fmt: skip
    assert result.returncode == 1
    assert json.loads((sides.root / "out/compare.json").read_text())["gate"]["reasons"] == [reason]


def test_the_spec_gate_applies_and_the_command_line_wins(project: Project) -> None:
    project.module("triage", TARGET)
    gate = "gate: {max_regressions: 1, allow_missing: true}"
    write_report(project, "a", ["both_pass", "regress", "only_a"], gate=gate)
    write_report(project, "b", ["both_pass", "regress", "only_b"], gate=gate)
    assert aitest(project, "--baseline", "reports/a.json", "--candidate", "reports/b.json").returncode == 0
    stricter = aitest(
        project, "--baseline", "reports/a.json", "--candidate", "reports/b.json", "--max-regressions", "0"
    )
    assert stricter.returncode == 1 and "triage: 1 case(s) regressed" in stricter.stdout


def test_a_critical_case_regressing_fails_whatever_the_limits(project: Project) -> None:
    project.module("triage", TARGET)
    names = ["both_pass", "regress"]
    write_report(project, "a", names, critical=("regress",))
    write_report(project, "b", names, critical=("regress",))
    result = aitest(project, "--baseline", "reports/a.json", "--candidate", "reports/b.json", "--max-regressions", "5")
    assert result.returncode == 1
    assert "triage: critical case regress regressed" in result.stdout


def test_a_critical_check_breaking_fails_whatever_the_limits(project: Project) -> None:
    project.module("triage", TARGET)
    spec = (
        "feature: triage\ntarget: triage:classify\noutput: json\ncases:\n"
        "  - id: regress\n    vars: {ticket: regress}\n    expect:\n"
        "      - equals: billing\n        path: category\n        critical: true\n"
    )
    for model in ("a", "b"):
        project.spec("specs/triage.yaml", spec)
        os.environ.__setitem__("MODEL", model)
        project.run(f"--aitest-report=reports/{model}.json")
    result = aitest(project, "--baseline", "reports/a.json", "--candidate", "reports/b.json", "--max-regressions", "5")
    assert result.returncode == 1
    assert "triage: critical check equals [path category] of case regress broke" in result.stdout


MANY = """
import os

def classify(ticket):
    n = int(ticket)
    fails = {"a": set(), "b": set(range(int(os.environ.get("REGRESS", "0"))))}[os.environ["MODEL"]]
    return {"category": "nope" if n in fails else "billing"}
"""


@pytest.mark.parametrize(
    ("regressions", "margin", "extra", "code", "message"),
    [
        (1, "0.1", [], 0, "GATE PASSED"),  # d = -1/60, low -0.049 > -0.1
        (12, "0.1", [], 1, "triage: significantly worse (pass rate -20.0%, 95% up to -9.9%)"),
        (
            2,
            "0.02",
            [],
            1,
            "triage: inconclusive for a margin of 2% (95% down to -7.9%; about 456 more cases would decide)",
        ),
        (2, "0.02", ["--allow-inconclusive"], 0, "GATE PASSED"),
    ],
)
def test_a_margin_makes_the_verdict_statistical(
    project: Project, regressions: int, margin: str, extra: list[str], code: int, message: str
) -> None:
    project.module("triage", MANY)
    rows = "\n".join(f"  - id: c{i}\n    vars: {{ticket: '{i}'}}\n    expect: [{{equals: billing, path: category}}]"
                     for i in range(60))  # fmt: skip
    project.spec("specs/triage.yaml", f"feature: triage\ntarget: triage:classify\noutput: json\ncases:\n{rows}\n")
    for model in ("a", "b"):
        os.environ.__setitem__("MODEL", model)
        os.environ.__setitem__("REGRESS", str(regressions))
        project.run(f"--aitest-report=reports/{model}.json")
    result = aitest(
        project, "--baseline", "reports/a.json", "--candidate", "reports/b.json", "--margin", margin, *extra
    )
    assert result.returncode == code, result.stdout
    assert message in result.stdout


def test_shard_reports_in_a_folder_compare_as_one_run(sides: Project) -> None:
    shards = sides.root / "shards"
    shards.mkdir()
    whole = json.loads((sides.root / "reports/b.json").read_text())
    for i, part in enumerate((whole["cases"][:2], whole["cases"][2:])):
        (shards / f"shard{i}.json").write_text(json.dumps({**whole, "cases": part}))
    one = aitest(sides, "--baseline", "reports/a.json", "--candidate", "reports/b.json", "--report-dir", "one")
    merged = aitest(sides, "--baseline", "reports/a.json", "--candidate", "shards", "--report-dir", "merged")
    assert merged.returncode == one.returncode == 1

    def verdicts(folder: str) -> list[tuple[str, str, Any]]:
        report = json.loads((sides.root / folder / "compare.json").read_text())
        return [(c["id"], c["verdict"], c["candidate"]["output"]) for c in report["cases"]]

    assert verdicts("merged") == verdicts("one")


def test_several_candidates_get_holm_adjusted_p_values(sides: Project) -> None:
    result = aitest(sides, "--baseline", "reports/a.json", "--candidate", "reports/b.json",
                    "--candidate", "reports/a.json", "--report-dir", "out")  # fmt: skip
    report = json.loads((sides.root / "out/compare.json").read_text())
    adjusted = {f["candidate"]: (f["p_value"], f["p_adjusted"]) for f in report["features"]}
    assert adjusted == {"reports/b.json": (0.75, 1.0), "reports/a.json": (1.0, 1.0)}
    assert [c["name"] for c in report["candidates"]] == ["reports/b.json", "reports/a.json"]
    assert result.returncode == 1
    assert "baseline and candidate reports/a.json are the same model" not in result.stdout  # no model: no identity


def test_the_markdown_goes_to_the_job_summary(sides: Project, tmp_path: Path) -> None:
    summary = tmp_path / "summary.md"
    summary.write_text("# earlier step\n")
    aitest(
        sides,
        "--baseline",
        "reports/a.json",
        "--candidate",
        "reports/b.json",
        env={"GITHUB_STEP_SUMMARY": str(summary)},
    )
    text = summary.read_text()
    assert text.startswith("# earlier step\n### ❌ GATE FAILED")


@pytest.mark.parametrize(
    ("write", "args", "message"),
    [
        (None, ["--baseline", "gemma-27b", "--candidate", "reports/b.json"],
         "aitest compare: unknown model profile or report 'gemma-27b'; did you mean 'gemma-270m'?"),
        (None, ["--baseline", "nope/a.json", "--candidate", "reports/b.json"],
         "aitest compare: nope/a.json: no such report file or folder"),
        ('{"cases": []}', ["--baseline", "other.json", "--candidate", "reports/b.json"],
         "aitest compare: other.json: not an aitest run report (it has no aitest_report key)"),
        ("not json", ["--baseline", "other.json", "--candidate", "reports/b.json"],
         "aitest compare: other.json: not a run report: not JSON (Expecting value: line 1 column 1 (char 0))"),
        ('{"aitest_report": 2, "cases": []}', ["--baseline", "other.json", "--candidate", "reports/b.json"],
         "aitest compare: other.json: written by a newer aitest (report format 2; this one reads 1)"),
        ('{"aitest_report": 1, "cases": [{"id": 1}]}', ["--baseline", "other.json", "--candidate", "reports/b.json"],
         "aitest compare: other.json: not a valid aitest run report: at /: 'aitest_version' is a required property"),
        (None, ["--baseline", "reports/a.json", "--candidate", "reports/b.json", "--report-dir", "reports/a.json/x"],
         "aitest compare: cannot write the reports to reports/a.json/x: Not a directory"),
        (None, ["--baseline", "reports/a.json", "--candidate", "reports/b.json", "--max-regressions", "-1"],
         "aitest compare: --max-regressions=-1: give 0 or more"),
    ],
    ids=["unknown_profile", "missing_file", "foreign_json", "not_json", "newer", "invalid", "unwritable", "negative"],
)  # fmt: skip
def test_bad_input_is_one_line_and_exit_2(sides: Project, write: str | None, args: list[str], message: str) -> None:
    if write is not None:
        (sides.root / "other.json").write_text(write)
    result = aitest(sides, *args)
    assert result.returncode == 2
    assert result.stderr.splitlines()[0] == message
    assert "Traceback" not in result.stderr and len(result.stderr.splitlines()) <= 2
    assert not (sides.root / "reports/a.json/x").exists()


def test_bad_flag_values_are_usage_errors(sides: Project) -> None:
    result = aitest(sides, "--baseline", "reports/a.json", "--candidate", "reports/b.json", "--margin", "5")
    assert result.returncode == 2
    assert "argument --margin: 5 is not between 0 and 1" in result.stderr


def test_the_committed_compare_schema_is_current() -> None:
    assert json.loads((REPO / "docs/compare.schema.json").read_text()) == compare_schema()


def _cases(report: dict[str, Any]) -> list[tuple[str, str]]:
    return [(c["id"], c["verdict"]) for c in report["cases"]]


def test_a_profile_without_recordings_is_missing_not_a_crash(project: Project) -> None:
    copy_examples(project)
    result = aitest(project, "--baseline", "gemma-270m", "--candidate", "gemma-270m", "--report-dir", "out")
    assert result.returncode == 0, result.stdout + result.stderr
    assert (
        "note: baseline and candidate gemma-270m are the same model (llama_cpp bundled:gemma-3-270m)" in result.stdout
    )
    (project.root / "specs/__recordings__/ticket_triage.yaml").unlink()
    missing = aitest(project, "--baseline", "gemma-270m", "--candidate", "smollm2-135m", "-q")
    assert missing.returncode == 1
    assert "ticket_triage: 7 case(s) missing on a side: no evidence" in missing.stdout
    assert missing.stdout.count("missing   ticket_triage::") == 7  # 5 cases and 2 properties


@pytest.mark.parametrize(
    "flags",
    [["--min-pass-rate", "0.6"], ["--min-agreement", "0.25"], ["--min-pass-rate", "0.5", "--min-agreement", "0.2"]],
)
def test_pass_rate_and_agreement_limits_that_hold_pass(sides: Project, flags: list[str]) -> None:
    result = aitest(sides, "--baseline", "reports/a.json", "--candidate", "reports/b.json", "--max-regressions", "1",
                    "--allow-missing", *flags)  # fmt: skip
    assert result.returncode == 0, result.stdout


def test_a_critical_case_that_holds_passes(project: Project) -> None:
    project.module("triage", TARGET)
    write_report(project, "a", ["both_pass", "regress"], critical=("both_pass",))
    write_report(project, "b", ["both_pass", "regress"], critical=("both_pass",))
    result = aitest(project, "--baseline", "reports/a.json", "--candidate", "reports/b.json", "--max-regressions", "1")
    assert result.returncode == 0, result.stdout


RUNS = """
import itertools, os

_calls = itertools.count()

def classify(ticket):
    n = next(_calls)
    # the candidate fails the first run of every fifth case: runs differ, cases do not fail whole
    bad = os.environ["MODEL"] == "b" and int(ticket) % 5 == 0 and n % 3 == 0
    return {"category": "nope" if bad else "billing"}
"""


def test_repeated_runs_count_one_by_one_resampled_by_case(project: Project) -> None:
    from aitest.compare.stats import cluster_bootstrap

    project.module("triage", RUNS)
    rows = "\n".join(f"  - id: c{i}\n    vars: {{ticket: '{i}'}}" for i in range(20))
    project.spec(
        "specs/triage.yaml",
        "feature: triage\ntarget: triage:classify\noutput: json\ndeterminism: {runs: 3, min_pass: 2}\n"
        f"expect: [{{equals: billing, path: category}}]\ncases:\n{rows}\n",
    )
    for model in ("a", "b"):
        os.environ["MODEL"] = model
        project.run(f"--aitest-report=reports/{model}.json", "-p", "no:randomly")
    result = aitest(project, "--baseline", "reports/a.json", "--candidate", "reports/b.json", "--margin", "0.2",
                    "--report-dir", "out")  # fmt: skip
    (feature,) = json.loads((project.root / "out/compare.json").read_text())["features"]
    assert feature["counts"]["regressed"] == 0  # every case still passes 2 of its 3 runs
    expected = cluster_bootstrap([(3, 3, 2, 3) if i % 5 == 0 else (3, 3, 3, 3) for i in range(20)])
    assert feature["difference"] == {"value": expected.value, "low": expected.low, "high": expected.high}
    assert feature["difference"]["value"] == pytest.approx(-4 / 60)
    assert feature["statistical"] == {"verdict": "pass", "more_cases": 0}
    assert result.returncode == 0
