"""The aitest side of one test session, from start to finish, as syrupy's SnapshotSession is for snapshots.

start (options, config) -> load specs -> run and observe each case -> merge xdist workers -> finish
(prune for `rewrite`, write the run report) -> summary lines. pytest's hooks only delegate here;
nothing in this module imports pytest, so `aitest validate` and other commands use it too.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from aitest.config import Config, load_config
from aitest.errors import AitestError, Location, SpecError
from aitest.fixture import AitestModel, choose_test_profile, marked_profile, recording_name
from aitest.models.profile import Profile
from aitest.models.profiles import choose_profile
from aitest.models.runtime import ModelRuntime
from aitest.options import RunOptions
from aitest.properties.summary import property_lines
from aitest.recordings.store import RecordingStore
from aitest.result import CaseResult, Outcome
from aitest.run import run_case
from aitest.spec.loader import load_spec
from aitest.spec.model import Case, Property, Spec
from aitest.stats import CallStats
from aitest.summary import summary_lines
from aitest.util.text import first_line

Identity = tuple[str, str]  # a model identity (provider, model), as an entry's `model` holds it
PROGRESS_SECONDS = 10.0  # a long run of calls sent ahead says how far it is at most this often


class AitestSession:
    """Configuration, loaded specs, the model runtime, and every case's result."""

    def __init__(self, config: Config, options: RunOptions | None = None) -> None:
        self.config = config
        self.options = options or RunOptions()
        self.runtime = ModelRuntime(
            config, self.options.mode, model_override=self.options.model, existing=self.options.existing
        )
        self.features: dict[str, Spec] = {}
        self.gates: dict[str, dict[str, Any]] = {}  # each feature's `gate:` (for aitest compare), all processes
        self.expected: dict[str, Callable[[], CaseResult]] = {}  # items collected here: results if they never run
        self.results: dict[str, CaseResult] = {}  # this process's cases, by node id
        # what the whole session saw: this process's and every worker's (filled by merge and finish)
        self.totals = CallStats()
        self.used: dict[str, set[str]] = {}
        self.models: dict[str, set[Identity]] = {}  # per recording: the model identities its calls were made with
        self.all_results: list[CaseResult] = []
        self.pruned = 0
        self.notes: list[str] = []  # lines for the summary: the report written, or why it was not
        self._progress_at = time.monotonic()  # when progress_line last said how far the calls sent ahead are
        self._test_profiles: dict[str, Profile] = {}  # ordinary tests' recordings (aitest_model): their profiles

    @classmethod
    def for_rootdir(cls, rootdir: Path) -> AitestSession:
        return cls(load_config(rootdir))

    @property
    def report_path(self) -> Path | None:
        return self.options.report or self.config.report

    # -- collection ------------------------------------------------------------------------------
    def load(self, path: Path) -> Spec:
        """Load a spec, claim its feature name (unique across the suite), check its model profile.

        SpecErrors lists every problem of the file at once, these two included.
        """
        spec = load_spec(
            path,
            rootdir=self.config.rootdir,
            target_packages=self.config.target_packages,
            check_model=self._check_model,
            check_feature=self._check_feature,
        )
        if spec.needs_model:
            self.runtime.profile_for(spec)  # checked by the loader already: resolved once per feature here
        self.runtime.check_judges(spec)  # an unknown judge of a rubric fails this spec at collection
        self.features[spec.feature] = spec
        self.gates[spec.feature] = spec.gate
        return spec

    def _check_feature(self, feature: str, location: Location) -> None:
        first = self.features.get(feature)
        if first is not None and first.location.file != location.file:
            raise SpecError(
                f"feature '{feature}' is already defined in {first.location}",
                location=location,
                hint="feature names are unique in the suite; rename one",
            )

    def _check_model(self, model: str | None, location: Location) -> None:
        """An unknown profile fails the spec at collection (with its other problems)."""
        choose_profile(self.config, override=self.options.model, spec_model=model, where=location)

    # -- per case ----------------------------------------------------------------------------------
    def run(self, spec: Spec, case: Case, nodeid: str) -> CaseResult:
        """Run one case and keep its result (its final outcome comes with ``observe``)."""
        result = run_case(spec, case, self.runtime, runs=self.options.runs, nodeid=nodeid)
        self.results[nodeid] = result
        return result

    def run_property(self, spec: Spec, prop: Property, nodeid: str) -> CaseResult:
        """Run one property (Hypothesis draws its inputs) and keep its result."""
        from aitest.properties.runner import PropertyRunner

        cap = self.options.max_examples or self.config.max_examples
        budget = min(prop.examples, cap) if cap else prop.examples
        result = PropertyRunner(spec, prop, self.runtime, budget=budget, nodeid=nodeid).run()
        self.results[nodeid] = result
        return result

    def send_ahead(self, selected: Iterable[tuple[str, Spec, Case]]) -> str:
        """Send the first model calls of the selected cases ahead (profiles with concurrency > 1); a line
        saying how many, or ''."""
        if not self.runtime.sends_ahead:
            return ""  # no profile takes several calls at once: nothing to look at
        sent = self.runtime.send_ahead(selected, runs=self.options.runs)
        ahead = self.runtime.ahead
        if not sent or ahead is None:
            return ""
        at_once = ", ".join(f"{size} at once for '{name}'" for name, size, _, _ in ahead.progress())
        return f"aitest: sending {sent} model calls ahead ({at_once})"

    def progress_line(self) -> str:
        """Every PROGRESS_SECONDS while calls sent ahead are still being answered: how far they are; else ''."""
        ahead = self.runtime.ahead
        now = time.monotonic()
        if ahead is None or now - self._progress_at < PROGRESS_SECONDS:
            return ""
        pending = [(name, size, sent, done) for name, size, sent, done in ahead.progress() if done < sent]
        if not pending:
            return ""
        self._progress_at = now
        parts = ", ".join(f"{done}/{sent} for '{name}' ({size} at once)" for name, size, sent, done in pending)
        return f"aitest: model calls sent ahead, answered so far: {parts}"

    def stop_ahead(self) -> None:
        """At the end of the run loop (also -x and Ctrl-C): no call left pending, no thread left running."""
        ahead = self.runtime.ahead
        if ahead is None:
            return
        self.runtime.stop_ahead()
        for note in ahead.notes:
            if note not in self.notes:
                self.notes.append(note)
        for name, size, sent, answered in ahead.progress():
            cancelled = f", {sent - answered} cancelled" if answered < sent else ""
            self.notes.append(
                f"aitest: {answered}/{sent} model calls sent ahead for '{name}' ({size} at once{cancelled})"
            )

    def expect(self, nodeid: str, placeholder: Callable[[], CaseResult]) -> None:
        """An item collected in this process; ``placeholder()`` stands for it should it never run."""
        self.expected[nodeid] = placeholder

    @staticmethod
    def spec_error(path: Path, error: AitestError, nodeid: str) -> CaseResult:
        """A spec that did not load, as a result of kind `spec`, so that the report has every item."""
        location = error.location or Location(str(path))
        return CaseResult(
            feature="",
            id="spec",
            outcome="error",
            location=location,
            kind="spec",
            nodeid=nodeid,
            error=str(error),
            reason=first_line(error.message),
            reason_location=error.location,
        )

    def observe(self, nodeid: str, *, when: str, outcome: str, xfail: bool, message: str = "") -> None:
        """Settle an item's outcome with what pytest reported of one phase (setup, call, teardown).

        Items not collected in this process are not ours to settle (the xdist controller sees them all).
        """
        result = self.results.get(nodeid)
        if result is None:
            if nodeid not in self.expected:
                return
            result = self.expected[nodeid]()
        final: Outcome | None = None
        if outcome == "skipped":
            final = "xfailed" if xfail else "skipped"
        elif outcome == "passed" and xfail:
            final = "xpassed"
        elif outcome == "failed" and when != "call":
            final = "error"  # a fixture, a hook or a teardown failed, not the case
        elif outcome == "failed" and result.passed:
            final = "failed"  # pytest failed a case whose checks passed (a strict xfail that passed)
        elif when == "call" and nodeid not in self.results:
            final = "error"  # the case raised before it had a result: a bug in aitest, shown by pytest
        if final is not None:
            result = result.with_outcome(final, first_line(message))
        if nodeid in self.results or final is not None:
            self.results[nodeid] = result

    # -- ordinary tests: the aitest_model fixture -----------------------------------------------------
    def model_for_test(
        self, nodeid: str, *, marker: tuple[tuple[Any, ...], dict[str, Any]] | None, where: Location
    ) -> AitestModel:
        """A test's model client, recorded in a file of its own. ``marker``: the args and kwargs of its
        ``aitest_model`` marker. ConfigError for a bad marker or an unknown profile."""
        marked = marked_profile(*marker, where=where) if marker else None
        profile = choose_test_profile(self.config, override=self.options.model, marked=marked, where=where)
        recording = recording_name(nodeid)
        self._test_profiles[recording] = profile
        return AitestModel(self.runtime, profile, recording)

    def after_test(self, model: AitestModel, *, passed: bool) -> None:
        """After a test that used the fixture: write what it recorded, when enough has gathered. A test
        that ``passed`` although one of its model calls failed (it caught the error) fails here."""
        self.runtime.after_case()
        caught = model.caught_error() if passed else None
        if caught is not None:
            raise caught

    # -- xdist ---------------------------------------------------------------------------------------
    def worker_payload(self) -> dict[str, Any]:
        """What a worker hands to the controller (plain data: it crosses a process boundary)."""
        self._flush()
        return {
            "notes": self.notes,
            "gates": self.gates,
            "stats": self.runtime.stats.to_payload(),
            "used": self.runtime.used_keys(),
            "models": {name: sorted(map(list, models)) for name, models in self._models_used().items()},
            "results": [r.to_dict() for r in self.results.values()],
        }

    def merge(self, payload: dict[str, Any]) -> None:
        """On the controller: add a worker's payload."""
        results = [CaseResult.from_dict(r) for r in payload["results"]]
        models = {name: {(provider, model) for provider, model in pairs} for name, pairs in payload["models"].items()}
        self._absorb(payload["stats"], payload["used"], results, models)
        self.notes.extend(note for note in payload["notes"] if note not in self.notes)
        self.gates.update(payload["gates"])

    def _absorb(
        self,
        stats: dict[str, Any],
        used: dict[str, list[str]],
        results: Iterable[CaseResult],
        models: dict[str, set[Identity]],
    ) -> None:
        self.totals.merge(stats)
        for feature, keys in used.items():
            self.used.setdefault(feature, set()).update(keys)
        for feature, identities in models.items():
            self.models.setdefault(feature, set()).update(identities)
        self.all_results.extend(results)

    def _models_used(self) -> dict[str, set[Identity]]:
        """Per recording this process called a model for: the identities of the models its calls were made
        with (its spec's or test's profile, and the model of every entry used)."""
        models: dict[str, set[Identity]] = {}
        for feature, keys in self.runtime.used_keys().items():
            found = models[feature] = set()
            spec, profile = self.features.get(feature), self._test_profiles.get(feature)
            try:
                if spec is not None and spec.needs_model:
                    profile = self.runtime.profile_for(spec)
                if profile is not None:
                    found.add(identity_of(profile.identity()))
                recording = self.runtime.store.feature(feature)
                found.update(identity_of(entry.model) for entry in map(recording.get, keys) if entry is not None)
            except AitestError:
                continue  # a profile that did not resolve, a damaged file: the case that used it says so
        return models

    # -- finish --------------------------------------------------------------------------------------
    def _flush(self) -> None:
        """Write what is still pending (recordings, embeddings): at the end, also of an interrupted run."""
        try:
            self.runtime.flush()
        except AitestError as error:
            where = f"{error.location}: " if error.location else ""
            self.notes.append(f"aitest error: recordings not written: {where}{error.message}")

    def finish(self) -> None:
        """The controller or a lone process: its own results join the workers', then prune and report."""
        self._flush()
        self._absorb(
            self.runtime.stats.to_payload(), self.runtime.used_keys(), self.results.values(), self._models_used()
        )
        if self.options.mode.prunes:
            self._prune()
        if self.report_path is not None:
            self._write_report(self.report_path)

    def _prune(self) -> None:
        """`rewrite`: each file touched by this run keeps exactly this run's entries.

        A feature whose model calls failed is not pruned (its old entries may be all it has),
        nor is a file that cannot be read (it is reported, never rewritten).
        """
        for feature, keys in self.used.items():
            if feature in self.totals.failed_features:
                self.totals.warn(f"{feature}: not pruned, because some of its model calls failed")
                continue
            try:
                self.pruned += self.runtime.store.feature(feature).prune(keys)
            except AitestError as error:
                self.totals.warn(f"not pruned: {error.location}: {error.message}")

    def _write_report(self, path: Path) -> None:
        from aitest.reports.run_report import build_report, write_report

        document = build_report(
            self.all_results,
            record_mode=self.options.mode.value,
            model_override=self.options.model,
            gates=self.gates,
            models=self._model_sizes(),
        )
        try:
            write_report(path, document)
        except OSError as exc:
            self.notes.append(f"aitest error: cannot write the run report to {path}: {exc.strerror or exc}")
            return
        shown = _shown(path, self.config.rootdir)
        self.notes.append(f"aitest run report: {shown} ({len(document['cases'])} results)")

    def _model_sizes(self) -> dict[str, dict[str, Any]]:
        """Each profile the results ran on: its identity, its bytes where there is a file, and its price (null
        when not given: a local model then costs 0, another one is not known)."""
        from aitest.models.profiles import all_profiles
        from aitest.models.providers.registry import provider_type

        try:
            profiles = all_profiles(self.config)
        except AitestError:
            profiles = {}
        models: dict[str, dict[str, Any]] = {}
        for result in self.all_results:
            if result.profile is None or result.model is None or result.profile in models:
                continue
            profile = profiles.get(result.profile)
            size = provider_type(profile.provider).size(profile, self.config.rootdir) if profile else None
            price = profile.price.as_dict() if profile and profile.price else None
            models[result.profile] = {**result.model, "bytes": size, "price": price}
        return models

    @property
    def failed(self) -> bool:
        """Something the run should have written was not (a recording, the report): the run must not pass."""
        return any(note.startswith("aitest error:") for note in self.notes)

    def unused(self) -> int:
        """Entries in the files of the features that ran, recorded with a model this run called for them, which
        no call of this run used. Another model's entries (a candidate's beside the baseline's) are not unused."""
        total = 0
        for feature, keys in self.used.items():
            models = self.models.get(feature)
            if not models:
                continue
            recording = self.runtime.store.feature(feature)
            recording.refresh()  # other workers may have written to it
            try:
                entries = recording.entries()
            except AitestError:
                continue
            total += sum(1 for key, entry in entries.items() if key not in keys and identity_of(entry.model) in models)
        return total

    def summary_lines(self) -> list[str]:
        latencies: dict[str, list[float]] = {}
        for result in self.all_results:
            if result.kind == "case" and result.latencies():  # a property's examples are in its report entry
                latencies.setdefault(result.feature, []).extend(result.latencies())
        unused = self.unused() if self.used else 0
        lines = summary_lines(self.options.mode, self.totals, latencies=latencies, unused=unused, pruned=self.pruned)
        return [*lines, *property_lines(self.all_results), *self.notes]


def placeholder(spec: Spec, case: Case | Property, nodeid: str) -> CaseResult:
    """The result of a case or a property that pytest does not let run (skipped, or failed in setup)."""
    kind = "property" if isinstance(case, Property) else "case"
    return CaseResult(
        spec.feature, case.id, "skipped", case.location, kind=kind, nodeid=nodeid, owner=spec.owner,
        critical=case.critical,
    )  # fmt: skip


def identity_of(model: dict[str, str]) -> Identity:
    """An entry's or a profile's ``{provider, model}`` as a pair (to compare, and to send between processes)."""
    return str(model.get("provider", "")), str(model.get("model", ""))


def existing_recordings(config: Config) -> list[str]:
    """Features with a recording file now: the controller hands these to xdist workers (decides `once`)."""
    return sorted(RecordingStore.existing(config.recordings))


def _shown(path: Path, rootdir: Path) -> str:
    try:
        return str(path.resolve().relative_to(rootdir.resolve()))
    except ValueError:
        return str(path)
