"""The model side of a session: record mode, profile choice, recordings, embeddings, and a client per case run."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from aitest.config import Config
from aitest.embeddings import Embedder
from aitest.errors import AitestError
from aitest.models.client import ModelClient
from aitest.models.profile import Profile
from aitest.models.profiles import choose_profile
from aitest.recordings.mode import RecordMode
from aitest.recordings.store import RecordingStore
from aitest.spec.model import Spec
from aitest.stats import CallStats


@dataclass
class ModelRuntime:
    config: Config
    mode: RecordMode = RecordMode.NONE
    model_override: str | None = None
    existing: frozenset[str] | None = None  # recording files present when the session started
    stats: CallStats = field(default_factory=CallStats)
    _store: RecordingStore | None = None
    _prefetched: set[str] = field(default_factory=set)
    _profiles: dict[str, Profile] = field(default_factory=dict)

    @property
    def store(self) -> RecordingStore:
        if self._store is None:
            folder = self.config.recordings
            existing = self.existing if self.existing is not None else RecordingStore.existing(folder)
            self._store = RecordingStore(folder, self.config.rootdir, self.config.cache_dir / "locks", existing)
        return self._store

    @cached_property
    def embedder(self) -> Embedder:
        """The session's embedding model: the configured one, behind the local and the committed cache."""
        return Embedder.for_config(self.config, write_committed=self.mode.records)

    def profile_for(self, spec: Spec) -> Profile:
        """The profile a spec runs on (resolved once per feature); ConfigError with the spec's line if unknown."""
        if spec.feature not in self._profiles:
            where = spec.model_location or spec.location
            self._profiles[spec.feature] = choose_profile(
                self.config, override=self.model_override, spec_model=spec.model, where=where
            )
        return self._profiles[spec.feature]

    def client(self, spec: Spec, run: int) -> ModelClient:
        recording = self.store.feature(spec.feature) if self.mode.uses_files else None
        return ModelClient(
            self.profile_for(spec), self.mode, recording, self.stats, self.config.rootdir, dict(spec.params), run
        )

    def prefetch_embeddings(self, spec: Spec) -> None:
        """Before a feature's first case: its references, and in replay its recorded responses, in one batch."""
        if spec.feature in self._prefetched:
            return
        self._prefetched.add(spec.feature)
        pending = self.embedder.pending
        pending.update(spec.reference_texts)
        if not spec.needs_model or not self.mode.uses_files:
            return
        try:
            entries = self.store.feature(spec.feature).entries()
        except AitestError:
            return  # the case itself reports a damaged recording
        # prompt specs check the response as it is; targets usually strip it: both forms, one batch
        pending.update(t for e in entries.values() for t in (e.response, e.response.strip()))

    def after_case(self) -> None:
        """Write what the session has recorded, when enough has gathered (see RecordingStore.flush)."""
        if self._store is not None:
            self.stats.recorded += self._store.flush()
        if "embedder" in self.__dict__:
            self.embedder.save(force=False)

    def flush(self) -> None:
        """At the end of the session, and when it is interrupted: write everything still pending."""
        try:
            if self._store is not None:
                self.stats.recorded += self._store.flush(force=True)
        finally:
            if "embedder" in self.__dict__:
                self.embedder.save()

    def used_keys(self) -> dict[str, list[str]]:
        """Per feature that called a model: the recorded entries this process used."""
        if self._store is None:
            return {}
        return {name: sorted(rec.used) for name, rec in self._store.files.items()}
