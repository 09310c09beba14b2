"""`aitest compare` of two profiles with N recorded cases each, as a whole process, against the two plain
replay runs it replaces (pytest --aitest-model=A, then B).

    python bench/bench_compare.py [--cases 1000] [--repeat 3]

The models are providers registered in the project's conftest.py that answer at once (JSON, so agreement
needs no embedding model); both are recorded first, then every timed run replays. Prints medians and the
ratio compare / (replay A + replay B) (target <= 1.1).
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

from instant import CONFTEST

FEATURE = """
def classify(ticket, model):
    return model.complete(f"Classify ticket {ticket}", max_tokens=16)
"""
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def make_project(root: Path, n: int) -> None:
    (root / "specs").mkdir(parents=True)
    (root / "pyproject.toml").write_text(
        '[tool.aitest]\nspecs = ["specs"]\n\n[tool.aitest.models.fast-a]\nprovider = "instant"\nmodel = "a"\n\n'
        '[tool.aitest.models.fast-b]\nprovider = "instant"\nmodel = "b"\n'
    )
    (root / "conftest.py").write_text(CONFTEST)
    (root / "feature.py").write_text(FEATURE)
    rows = [f"  - id: c{i}\n    vars: {{ticket: '{i}'}}" for i in range(n)]
    (root / "specs" / "triage.yaml").write_text(
        "feature: triage\ntarget: feature:classify\noutput: json\nexpect: [{equals: billing, path: category}]\n"
        "cases:\n" + "\n".join(rows) + "\n"
    )


def timed(root: Path, cmd: list[str], expect: str, codes: tuple[int, ...] = (0, 1)) -> float:
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=root, capture_output=True, text=True, env=ENV)
    elapsed = time.perf_counter() - start
    if proc.returncode not in codes or expect not in proc.stdout:
        sys.exit(f"unexpected output of {cmd}:\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    n = args.cases
    pytest_cmd = [sys.executable, "-m", "pytest", "-m", "aitest", "-q", "-p", "no:cacheprovider", "--tb=no", "-rN"]
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        make_project(root, n)
        for profile in ("fast-a", "fast-b"):
            timed(root, [*pytest_cmd, "specs", f"--aitest-model={profile}", "--aitest-record=new"], "recorded")
        plain, whole, one_by_one = [], [], []
        for _ in range(args.repeat):
            replays = [
                timed(root, [*pytest_cmd, "specs", f"--aitest-model={profile}"], f"{n} replayed")
                for profile in ("fast-a", "fast-b")
            ]
            plain.append(sum(replays))
            cmd = [sys.executable, "-m", "aitest.cli", "compare", "--baseline", "fast-a", "--candidate", "fast-b", "-q"]
            whole.append(timed(root, cmd, "GATE FAILED", codes=(1,)))
            one_by_one.append(timed(root, [*cmd, "--jobs", "1"], "GATE FAILED", codes=(1,)))
    plain_s, whole_s, serial_s = statistics.median(plain), statistics.median(whole), statistics.median(one_by_one)
    print(f"{n} recorded cases on each of two profiles, median of {args.repeat}")
    print(f"  two replays (pytest --aitest-model=A, then B) : {plain_s:.2f} s")
    print(f"  aitest compare --baseline A --candidate B     : {whole_s:.2f} s")
    print(f"  aitest compare ... --jobs 1 (one side after the other) : {serial_s:.2f} s")
    print(f"  ratio compare/replays = {whole_s / plain_s:.2f}, with --jobs 1 {serial_s / plain_s:.2f}  (target <= 1.1)")


if __name__ == "__main__":
    main()
