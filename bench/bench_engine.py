"""Engine benchmark: 1,000 cases x 3 checks through aitest vs the same checks as 1,000 plain
parametrized pytest tests, whole pytest processes, in one command. Also the plugin's start-up cost, and
the engine at pytest's floor: 10,000 recorded prompt cases x 3 checks (replayed) against 10,000 empty
parametrized tests.

    python bench/bench_engine.py [--cases 1000] [--floor-cases 10000] [--repeat 5] [--only engine|floor]

Prints medians and the ratios aitest/plain (target <= 1.2), the start-up difference with and without
the plugin (target <= 30 ms), and the ratio recorded/empty (target <= 1.15).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from instant import CONFTEST

SCHEMA = {
    "type": "object",
    "properties": {"id": {"type": "integer"}, "text": {"type": "string"}, "category": {"enum": ["billing", "account"]}},
    "required": ["id", "text", "category"],
}
FEATURE = """
def run(i):
    return {"id": i, "text": f"ticket {i} about billing", "category": "billing"}
"""
PLAIN = """
import json
import re

import pytest
from jsonschema import Draft202012Validator

from feature import run

VALIDATOR = Draft202012Validator(json.load(open("schema.json")), format_checker=Draft202012Validator.FORMAT_CHECKER)


@pytest.mark.parametrize("i", range({n}))
def test_case(i):
    out = run(i)
    assert not list(VALIDATOR.iter_errors(out))
    assert f"ticket {i}" in json.dumps(out)
    assert re.search(r"about \\w+", json.dumps(out))
"""


EMPTY = """
import pytest


@pytest.mark.parametrize("i", range({n}))
def test_case(i):
    pass
"""


def make_floor_project(root: Path, n: int) -> None:
    """A prompt spec of ``n`` cases x 3 checks (equals, contains, max_length) answered by the instant
    provider, to be recorded once and then replayed; and ``n`` empty parametrized tests."""
    root.mkdir(parents=True)
    (root / "pyproject.toml").write_text(
        '[tool.aitest]\nspecs = ["specs"]\ndefault_model = "fast"\n\n'
        '[tool.aitest.models.fast]\nprovider = "instant"\nmodel = "a"\n'
    )
    (root / "conftest.py").write_text(CONFTEST)
    (root / "specs").mkdir()
    lines = ["feature: floor", "prompt: 'Classify ticket {{ n }}'", "expect:", "  - contains: billing",
             "  - max_length: 100", "cases:"]  # fmt: skip
    for i in range(n):
        lines += [
            f"  - id: case_{i}",
            f"    vars: {{n: {i}}}",
            "    expect:",
            f'      - equals: \'{{"category": "billing", "n": {i}}}\'',
        ]
    (root / "specs" / "floor.yaml").write_text("\n".join(lines) + "\n")
    (root / "tests").mkdir()
    (root / "tests" / "test_empty.py").write_text(EMPTY.replace("{n}", str(n)))


def floor(n: int, repeat: int, common: list[str]) -> None:
    """10,000 recorded cases x 3 checks against 10,000 empty tests, whole processes, interleaved."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "floor"
        make_floor_project(root, n)
        timed(["specs", *common, "--aitest-record=once"], root, f"{n} passed")
        replayed = f"{n} replayed, 0 recorded"
        timed(["specs", *common], root, replayed)  # warm caches (pyc, parsed recording and specs)
        timed(["tests", *common], root, f"{n} passed")
        runs: dict[str, list[float]] = {"aitest": [], "empty": []}
        for _ in range(repeat):
            runs["aitest"].append(timed(["specs", *common], root, replayed))
            runs["empty"].append(timed(["tests", *common], root, f"{n} passed"))
    med = {k: statistics.median(v) for k, v in runs.items()}
    print(f"{n} recorded cases x 3 checks (equals, contains, max_length), median of {repeat} pytest processes:")
    print(f"  aitest replay : {med['aitest']:.3f} s")
    print(f"  empty tests   : {med['empty']:.3f} s")
    print(f"  ratio aitest/empty = {med['aitest'] / med['empty']:.2f}  (target <= 1.15)")


