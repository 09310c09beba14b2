"""A scripted OpenAI-compatible server on 127.0.0.1 that calls tools when the conversation says so.

It stands in for a model where the test is about aitest's own logic (the loop, recordings, checks): what
it answers follows from the request alone, so a run is reproducible. The first user turn drives it:
- `CALL name {json}` (one line each, several for parallel calls): call those tools; once the conversation
  holds tool results, answer `Done: ` and the results;
- `LOOP name`: call `name` at every step, whatever came back (a model that never stops);
- `BADARGS name`: a call whose arguments are not JSON;
- anything else: answer `Hello: ` and the last user turn.
Call ids are random, as real servers make them, so replay must not depend on them.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest


@dataclass
class ToolServer:
    base_url: str = ""
    requests: list[dict[str, Any]] = field(default_factory=list)


def answer(body: dict[str, Any]) -> dict[str, Any]:
    messages = body.get("messages") or []
    first = next((m.get("content") or "" for m in messages if m.get("role") == "user"), "")
    results = [m.get("content") for m in messages if m.get("role") == "tool"]
    calls: list[dict[str, Any]] = []
    text = ""
    for line in first.splitlines():
        word, _, rest = line.strip().partition(" ")
        name, _, args = rest.partition(" ")
        if word == "LOOP":
            calls.append(_call(name, "{}"))
        elif word == "BADARGS" and not results:
            calls.append(_call(name, "{order_id: 12"))
        elif word == "CALL" and not results:
            calls.append(_call(name, args or "{}"))
    if not calls:
        last = next((m.get("content") for m in reversed(messages) if m.get("role") == "user"), "")
        text = f"Done: {' | '.join(str(r) for r in results)}" if results else f"Hello: {last}"
    message: dict[str, Any] = {"role": "assistant", "content": text or None}
    if calls:
        message["tool_calls"] = calls
    choice = {"index": 0, "message": message, "finish_reason": "tool_calls" if calls else "stop"}
    usage = {"prompt_tokens": 10 * len(messages), "completion_tokens": 5, "total_tokens": 10 * len(messages) + 5}
    return {"id": f"chatcmpl-{uuid.uuid4().hex}", "object": "chat.completion", "choices": [choice], "usage": usage}


def _call(name: str, arguments: str) -> dict[str, Any]:
    return {
        "id": f"call_{uuid.uuid4().hex[:12]}",
        "type": "function",
        "function": {"name": name, "arguments": arguments},
    }


@pytest.fixture
def tool_server() -> Iterator[ToolServer]:
    state = ToolServer()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
            state.requests.append(body)
            data = json.dumps(answer(body)).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state.base_url = f"http://127.0.0.1:{server.server_address[1]}/v1"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def pyproject(base_url: str) -> str:
    """A project whose default profile is the scripted server."""
    return (
        '[tool.aitest]\nspecs = ["specs"]\ndefault_model = "scripted"\n\n'
        f'[tool.aitest.models.scripted]\nprovider = "openai"\nbase_url = "{base_url}"\nmodel = "scripted"\n'
    )
