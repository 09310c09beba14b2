"""Huge outputs and prompts, and servers that answer too slowly: cut lines, quick misses, bounded waits."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from aitest.errors import ModelError
from aitest.models.profiles import Profile
from aitest.models.providers.openai import OpenAIProvider
from conftest import Project


def test_a_huge_failing_output_prints_cut_lines(project: Project) -> None:
    project.module("huge", "def run():\n    return 'x' * 10_000_000\n")
    project.spec("specs/huge.yaml", "feature: huge\ntarget: huge:run\ncases: [{id: a, expect: [{contains: nope}]}]\n")
    result = project.run("--junitxml=junit.xml", "-rf")
    result.assert_outcomes(failed=1)
    assert max(len(line) for line in result.stdout.lines) < 1000
    result.stdout.fnmatch_lines(["*... (9999* more characters)"])
    assert (project.root / "junit.xml").stat().st_size < 50_000


def test_a_huge_multiline_diff_prints_cut_lines(project: Project) -> None:
    long_line = "y" * 50_000
    project.module("huge", f"def run():\n    return 'a\\n' + {long_line!r} + '\\nb'\n")
    project.spec(
        "specs/huge.yaml", 'feature: huge\ntarget: huge:run\ncases: [{id: a, expect: [{equals: "a\\nz\\nb"}]}]\n'
    )
    result = project.run()
    result.assert_outcomes(failed=1)
    assert max(len(line) for line in result.stdout.lines) < 1000


def test_a_miss_on_a_huge_prompt_shows_where_it_differs(project: Project) -> None:
    from aitest.recordings import fileformat
    from aitest.recordings.entry import Entry, Request, entry_key
    from aitest.util.files import write_atomic

    model = {"provider": "llama_cpp", "model": "bundled:gemma-3-270m"}
    recorded = "word " * 20_000 + "ORIGINAL ending"
    entries = {}
    for i in range(50):
        request = Request("complete", prompt=f"other prompt {i} " * 2000, params={})
        key = entry_key(model, request, 0)
        entries[key] = Entry(key, model, request, 0, "x", 1.0)
    request = Request("complete", prompt=recorded, params={})
    entries[entry_key(model, request, 0)] = Entry(entry_key(model, request, 0), model, request, 0, "x", 1.0)
    write_atomic(project.root / "specs/__recordings__/big.yaml", fileformat.dump("big", entries))
    project.spec(
        "specs/big.yaml",
        'feature: big\nprompt: "{{ text }}"\ncases:\n  - id: a\n    vars: {text: "'
        + "word " * 20_000
        + 'CHANGED ending"}\n',
    )
    result = project.run()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*no recorded response for this model call*51 entries*", "*prompt differs*"])
    assert "ORIGINAL" in result.stdout.str() and "CHANGED" in result.stdout.str()
    assert max(len(line) for line in result.stdout.lines) < 1000


@pytest.fixture
def dripping_server() -> Iterator[str]:
    """An HTTP server that sends its headers at once, then its body one byte every 0.25 s."""
    body = json.dumps({"choices": [{"message": {"content": "slowly, slowly"}}]}).encode()
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    stop = threading.Event()

    def serve() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                continue
            with conn:
                conn.recv(65536)
                head = f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
                try:
                    conn.sendall(head.encode())
                    for byte in body:
                        if stop.is_set():
                            return
                        conn.sendall(bytes([byte]))
                        time.sleep(0.25)
                except OSError:
                    continue

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}/v1"
    stop.set()
    thread.join(timeout=5)
    listener.close()


@pytest.mark.needs("httpx")
def test_timeout_bounds_the_whole_answer_not_each_byte(dripping_server: str) -> None:
    profile = Profile("drip", "openai", {"base_url": dripping_server, "model": "m", "timeout": 1, "retries": 0})
    provider = OpenAIProvider.from_profile(profile, Path("."))
    start = time.monotonic()
    with pytest.raises(ModelError, match=r"did not answer within 1 s"):
        provider.chat([{"role": "user", "content": "hi"}], {})
    assert time.monotonic() - start < 5  # the body alone would take 12 s
    provider.close()