def make_project(root: Path, n: int) -> None:
    (root / "pyproject.toml").write_text('[tool.aitest]\nspecs = ["specs"]\n')
    (root / "feature.py").write_text(FEATURE)
    (root / "schema.json").write_text(json.dumps(SCHEMA))
    specs = root / "specs"
    specs.mkdir()
    (specs / "schema.json").write_text(json.dumps(SCHEMA))
    lines = ["feature: bench", "target: feature:run", "output: json", "cases:"]
    for i in range(n):
        lines += [
            f"  - id: case_{i}",
            f"    vars: {{i: {i}}}",
            "    expect:",
            "      - schema: schema.json",
            f"      - contains: 'ticket {i}'",
            "      - regex: 'about \\w+'",
        ]
    (specs / "bench.yaml").write_text("\n".join(lines) + "\n")
    (root / "tests").mkdir()
    (root / "tests" / "test_plain.py").write_text(PLAIN.replace("{n}", str(n)))
    (root / "empty").mkdir()


# as users run it: with bytecode caching (this sandbox sets PYTHONDONTWRITEBYTECODE, which would add the
# compile time of every module to every process, a cost no user pays twice)
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def timed(args: list[str], cwd: Path, expect: str) -> float:
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "pytest", *args], cwd=cwd, capture_output=True, text=True, env=ENV)
    elapsed = time.perf_counter() - start
    if expect not in proc.stdout:
        sys.exit(f"unexpected pytest output for {args}:\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")
    return elapsed


def aitest_import_ms(cwd: Path, common: list[str]) -> float:
    """Self time of every aitest module that a pytest session with no specs imports."""
    cmd = [sys.executable, "-X", "importtime", "-m", "pytest", *common]
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, env=ENV)
    total = 0
    for line in proc.stderr.splitlines():
        if line.startswith("import time:") and line.split("|")[-1].strip().startswith("aitest"):
            total += int(line.split("|")[0].split(":")[1])
    return total / 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=1000)
    parser.add_argument("--floor-cases", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--only", choices=["engine", "floor"])
    args = parser.parse_args()
    common = ["-q", "-p", "no:cacheprovider", "-p", "no:hypothesispytest"]
    if args.only != "engine":
        floor(args.floor_cases, args.repeat, common)
    if args.only == "floor":
        return
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        make_project(root, args.cases)
        passed = f"{args.cases} passed"
        runs: dict[str, list[float]] = {"aitest": [], "plain": [], "bare": [], "plugin": []}
        timed(["specs", *common], root, passed)  # warm caches (pyc, schema) before measuring
        timed(["tests", *common], root, passed)
        for _ in range(args.repeat):  # interleaved, so drift hits both sides alike
            runs["aitest"].append(timed(["specs", *common], root, passed))
            runs["plain"].append(timed(["tests", *common], root, passed))
        importtime = aitest_import_ms(root / "empty", common)
        for _ in range(args.repeat * 4):
            runs["plugin"].append(timed(["empty", *common], root, "no tests ran"))
            runs["bare"].append(timed(["empty", *common, "-p", "no:aitest"], root, "no tests ran"))
    med = {k: statistics.median(v) for k, v in runs.items()}
    print(f"{args.cases} cases x 3 checks (schema, contains, regex), median of {args.repeat} pytest processes:")
    print(f"  aitest spec : {med['aitest']:.3f} s")
    print(f"  plain tests : {med['plain']:.3f} s")
    print(f"  ratio aitest/plain = {med['aitest'] / med['plain']:.2f}  (target <= 1.2)")
    print(f"pytest start-up with no specs, median of {args.repeat * 4}:")
    print(f"  with aitest {med['plugin'] * 1000:.0f} ms, without {med['bare'] * 1000:.0f} ms")
    print(f"  plugin cost = {(med['plugin'] - med['bare']) * 1000:+.1f} ms  (target <= 30 ms)")
    print(f"  aitest modules imported at start-up (-X importtime, self time): {importtime:.1f} ms")


if __name__ == "__main__":
    main()
