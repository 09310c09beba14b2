"""Checks benchmark: 10,000 cases x 3 of the new checks against 10,000 cases x `contains`, whole pytest
processes, target-based (no model), in one command.

    python bench/bench_checks.py [--cases 10000] [--repeat 3]

Three specs over the same target outputs (a JSON reply per case):
  contains : `contains` only, the baseline
  mixed    : rouge_n (rouge-score) + starts_with + is_json
  metrics  : rouge_n + bleu (sacrebleu) + language (lingua), the metric libraries alone
Prints the median seconds of each and the ratios to the baseline. Needs `pip install 'aitest[metrics]'`.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

FEATURE = """
import json

def reply(i):
    return json.dumps({"reply": f"The parcel {i} is on its way and will arrive tomorrow before noon."})
"""
# one case as each spec writes it; {i} is the case number
CASE = {
    "contains": ["      - contains: 'parcel {i} '"],
    "mixed": [
        "      - rouge_n: 'The parcel {i} is on its way and arrives tomorrow morning'",
        "        path: reply",
        "        threshold: 0.6",
        "      - starts_with: 'The parcel'",
        "        path: reply",
        "      - is_json",
    ],
    "metrics": [
        "      - rouge_n: 'The parcel {i} is on its way and arrives tomorrow morning'",
        "        path: reply",
        "        threshold: 0.6",
        "      - bleu: 'The parcel {i} is on its way and will arrive tomorrow morning.'",
        "        path: reply",
        "        threshold: 0.4",
        "      - language: en",
        "        path: reply",
    ],
}


def make_project(root: Path, n: int) -> None:
    (root / "pyproject.toml").write_text('[tool.aitest]\nspecs = ["specs"]\n')
    (root / "feature.py").write_text(FEATURE)
    for name, checks in CASE.items():
        folder = root / "specs" / name
        folder.mkdir(parents=True)
        lines = [f"feature: {name}", "target: feature:reply", "cases:"]
        for i in range(n):
            lines += [f"  - id: case_{i}", f"    vars: {{i: {i}}}", "    expect:"]
            lines += [line.replace("{i}", str(i)) for line in checks]
        (folder / "bench.yaml").write_text("\n".join(lines) + "\n")


# as users run it: with bytecode caching (see bench_engine.py)
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def timed(args: list[str], cwd: Path, expect: str) -> float:
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "pytest", *args], cwd=cwd, capture_output=True, text=True, env=ENV)
    elapsed = time.perf_counter() - start
    if expect not in proc.stdout:
        sys.exit(f"unexpected pytest output for {args}:\n{proc.stdout[-3000:]}\n{proc.stderr[-2000:]}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    common = ["-q", "-p", "no:cacheprovider", "-p", "no:hypothesispytest"]
    runs: dict[str, list[float]] = {name: [] for name in CASE}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        make_project(root, args.cases)
        passed = f"{args.cases} passed"
        for name in CASE:  # warm caches (pyc, the libraries' own files) before measuring
            timed([f"specs/{name}", *common], root, passed)
        for _ in range(args.repeat):  # interleaved, so drift hits every variant alike
            for name in CASE:
                runs[name].append(timed([f"specs/{name}", *common], root, passed))
    med = {name: statistics.median(times) for name, times in runs.items()}
    print(f"{args.cases} cases, target-based (no model), median of {args.repeat} whole pytest processes:")
    print(f"  contains only                      : {med['contains']:.2f} s")
    print(f"  rouge_n + starts_with + is_json    : {med['mixed']:.2f} s")
    print(f"  rouge_n + bleu + language          : {med['metrics']:.2f} s")
    print(f"  ratio mixed/contains   = {med['mixed'] / med['contains']:.2f}")
    print(f"  ratio metrics/contains = {med['metrics'] / med['contains']:.2f}")


if __name__ == "__main__":
    main()
