"""Recording at scale: N cases recorded vs the same N replayed, whole pytest processes; and one miss on a
100 KB prompt.

    python bench/bench_recording.py [--cases 5000] [--repeat 3]

The model is a provider registered in the project's conftest.py that answers at once, so the figures are
aitest's own cost: a recording written O(N) times in all (batched) should record in a few times its replay
time (it was quadratic: every case rewrote the whole file). Prints medians and the ratio record/replay,
then the seconds one miss message takes against 5,000 recorded entries with a 100 KB prompt.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from instant import CONFTEST

FEATURE = """
def answer(question, model):
    return model.complete(f"Please answer question {question.split()[-1].rstrip('?')}", max_tokens=16)
"""
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def make_project(root: Path, n: int) -> None:
    root.mkdir(parents=True)
    (root / "pyproject.toml").write_text(
        '[tool.aitest]\nspecs = ["specs"]\ndefault_model = "fast"\n\n'
        '[tool.aitest.models.fast]\nprovider = "instant"\nmodel = "a"\n'
    )
    (root / "conftest.py").write_text(CONFTEST)
    (root / "feature.py").write_text(FEATURE)
    (root / "specs").mkdir()
    rows = [f"  - id: c{i}\n    vars: {{question: 'What is item {i}?'}}" for i in range(n)]
    spec = "feature: big\ntarget: feature:answer\nexpect: [{min_length: 1}]\ncases:\n" + "\n".join(rows) + "\n"
    (root / "specs" / "big.yaml").write_text(spec)


def timed(root: Path, *args: str, expect: str) -> float:
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:hypothesispytest", "specs", *args]
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=root, capture_output=True, text=True, env=ENV)
    elapsed = time.perf_counter() - start
    if expect not in proc.stdout:
        sys.exit(f"unexpected output of {cmd}:\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")
    return elapsed


def miss_seconds(entries: int) -> float:
    """One miss message against ``entries`` recorded calls, for a 100 KB prompt that differs near its end."""
    from aitest.recordings.entry import Entry, Request, entry_key
    from aitest.recordings.miss import describe_miss

    model = {"provider": "llama_cpp", "model": "m"}
    recorded = {}
    for i in range(entries):
        request = Request("complete", prompt=f"Ticket {i}: " + "words of a long ticket " * 80, params={"max_tokens": 8})
        key = entry_key(model, request, 0)
        recorded[key] = Entry(key, model, request, 0, "x", 1.0)
    long = "a very long document " * 5000  # 105,000 characters
    request = Request("complete", prompt=long + "ORIGINAL end", params={"max_tokens": 8})
    recorded[entry_key(model, request, 0)] = Entry(entry_key(model, request, 0), model, request, 0, "x", 1.0)
    now = Request("complete", prompt=long + "CHANGED end", params={"max_tokens": 8})
    start = time.perf_counter()
    message, _ = describe_miss(recorded, shown="big.yaml", exists=True, model=model, request=now, run=0)
    elapsed = time.perf_counter() - start
    assert "ORIGINAL" in message and "CHANGED" in message, message
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    n = args.cases
    record, replay = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for attempt in range(args.repeat):
            root = Path(tmp) / f"p{attempt}"
            make_project(root, n)
            record.append(timed(root, "--aitest-record=once", expect=f"0 replayed, {n} recorded"))
            replay.append(timed(root, expect=f"{n} replayed, 0 recorded"))
            shutil.rmtree(root / ".aitest_cache")  # the next replay parses the recording again
            replay.append(timed(root, expect=f"{n} replayed, 0 recorded"))
    record_s, replay_s = statistics.median(record), statistics.median(replay)
    print(f"{n} cases of one feature, median of {args.repeat} pytest processes (replay: {len(replay)})")
    print(f"  record (--aitest-record=once) : {record_s:.2f} s")
    print(f"  replay                        : {replay_s:.2f} s")
    print(f"  ratio record/replay = {record_s / replay_s:.2f}  (target: a few times)")
    seconds = statistics.median(miss_seconds(5000) for _ in range(3))
    print(f"one miss on a 100 KB prompt against 5,001 recorded entries: {seconds:.3f} s  (target < 1 s)")


if __name__ == "__main__":
    main()
