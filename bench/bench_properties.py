"""A property of 200 examples on a pure-Python target: aitest's runner vs the same strategy in a plain
Hypothesis test, in the same process.

    python bench/bench_properties.py [--examples 200] [--repeat 7]

Both sides draw the same examples (aitest's strategy, the same seed, no shrinking since the property
holds) and call the same target; the plain side compares with the unvaried output inline, the aitest
side does everything a property item does (the feature call, the invariant, the report's list of
examples). The ratio aitest/plain is aitest's overhead on Hypothesis; the target is <= 1.5.
Also times the same two as whole pytest runs (a spec file vs a test file), start-up included.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
FEATURE = """
def classify(ticket):
    words = "".join(c for c in ticket.lower() if c.isalnum() or c.isspace()).split()
    category = "billing" if {"charged", "refund", "invoice"} & set(words) else "account"
    return {"category": category, "priority": "normal"}
"""
SPEC = """
feature: bench
target: feature:classify
output: json
cases:
  - id: double_charge
    vars: {ticket: "I was charged twice this month"}
  - id: refund
    vars: {ticket: "Please refund my last order"}
  - id: password
    vars: {ticket: "How do I reset my password?"}
properties:
  - id: same_queue
    vary: {ticket: [case, whitespace, punctuation, filler]}
    examples: EXAMPLES
    expect: same
    path: category
"""
PLAIN_TEST = """
from hypothesis import HealthCheck, Phase, Verbosity, given, seed, settings

from aitest.properties.examples import example_strategy, property_seed
from aitest.session import AitestSession
from feature import classify

SPEC = AitestSession.for_rootdir(__import__("pathlib").Path(".").resolve()).load(
    __import__("pathlib").Path("specs/bench.yaml").resolve()
)
PROP = SPEC.properties[0]


@seed(property_seed(SPEC, PROP))
@settings(max_examples=PROP.examples, database=None, deadline=None, phases=(Phase.generate, Phase.shrink),
          suppress_health_check=list(HealthCheck), verbosity=Verbosity.quiet)
@given(example_strategy(SPEC, PROP))
def test_same_queue(example):
    assert classify(**example.case.vars)["category"] == classify(**example.base.vars)["category"]
"""


def make_project(root: Path, examples: int) -> None:
    (root / "specs").mkdir(parents=True)
    (root / "pyproject.toml").write_text('[tool.aitest]\nspecs = ["specs"]\n')
    (root / "feature.py").write_text(FEATURE)
    (root / "specs" / "bench.yaml").write_text(SPEC.replace("EXAMPLES", str(examples)))
    (root / "test_plain.py").write_text(PLAIN_TEST)


def engine_sides(root: Path) -> tuple[Callable[[], None], Callable[[], None]]:
    sys.path.insert(0, str(root))
    from hypothesis import HealthCheck, Phase, Verbosity, given, seed, settings

    from aitest.properties.examples import Example, example_strategy, property_seed
    from aitest.properties.runner import PropertyRunner
    from aitest.session import AitestSession

    session = AitestSession.for_rootdir(root)
    spec = session.load(root / "specs" / "bench.yaml")
    prop = spec.properties[0]
    target = spec.target.function  # type: ignore[union-attr]

    def plain() -> None:
        @seed(property_seed(spec, prop))
        @settings(max_examples=prop.examples, database=None, deadline=None, phases=(Phase.generate, Phase.shrink),
                  suppress_health_check=list(HealthCheck), verbosity=Verbosity.quiet)  # fmt: skip
        @given(example_strategy(spec, prop))
        def holds(example: Example) -> None:
            assert target(**example.case.vars)["category"] == target(**example.base.vars)["category"]

        holds()

    def aitest() -> None:
        result = PropertyRunner(spec, prop, session.runtime, budget=prop.examples).run()
        assert result.outcome == "passed", result.reason
        assert result.extra["property"]["tried"] >= prop.examples // 2  # distinct inputs: repeats run once

    return plain, aitest


def timed(call: Callable[[], None]) -> float:
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


def pytest_run(root: Path, target: str) -> float:
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:hypothesispytest", target]
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=root, capture_output=True, text=True, env=ENV)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0 or ("1 passed" not in proc.stdout and "4 passed" not in proc.stdout):
        sys.exit(f"unexpected output of {cmd}:\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="aitest-bench-props-"))
    make_project(root, args.examples)
    os.chdir(root)
    plain, aitest = engine_sides(root)
    plain(), aitest()  # warm up: imports, the target, Hypothesis's caches
    times: dict[str, list[float]] = {"plain": [], "aitest": []}
    for _ in range(args.repeat):  # interleaved, so that a slow moment of the machine hits both sides
        times["plain"].append(timed(plain))
        times["aitest"].append(timed(aitest))
    p, a = statistics.median(times["plain"]), statistics.median(times["aitest"])
    print(f"one property, {args.examples} examples, pure-Python target (median of {args.repeat}):")
    print(f"  plain Hypothesis test : {p * 1000:8.1f} ms")
    print(f"  aitest property       : {a * 1000:8.1f} ms")
    print(f"  ratio aitest/plain    : {a / p:8.2f}  (target <= 1.5)")
    runs = {"plain": [], "aitest": []}  # type: dict[str, list[float]]
    for _ in range(max(3, args.repeat // 2)):
        runs["plain"].append(pytest_run(root, "test_plain.py"))
        runs["aitest"].append(pytest_run(root, "specs"))
    p, a = statistics.median(runs["plain"]), statistics.median(runs["aitest"])
    print("whole pytest processes, start-up included (the spec file also runs its 3 cases):")
    print(f"  pytest test_plain.py  : {p * 1000:8.1f} ms")
    print(f"  pytest specs          : {a * 1000:8.1f} ms")
    print(f"  ratio                 : {a / p:8.2f}")


if __name__ == "__main__":
    main()
