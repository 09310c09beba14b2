"""What every provider offers: a completion and a chat call returning text and token counts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True)
class Completion:
    text: str
    prompt_tokens: int | None = None
    completion_tokens: int | None = None


class Provider(Protocol):
    """A model backend. ``params`` holds temperature, max_tokens, seed, stop, top_p, top_k, json_schema."""

    def complete(self, prompt: str, params: dict[str, Any]) -> Completion: ...

    def chat(self, messages: list[dict[str, Any]], params: dict[str, Any]) -> Completion: ...

    def fingerprint(self) -> str | None:
        """The model file's content hash where there is one (GGUF sha256), else None."""
        ...
