"""The model client handed to targets and used by prompt specs: replay, record or call live."""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from concurrent.futures import CancelledError
from contextlib import nullcontext
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aitest.errors import AitestError, RecordingMiss
from aitest.models.messages import calls_so_far, content_text, normalize, renumber, tool_choice_value, tool_definitions
from aitest.models.params import PARAMS
from aitest.models.profile import Profile
from aitest.models.providers.base import Completion, Provider
from aitest.models.providers.registry import get_provider
from aitest.models.response import Response
from aitest.recordings.entry import Entry, Request, entry_key, tool_summary
from aitest.recordings.miss import describe_miss
from aitest.recordings.mode import RecordMode
from aitest.recordings.store import FeatureRecording
from aitest.stats import CallStats
from aitest.trajectory import Step, ToolResult

if TYPE_CHECKING:
    from aitest.models.prefetch import Prefetcher


def chat_request(
    messages: list[Any], definitions: list[dict[str, Any]] | None, offered: dict[str, Any] | None, tool_choice: Any,
    params: dict[str, Any],
) -> Request:  # fmt: skip
    """The request of one conversation step, as it is keyed: canonical turns, the tool definitions with their
    summary, and tool_choice (only with tools). `aitest import` keys the answers it records by it too."""
    choice = tool_choice_value(tool_choice) if definitions else None
    return Request("chat", messages=normalize(list(messages)), params=params, tools=definitions, tool_choice=choice,
                   tool_set=offered)  # fmt: skip


def timed_call(provider: Provider, request: Request) -> tuple[Completion, float]:
    """Send one request to the provider; its answer and the call's own time in ms."""
    start = time.perf_counter()
    if request.kind == "chat" and request.tools:
        result = provider.respond(request.messages or [], request.tools, request.tool_choice, request.params)
    elif request.kind == "chat":
        result = provider.chat(request.messages or [], request.params)
    else:
        result = provider.complete(request.prompt or "", request.params)
    return result, (time.perf_counter() - start) * 1000


