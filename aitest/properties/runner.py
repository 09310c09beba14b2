"""One property: Hypothesis draws varied inputs, the feature runs on each, the invariant judges each
output, and a failure is shrunk to the smallest input that still breaks the behavior.

Inputs come from a seed derived from the feature and the property id, with no example database, so a
second run and another machine with the same Hypothesis draw the same inputs, shrinking included. A
recorded property keeps the inputs it tried in the feature's recording, and a replay tries exactly those,
in their order, whatever Hypothesis is installed (see aitest.properties.recorded); the model calls go
through the session's client like any case's, so they are recorded and replayed like any other.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aitest.errors import AitestError, RecordingError, RecordingMiss, TargetError
from aitest.models.response import ToolCall
from aitest.properties.examples import Example
from aitest.properties.invariants import judge, needs_embeddings
from aitest.properties.recorded import Source, record, source
from aitest.recordings.inputs import PropertyInputs
from aitest.result import CaseResult, CheckVerdict, Outcome, RunResult, jsonable
from aitest.run import Produced, produce
from aitest.spec.model import Case, Property, Spec
from aitest.trajectory import all_calls
from aitest.util.text import first_line, shown

if TYPE_CHECKING:
    from aitest.embeddings import Embedder
    from aitest.models.runtime import ModelRuntime


class _Broken(Exception):
    """An example broke the invariant: Hypothesis shrinks it, then raises the smallest one's."""

    def __init__(self, example: Example, run: RunResult) -> None:
        super().__init__(example.key)
        self.example, self.run = example, run


class _Stop(BaseException):
    """An example could not be judged (a replay miss, a model error): stop at once, without shrinking."""

    def __init__(self, error: AitestError) -> None:
        super().__init__(error.message)
        self.error = error


SHRINK_BUDGET = 50  # new inputs tried while shrinking; after these, the smallest failure found so far is shown


