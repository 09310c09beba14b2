"""Fixtures for the openai provider: the real llama-cpp-python server, and a scripted stdlib server for failures."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

# llama.cpp's AMX kernels segfault on CPUs that advertise AMX under some hypervisors (seen on Firecracker):
# start the unmodified server module with the CPU "extra buffer types" (AMX, weight repacking) switched off.
_LAUNCH = """
import runpy
import llama_cpp.llama_cpp as C
_defaults = C.llama_model_default_params
def _plain_buffers():
    params = _defaults()
    params.use_extra_bufts = False
    return params
C.llama_model_default_params = _plain_buffers
runpy.run_module("llama_cpp.server", run_name="__main__", alter_sys=True)
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _stderr_tail(path: Path, lines: int = 25) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


@pytest.fixture(scope="session")
def llama_server(tmp_path_factory: pytest.TempPathFactory, gemma: Path) -> Iterator[str]:
    """The base URL (http://127.0.0.1:PORT/v1) of a llama_cpp.server serving the bundled Gemma 3 270M."""
    path = gemma
    port = free_port()
    args = ["--model", str(path), "--host", "127.0.0.1", "--port", str(port), "--n_ctx", "1024"]
    args += ["--model_alias", "gemma-270m", "--chat_format", "gemma"]  # the GGUF has no chat template
    log = tmp_path_factory.mktemp("llama_server") / "stderr.log"
    with log.open("wb") as stderr:  # a file, not a pipe: llama.cpp logs enough to fill a pipe and block
        proc = subprocess.Popen([sys.executable, "-c", _LAUNCH, *args], stdout=subprocess.DEVNULL, stderr=stderr)
    base_url = f"http://127.0.0.1:{port}/v1"
    try:
        _wait_until_up(proc, base_url, log, deadline=time.monotonic() + 120)
        yield base_url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _wait_until_up(proc: subprocess.Popen[bytes], base_url: str, log: Path, *, deadline: float) -> None:
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"llama_cpp.server exited with {proc.returncode}:\n{_stderr_tail(log)}", pytrace=False)
        try:
            with urllib.request.urlopen(f"{base_url}/models", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.25)
    pytest.fail(f"llama_cpp.server did not answer within 120 s:\n{_stderr_tail(log)}", pytrace=False)


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: Any


def completion_body(text: str = "ok", *, chat: bool = True, usage: bool = True) -> str:
    """A minimal OpenAI-compatible response body."""
    choice = {"index": 0, "message": {"role": "assistant", "content": text}} if chat else {"index": 0, "text": text}
    data: dict[str, Any] = {"object": "chat.completion", "choices": [choice]}
    if usage:
        data["usage"] = {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4}
    return json.dumps(data)


@dataclass
class FakeServer:
    """Answers with `responses` in order (the last one repeats), after `delay` seconds; records every request."""

    base_url: str = ""
    responses: list[tuple[int, str, dict[str, str]]] = field(default_factory=lambda: [(200, completion_body(), {})])
    delay: float = 0.0
    requests: list[Received] = field(default_factory=list)
    script: Callable[[Any], tuple[int, str, dict[str, str]]] | None = None  # an answer made from the request body

    def respond(self, *responses: tuple[int, str, dict[str, str]]) -> None:
        self.responses = list(responses)

    def next_response(self, body: Any = None) -> tuple[int, str, dict[str, str]]:
        if self.script is not None:
            return self.script(body)
        return self.responses.pop(0) if len(self.responses) > 1 else self.responses[0]


def _handler(fake: FakeServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            try:
                body = json.loads(raw)
            except ValueError:
                body = raw.decode(errors="replace")
            fake.requests.append(Received(self.path, dict(self.headers), body))
            status, text, headers = fake.next_response(body)
            time.sleep(fake.delay)
            try:
                self.send_response(status)
                for name, value in {"Content-Type": "application/json", **headers}.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(text.encode())
            except OSError:  # the client gave up (a timeout test)
                pass

        do_GET = do_POST

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


@pytest.fixture
def fake_http_server() -> Iterator[FakeServer]:
    """A scripted HTTP server on 127.0.0.1 for failure modes: set `responses` or `delay`, read `requests`."""
    fake = FakeServer()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(fake))
    server.daemon_threads = True
    server.block_on_close = False
    fake.base_url = f"http://127.0.0.1:{server.server_address[1]}/v1"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