@dataclass
class ModelClient:
    """``complete(prompt, **params)``, ``chat(messages, **params)`` and ``respond(messages, tools=...)`` for
    one run of one case. ``steps`` is the trajectory of this run's ``respond`` calls."""

    profile: Profile
    mode: RecordMode
    recording: FeatureRecording | None  # None when the mode uses no files
    stats: CallStats
    rootdir: Path
    defaults: dict[str, Any] = field(default_factory=dict)
    run: int = 0
    model_ms: float = 0.0
    calls: int = 0
    prompt_tokens: int | None = None  # summed over this run's calls, where the provider counts them
    completion_tokens: int | None = None
    subject: str = "feature"  # whose recording it is, as a miss names it (a feature, or a test)
    cut_at: int | None = None  # the max_tokens at which the last answer stopped, when it used them all
    errors: list[AitestError] = field(default_factory=list)
    steps: list[Step] = field(default_factory=list)
    finish_reason: str | None = None  # of the last answer (None when its recording predates it)
    _tools_seen: tuple[Any, str, list[dict[str, Any]], dict[str, Any]] | None = None
    ahead: Prefetcher | None = None  # answers sent for ahead of the case (concurrency), taken before calling

    def complete(self, prompt: str, **params: Any) -> str:
        """Text completion of ``prompt``."""
        return self._call(Request("complete", prompt=str(prompt), params=self._params(params))).response

    def chat(self, messages: list[dict[str, Any]], **params: Any) -> str:
        """Chat completion of OpenAI-style ``messages``; returns the assistant's text."""
        return self._call(Request("chat", messages=normalize(list(messages)), params=self._params(params))).response

    def respond(
        self, messages: list[Any], tools: Sequence[Any] | None = None, tool_choice: Any = None, **params: Any
    ) -> Response:
        """One model step of a conversation that may call ``tools`` (OpenAI function definitions).

        Returns ``.text``, ``.tool_calls`` (``.id``, ``.name``, ``.arguments`` as a dict) and
        ``.finish_reason``. Call ids continue the conversation's numbering (``call_0``, ``call_1``, ...),
        so a replayed step finds its recording; append ``response.message()`` and one ``{role: tool,
        tool_call_id, content}`` turn per call, then respond again."""
        definitions, offered = self._tools(tools)
        request = chat_request(messages, definitions, offered, tool_choice, self._params(params))
        conversation = request.messages or []
        entry = self._call(request)
        response = Response(
            entry.response, entry.tool_calls, entry.finish_reason, entry.prompt_tokens, entry.completion_tokens
        )
        self._step(conversation, response)
        return response

    def _tools(self, tools: Sequence[Any] | None) -> tuple[list[dict[str, Any]] | None, dict[str, Any] | None]:
        """The definitions in canonical form and their summary (a digest), worked out once for the same tools
        (a loop sends them at every step): the same tuple as last time is taken as it is; a list, which its
        owner may have changed in place since, is compared by content."""
        if not tools:
            return None, None
        seen = self._tools_seen
        if seen is not None and isinstance(tools, tuple) and seen[0] is tools:
            return seen[2], seen[3]
        definitions = tool_definitions(list(tools))
        text = json.dumps(definitions, sort_keys=True, ensure_ascii=False, default=str)
        if seen is None or seen[1] != text:
            seen = (tools, text, definitions, tool_summary(definitions))
        self._tools_seen = (tools, *seen[1:])
        return self._tools_seen[2], self._tools_seen[3]

    @cached_property
    def _identity(self) -> dict[str, str]:
        """The model identity that keys this client's entries (worked out once: every step needs it)."""
        return self.profile.identity()

    @property
    def trajectory(self) -> tuple[Step, ...]:
        return tuple(self.steps)

    def _step(self, conversation: list[dict[str, Any]], response: Response) -> None:
        """Keep this step, and the results the conversation fed back to the calls of earlier steps."""
        fed = {m.get("tool_call_id"): m for m in conversation if m.get("role") == "tool"}
        for index, step in enumerate(self.steps):
            have = {r.call_id for r in step.results}
            new = tuple(
                ToolResult(c.id, c.name, content_text(fed[c.id].get("content")))
                for c in step.calls
                if c.id in fed and c.id not in have
            )
            if new:
                self.steps[index] = replace(step, results=step.results + new)
        self.steps.append(Step(response.text, response.tool_calls, (), response.finish_reason))

    def _params(self, params: dict[str, Any]) -> dict[str, Any]:
        unknown = [k for k in params if k not in PARAMS]
        if unknown:
            raise TypeError(f"unknown model parameter(s) {', '.join(unknown)}; known: {', '.join(PARAMS)}")
        return {**self.defaults, **params}

    def _call(self, request: Request) -> Entry:
        try:
            return self._dispatch(request)
        except AitestError as error:
            self.errors.append(error)  # kept even if the target swallows the exception
            if self.recording is not None:
                self.stats.failed_features.add(self.recording.feature)
            raise

    def _dispatch(self, request: Request) -> Entry:
        self.calls += 1
        model = self._identity
        if self.recording is None:
            return self._count(self._live(request, model, None))
        key = entry_key(model, request, self.run)
        rec = self.recording
        if self.mode.replays(file_existed=rec.existed_at_start):
            entry = rec.get(key)
            if entry is not None:
                rec.used.add(key)
                self.stats.replayed += 1
                self.model_ms += entry.latency_ms
                return self._count(entry)
            if not self.mode.records_misses(file_existed=rec.existed_at_start):
                self.stats.missed += 1
                message, hint = describe_miss(
                    rec.entries(),
                    shown=rec.shown,
                    exists=rec.path.exists(),
                    model=model,
                    request=request,
                    run=self.run,
                    subject=self.subject,
                )
                if self.profile.provider == "recorded":  # no flag records it: nothing can answer it live
                    from aitest.models.providers.recorded import replay_only

                    hint = f"{replay_only(self.profile)}: no flag records it; import a log that holds this request"
                raise RecordingMiss(message, hint=hint)
        entry = self._live(request, model, key)
        rec.put(entry)  # written (and counted) after the case, by ModelRuntime.after_case
        rec.used.add(key)
        return self._count(entry)

    def _count(self, entry: Entry) -> Entry:
        """Add the entry's token counts to this run's; returns the entry."""
        if entry.prompt_tokens is not None:
            self.prompt_tokens = (self.prompt_tokens or 0) + entry.prompt_tokens
        if entry.completion_tokens is not None:
            self.completion_tokens = (self.completion_tokens or 0) + entry.completion_tokens
        limit = entry.request.params.get("max_tokens")
        used_all = isinstance(limit, int) and entry.completion_tokens is not None and entry.completion_tokens >= limit
        self.cut_at = limit if used_all else None
        self.finish_reason = entry.finish_reason
        return entry

    def _live(self, request: Request, model: dict[str, str], key: str | None) -> Entry:
        provider = get_provider(self.profile, self.rootdir)
        result, latency = self._answer(provider, request, model, key)
        self.model_ms += latency
        self.stats.live += 1
        fingerprint = provider.fingerprint() if key is not None else None
        if fingerprint and self.recording is not None:
            self._warn_if_model_file_changed(model, fingerprint)
        return Entry(
            key or "",
            model,
            request,
            self.run,
            result.text,
            latency,
            result.prompt_tokens,
            result.completion_tokens,
            fingerprint,
            renumber(result.tool_calls, calls_so_far(request.messages or [])),
            result.finish_reason,
        )

    def _answer(
        self, provider: Provider, request: Request, model: dict[str, str], key: str | None
    ) -> tuple[Completion, float]:
        """The answer sent for ahead of this case, if there is one (its error is raised here, for this case
        only); else the call now, within the profile's calls at once."""
        ahead = self.ahead
        future = None
        if ahead is not None and ahead.holds(self.profile):
            future = ahead.take(self.profile, key or entry_key(model, request, self.run))
        if future is not None:
            try:
                return future.result()
            except CancelledError:  # the session is stopping: call as if nothing had been sent ahead
                pass
        with ahead.slot(self.profile) if ahead is not None else nullcontext():
            return timed_call(provider, request)

    def _warn_if_model_file_changed(self, model: dict[str, str], fingerprint: str) -> None:
        assert self.recording is not None
        try:
            entries = self.recording.entries()
        except AitestError:
            return
        old = {e.gguf_sha256 for e in entries.values() if e.model == model and e.gguf_sha256}
        if old and fingerprint not in old:
            warning = (
                f"{self.recording.shown}: the model file behind '{model['model']}' has changed since it was recorded "
                f"(sha256 {sorted(old)[0][:12]}… then, {fingerprint[:12]}… now); "
                "if that is intended, re-record the feature (--aitest-record=all)"
            )
            self.stats.warn(warning)
