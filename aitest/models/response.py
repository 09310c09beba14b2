"""What a model answers to a chat with tools: text, tool calls and why it stopped (targets get these)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class ToolCall:
    """One call of a tool: its id in the conversation (``call_0``, ``call_1``, ...), the tool, its arguments."""

    id: str
    name: str
    arguments: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The readable form kept in recordings and reports."""
        return {"id": self.id, "name": self.name, "arguments": self.arguments}

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> ToolCall:
        return cls(str(raw["id"]), str(raw["name"]), dict(raw.get("arguments") or {}))

    def wire(self) -> dict[str, Any]:
        """The OpenAI chat form of this call, as it goes into an assistant message."""
        arguments = json.dumps(self.arguments, sort_keys=True, ensure_ascii=False)
        return {"id": self.id, "type": "function", "function": {"name": self.name, "arguments": arguments}}

    def label(self) -> str:
        """``name(arg=value, ...)`` for messages."""
        args = ", ".join(f"{k}={json.dumps(v, ensure_ascii=False, sort_keys=True)}" for k, v in self.arguments.items())
        return f"{self.name}({args})"


@dataclass(frozen=True)
class Response:
    """The answer of ``ModelClient.respond``: ``.text``, ``.tool_calls`` and ``.finish_reason``."""

    text: str
    tool_calls: tuple[ToolCall, ...] = ()
    finish_reason: str | None = None  # stop | length | tool_calls; None when the recording predates it
    prompt_tokens: int | None = None
    completion_tokens: int | None = None

    def message(self) -> dict[str, Any]:
        """This answer as the assistant turn of an OpenAI-style conversation (to append before tool results)."""
        turn: dict[str, Any] = {"role": "assistant", "content": self.text or None}
        if self.tool_calls:
            turn["tool_calls"] = [call.wire() for call in self.tool_calls]
        return turn
