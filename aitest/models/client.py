"""The model client handed to targets and used by prompt specs: replay, record or call live."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aitest.errors import AitestError, RecordingMiss
from aitest.models.params import PARAMS
from aitest.models.profile import Profile
from aitest.models.providers.registry import get_provider
from aitest.recordings.entry import Entry, Request, entry_key
from aitest.recordings.miss import describe_miss
from aitest.recordings.mode import RecordMode
from aitest.recordings.store import FeatureRecording
from aitest.stats import CallStats


@dataclass
class ModelClient:
    """``complete(prompt, **params)`` and ``chat(messages, **params)`` for one run of one case."""

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

    def complete(self, prompt: str, **params: Any) -> str:
        """Text completion of ``prompt``."""
        return self._call(Request("complete", prompt=str(prompt), params=self._params(params)))

    def chat(self, messages: list[dict[str, Any]], **params: Any) -> str:
        """Chat completion of OpenAI-style ``messages``; returns the assistant's text."""
        return self._call(Request("chat", messages=[dict(m) for m in messages], params=self._params(params)))

    def _params(self, params: dict[str, Any]) -> dict[str, Any]:
        unknown = [k for k in params if k not in PARAMS]
        if unknown:
            raise TypeError(f"unknown model parameter(s) {', '.join(unknown)}; known: {', '.join(PARAMS)}")
        return {**self.defaults, **params}

    def _call(self, request: Request) -> str:
        try:
            return self._dispatch(request)
        except AitestError as error:
            self.errors.append(error)  # kept even if the target swallows the exception
            if self.recording is not None:
                self.stats.failed_features.add(self.recording.feature)
            raise

    def _dispatch(self, request: Request) -> str:
        self.calls += 1
        model = self.profile.identity()
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
                raise RecordingMiss(message, hint=hint)
        entry = self._live(request, model, key)
        rec.put(entry)  # written (and counted) after the case, by ModelRuntime.after_case
        rec.used.add(key)
        return self._count(entry)

    def _count(self, entry: Entry) -> str:
        """Add the entry's token counts to this run's; returns its response."""
        if entry.prompt_tokens is not None:
            self.prompt_tokens = (self.prompt_tokens or 0) + entry.prompt_tokens
        if entry.completion_tokens is not None:
            self.completion_tokens = (self.completion_tokens or 0) + entry.completion_tokens
        limit = entry.request.params.get("max_tokens")
        used_all = isinstance(limit, int) and entry.completion_tokens is not None and entry.completion_tokens >= limit
        self.cut_at = limit if used_all else None
        return entry.response

    def _live(self, request: Request, model: dict[str, str], key: str | None) -> Entry:
        provider = get_provider(self.profile, self.rootdir)
        start = time.perf_counter()
        if request.kind == "chat":
            result = provider.chat(request.messages or [], request.params)
        else:
            result = provider.complete(request.prompt or "", request.params)
        latency = (time.perf_counter() - start) * 1000
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
        )

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
