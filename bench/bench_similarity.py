"""Similarity benchmarks, each against a baseline measured in the same command.

1. cold: N replayed cases with a `similar` check, run through aitest's engine with an empty
   embedding cache, vs a bare sentence-transformers encode of the same unique texts in one
   batch; the model is loaded before either is timed (target <= 1.2x on the encoding part).
2. warm: the same suite rerun as a pytest process with the cache filled, vs the suite without
   `similar` checks; torch must not be imported in the warm run (target <= 1.2x).

    python bench/bench_similarity.py [--cases 200] [--repeat 3]
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

TOPICS = ["refund", "delivery", "password", "invoice", "warranty", "cancellation", "upgrade", "address"]
CONFTEST = """
import sys

def pytest_sessionfinish(session):
    print("\\ntorch imported:", "torch" in sys.modules)
"""


def make_project(root: Path, n: int, *, similar: bool) -> None:
    from aitest.recordings import fileformat
    from aitest.recordings.entry import Entry, Request, entry_key
    from aitest.util.files import write_atomic

    root.mkdir(parents=True)
    (root / "pyproject.toml").write_text('[tool.aitest]\nspecs = ["specs"]\n')
    (root / "conftest.py").write_text(CONFTEST)
    check = "      - similar: 'We will help with your {t} request today.'\n        threshold: 0.1\n"
    lines = [
        "feature: replies",
        'prompt: "Reply to message {{ i }} about {{ topic }}:"',
        "params: {max_tokens: 32}",
        "cases:",
    ]
    entries = {}
    model = {"provider": "llama_cpp", "model": "bundled:gemma-3-270m"}
    for i in range(n):
        topic = TOPICS[i % len(TOPICS)]
        lines += [f"  - id: c{i}", f"    vars: {{i: {i}, topic: {topic}}}", "    expect:", "      - min_length: 1"]
        if similar:
            lines.append(check.format(t=topic).rstrip("\n"))
        request = Request("complete", prompt=f"Reply to message {i} about {topic}:", params={"max_tokens": 32})
        key = entry_key(model, request, 0)
        entries[key] = Entry(
            key, model, request, 0, f"Thanks for message {i}; your {topic} question is with our team.", 10.0
        )
    (root / "specs").mkdir()
    (root / "specs" / "replies.yaml").write_text("\n".join(lines) + "\n")
    write_atomic(root / "specs/__recordings__/replies.yaml", fileformat.dump("replies", entries))


def cold(root: Path) -> tuple[float, float, int]:
    """(aitest engine seconds, bare encode seconds, unique texts), model loaded beforehand for both."""
    from aitest.config import load_config
    from aitest.models.runtime import ModelRuntime
    from aitest.run import run_case
    from aitest.spec.loader import load_spec

    config = load_config(root)
    runtime = ModelRuntime(config)  # replay; its embedder's caches under `root` are empty
    model = runtime.embedder._load_model()
    spec = load_spec(root / "specs/replies.yaml", rootdir=root)
    responses = {e.response for e in runtime.store.feature("replies").entries().values()}
    texts = sorted(spec.reference_texts | responses)
    start = time.perf_counter()
    results = [run_case(spec, case, runtime) for case in spec.cases]
    engine = time.perf_counter() - start
    assert all(r.passed for r in results), [r.error for r in results if not r.passed][:1]
    start = time.perf_counter()
    model.encode(texts, batch_size=64, normalize_embeddings=True, convert_to_numpy=True)
    bare = time.perf_counter() - start
    return engine, bare, len(texts)


def timed(cmd: list[str], cwd: Path, expect: str) -> tuple[float, str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, env=env)
    elapsed = time.perf_counter() - start
    if expect not in proc.stdout:
        sys.exit(f"unexpected output of {cmd}:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return elapsed, proc.stdout


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        with_sim, without = Path(tmp) / "similar", Path(tmp) / "plain"
        make_project(with_sim, args.cases, similar=True)
        make_project(without, args.cases, similar=False)
        engine, bare, unique = cold(with_sim)
        pytest_cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:hypothesispytest"]
        timed([*pytest_cmd, "specs"], with_sim, f"{args.cases} passed")  # fills .aitest_cache/embeddings
        warm, plain, outputs = [], [], []
        for _ in range(args.repeat):
            seconds, out = timed([*pytest_cmd, "specs"], with_sim, f"{args.cases} passed")
            warm.append(seconds)
            outputs.append(out)
            plain.append(timed([*pytest_cmd, "specs"], without, f"{args.cases} passed")[0])
    torch_loaded = any("torch imported: True" in out for out in outputs)
    print(f"cold: {args.cases} cases with `similar` ({unique} unique texts), model preloaded, empty cache")
    print(f"  aitest engine (replay + checks + encode) : {engine:.2f} s")
    print(f"  bare encode of the unique texts, 1 batch : {bare:.2f} s")
    print(f"  ratio aitest/bare = {engine / bare:.2f}  (target <= 1.2)")
    print(f"warm: the suite rerun with the cache vs without `similar` checks, median of {args.repeat} processes")
    print(f"  with similar (cached) : {statistics.median(warm):.2f} s   torch imported: {torch_loaded}")
    print(f"  without similar       : {statistics.median(plain):.2f} s")
    print(f"  ratio = {statistics.median(warm) / statistics.median(plain):.2f}  (target <= 1.2)")


if __name__ == "__main__":
    main()
