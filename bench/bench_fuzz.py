"""Fuzz: N mutated specs and N mutated recordings (tests/fuzz_inputs.py), loaded as aitest does.

    python bench/bench_fuzz.py [--inputs 10000] [--seed 0]

Counts how each input ended: loaded, refused with aitest's own error (file:line:col), or a traceback
(any other exception: a bug). Also times each one: the contract is under a second, the bound here 5 s.
Prints the counts, the slowest input's time, and the first tracebacks with the input that caused them.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
import traceback
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from fuzz_inputs import load_recording_text, load_spec_text, mutate, recording_seeds, spec_seeds

LIMIT_S = 5.0


def run(kind: str, n: int, seed: int, root: Path) -> tuple[Counter[str], float, list[str]]:
    seeds = spec_seeds() if kind == "spec" else recording_seeds()
    load = load_spec_text if kind == "spec" else load_recording_text
    rng = random.Random(seed)
    outcomes: Counter[str] = Counter()
    slowest, failures = 0.0, []
    for i in range(n):
        text = mutate(rng.choice(seeds), rng)
        start = time.perf_counter()
        try:
            outcomes[load(text, root)] += 1
        except Exception:  # a traceback a user would see
            outcomes["traceback"] += 1
            if len(failures) < 5:
                failures.append(f"input {i}:\n{text[:600]!r}\n{traceback.format_exc(limit=4)}")
        elapsed = time.perf_counter() - start
        slowest = max(slowest, elapsed)
        if elapsed > LIMIT_S:
            outcomes["over 5 s"] += 1
        if (i + 1) % 1000 == 0:
            print(f"  {kind}: {i + 1}/{n}", file=sys.stderr)
    return outcomes, slowest, failures


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--inputs", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for kind in ("spec", "recording"):
            start = time.perf_counter()
            outcomes, slowest, failures = run(kind, args.inputs, args.seed, Path(tmp))
            total = time.perf_counter() - start
            print(f"{args.inputs} mutated {kind}s in {total:.1f} s: {dict(sorted(outcomes.items()))}")
            print(f"  slowest input {slowest:.3f} s (limit {LIMIT_S:.0f} s); tracebacks: {outcomes['traceback']}")
            for failure in failures:
                print(failure)


if __name__ == "__main__":
    main()
