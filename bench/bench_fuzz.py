"""Fuzz: N mutated specs and N mutated recordings (tests/fuzz_inputs.py), loaded as aitest does; then every
damaged form of every committed recording (the probe of hand edits: keys kept, duplicates, wrong header).

    python bench/bench_fuzz.py [--inputs 10000] [--seed 0]

Counts how each input ended: loaded, refused with aitest's own error (file:line:col), repaired (read as
`--aitest-record=rewrite` does: damaged entries dropped and reported), or a traceback (any other
exception: a bug). A recording that loads is compared with the file it was mutated from: an entry that
would replay for another request than it was recorded for is a *lie* (must be 0); an answer edited by
hand, its request intact, replays as edited (counted, by design: the key covers the request). Also times
each input: the contract is under a second, the bound here 5 s. Prints the counts, the slowest input's
time, and the first tracebacks with the input that caused them.
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

from fuzz_inputs import (
    damaged_recordings,
    feature_of,
    load_recording_text,
    load_spec_text,
    mutate,
    recording_seeds,
    spec_seeds,
)

LIMIT_S = 5.0
LIE = "lie: replays for another request"


def run(kind: str, n: int, seed: int, root: Path) -> tuple[Counter[str], float, list[str]]:
    seeds = spec_seeds() if kind == "spec" else recording_seeds()
    rng = random.Random(seed)
    outcomes: Counter[str] = Counter()
    slowest, failures = 0.0, []
    for i in range(n):
        original = rng.choice(seeds)
        text = mutate(original, rng)
        start = time.perf_counter()
        try:
            if kind == "spec":
                outcomes[load_spec_text(text, root)] += 1
            else:
                for repair in (False, True):
                    ended = load_recording_text(text, root, feature=feature_of(original), repair=repair)
                    outcomes[f"{ended}{' (rewrite)' if repair else ''}"] += 1
                    if ended != "error":
                        outcomes.update(compared(original, text, root, repair=repair))
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


def compared(original: str, text: str, root: Path, *, repair: bool) -> Counter[str]:
    """How a mutated recording that loads differs from the one it was made from, entry by entry."""
    from aitest.recordings import fileformat

    path = root / "fuzz_compare.yaml"
    path.write_text(original, encoding="utf-8")
    before = fileformat.load(path, "fuzz_compare.yaml").entries
    path.write_bytes(text.encode("utf-8", "surrogatepass"))
    after = fileformat.load(path, "fuzz_compare.yaml", repair=repair).entries
    found: Counter[str] = Counter()
    for key, entry in after.items():
        was = before.get(key)
        same_call = was is not None and (was.model, was.request.as_dict(), was.run) == (
            entry.model,
            entry.request.as_dict(),
            entry.run,
        )
        if not same_call:
            found[LIE] += 1
        elif was != entry:
            found["answer edited, request intact"] += 1
    return found


def damaged(root: Path) -> tuple[Counter[str], list[str]]:
    """Every damaged form of every committed recording, read as each record mode reads it."""
    outcomes: Counter[str] = Counter()
    failures: list[str] = []
    for original in recording_seeds():
        for form, text in damaged_recordings(original):
            for repair in (False, True):
                try:
                    ended = load_recording_text(text, root, feature=feature_of(original), repair=repair)
                except Exception:
                    ended = "traceback"
                    failures.append(f"{form}:\n{traceback.format_exc(limit=4)}")
                outcomes[f"{ended}{' (rewrite)' if repair else ''}"] += 1
                if ended == "ok":
                    outcomes["silently accepted"] += 1
                    failures.append(f"{form}: loaded as sound{' under rewrite' if repair else ''}")
    return outcomes, failures


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
            if kind == "recording":
                print(f"  entries replayed for another request than recorded (lies): {outcomes[LIE]}")
            for failure in failures:
                print(failure)
        start = time.perf_counter()
        outcomes, failures = damaged(Path(tmp))
        forms = sum(v for k, v in outcomes.items() if "(rewrite)" not in k and k != "silently accepted")
        print(f"{forms} damaged recordings (each read as every mode reads it) in {time.perf_counter() - start:.1f} s:")
        print(f"  {dict(sorted(outcomes.items()))}; silently accepted: {outcomes['silently accepted']}")
        for failure in failures[:5]:
            print(failure)


if __name__ == "__main__":
    main()
