"""Model-layer benchmarks, each against a baseline measured in the same command.

1. live overhead: N prompt cases through aitest (--aitest-record=off) vs the same prompts in a
   bare llama-cpp-python loop; whole processes, the model loaded once in each (target <= 1.10x).
   Both reset llama.cpp's context before each call (aitest does, for reproducible outputs).
2. replay: the same N cases replayed from a recording vs N plain parametrized pytest tests
   doing the same checks, the engine benchmark's baseline (target <= 1.3x).

    python bench/bench_models.py [--cases 40] [--replay-cases 400] [--repeat 3]
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

PROMPT = "Ticket {i}: my order number {i} has not arrived yet. Category:"
BARE = """
import sys
from llama_cpp import Llama
from aitest.models.bundled import resolve_bundled

path, _ = resolve_bundled("gemma-3-270m")
llama = Llama(model_path=str(path), n_ctx=2048, seed=0, verbose=False)
for i in range(int(sys.argv[1])):
    llama.reset()  # as aitest does before every call, so that an output never depends on the previous prompt
    text = llama.create_completion("{prompt}".format(i=i), max_tokens=8, temperature=0.0)["choices"][0]["text"]
    assert len(text) >= 0
print("bare done")
""".replace("{prompt}", PROMPT)
PLAIN = """
import pytest

@pytest.mark.parametrize("i", range({n}))
def test_case(i):
    out = " billing"
    assert len(out) >= 1
"""


def make_project(root: Path, n: int, name: str) -> None:
    root.mkdir(parents=True)
    (root / "pyproject.toml").write_text('[tool.aitest]\nspecs = ["specs"]\n')
    specs = root / "specs"
    specs.mkdir(parents=True, exist_ok=True)
    prompt = PROMPT.replace("{i}", "{{ i }}")
    lines = [f"feature: {name}", f'prompt: "{prompt}"', "params: {max_tokens: 8, temperature: 0}", "cases:"]
    lines += [f"  - id: c{i}\n    vars: {{i: {i}}}\n    expect: [{{min_length: 0}}]" for i in range(n)]
    (specs / f"{name}.yaml").write_text("\n".join(lines) + "\n")
    tests = root / "tests"
    tests.mkdir(exist_ok=True)
    (tests / "test_plain.py").write_text(PLAIN.replace("{n}", str(n)))
    (root / "bare.py").write_text(BARE)


# as users run it: with bytecode caching (this sandbox sets PYTHONDONTWRITEBYTECODE)
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def timed(cmd: list[str], cwd: Path, expect: str) -> float:
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, env=ENV)
    elapsed = time.perf_counter() - start
    if expect not in proc.stdout:
        sys.exit(f"unexpected output of {cmd}:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=40)
    parser.add_argument("--replay-cases", type=int, default=400)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    pytest_cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:hypothesispytest"]
    with tempfile.TemporaryDirectory() as tmp:
        live_root, replay_root = Path(tmp) / "live", Path(tmp) / "replay"
        make_project(live_root, args.cases, "live")
        make_project(replay_root, args.replay_cases, "replay")
        n, m = args.cases, args.replay_cases
        timed([*pytest_cmd, "specs", "--aitest-record=once"], replay_root, f"{m} passed")  # record once
        live, bare, replay, plain = [], [], [], []
        for _ in range(args.repeat):
            live.append(timed([*pytest_cmd, "specs", "--aitest-record=off"], live_root, f"{n} passed"))
            bare.append(timed([sys.executable, "bare.py", str(n)], live_root, "bare done"))
            replay.append(timed([*pytest_cmd, "specs"], replay_root, f"{m} replayed"))
            plain.append(timed([*pytest_cmd, "tests"], replay_root, f"{m} passed"))
    live_s, bare_s = statistics.median(live), statistics.median(bare)
    replay_s, plain_s = statistics.median(replay), statistics.median(plain)
    print(f"live: {n} prompt cases on Gemma 3 270M (max_tokens 8), median of {args.repeat} processes")
    print(f"  aitest --aitest-record=off : {live_s:.2f} s")
    print(f"  bare llama-cpp-python loop : {bare_s:.2f} s")
    print(f"  ratio aitest/bare = {live_s / bare_s:.2f}  (target <= 1.10)")
    print(f"replay: {m} cases from the recording vs {m} plain pytest tests, median of {args.repeat}")
    print(f"  aitest replay : {replay_s:.2f} s")
    print(f"  plain pytest  : {plain_s:.2f} s")
    print(f"  ratio replay/plain = {replay_s / plain_s:.2f}  (target <= 1.3)")


if __name__ == "__main__":
    main()
