"""One recorded model call, and the key it is found by."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Request:
    """A model call: ``complete`` with a prompt, or ``chat`` with messages, and its params."""

    kind: str
    prompt: str | None = None
    messages: list[dict[str, Any]] | None = None
    params: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"kind": self.kind}
        if self.kind == "chat":
            body["messages"] = self.messages
        else:
            body["prompt"] = self.prompt
        body["params"] = {k: v for k, v in sorted(self.params.items()) if v is not None}
        return body

    def text(self) -> str:
        """The request as one text, for diffs."""
        if self.kind == "chat":
            return "\n".join(f"[{m.get('role')}] {m.get('content')}" for m in self.messages or [])
        return self.prompt or ""


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

    def to_yaml_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"key": self.key, "model": dict(self.model)}
        if self.gguf_sha256:
            out["gguf_sha256"] = self.gguf_sha256
        out["run"] = self.run
        out["request"] = self.request.as_dict()
        out["response"] = self.response
        out["latency_ms"] = round(self.latency_ms, 1)
        out["tokens"] = {"prompt": self.prompt_tokens, "completion": self.completion_tokens}
        return out

    @classmethod
    def from_yaml_dict(cls, raw: dict[str, Any]) -> Entry:
        req = raw["request"]
        request = Request(req["kind"], req.get("prompt"), req.get("messages"), dict(req.get("params") or {}))
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
        )
