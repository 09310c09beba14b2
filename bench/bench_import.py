"""`aitest import` at scale: 100,000 logged requests (OpenAI request/response pairs, made here), whole
`aitest import` processes, with the time per 1,000 lines and the peak RSS of each.

    python bench/bench_import.py [--lines 100000]

Three runs in one command: 10% of the lines and all of them with `--sample 1000` (the reading is streamed:
peak memory should barely grow with the file, the ratio is printed), and all of them imported whole (every
distinct request becomes a case and an entry: memory then grows with what is written). One line in four is a
duplicate, one in ten holds an e-mail address to redact.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

AITEST = str(Path(sys.executable).parent / "aitest")
SYSTEM = "Route the message: answer billing, shipping, account or other."


def make_log(path: Path, lines: int) -> None:
    with path.open("w") as out:
        for i in range(lines):
            n = i if i % 4 else i // 2  # one line in four repeats an earlier request
            user = f"Ticket {n}: my order {n * 7 % 10007} has a problem" + (
                f", mail me at user{n}@example.com" if n % 10 == 0 else ""
            )
            turns = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": user}]
            request = {"model": "gpt-4o-mini", "messages": turns, "temperature": 0}
            answer = {"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": "shipping"}}
            usage = {"prompt_tokens": 40, "completion_tokens": 2}
            response = {"object": "chat.completion", "model": "gpt-4o-mini", "usage": usage, "choices": [answer]}
            out.write(json.dumps({"latency_ms": 300 + i % 500, "request": request, "response": response}) + "\n")


def run(root: Path, log: Path, feature: str, *extra: str) -> tuple[float, float]:
    """Seconds and peak RSS (MB) of one `aitest import` process."""
    cmd = [AITEST, "import", str(log), "--feature", feature, "--profile", "prod-llm", "--redact", "email", *extra]
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    start = time.perf_counter()
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    proc = subprocess.run(cmd, cwd=root, capture_output=True, text=True, env=env)
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit(f"aitest import failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # KB, the largest child so far
    if peak <= before:
        print("  (peak RSS no higher than an earlier run's: the figure below is an upper bound)")
    return seconds, peak / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=100_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "pyproject.toml").write_text('[tool.aitest]\nspecs = ["specs"]\n')
        small, big = root / "small.jsonl", root / "big.jsonl"
        make_log(small, args.lines // 10)
        make_log(big, args.lines)
        print(f"log: {args.lines:,} lines, {big.stat().st_size / 1e6:.0f} MB")
        rows = []
        # smallest first: ru_maxrss of the children only grows, so each run's peak is read after the smaller ones
        for name, log, lines, extra in (
            ("sample 1000 of 10%", small, args.lines // 10, ("--sample", "1000")),
            ("sample 1000 of all", big, args.lines, ("--sample", "1000")),
            ("whole log", big, args.lines, ()),
        ):
            seconds, peak = run(root, log, name.replace(" ", "_").replace("%", "pc"), *extra)
            rows.append((name, lines, seconds, peak))
            per = seconds / lines * 1_000_000
            figures = f"{seconds:7.2f} s {per:6.1f} ms per 1,000 lines, peak RSS {peak:4.0f} MB"
            print(f"  {name:<20} {lines:>8,} lines {figures}")
        ratio = rows[1][3] / rows[0][3]
        print(f"streamed reading: peak RSS x{ratio:.2f} for x{rows[1][1] / rows[0][1]:.0f} the lines (--sample 1000)")


if __name__ == "__main__":
    main()
