"""The model side of a session: record mode, profile choice, recordings, embeddings, and a client per case run."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

from aitest.checks.base import ModelCaller, ModelLookup
from aitest.config import Config
from aitest.embeddings import Embedder
from aitest.errors import AitestError, ConfigError, Location
from aitest.models.client import ModelClient
from aitest.models.profile import Profile
from aitest.models.profiles import all_profiles, choose_profile, known_names
from aitest.recordings.mode import RecordMode
from aitest.recordings.store import RecordingStore
from aitest.spec.model import Spec
from aitest.stats import CallStats
from aitest.util.text import did_you_mean, shown

if TYPE_CHECKING:
    from aitest.models.prefetch import Prefetcher
    from aitest.spec.model import Case


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
    ahead: Prefetcher | None = None  # model calls sent ahead of the cases (profiles with concurrency > 1)

    @property
    def store(self) -> RecordingStore:
        if self._store is None:
            folder = self.config.recordings
            existing = self.existing if self.existing is not None else RecordingStore.existing(folder)
            self._store = RecordingStore(
                folder, self.config.rootdir, self.config.cache_dir / "locks", existing, repair=self.mode.prunes
            )
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
            self.profile_for(spec), self.mode, recording, self.stats, self.config.rootdir, dict(spec.params), run,
            ahead=self.ahead,
        )  # fmt: skip

    def named_profile(self, name: str, where: Location | None) -> Profile:
        """A profile a check names (a rubric's `judge:`); ConfigError at the check's line if unknown."""
        profiles = all_profiles(self.config)
        if name not in profiles:
            raise ConfigError(
                f"unknown model profile {shown(name)} (from judge:){did_you_mean(name, list(profiles))}",
                location=where,
                hint=f"known profiles: {known_names(profiles)}; define others under [tool.aitest.models.NAME]",
            )
        return profiles[name]

    def check_judges(self, spec: Spec) -> None:
        """Every profile the spec's checks call resolves (run when the spec loads)."""
        every = spec.expect + tuple(e for case in spec.cases for e in case.expect)
        for expectation in every + tuple(e for p in spec.properties for e in p.invariant.expect):
            for name in expectation.check.model_profiles():
                if name is None:
                    self.profile_for(spec)
                else:
                    self.named_profile(name, expectation.location)

    def judges(self, spec: Spec, run: int) -> ModelLookup:
        """Model clients for the checks of one run that call a model (rubric), recorded in the feature's file.

        Apart from the case's own client, so that the judge's time and tokens are not the feature's."""

        def lookup(name: str | None) -> tuple[str, ModelCaller]:
            profile = self.profile_for(spec) if name is None else self.named_profile(name, None)
            recording = self.store.feature(spec.feature) if self.mode.uses_files else None
            root = self.config.rootdir
            return profile.name, ModelClient(profile, self.mode, recording, self.stats, root, {}, run, ahead=self.ahead)

        return lookup

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

    @property
    def sends_ahead(self) -> bool:
        """Some spec's profile takes several calls at once (its `concurrency` is not 1)."""
        return any(p.options.get("concurrency", 1) != 1 for p in self._profiles.values())

    def send_ahead(self, cases: Iterable[tuple[str, Spec, Case]], *, runs: int | None) -> int:
        """Send the first model call of each selected (node id, spec, case) ahead, where its profile allows
        several at once; the number of calls sent."""
        from aitest.models.prefetch import Prefetcher, send_ahead

        if self.ahead is None:
            self.ahead = Prefetcher(self.config.rootdir)
        return send_ahead(self, cases, runs=runs)

    def stop_ahead(self) -> None:
        """Cancel the calls not sent yet and wait for those in flight (the end of the run, -x, Ctrl-C)."""
        if self.ahead is not None:
            self.ahead.close()

    def after_case(self) -> None:
        """Write what the session has recorded, when enough has gathered (see RecordingStore.flush)."""
        if self._store is not None:
            self._report_repairs()
            self.stats.recorded += self._store.flush()
        if "embedder" in self.__dict__:
            self.embedder.save(force=False)

    def flush(self) -> None:
        """At the end of the session, and when it is interrupted: write everything still pending."""
        try:
            if self._store is not None:
                self._report_repairs()
                self.stats.recorded += self._store.flush(force=True)
        finally:
            if "embedder" in self.__dict__:
                self.embedder.save()

    def _report_repairs(self) -> None:
        """`rewrite` drops damaged entries of the files it reads: each one is named in the summary."""
        assert self._store is not None
        for recording in self._store.files.values():
            for error in recording.dropped:
                self.stats.warn(f"{error.location}: dropped (--aitest-record=rewrite): {error.message}")

    def used_keys(self) -> dict[str, list[str]]:
        """Per feature that called a model: the recorded entries this process used."""
        if self._store is None:
            return {}
        return {name: sorted(rec.used) for name, rec in self._store.files.items()}
