"""Model selection that tells the truth, and verdicts a team can trust: a model is named as keeping a feature's
behavior only when it meets the gate and its own pass rate reaches the bar; the cost of 1,000 cases; a strict
xfail that passed, a missing side, 0% bars, a property's output and a hosted model's size, each shown as it is.

The sides are run reports written by hand (valid against the report schema), compared by `aitest compare` as a
user runs it; no model is loaded."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from aitest.compare.schema import compare_schema
from aitest.reports.run_report import checks_passed, report_schema
from conftest import Project

FEATURE = "triage"
LOCAL = {"provider": "llama_cpp", "model": "bundled:gemma-3-270m"}
HOSTED = {"provider": "openai", "model": "gpt-x"}
RECORDED = {"provider": "recorded", "model": "prod-llm"}


def run(passed: bool, output: Any = None, *, prompt: int | None = 1000, completion: int | None = 200) -> dict[str, Any]:
    return {
        "run": 0, "passed": passed, "output": {"category": "billing" if passed else "nope"} if output is None else output,
        "latency_ms": 100.0, "model_calls": 1, "tokens": {"prompt": prompt, "completion": completion}, "problem": "",
        "checks": [],
    }  # fmt: skip


def case(case_id: str, outcome: str, *, profile: str = "m", reason: str = "", **fields: Any) -> dict[str, Any]:
    """A run-report case; ``outcome`` passed/failed gets one run of that verdict unless ``runs`` is given."""
    model = fields.pop("model", LOCAL)
    runs = fields.pop("runs", [run(outcome == "passed")] if outcome in ("passed", "failed") else [])
    if outcome == "failed" and not reason:
        reason = "equals [path category]: expected 'billing', got 'nope'"
    return {
        "nodeid": f"specs/{FEATURE}.yaml::{case_id}", "feature": FEATURE, "id": case_id, "kind": "case",
        "file": f"specs/{FEATURE}.yaml", "line": 1, "outcome": outcome, "reason": reason, "reason_at": None,
        "owner": "", "critical": False, "profile": profile, "model": model,
        "determinism": {"runs": len(runs) or 1, "required": len(runs) or 1, "agree": None}, "summary": "",
        "error": "", "traceback": "", "runs": runs, **fields,
    }  # fmt: skip


def cases(passed: int, failed: int, *, start: int = 0, **options: Any) -> list[dict[str, Any]]:
    """``passed`` passing cases c<start>... then ``failed`` failing ones."""
    outcomes = ["passed"] * passed + ["failed"] * failed
    return [case(f"c{start + i}", outcome, **options) for i, outcome in enumerate(outcomes)]


def write(
    root: Path,
    name: str,
    found: list[dict[str, Any]],
    *,
    model: dict[str, str] = LOCAL,
    size: int | None = None,
    price: dict[str, float] | None = None,
    gate: dict[str, Any] | None = None,
    with_price: bool = True,
) -> str:
    """A run report ``reports/<name>.json`` whose cases ran on profile ``m`` (``model``); its path, relative."""
    entry: dict[str, Any] = {**model, "bytes": size}
    if with_price:  # a report from before prices were kept has no key
        entry["price"] = price
    totals = {
        o: sum(1 for c in found if c["outcome"] == o) for o in report_schema()["properties"]["totals"]["required"]
    }
    document = {
        "aitest_report": 1, "aitest_version": "0", "created": "2026-11-01T00:00:00Z", "record_mode": "none",
        "model_override": None, "totals": totals, "features": {FEATURE: {"gate": gate or {}}},
        "models": {"m": entry}, "cases": found,
    }  # fmt: skip
    jsonschema.validate(document, report_schema())
    path = root / "reports" / f"{name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document))
    return f"reports/{name}.json"


def compare(project: Project, baseline: str, *candidates: str, flags: tuple[str, ...] = ()) -> Compared:
    args = ["--baseline", baseline, *(a for c in candidates for a in ("--candidate", c)), "--report-dir", "out"]
    proc = subprocess.run(
        [sys.executable, "-m", "aitest.cli", "compare", *args, *flags, "-q"],
        cwd=project.root, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode in (0, 1), proc.stderr
    return Compared(project.root / "out", proc.stdout)


class Compared:
    """What one `aitest compare` run shows: the terminal table and the three reports."""

    def __init__(self, folder: Path, stdout: str) -> None:
        self.stdout = stdout
        self.json = json.loads((folder / "compare.json").read_text())
        jsonschema.validate(self.json, compare_schema(), format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
        self.markdown = (folder / "compare.md").read_text()
        self.html = (folder / "compare.html").read_text()

    @property
    def selection(self) -> dict[str, Any]:
        return self.json["selection"][FEATURE]

    def row(self, name: str) -> dict[str, Any]:
        return next(r for r in self.selection["ranking"] if r["name"] == name)

    def said_everywhere(self, text: str) -> None:
        """``text`` in the terminal table, compare.md and compare.html (HTML-escaped)."""
        from html import escape

        assert text in self.stdout
        assert text in self.markdown
        assert escape(text) in self.html


# -- which model keeps the behavior ------------------------------------------------------------------------------
def test_one_candidate_clears_the_bar_and_is_named(project: Project) -> None:
    root = project.root
    base = write(root, "big", cases(9, 1), size=900_000_000)
    small = write(root, "small", cases(9, 1), size=200_000_000)  # the same cases pass: it meets the gate
    smaller = write(root, "smaller", cases(9, 1), size=100_000_000)
    tiny = write(root, "tiny", cases(7, 3), size=50_000_000)  # two regressions: the smallest, yet not named
    shown = compare(project, base, small, smaller, tiny)
    reason = (
        "reports/smaller.json keeps the behavior: it meets the gate and passes 90%, at or above the 80% bar "
        "(the smallest of the 2 candidates that do)"
    )
    assert shown.selection["model"] == "reports/smaller.json" and shown.selection["reason"] == reason
    assert shown.selection["bar"] == 0.8
    assert shown.row("reports/tiny.json")["clears_bar"] is False
    assert shown.row("reports/big.json")["clears_bar"] is True and shown.row("reports/big.json")["baseline"]
    shown.said_everywhere(reason)
    assert "| triage | **reports/smaller.json** | yes | 90% |" in shown.markdown
    assert "reports/smaller.json ★ keeps the behavior" in shown.html


def test_no_candidate_clears_the_bar_and_the_baseline_stays(project: Project) -> None:
    base = write(project.root, "big", cases(9, 1), size=900_000_000)
    small = write(project.root, "small", cases(7, 3), size=100_000_000)  # two regressions
    shown = compare(project, base, small)
    reason = (
        "no model named: no candidate meets the gate and passes 80% (closest: reports/small.json passes 70% and does not meet "
        "the gate: 2 case(s) regressed); the baseline reports/big.json stays (it passes 90%)"
    )
    assert shown.selection["model"] is None and shown.selection["reason"] == reason
    shown.said_everywhere(reason)
    assert f"- **triage**: {reason}" in shown.markdown
    assert '<li class="no-model"><b>triage</b>: no model named: ' in shown.html
    assert "★" not in shown.html


def test_a_baseline_below_the_bar_sets_no_behavior_worth_keeping(project: Project) -> None:
    """As in the demo: the baseline passes 2 of 7, the candidate 3 of 7 with no regression (it meets the gate),
    and neither is named, however small."""
    base = write(project.root, "gemma", [*cases(2, 0), *cases(0, 5, start=2)], size=253_000_000)
    small = write(project.root, "smol", [*cases(3, 0), *cases(0, 4, start=3)], size=98_000_000)
    shown = compare(project, base, small)
    reason = (
        "no model named: the baseline reports/gemma.json passes 29%, below the 80% bar; a baseline that fails most "
        "cases sets no behavior worth keeping; no candidate meets the gate and passes 80% either (closest: reports/smol.json passes "
        "43% and meets the gate)"
    )
    assert shown.selection["model"] is None and shown.selection["reason"] == reason
    assert shown.row("reports/smol.json")["meets_gate"] is True
    shown.said_everywhere(reason)


@pytest.mark.parametrize("where", ["flag", "spec"])
def test_the_bar_is_the_gates_min_pass_rate(project: Project, where: str) -> None:
    gate = {"min_pass_rate": 0.4} if where == "spec" else None
    base = write(project.root, "gemma", [*cases(2, 0), *cases(0, 5, start=2)], size=253_000_000, gate=gate)
    small = write(project.root, "smol", [*cases(3, 0), *cases(0, 4, start=3)], size=98_000_000, gate=gate)
    shown = compare(project, base, small, flags=("--min-pass-rate", "0.4") if where == "flag" else ())
    assert shown.selection["bar"] == 0.4 and shown.selection["model"] == "reports/smol.json"
    assert shown.selection["reason"] == (
        "reports/smol.json keeps the behavior: it meets the gate and passes 43%, at or above the 40% bar; "
        "the baseline reports/gemma.json passes 29%, below it"
    )


# -- cost per 1,000 cases -----------------------------------------------------------------------------------------
def test_cost_per_1000_cases_from_each_profiles_price(project: Project) -> None:
    root = project.root
    base = write(root, "hosted", cases(9, 1, model=HOSTED), model=HOSTED, price={"input": 0.15, "output": 0.6})
    local = write(root, "local", cases(9, 1), size=98_000_000)  # a local model without a price costs nothing
    unpriced = write(root, "unpriced", cases(9, 1, model=HOSTED), model=HOSTED)  # a hosted one is not known
    shown = compare(project, base, local, unpriced)
    # 1,000 prompt tokens at $0.15 and 200 completion tokens at $0.60 per million: $0.00027 a case
    assert shown.row("reports/hosted.json")["cost_per_1000"] == pytest.approx(0.27)
    assert shown.row("reports/local.json")["cost_per_1000"] == 0.0
    assert shown.row("reports/unpriced.json")["cost_per_1000"] is None
    costs = {f["candidate"]: f["candidate_stats"]["cost_per_1000"] for f in shown.json["features"]}
    assert costs == {"reports/local.json": 0.0, "reports/unpriced.json": None}
    assert "reports/hosted.json (baseline) yes 90% 100 ms n/a (hosted) $0.27" in shown.stdout
    assert "reports/local.json yes 90% 100 ms 98 MB $0.00" in shown.stdout
    assert "reports/unpriced.json yes 90% 100 ms n/a (hosted) n/a" in shown.stdout
    assert (
        "| triage | reports/hosted.json (baseline) | yes | 90% | 100 / 100 | n/a (hosted) | $0.27 |" in shown.markdown
    )
    assert "<th>cost per 1,000 cases</th>" in shown.html and "<td>$0.27</td>" in shown.html


def test_a_priced_model_whose_tokens_were_not_counted_costs_not_known(project: Project) -> None:
    found = [case(f"c{i}", "passed", model=HOSTED, runs=[run(True, prompt=None, completion=None)]) for i in range(3)]
    base = write(project.root, "a", found, model=HOSTED, price={"input": 1.0, "output": 2.0})
    shown = compare(project, base, base)
    assert shown.row("reports/a.json")["cost_per_1000"] is None


def test_a_report_from_before_prices_still_loads(project: Project) -> None:
    base = write(project.root, "old", cases(9, 1), size=98_000_000, with_price=False)
    hosted = write(project.root, "old_hosted", cases(9, 1, model=HOSTED), model=HOSTED, with_price=False)
    shown = compare(project, base, hosted)
    assert shown.row("reports/old.json")["cost_per_1000"] == 0.0
    assert shown.row("reports/old_hosted.json")["cost_per_1000"] is None
    assert shown.selection["model"] == "reports/old_hosted.json"  # the only candidate, its size not known


# -- verdicts a team can trust --------------------------------------------------------------------------------------
XFAIL_TARGET = """
import os

