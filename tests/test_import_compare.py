"""The worked migration of docs/migrate.md, end to end: the shipped log imported and redacted, then the two
built-in models compared with the imported baseline, live, with the selection a team reads."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import jsonschema
import yaml

from aitest.compare.schema import compare_schema
from conftest import Project

SHIPPED = Path(__file__).resolve().parent.parent / "examples" / "logs" / "support_routing.jsonl"


def aitest(project: Project, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "aitest.cli", *args], cwd=project.root, capture_output=True,
                          text=True, timeout=900)  # fmt: skip


def test_a_hosted_llms_log_against_both_built_in_models(project: Project, gemma: Path, smollm2: Path) -> None:
    project.file("logs/prod.jsonl", SHIPPED.read_text())
    imported = aitest(project, "import", "logs/prod.jsonl", "--feature", "support_routing", "--profile", "prod-llm",
                      "--redact", "email,phone", "--sample", "6")  # fmt: skip
    assert imported.returncode == 0, imported.stdout + imported.stderr
    pyproject = project.root / "pyproject.toml"
    pyproject.write_text(pyproject.read_text() + "price = {input = 0.15, output = 0.60}\n")
    result = aitest(project, "compare", "--baseline", "prod-llm", "--candidate", "gemma-270m", "--candidate",
                    "smollm2-135m", "--aitest-record=new", "--report-dir", "out")  # fmt: skip
    assert result.returncode in (0, 1), result.stdout + result.stderr
    assert "running the specs on prod-llm (new)..." in result.stderr
    report = json.loads((project.root / "out/compare.json").read_text())
    jsonschema.validate(report, compare_schema())
    assert {c["verdict"] for c in report["cases"]} <= {"passed", "failed", "regressed", "improved"}  # none missing
    assert len(report["cases"]) == 12  # 6 cases x 2 candidates
    selection = report["selection"]["support_routing"]
    rows = {r["name"]: r for r in selection["ranking"]}
    assert rows["prod-llm"]["baseline"] and rows["prod-llm"]["hosted"]
    assert rows["prod-llm"]["cost_per_1000"] > 0 and rows["gemma-270m"]["cost_per_1000"] == 0
    keeping = [n for n, r in rows.items() if not r["baseline"] and r["meets_gate"] and (r["pass_rate"] or 0) >= 0.8]
    if keeping:  # the named model is one that meets the agreement gate and clears the bar
        assert selection["model"] in keeping and selection["reason"].startswith(f"{selection['model']} keeps")
    else:
        assert selection["model"] is None and selection["reason"].startswith("no model named: ")
    terminal = result.stdout
    assert "model selection" in terminal and selection["reason"] in terminal
    assert "n/a (hosted)" in terminal
    # the candidates' answers were recorded beside the imported ones: a replay now needs no model
    recording = yaml.safe_load((project.root / "specs/__recordings__/support_routing.yaml").read_text())
    models = sorted({e["model"]["provider"] + ":" + e["model"]["model"] for e in recording["entries"]})
    assert models == ["llama_cpp:bundled:gemma-3-270m", "llama_cpp:bundled:smollm2-135m",
                      "recorded:gpt-4o-mini-2024-07-18"]  # fmt: skip
    again = aitest(project, "compare", "--baseline", "prod-llm", "--candidate", "gemma-270m", "--candidate",
                   "smollm2-135m", "--report-dir", "again")  # fmt: skip
    assert "running the specs on gemma-270m (replay)..." in again.stderr
    replayed = json.loads((project.root / "again/compare.json").read_text())["selection"]["support_routing"]
    assert (replayed["model"], replayed["reason"]) == (selection["model"], selection["reason"])
