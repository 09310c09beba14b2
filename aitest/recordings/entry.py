"""One recorded model call, and the key it is found by."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from aitest.models.response import ToolCall


@dataclass(frozen=True)
class Request:
    """A model call: ``complete`` with a prompt, or ``chat`` with messages (and the tools it may call,
    with ``tool_choice``), and its params. Messages are in canonical form (aitest.models.messages)."""

    kind: str
    prompt: str | None = None
    messages: list[dict[str, Any]] | None = None
    params: dict[str, Any] = field(default_factory=dict)
    tools: list[dict[str, Any]] | None = None  # the definitions sent (None in a request read from a recording)
    tool_choice: Any = None
    tool_set: dict[str, Any] | None = None  # the tools as keyed and recorded: see ``offered``

    @property
    def offered(self) -> dict[str, Any] | None:
        """The tools as keyed and recorded: their names, and a digest of their whole definitions (descriptions
        and schemas), so that an entry stays short and a changed definition is a miss."""
        if self.tool_set is not None:
            return self.tool_set
        return tool_summary(self.tools) if self.tools else None

    def as_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"kind": self.kind}
        if self.kind == "chat":
            body["messages"] = self.messages
            offered = self.offered
            if offered:  # absent without tools: the keys of plain chats stay as they were
                body["tools"] = offered
            if self.tool_choice is not None:
                body["tool_choice"] = self.tool_choice
        else:
            body["prompt"] = self.prompt
        body["params"] = {k: v for k, v in sorted(self.params.items()) if v is not None}
        return body

    def text(self) -> str:
        """The request as one text, for diffs: each turn, its tool calls, and the tools offered."""
        if self.kind != "chat":
            return self.prompt or ""
        lines = [_turn_text(m) for m in self.messages or []]
        offered = self.offered
        if offered:
            names = ", ".join(offered["names"])
            lines.append(f"[tools] {names} (sha256 {offered['sha256']}; tool_choice: {_choice_text(self.tool_choice)})")
        return "\n".join(lines)


def tool_summary(tools: list[dict[str, Any]]) -> dict[str, Any]:
    """``{names, sha256}`` of tool definitions: the sha256 (16 hex digits) of their canonical JSON."""
    names = [str((t.get("function") or {}).get("name")) for t in tools]
    blob = json.dumps(tools, sort_keys=True, ensure_ascii=False)
    return {"names": names, "sha256": hashlib.sha256(blob.encode("utf-8")).hexdigest()[:16]}


def _turn_text(message: dict[str, Any]) -> str:
    role = message.get("role")
    if role == "tool":
        return f"[tool {message.get('tool_call_id')}] {message.get('content')}"
    text = f"[{role}] {message.get('content')}"
    for call in message.get("tool_calls") or ():
        function = call.get("function") or {}
        text += f"\n[{role} calls {call.get('id')}] {function.get('name')} {function.get('arguments')}"
    return text


def _choice_text(choice: Any) -> str:
    if isinstance(choice, dict):
        return str((choice.get("function") or {}).get("name"))
    return "auto" if choice is None else str(choice)


def entry_key(model: dict[str, str], request: Request, run: int) -> str:
    """Stable key: the model identity, the request with its params, and the run index."""
    blob = json.dumps({"model": model, "request": request.as_dict(), "run": run}, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:20]


@dataclass(frozen=True)
class Entry:
    key: str
    model: dict[str, str]
    request: Request
    run: int
    response: str
    latency_ms: float
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    gguf_sha256: str | None = None
    tool_calls: tuple[ToolCall, ...] = ()  # ids as the conversation numbers them (call_0, ...)
    finish_reason: str | None = None  # None in entries recorded before it was kept

    def to_yaml_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"key": self.key, "model": dict(self.model)}
        if self.gguf_sha256:
            out["gguf_sha256"] = self.gguf_sha256
        out["run"] = self.run
        out["request"] = self.request.as_dict()
        out["response"] = self.response
        if self.tool_calls:
            out["tool_calls"] = [call.to_dict() for call in self.tool_calls]
        if self.finish_reason is not None:
            out["finish_reason"] = self.finish_reason
        out["latency_ms"] = round(self.latency_ms, 1)
        out["tokens"] = {"prompt": self.prompt_tokens, "completion": self.completion_tokens}
        return out

    @classmethod
    def from_yaml_dict(cls, raw: dict[str, Any]) -> Entry:
        req = raw["request"]
        request = Request(
            req["kind"], req.get("prompt"), req.get("messages"), dict(req.get("params") or {}),
            tool_choice=req.get("tool_choice"), tool_set=req.get("tools"),
        )  # fmt: skip
        tokens = raw.get("tokens") or {}
        return cls(
            key=str(raw["key"]),
            model={str(k): str(v) for k, v in raw["model"].items()},
            request=request,
            run=int(raw["run"]),
            response=str(raw["response"]),
            latency_ms=float(raw["latency_ms"]),
            prompt_tokens=tokens.get("prompt"),
            completion_tokens=tokens.get("completion"),
            gguf_sha256=None if raw.get("gguf_sha256") is None else str(raw["gguf_sha256"]),
            tool_calls=tuple(ToolCall.from_dict(c) for c in raw.get("tool_calls") or ()),
            finish_reason=raw.get("finish_reason"),
        )