class PropertyRunner:
    def __init__(self, spec: Spec, prop: Property, runtime: ModelRuntime, *, budget: int, nodeid: str = "") -> None:
        self.spec, self.prop, self.runtime = spec, prop, runtime
        self.budget, self.nodeid = budget, nodeid
        self.embedder: Embedder | None = None  # set in run(), when the invariant or a check compares meanings
        self.judged: dict[str, RunResult] = {}  # by example key: each distinct input runs once
        self.log: list[dict[str, Any]] = []  # every distinct input tried, in order
        self.order: list[str] = []  # their example keys, in the same order
        self.inputs: PropertyInputs | None = None  # the recorded inputs replayed (None: Hypothesis drew them)
        self.origin = "none"  # where this run's inputs came from: recorded, drawn, or none (it could not start)
        self.unvaried: dict[str, Any] = {}  # base case id -> its own output
        self.unvaried_calls: dict[str, tuple[ToolCall, ...]] = {}  # base case id -> the tool calls it made
        self.shrinking = False
        self.shrink_cut = False
        self.generated = 0

    def run(self) -> CaseResult:
        try:
            src = source(self.spec, self.prop, self.runtime, self.budget)
        except AitestError as error:  # a replay whose inputs are not recorded, a damaged recording
            return self._could_not_run(error)
        self.inputs = src.recorded
        self.origin = "recorded" if src.recorded is not None else "drawn"
        bases = [self.spec.case(case_id) for case_id in self.prop.bases]
        try:
            if needs_embeddings(self.spec, self.prop.invariant, bases):
                self.embedder = self.runtime.embedder
                self.runtime.prefetch_embeddings(self.spec)
            broken = self._replay(src.recorded) if src.recorded is not None else self._draw(src)
        except _Stop as stop:
            return self._could_not_run(stop.error)
        except AitestError as error:  # before any example ran (the embedding model, say)
            return self._could_not_run(error)
        finally:
            with suppress(AitestError):  # reported at the end of the session, when the writes are retried
                self.runtime.after_case()
        if broken is not None:
            return self._result("failed", broken.example, broken.run)
        return self._result("passed")

    def _draw(self, src: Source) -> _Broken | None:
        """Hypothesis draws the inputs (and shrinks a failure); they are recorded when ``src`` says so."""
        from hypothesis import HealthCheck, Phase, Verbosity, given, seed, settings

        from aitest.properties.examples import example_strategy, property_seed

        @seed(property_seed(self.spec, self.prop))
        @settings(
            max_examples=self.budget,
            database=None,
            deadline=None,
            derandomize=False,
            phases=(Phase.generate, Phase.shrink),
            suppress_health_check=list(HealthCheck),
            verbosity=Verbosity.quiet,
            report_multiple_bugs=False,
            print_blob=False,
        )
        @given(example_strategy(self.spec, self.prop))
        def holds(example: Example) -> None:
            if not self.shrinking:
                self.generated += 1  # Hypothesis's examples, repeats included (its budget counts them)
            result = self.try_example(example)
            if not result.passed:
                self.shrinking = True
                raise _Broken(example, result)

        broken: _Broken | None = None
        try:
            with _hypothesis_home(self.runtime.config.cache_dir / "hypothesis"), _no_shrinking_deadline():
                holds()
        except _Broken as caught:
            broken = caught
        minimal = self.order.index(broken.example.key) if broken is not None else None
        record(src, self.prop, self.budget, self.log, minimal=minimal, generated=self.generated,
               shrink_cut=self.shrink_cut)  # fmt: skip
        return broken

    def _replay(self, inputs: PropertyInputs) -> _Broken | None:
        """The recorded inputs, in their order, judged now: the smallest failure is the one shrinking ended
        on if it still fails (the invariant may have changed since), else the last failing input (shrinking
        only moves to smaller failures)."""
        self.generated, self.shrink_cut = inputs.generated, inputs.shrink_cut
        failures: dict[int, _Broken] = {}
        varied = {var for var, _ in self.prop.vary}
        for index, tried in enumerate(inputs.examples):
            if tried.base not in self.prop.bases or not set(tried.vars) <= varied:
                raise _Stop(_foreign(inputs, index, self.prop))
            example = Example(self.spec.case(tried.base), dict(tried.vars), tuple(tried.variations))
            self.shrinking = tried.shrinking
            result = self.try_example(example)
            if not result.passed:
                failures[index] = _Broken(example, result)
        if not failures:
            return None
        if inputs.minimal is not None and inputs.minimal in failures:
            return failures[inputs.minimal]
        return failures[max(failures)]

    def try_example(self, example: Example) -> RunResult:
        key = example.key
        if key in self.judged:
            return self.judged[key]
        if self.shrinking and self.inputs is None and sum(1 for e in self.log if e["shrinking"]) >= SHRINK_BUDGET:
            self.shrink_cut = True
            return _UNTRIED  # counts as holding: the shrinker gives up here, the same way on every run
        try:
            produced = produce(self.spec, example.case, self._client())
        except TargetError as error:
            result = _raised(self.prop, error)
        except AitestError as error:
            raise _Stop(error) from None
        else:
            try:  # a check that cannot judge (a judge's replay miss, no embedding model) stops the property
                result = judge(self.spec, self.prop.invariant, example.base, produced,
                               unvaried=lambda: self._unvaried(example.base), embedder=self.embedder,
                               varied=example.case, models=self.runtime.judges(self.spec, 0),
                               unvaried_calls=lambda: self.unvaried_calls.get(example.base.id, ()))  # fmt: skip
            except AitestError as error:
                raise _Stop(error) from None
        self.judged[key] = result
        self.log.append(_logged(example, result, shrinking=self.shrinking))
        self.order.append(key)
        return result

    def _client(self) -> Any:
        return self.runtime.client(self.spec, 0) if self.spec.needs_model else None

    def _unvaried(self, base: Case) -> Any:
        if base.id not in self.unvaried:
            try:
                produced = produce(self.spec, base, self._client())
                self.unvaried[base.id] = produced.output
                self.unvaried_calls[base.id] = tuple(all_calls(produced.trajectory))
            except AitestError as error:
                error.message = f"the unvaried case '{base.id}' could not run: {error.message}"
                raise _Stop(error) from None
        return self.unvaried[base.id]

    # -- the result ---------------------------------------------------------------------------------
    def _identity(self) -> dict[str, Any]:
        profile = self.runtime.profile_for(self.spec) if self.spec.needs_model else None
        return {
            "feature": self.spec.feature,
            "id": self.prop.id,
            "location": self.prop.location,
            "kind": "property",
            "nodeid": self.nodeid,
            "owner": self.spec.owner,
            "critical": self.prop.critical,
            "profile": profile.name if profile else None,
            "model": profile.identity() if profile else None,
        }

    def _extra(self, minimal: Example | None = None) -> dict[str, Any]:
        described: dict[str, Any] = {
            "invariant": self.prop.invariant.label,
            "inputs": self.origin,
            "hypothesis": self.inputs.hypothesis if self.inputs is not None else _hypothesis_version(),
            "vary": {var: [v.kind for v in variations] for var, variations in self.prop.vary},
            "bases": list(self.prop.bases),
            "examples_asked": self.prop.examples,
            "budget": self.budget,
            "cut_short": self.budget < self.prop.examples and self.generated >= self.budget,
            "tried": len(self.log),
            "shrink_steps": sum(1 for e in self.log if e["shrinking"]),
            "shrink_cut": self.shrink_cut,
            "examples": self.log,
        }
        if minimal is not None:
            base = minimal.base
            described["minimal"] = {
                "base": base.id,
                "base_at": str(base.location),
                "base_vars": {var: jsonable(base.vars[var]) for var in minimal.changed},
                "vars": jsonable(minimal.changed),
                "variations": list(minimal.notes),
                "unvaried_output": jsonable(self.unvaried.get(base.id)),
            }
        return {"property": described}

    def _result(self, outcome: Outcome, minimal: Example | None = None, run: RunResult | None = None) -> CaseResult:
        if minimal is None or run is None:
            return CaseResult(**self._identity(), outcome=outcome, extra=self._extra())
        # the case's own checks: if the unvaried case fails them too, the variation is not the cause (for a
        # list of checks, as in a directional test, the unvaried case is not expected to pass them)
        checks = self.prop.invariant.kind == "checks"
        unvaried_passes = self._unvaried_passes(minimal.base) if checks else None
        if self.prop.invariant.kind == "list":
            with suppress(_Stop):
                self._unvaried(minimal.base)  # shown next to the varied output
        extra = self._extra(minimal)
        extra["property"]["minimal"]["unvaried_passes"] = unvaried_passes
        failed = run.failures[0] if run.failures else None
        why = f"{failed.label}: {failed.message}" if failed else run.problem
        reason = first_line(f"{why} (after {minimal.variations})")
        where = failed.location if failed else self.prop.location
        return CaseResult(**self._identity(), outcome=outcome, runs=(run,), reason=reason, reason_location=where,
                          extra=extra)  # fmt: skip

    def _unvaried_passes(self, base: Case) -> bool | None:
        """Whether the unvaried case passes the property's checks (if not, the variation is not the cause)."""
        try:
            output = self._unvaried(base)
        except _Stop:
            return None
        try:
            return judge(self.spec, self.prop.invariant, base, Produced(output, 0.0), unvaried=lambda: output,
                         embedder=self.embedder, models=self.runtime.judges(self.spec, 0)).passed  # fmt: skip
        except AitestError:
            return None  # not known: the note is left out

    def _could_not_run(self, error: AitestError) -> CaseResult:
        outcome: Outcome = "missing" if isinstance(error, RecordingMiss) else "error"
        return CaseResult(**self._identity(), outcome=outcome, error=str(error), reason=first_line(error.message),
                          reason_location=error.location, extra=self._extra())  # fmt: skip


