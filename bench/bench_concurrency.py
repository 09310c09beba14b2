"""Concurrent model calls: N prompt cases against a loopback OpenAI-compatible server that answers each
request after a fixed delay and holds at most `slots` at once (as llama.cpp's server with `--parallel`),
`concurrency = slots` against `concurrency = 1`, whole pytest processes, live (`--aitest-record=off`).

    python bench/bench_concurrency.py [--cases 200] [--delay 0.2] [--slots 8]

Prints each run's seconds, the most requests the server held at once, and the ratio (target >= 6x for
200 cases, 200 ms, 8 slots).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any


class Server:
    """Answers `Hello: <prompt>` after ``delay`` s, at most ``slots`` requests at once (the rest wait)."""

    def __init__(self, delay: float, slots: int) -> None:
        self.delay, self.slots = delay, threading.Semaphore(slots)
        self.lock, self.in_flight, self.most, self.count = threading.Lock(), 0, 0, 0
        state = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # else each answer waits 40 ms for a delayed ACK

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with state.slots:
                    with state.lock:
                        state.in_flight += 1
                        state.count += 1
                        state.most = max(state.most, state.in_flight)
                    time.sleep(state.delay)
                    with state.lock:
                        state.in_flight -= 1
                text = f"Hello: {body.get('prompt', '')}"
                answer = {"choices": [{"text": text, "finish_reason": "stop"}], "usage": {"prompt_tokens": 3}}
                data = json.dumps(answer).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def reset(self) -> None:
        self.most = self.count = 0


def make_project(root: Path, n: int, url: str, concurrency: int) -> None:
    root.mkdir(parents=True, exist_ok=True)
    (root / "pyproject.toml").write_text(
        '[tool.aitest]\nspecs = ["specs"]\n\n[tool.aitest.models.local]\nprovider = "openai"\n'
        f'base_url = "{url}"\nmodel = "m"\ntimeout = 120\nconcurrency = {concurrency}\n'
    )
    cases = "".join(f"  - id: c{i}\n    vars: {{q: q{i}}}\n" for i in range(n))
    (root / "specs").mkdir(exist_ok=True)
    (root / "specs" / "greet.yaml").write_text(
        f"feature: greet\nmodel: local\nprompt: 'Say {{{{q}}}}'\nexpect:\n  - contains: Hello\ncases:\n{cases}"
    )


def run(root: Path) -> float:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--aitest-record=off"]
    start = time.perf_counter()
    done = subprocess.run(command, cwd=root, capture_output=True, text=True, env=env)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"pytest failed in {root}:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=200)
    parser.add_argument("--delay", type=float, default=0.2)
    parser.add_argument("--slots", type=int, default=8)
    args = parser.parse_args()
    server = Server(args.delay, args.slots)
    times = {}
    with tempfile.TemporaryDirectory() as tmp:
        for concurrency in (args.slots, 1):
            root = Path(tmp) / f"c{concurrency}"
            make_project(root, args.cases, server.url, concurrency)
            server.reset()
            times[concurrency] = run(root)
            print(
                f"concurrency {concurrency}: {times[concurrency]:.2f} s for {args.cases} cases "
                f"({server.count} requests, at most {server.most} at once)"
            )
    ratio = times[1] / times[args.slots]
    print(f"ratio: {ratio:.2f}x faster with concurrency {args.slots} (target >= 6x)")


if __name__ == "__main__":
    main()