def classify(ticket):
    return {"category": "billing" if os.environ["MODEL"] == "b" or ticket == "easy" else "nope"}
"""
XFAIL_SPEC = """
feature: triage
target: triage:classify
output: json
expect: [{equals: billing, path: category}]
cases:
  - id: fixed_now
    vars: {ticket: hard}
    xfail: the old model misroutes it
  - id: easy
    vars: {ticket: easy}
    xfail: marked, yet it passes on both
"""


def test_a_strict_xfail_that_passes_counts_by_what_the_model_did(
    project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    project.module("triage", XFAIL_TARGET)
    project.spec("specs/triage.yaml", XFAIL_SPEC)
    for model in ("a", "b"):
        monkeypatch.setenv("MODEL", model)
        project.run(f"--aitest-report=reports/{model}.json")
    report = json.loads((project.root / "reports/b.json").read_text())
    assert {c["id"]: c["outcome"] for c in report["cases"]} == {"fixed_now": "failed", "easy": "failed"}  # strict
    shown = compare(project, "reports/a.json", "reports/b.json")
    verdicts = {c["id"]: c["verdict"] for c in shown.json["cases"]}
    assert verdicts == {"fixed_now": "improved", "easy": "passed"}
    fixed = next(c for c in shown.json["cases"] if c["id"] == "fixed_now")
    assert fixed["baseline"]["outcome"] == "xfailed" and fixed["candidate"]["outcome"] == "xpassed"
    assert fixed["candidate"]["reason"].startswith("the case passed, but it is marked xfail")
    (feature,) = shown.json["features"]
    assert feature["candidate_stats"]["pass_rate"] == 1.0 and feature["baseline"]["pass_rate"] == 0.5
    assert shown.stdout.startswith("GATE PASSED")
    assert "improved  triage::fixed_now (reports/b.json)" in shown.stdout


def test_a_disagreement_among_runs_is_still_a_failure() -> None:
    runs = [run(True, {"category": "billing"}), run(True, {"category": "billing", "x": 1})]
    failed = case("c", "failed", runs=runs, determinism={"runs": 2, "required": 2, "agree": "json"},
                  summary="2/2 runs passed (need 2); outputs do not agree (json): 2 distinct outputs in 2 runs")  # fmt: skip
    assert checks_passed(failed) is False
    assert checks_passed({**failed, "summary": "2/2 runs passed (need 2)"}) is True  # a strict xfail that passed
    assert checks_passed({**failed, "runs": [run(True), run(False)], "summary": ""}) is False  # one run short


def test_a_missing_side_shows_its_own_reason_never_the_others(project: Project) -> None:
    miss = "no recording for this request (triage, run 0)"
    base = write(project.root, "a", [case("c0", "passed"), case("gone", "missing", reason=miss), case("c2", "passed")])
    cand = write(project.root, "b", [case("c0", "passed"), case("gone", "failed"), case("new", "failed")])
    shown = compare(project, base, cand)
    lines = [line for line in shown.stdout.splitlines() if line.startswith("  missing ")]
    assert lines == [
        "  missing   triage::c2 (reports/b.json): not on the candidate",
        f"  missing   triage::gone (reports/b.json): missing on the baseline: {miss}",
        "  missing   triage::new (reports/b.json): not on the baseline",
    ]
    assert "expected 'billing'" not in "".join(lines)  # the candidate's failure is not why the baseline has none
    gone = next(c for c in shown.json["cases"] if c["id"] == "gone")
    assert gone["baseline"]["reason"] == miss and gone["candidate"]["reason"].startswith("equals")
    assert f"| **missing** | `triage::gone` | reports/b.json | missing on the baseline: {miss} |" in shown.markdown
    row = next(r for r in shown.html.split("<tr ") if "triage::gone" in r)
    baseline_cell, candidate_cell = re.findall(r"<td><small>reports/.*?</td>", row, re.S)
    assert miss in baseline_cell and "expected" not in baseline_cell
    assert "expected" in candidate_cell and miss not in candidate_cell


def test_a_zero_pass_rate_is_a_visible_bar_labelled_0(project: Project) -> None:
    base = write(project.root, "a", cases(2, 2))
    cand = write(project.root, "b", cases(0, 4))
    shown = compare(project, base, cand)
    pass_chart = shown.html.split('<figure class="chart">')[1]
    assert pass_chart.count('class="bar"') == 2  # both models, 0% too
    assert re.search(r'<rect class="bar" [^>]*height="2\.0"[^>]*><title>reports/b\.json: 0\.0%</title>', pass_chart)
    assert '<text class="bar-label zero"' in pass_chart and ">0%</text>" in pass_chart


def test_a_held_propertys_output_is_shown_not_none(project: Project) -> None:
    example = {"base": "c0", "vars": {"ticket": "HELLO"}, "variations": ["case"], "output": {"category": "billing"},
               "passed": True, "latency_ms": 80.0, "shrinking": False}  # fmt: skip
    prop = {"invariant": "same", "vary": {"ticket": ["case"]}, "bases": ["c0"], "examples_asked": 2, "budget": 2,
            "cut_short": False, "tried": 2, "examples": [example, {**example, "output": {"category": "x"}}]}  # fmt: skip
    held = case("same_queue", "passed", kind="property", runs=[], extra={"property": prop})
    broke = case("same_queue", "failed", kind="property", runs=[run(False, {"category": "account"})])
    base = write(project.root, "a", [case("c0", "passed"), held])
    cand = write(project.root, "b", [case("c0", "passed"), broke])
    shown = compare(project, base, cand)
    found = next(c for c in shown.json["cases"] if c["id"] == "same_queue")
    assert found["verdict"] == "regressed"
    assert found["baseline"]["output"] == {"category": "billing"} and found["baseline"]["latency_ms"] == 80.0
    assert found["baseline"]["output_of"] == "the first of 2 inputs tried (it held on each)"
    assert found["candidate"]["output"] == {"category": "account"}
    assert found["candidate"]["output_of"] == "the smallest input that breaks it"
    row = next(r for r in shown.html.split("<tr ") if "triage::same_queue" in r)
    assert "(none)" not in row and "output of the first of 2 inputs tried" in row


def test_a_hosted_models_size_is_not_applicable_not_unknown(project: Project) -> None:
    base = write(project.root, "hosted", cases(9, 1, model=HOSTED), model=HOSTED)
    recorded = write(project.root, "recorded", cases(9, 1, model=RECORDED), model=RECORDED)
    local = write(project.root, "local", cases(9, 1))  # a local model whose size is not known
    shown = compare(project, base, recorded, local)
    assert shown.row("reports/hosted.json")["hosted"] and shown.row("reports/recorded.json")["hosted"]
    assert not shown.row("reports/local.json")["hosted"]
    assert "reports/hosted.json (baseline) yes 90% 100 ms n/a (hosted)" in shown.stdout
    assert "reports/recorded.json yes 90% 100 ms n/a (hosted)" in shown.stdout
    assert "reports/local.json yes 90% 100 ms ? $0.00" in shown.stdout
    recorded_row = next(line for line in shown.markdown.splitlines() if line.startswith("| triage | **reports/rec"))
    assert recorded_row.endswith("| yes | 90% | 100 / 100 | n/a (hosted) | n/a |")  # named: no size breaks the tie
    assert "<td>n/a (hosted)</td>" in shown.html and "<td>?</td>" in shown.html
