"""`concurrency = N | "auto"`: model calls sent ahead of the cases, N at once, against a loopback server
that answers each request after a fixed delay and counts how many it holds at once."""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import yaml
from llama_server import fake_http_server
from tool_server import pyproject, tool_server

from conftest import Project

FIXTURES = (tool_server, fake_http_server)
pytestmark = pytest.mark.needs("httpx")  # every test here sends calls through the openai provider
LATENCY = re.compile(r"latency_ms: [0-9.]+")


@dataclass
class SlowServer:
    """An OpenAI-compatible server that answers `Hello: <prompt>` after ``delay`` seconds. A prompt holding
    FAIL gets HTTP 500, one holding STALL gets no answer for 30 s; ``slots`` answers /props when set."""

    delay: float = 0.05
    slots: int | None = None
    url: str = ""
    requests: list[str] = field(default_factory=list)
    in_flight: int = 0
    max_in_flight: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def handle(self, path: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        text = body.get("prompt") or next((m["content"] for m in body.get("messages", []) if m["role"] == "user"), "")
        with self.lock:
            self.requests.append(text)
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            time.sleep(30 if "STALL" in text else self.delay)
        finally:
            with self.lock:
                self.in_flight -= 1
        if "FAIL" in text:
            return 500, {"error": "boom"}
        usage = {"prompt_tokens": 3, "completion_tokens": 2}
        if path.endswith("/completions") and "prompt" in body:
            return 200, {"choices": [{"text": f"Hello: {text}", "finish_reason": "stop"}], "usage": usage}
        message = {"role": "assistant", "content": f"Hello: {text}"}
        return 200, {"choices": [{"message": message, "finish_reason": "stop"}], "usage": usage}


@pytest.fixture
def server() -> Iterator[SlowServer]:
    state = SlowServer()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            status, answer = state.handle(self.path, body)
            self._send(status, answer)

        def do_GET(self) -> None:
            if self.path == "/props" and state.slots is not None:
                self._send(200, {"total_slots": state.slots})
            else:
                self._send(404, {"error": "not found"})

        def _send(self, status: int, answer: dict[str, Any]) -> None:
            data = json.dumps(answer).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except OSError:
                pass  # the client gave up (a stalled request)

        def log_message(self, *args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    state.url = f"http://127.0.0.1:{httpd.server_address[1]}/v1"
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield state
    httpd.shutdown()
    httpd.server_close()


def configure(project: Project, server: SlowServer, concurrency: Any, *, timeout: float = 10) -> None:
    value = json.dumps(concurrency)
    project.pytester.makepyprojecttoml(
        '[tool.aitest]\nspecs = ["specs"]\n\n[tool.aitest.models.local]\nprovider = "openai"\n'
        f'base_url = "{server.url}"\nmodel = "m"\nretries = 0\ntimeout = {timeout}\nconcurrency = {value}\n'
    )


def prompt_spec(project: Project, count: int, *, special: dict[int, str] | None = None) -> None:
    names = [(special or {}).get(i, f"q{i}") for i in range(count)]
    cases = "".join(f"  - id: c{i}\n    vars: {{q: {name}}}\n" for i, name in enumerate(names))
    project.spec(
        "specs/greet.yaml",
        f"feature: greet\nmodel: local\nprompt: 'Say {{{{q}}}}'\nexpect:\n  - contains: Hello\ncases:\n{cases}",
    )


def test_n_calls_in_flight_never_more(project: Project, server: SlowServer) -> None:
    configure(project, server, 4)
    prompt_spec(project, 12)
    result = project.run("--aitest-record=off")
    result.assert_outcomes(passed=12)
    assert server.max_in_flight == 4
    assert len(server.requests) == 12
    result.stdout.fnmatch_lines(["*sending 12 model calls ahead (4 at once for 'local')*"])
    result.stdout.fnmatch_lines(["*12/12 model calls sent ahead for 'local' (4 at once)*"])


def test_recordings_and_report_identical_to_sequential(project: Project, server: SlowServer) -> None:
    chat = (
        "feature: chat\nmodel: local\nmessages:\n  - {role: user, content: 'Hi {{q}}'}\n"
        "determinism: {runs: 2, min_pass: 2}\nexpect:\n  - contains: Hello\ncases:\n"
        + "".join(f"  - id: m{i}\n    vars: {{q: n{i}}}\n" for i in range(5))
    )
    project.spec("specs/chat.yaml", chat)
    prompt_spec(project, 8, special={3: "xFAIL"})
    outputs = {}
    for concurrency in (1, 4):
        configure(project, server, concurrency)
        report = project.root / f"report{concurrency}.json"
        project.run("--aitest-record=rewrite", f"--aitest-report={report}").assert_outcomes(passed=12, failed=1)
        files = {  # byte for byte, but for each call's own latency
            p.name: LATENCY.sub("latency_ms: ?", p.read_text())
            for p in sorted((project.root / "specs/__recordings__").glob("*.yaml"))
        }
        cases = json.loads(report.read_text())["cases"]
        verdicts = sorted((c["feature"], c["id"], c["outcome"], [r.get("output") for r in c["runs"]]) for c in cases)
        outputs[concurrency] = (files, verdicts)
        for path in (project.root / "specs/__recordings__").glob("*.yaml"):
            path.unlink()
    assert outputs[1] == outputs[4]
    assert outputs[4][0]  # something was recorded


def test_k_sends_only_the_selected_cases(project: Project, server: SlowServer) -> None:
    configure(project, server, 4)
    prompt_spec(project, 12)
    project.run("--aitest-record=off", "-k", "c1 or c2").assert_outcomes(passed=4)  # c1, c2, c10, c11
    assert sorted(server.requests) == sorted(f"Say q{i}" for i in (1, 2, 10, 11))


def test_replay_sends_nothing_and_new_sends_only_misses(project: Project, server: SlowServer) -> None:
    configure(project, server, 4)
    prompt_spec(project, 6)
    project.run("--aitest-record=new").assert_outcomes(passed=6)
    assert len(server.requests) == 6
    project.run().assert_outcomes(passed=6)
    prompt_spec(project, 8)
    project.run("--aitest-record=new").assert_outcomes(passed=8)
    assert len(server.requests) == 8  # only the two new cases were called


def test_a_failing_or_stalled_call_fails_only_its_case(project: Project, server: SlowServer) -> None:
    configure(project, server, 4, timeout=1)
    prompt_spec(project, 10, special={2: "FAIL", 6: "STALL"})
    result = project.run("--aitest-record=off")
    result.assert_outcomes(passed=8, failed=2)
    result.stdout.fnmatch_lines(
        ["*greet::c2 failed*", "*HTTP 500*", "*greet::c6 failed*", "*did not answer within 1 s*"]
    )


@pytest.mark.parametrize("value", [0, -3, 65, 10**9, True, "many"])
def test_a_bad_concurrency_is_a_one_line_error(project: Project, server: SlowServer, value: Any) -> None:
    configure(project, server, value)
    prompt_spec(project, 1)
    result = project.run("--aitest-record=off")
    assert result.ret != 0
    result.stdout.fnmatch_lines(["*pyproject.toml:4*'concurrency' must be a whole number from 1 to 64 or \"auto\"*"])
    assert not server.requests


def test_auto_uses_the_server_slots(project: Project, server: SlowServer) -> None:
    server.slots = 3
    configure(project, server, "auto")
    prompt_spec(project, 9)
    result = project.run("--aitest-record=off")
    result.assert_outcomes(passed=9)
    assert server.max_in_flight == 3
    result.stdout.no_fnmatch_line("*found no slot count*")


def test_auto_without_props_falls_back_to_4_and_says_so_once(project: Project, server: SlowServer) -> None:
    configure(project, server, "auto")
    prompt_spec(project, 9)
    result = project.run("--aitest-record=off")
    result.assert_outcomes(passed=9)
    assert server.max_in_flight == 4
    lines = [line for line in result.outlines if "found no slot count" in line]
    assert len(lines) == 1 and "/props (HTTP 404); sending 4 calls at once" in lines[0]


def test_concurrency_is_not_part_of_the_recording_key(project: Project, server: SlowServer) -> None:
    configure(project, server, 1)
    prompt_spec(project, 3)
    project.run("--aitest-record=new").assert_outcomes(passed=3)
    configure(project, server, 8)
    project.run().assert_outcomes(passed=3)  # replays what concurrency 1 recorded


def test_x_cancels_the_calls_not_sent(project: Project, server: SlowServer) -> None:
    server.delay = 0.2
    configure(project, server, 2)
    prompt_spec(project, 40, special={0: "FAIL"})
    result = project.run("--aitest-record=off", "-x")
    result.assert_outcomes(failed=1)
    assert len(server.requests) < 10  # the rest were cancelled before they were sent
    assert not [t for t in threading.enumerate() if t.name.startswith("aitest-")]
    result.stdout.fnmatch_lines(["*model calls sent ahead for 'local' (2 at once, * cancelled)*"])


def test_tool_loops_take_their_first_step_from_ahead_and_go_on_alone(project: Project, tool_server: Any) -> None:
    from test_conversations import SHOP, SPEC, TOOLS

    project.file("specs/tools/orders.yaml", TOOLS)
    project.module("shop", SHOP)
    cases = "".join(
        f'  - id: t{i}\n    vars: {{message: \'CALL lookup_order {{"order_id": "{i}"}}\'}}\n'
        f"    expect: [{{tool_called: lookup_order}}]\n  - id: h{i}\n    vars: {{message: hi {i}}}\n"
        for i in range(3)
    )
    project.spec("specs/orders.yaml", SPEC + cases)
    seen = {}
    for concurrency in (1, 3):
        project.pytester.makepyprojecttoml(pyproject(tool_server.base_url) + f"concurrency = {concurrency}\n")
        tool_server.requests.clear()
        project.run("--aitest-record=rewrite").assert_outcomes(passed=6)
        text = (project.root / "specs/__recordings__/orders.yaml").read_text()
        seen[concurrency] = (len(tool_server.requests), LATENCY.sub("", text))
    assert seen[1] == seen[3]
    assert seen[3][0] == 9  # 6 first steps (sent ahead), and the second step of each loop: none sent twice


def test_under_xdist_each_worker_sends_its_own_cases(project: Project, server: SlowServer) -> None:
    configure(project, server, 3)
    prompt_spec(project, 16)
    result = project.run("--aitest-record=off", "-n", "2")
    result.assert_outcomes(passed=16)
    assert sorted(server.requests) == sorted(f"Say q{i}" for i in range(16))  # each once, by the worker running it
    assert server.max_in_flight <= 6
    result.stdout.fnmatch_lines(["*model calls sent ahead for 'local' (3 at once)*"])


def test_ctrl_c_leaves_no_thread_and_no_half_written_recording(project: Project, server: SlowServer) -> None:
    server.delay = 0.2
    configure(project, server, 2)
    prompt_spec(project, 30)
    project.file(
        "conftest.py",
        "import pytest\n\n@pytest.hookimpl(tryfirst=True)\ndef pytest_runtest_call(item):\n"
        "    if item.name == 'c4':\n        raise KeyboardInterrupt\n",
    )
    # a process of its own: Ctrl-C in process would stop this test run too; it ends only when no thread runs
    result = project.pytester.runpytest_subprocess("-p", "no:cacheprovider", "--aitest-record=new")
    assert result.ret == pytest.ExitCode.INTERRUPTED
    assert len(server.requests) < 12  # the rest were cancelled before they were sent
    recorded = yaml.safe_load((project.root / "specs/__recordings__/greet.yaml").read_text())
    assert [e["request"]["prompt"] for e in recorded["entries"]] == [f"Say q{i}" for i in range(4)]
    assert not list((project.root / "specs/__recordings__").glob("*.tmp*"))


def test_a_long_run_of_calls_sent_ahead_says_how_far_it_is(
    project: Project, server: SlowServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    import aitest.session

    monkeypatch.setattr(aitest.session, "PROGRESS_SECONDS", 0.0)  # every case's report may say it
    configure(project, server, 2)
    prompt_spec(project, 8)
    result = project.run("--aitest-record=off")
    result.assert_outcomes(passed=8)
    result.stdout.fnmatch_lines(["aitest: model calls sent ahead, answered so far: */8 for 'local' (2 at once)"])
