"""Replay needs no model, no llama-cpp-python, no torch and no network; writes survive a kill."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import yaml

from conftest import SANDBOX, Project

FEATURE = """
import json, pathlib

def summarize(text, model):
    reply = model.complete(f"Summarize in five words: {text}\\nSummary:", max_tokens=8)
    with open("seen.jsonl", "a") as out:
        out.write(json.dumps(reply) + "\\n")
    return reply
"""


def test_recorded_suite_replays_without_model_packages_or_network(project: Project, gemma: Path) -> None:
    project.module("summary", textwrap.dedent(FEATURE))
    project.spec(
        "specs/summary.yaml",
        """
        feature: summary
        target: summary:summarize
        params: {temperature: 0, seed: 3}
        cases:
          - id: refund
            vars: {text: "The customer wants a refund for a broken kettle."}
            expect: [{min_length: 1}]
          - id: login
            vars: {text: "The user cannot log in after changing the password."}
            expect: [{min_length: 1}]
        """,
    )
    project.run("--aitest-record=once").assert_outcomes(passed=2)
    recorded = {
        e["request"]["prompt"]: e["response"]
        for e in yaml.safe_load((project.root / "specs/__recordings__/summary.yaml").read_text())["entries"]
    }
    (project.root / "seen.jsonl").unlink()
    (project.root / "sitecustomize.py").write_text(SANDBOX)
    result = project.pytester.runpytest_subprocess("-p", "no:cacheprovider", "-p", "no:anyio")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["aitest recordings (none): 2 replayed, 0 recorded, 0 missed, 0 unused"])
    seen = [json.loads(line) for line in (project.root / "seen.jsonl").read_text().splitlines()]
    assert sorted(seen) == sorted(recorded.values())  # byte-identical to the recorded responses
    check = project.pytester.run(sys.executable, "-c", "import llama_cpp")
    assert check.ret != 0  # the sandbox really blocks the import


WRITER = """
import sys
from pathlib import Path
from aitest.recordings import fileformat
from aitest.recordings.entry import Entry, Request, entry_key
from aitest.util.files import write_atomic

path = Path(sys.argv[1])
model = {"provider": "llama_cpp", "model": "m"}
requests = [Request("complete", prompt=f"p{i}") for i in range(3000)]
keys = [entry_key(model, request, 0) for request in requests]
round_ = 0
while True:
    round_ += 1
    entries = {}
    for key, request in zip(keys, requests):
        e = Entry(key, model, request, 0, f"round {round_}\\n" * 3, 1.0)
        entries[e.key] = e
    write_atomic(path, fileformat.dump("kill", entries))
    print(round_, flush=True)
"""


@pytest.mark.slow  # kills writers mid-write for seconds
def test_kill_during_writes_leaves_a_complete_file(tmp_path: Path) -> None:
    from aitest.recordings import fileformat
    from aitest.util import files

    path = tmp_path / "kill.yaml"
    script = tmp_path / "writer.py"
    script.write_text(WRITER)
    for delay in (0.3, 0.55, 0.8):
        proc = subprocess.Popen([sys.executable, str(script), str(path)], stdout=subprocess.PIPE, text=True)
        assert proc.stdout is not None
        proc.stdout.readline()  # at least one complete write happened
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        entries = fileformat.read(path, "kill.yaml")  # parses: never a half-written file
        assert len(entries) == 3000
        assert len({e.response for e in entries.values()}) == 1  # one whole round, not a mix
    files.remove_stale_temps(path)
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".kill.yaml.tmp")] == []