def _hypothesis_version() -> str:
    """The installed Hypothesis's version, or '' without it (a replay-only install can do without)."""
    try:
        from importlib.metadata import version

        return version("hypothesis")
    except Exception:
        return ""


_UNTRIED = RunResult(0, None, 0.0)


def _foreign(inputs: PropertyInputs, index: int, prop: Property) -> RecordingError:
    """Recorded inputs that this property could not have drawn (edited by hand): never run as if it had."""
    tried = inputs.examples[index]
    return RecordingError(
        f"the recorded inputs of property '{prop.id}' (key {inputs.key}) hold example {index + 1} of base case "
        f"{shown(tried.base)} with vars {shown(', '.join(tried.vars), quoted=False)}, which this property does "
        "not vary: they were edited by hand",
        location=prop.location,
        hint="record the feature again with --aitest-record=rewrite, or restore its recording from version control",
    )


def _raised(prop: Property, error: TargetError) -> RunResult:
    """A target that raised on a varied input breaks the property: the feature does not survive the variation."""
    verdict = CheckVerdict("raised", False, error.message, prop.location)
    return RunResult(0, None, 0.0, (verdict,))


def _logged(example: Example, result: RunResult, *, shrinking: bool) -> dict[str, Any]:
    return {
        "base": example.base.id,
        "vars": jsonable(example.changed),
        "variations": list(example.notes),
        "output": jsonable(result.output),
        "passed": result.passed,
        "latency_ms": round(result.latency_ms, 3),
        "shrinking": shrinking,
    }


@contextmanager
def _no_shrinking_deadline() -> Iterator[None]:
    """Hypothesis stops shrinking after five minutes of wall-clock time: with a slow live model, the inputs
    tried would then depend on the machine's speed, and a replay would try others than the recording has.
    Shrinking is bounded by SHRINK_BUDGET inputs instead (a count: the same everywhere)."""
    from hypothesis.internal.conjecture import engine

    previous = getattr(engine, "MAX_SHRINKING_SECONDS", None)
    if previous is None:  # a Hypothesis without that limit
        yield
        return
    engine.MAX_SHRINKING_SECONDS = 10**9
    try:
        yield
    finally:
        engine.MAX_SHRINKING_SECONDS = previous


@contextmanager
def _hypothesis_home(folder: Path) -> Iterator[None]:
    """Hypothesis's own files (its cache of constants) under .aitest_cache while a property runs, never
    in the specs folder or the current folder; the user's own Hypothesis tests keep their setting."""
    from hypothesis import configuration

    previous = getattr(configuration, "__hypothesis_home_directory", None)
    configuration.set_hypothesis_home_dir(folder)
    try:
        yield
    finally:
        configuration.set_hypothesis_home_dir(previous)
