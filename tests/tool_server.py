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
import uuid
from typing import Any

import pytest
from llama_server import FakeServer, fake_http_server

FIXTURES = (fake_http_server,)  # the tool_server fixture builds on it


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
def tool_server(fake_http_server: FakeServer) -> FakeServer:
    """The scripted HTTP server of llama_server.py, answering as `answer` says; `requests` holds what it got."""
    fake_http_server.script = lambda body: (200, json.dumps(answer(body)), {})
    return fake_http_server


def pyproject(base_url: str) -> str:
    """A project whose default profile is the scripted server."""
    return (
        '[tool.aitest]\nspecs = ["specs"]\ndefault_model = "scripted"\n\n'
        f'[tool.aitest.models.scripted]\nprovider = "openai"\nbase_url = "{base_url}"\nmodel = "scripted"\n'
    )
