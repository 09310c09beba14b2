"""What every provider is: it describes its options (as checks describe theirs) and answers two calls."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from aitest.errors import ModelError
from aitest.models.response import ToolCall

if TYPE_CHECKING:
    from aitest.models.profile import Profile


@dataclass(frozen=True)
class Completion:
    """A provider's answer. ``tool_calls`` carry the provider's own ids: the model client renumbers them."""

    text: str
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    tool_calls: tuple[ToolCall, ...] = ()
    finish_reason: str | None = None


class Provider(ABC):
    """A model backend. ``params`` holds temperature, max_tokens, seed, stop, top_p, top_k, json_schema.

    ``options`` maps each profile option to its kind (str, int, number, bool); ``required`` must be
    set; ``model_option`` names the model, which (with the provider's name) keys recordings.
    """

    name: ClassVar[str]
    options: ClassVar[dict[str, str]]
    required: ClassVar[tuple[str, ...]]
    model_option: ClassVar[str]

    @classmethod
    @abstractmethod
    def from_profile(cls, profile: Profile, rootdir: Path | None = None) -> Provider:
        """The provider for a validated profile (loads a model or opens a client)."""

    @abstractmethod
    def complete(self, prompt: str, params: dict[str, Any]) -> Completion: ...

    @abstractmethod
    def chat(self, messages: list[dict[str, Any]], params: dict[str, Any]) -> Completion: ...

    def respond(
        self, messages: list[dict[str, Any]], tools: list[dict[str, Any]], tool_choice: Any, params: dict[str, Any]
    ) -> Completion:
        """A chat whose answer may be tool calls. ``tools`` are OpenAI function definitions (``{type:
        function, function: {name, description, parameters}}``); ``tool_choice`` is auto, required, none
        or ``{type: function, function: {name}}``. Messages may hold assistant ``tool_calls`` and ``tool``
        turns, in the OpenAI form."""
        if not tools:
            return self.chat(messages, params)
        raise ModelError(f"the {self.name} provider cannot call tools")

    @classmethod
    def size(cls, profile: Profile, rootdir: Path) -> int | None:
        """The bytes of the model's file, where there is one, known without loading it (model selection)."""
        return None

    def concurrency(self) -> tuple[int, str]:
        """How many calls to send at once (1: one after another), and a note to show when it was guessed."""
        return 1, ""

    def fingerprint(self) -> str | None:
        """The model file's content hash where there is one (GGUF sha256), else None."""
        return None

    def close(self) -> None:  # noqa: B027 (optional: most providers hold nothing to free)
        """Free the model or the connection."""
