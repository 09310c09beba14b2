"""The model client of the `aitest_model` fixture: an ordinary pytest test's model calls, recorded and
replayed as a spec's are, in a recording file of the test's own (as pytest-recording keeps a cassette per test)."""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from aitest.config import Config
from aitest.errors import AitestError, ConfigError, Location
from aitest.models.client import ModelClient
from aitest.models.messages import normalize, tool_choice_value, tool_definitions
from aitest.models.openai_compat import OpenAICompat
from aitest.models.profile import Profile
from aitest.models.profiles import all_profiles, choose_profile, known_names
from aitest.models.response import Response
from aitest.models.runtime import ModelRuntime
from aitest.util.text import did_you_mean, shown

MARKER = "aitest_model"
_UNSAFE = re.compile(r"[^A-Za-z0-9_.\-\[\]]")
_MAX_PART = 100  # characters of one folder or file name
T = TypeVar("T")


@dataclass(repr=False)
class AitestModel:
    """``complete(prompt, **params)``, ``chat(messages, **params)`` and ``respond(messages, tools=...)`` for one
    test, as a target's ``model``.

    The n-th identical call of a test is an entry of its own (``run: n-1``), as vcrpy plays each recorded
    response once: a test that asks the same question three times gets three recorded answers.
    """

    runtime: ModelRuntime
    profile: Profile
    recording: str  # the name of the test's recording: its path in the recordings folder, without .yaml
    errors: list[AitestError] = field(default_factory=list)  # kept even if the test catches them
    _seen: Counter[str] = field(default_factory=Counter)

    def complete(self, prompt: str, **params: Any) -> str:
        """Text completion of ``prompt``."""
        __tracebackhide__ = True
        prompt = str(prompt)
        return self._guarded(lambda: self._client(_same(["complete", prompt, params])).complete(prompt, **params))

    def chat(self, messages: list[dict[str, Any]], **params: Any) -> str:
        """Chat completion of OpenAI-style ``messages``; returns the assistant's text."""
        __tracebackhide__ = True
        body = [dict(m) for m in messages]
        return self._guarded(lambda: self._client(_same(["chat", normalize(body), None, params])).chat(body, **params))

    def respond(
        self, messages: list[Any], tools: list[Any] | None = None, tool_choice: Any = None, **params: Any
    ) -> Response:
        """One model step of a conversation that may call ``tools``: ``.text``, ``.tool_calls`` (``.id``,
        ``.name``, ``.arguments`` as a dict) and ``.finish_reason``, as a target's ``model.respond``."""
        __tracebackhide__ = True
        body = list(messages)

        def step() -> Response:
            definitions = tool_definitions(tools) or None
            offered = [definitions, tool_choice_value(tool_choice)] if definitions else None
            return self._client(_same(["chat", normalize(body), offered, params])).respond(
                body, tools, tool_choice, **params
            )

        return self._guarded(step)

    def _guarded(self, call: Callable[[], T]) -> T:
        """``call()``; its AitestError (a miss, a model error) is kept and shown as our message, without our
        frames; a TypeError (an unknown param) without them too."""
        __tracebackhide__ = True
        try:
            return call()
        except AitestError as error:
            self.errors.append(error)
            raise error.with_traceback(None) from None
        except TypeError as error:
            raise error.with_traceback(None) from None

    def caught_error(self) -> AitestError | None:
        """The first model error of a test that went on after it (it caught it): it fails the test all the
        same, as a target that swallows one fails its case, so that a recording miss never passes unseen."""
        if not self.errors:
            return None
        first = self.errors[0]
        return AitestError(f"the test went on after a model error it caught: {first.message}", hint=first.hint)

    def _client(self, request: str) -> ModelClient:
        """A client for this call, its run index counting the identical calls before it in this test."""
        run = self._seen[request]
        self._seen[request] += 1
        runtime = self.runtime
        recording = runtime.store.feature(self.recording) if runtime.mode.uses_files else None
        rootdir = runtime.config.rootdir
        return ModelClient(self.profile, runtime.mode, recording, runtime.stats, rootdir, {}, run, subject="test")

    def __repr__(self) -> str:  # pytest shows it among a failing test's arguments: short, no internals
        return f"<aitest_model {self.profile.describe()}, recording {self.recording}>"


def _same(request: list[Any]) -> str:
    """What makes two calls of a test the same request (counted into run indexes): the canonical messages,
    tools and tool_choice, so that ``chat`` and ``respond`` without tools count together, as they are keyed."""
    return json.dumps(request, sort_keys=True, default=str)


def openai_client(model: AitestModel) -> OpenAICompat:
    """The ``aitest_openai`` fixture: an OpenAI-SDK-shaped client over the test's ``aitest_model``."""
    return OpenAICompat(model)


def recording_name(nodeid: str) -> str:
    """Where a test's calls are recorded, from its node id: ``tests/test_bot.py::TestA::test_b[x]`` is
    ``tests/test_bot/TestA.test_b[x]`` (the file ``<recordings>/tests/test_bot/TestA.test_b[x].yaml``)."""
    path, _, name = nodeid.partition("::")
    folder = path.removesuffix(".py")
    return "/".join([*(_safe(part) for part in folder.split("/") if part), _safe(name.replace("::", "."))])


def _safe(part: str) -> str:
    """A name that is safe as a file name everywhere; one that had to change gets a short hash of the original,
    so that two tests never share a recording."""
    safe = _UNSAFE.sub("_", part)
    if safe.startswith("."):
        safe = "_" + safe[1:]
    if safe == part and len(part) <= _MAX_PART:
        return safe
    digest = hashlib.sha256(part.encode("utf-8")).hexdigest()[:8]
    return f"{safe[:_MAX_PART]}-{digest}"


def choose_test_profile(config: Config, *, override: str | None, marked: str | None, where: Location) -> Profile:
    """--aitest-model beats the test's ``@pytest.mark.aitest_model(NAME)``, which beats default_model."""
    if marked is not None and not override:
        known = all_profiles(config)
        if marked not in known:
            raise ConfigError(
                f"@pytest.mark.{MARKER}: unknown model profile {shown(marked)}{did_you_mean(marked, list(known))}",
                location=where,
                hint=f"known profiles: {known_names(known)}; define others under [tool.aitest.models.NAME]",
            )
    return choose_profile(config, override=override, spec_model=marked, where=where)


def marked_profile(args: tuple[Any, ...], kwargs: dict[str, Any], *, where: Location) -> str:
    """The profile named by ``@pytest.mark.aitest_model(NAME)``; ConfigError for anything else."""
    if len(args) != 1 or kwargs or not isinstance(args[0], str):
        raise ConfigError(
            f"@pytest.mark.{MARKER} takes one model profile name",
            location=where,
            hint=f'e.g. @pytest.mark.{MARKER}("smollm2-135m")',
        )
    return args[0]
