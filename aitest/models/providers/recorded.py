"""`provider = "recorded"`: a profile with no model behind it, answered from recordings only.

It is what `aitest import` makes of an LLM's logs: the logged answers are its recordings. A replay finds them
as it finds any model's; anything that would call the model (a miss under `new`, every call under `all`,
`rewrite` or `off`) fails its case with one line that says the profile is replay-only and where it came from.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from aitest.errors import ModelError
from aitest.models.providers.base import Completion, Provider
from aitest.util.text import shown

if TYPE_CHECKING:
    from aitest.models.profile import Profile


def replay_only(profile: Profile) -> str:
    """Why a recorded profile cannot answer a call that is not in its recordings, in one line."""
    source = profile.options.get("imported_from")
    made = f"made by aitest import {source}" if source else "its recordings were made outside aitest"
    return f"model profile {shown(profile.name)} is replay-only (provider recorded; {made})"


class RecordedProvider(Provider):
    name = "recorded"
    options = {"model": "str", "imported_from": "str"}
    required = ()
    model_option = "model"

    def __init__(self, profile: Profile) -> None:
        self.profile = profile

    @classmethod
    def from_profile(cls, profile: Profile, rootdir: Path | None = None) -> RecordedProvider:
        return cls(profile)

    def _refuse(self) -> ModelError:
        return ModelError(
            f"{replay_only(self.profile)}: it has no model to call",
            hint="replay it (--aitest-record=none), or import a log that holds this request (aitest import)",
        )

    def complete(self, prompt: str, params: dict[str, Any]) -> Completion:
        raise self._refuse()

    def chat(self, messages: list[dict[str, Any]], params: dict[str, Any]) -> Completion:
        raise self._refuse()

    def respond(
        self, messages: list[dict[str, Any]], tools: list[dict[str, Any]], tool_choice: Any, params: dict[str, Any]
    ) -> Completion:
        raise self._refuse()
