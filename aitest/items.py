"""pytest collectors and items for spec files: one item per case, one failing item per broken spec."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from aitest.embeddings import configure_embeddings
from aitest.errors import AitestError, Location
from aitest.failure import format_case_failure
from aitest.models.runtime import ModelRuntime
from aitest.plugin import CONFIG_KEY, WORKER_KEY, record_mode
from aitest.run import CaseResult, run_case
from aitest.session import AitestSession
from aitest.spec.model import Case, Spec
from aitest.summary import SessionSummary

SESSION_KEY = pytest.StashKey[AitestSession]()


class CaseFailed(Exception):
    def __init__(self, result: CaseResult) -> None:
        super().__init__(result.case.id)
        self.result = result


class SpecLoadFailed(Exception):
    def __init__(self, error: AitestError) -> None:
        super().__init__(str(error))
        self.error = error


def aitest_session(config: pytest.Config) -> AitestSession:
    if SESSION_KEY not in config.stash:
        existing = getattr(config, "workerinput", {}).get("aitest_existing")
        runtime = ModelRuntime(
            config.stash[CONFIG_KEY],
            mode=record_mode(config),
            model_override=config.getoption("aitest_model"),
            runs_override=config.getoption("aitest_runs"),
            existing=frozenset(existing) if existing is not None else None,
        )
        config.stash[SESSION_KEY] = AitestSession(config.stash[CONFIG_KEY], runtime)
        configure_embeddings(runtime)
    return config.stash[SESSION_KEY]


def session_runtime(config: pytest.Config) -> ModelRuntime | None:
    """The runtime of this process, if it ran any spec."""
    return config.stash[SESSION_KEY].runtime if SESSION_KEY in config.stash else None


class SpecFile(pytest.File):
    """A YAML behavior spec."""

    def collect(self) -> Iterator[pytest.Item]:
        try:
            spec = aitest_session(self.config).load(self.path)
        except AitestError as error:
            yield SpecErrorItem.from_parent(self, name="spec", error=error)
            return
        except Exception as exc:  # a bug of ours must still fail this spec only
            bug = AitestError(
                f"aitest could not load this spec: {type(exc).__name__}: {exc}",
                location=Location(str(self.path)),
                hint="this is a bug in aitest; please report it with the spec file",
            )
            yield SpecErrorItem.from_parent(self, name="spec", error=bug)
            return
        for case in spec.cases:
            yield CaseItem.from_parent(self, name=case.id, spec=spec, case=case)


class CaseItem(pytest.Item):
    """One case of a spec, run as an ordinary pytest item."""

    def __init__(self, *, spec: Spec, case: Case, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.spec = spec
        self.case = case
        self.add_marker("aitest")
        self.extra_keyword_matches.add(spec.feature)

    def runtest(self) -> None:
        result = run_case(self.spec, self.case, aitest_session(self.config).runtime)
        if not result.passed:
            raise CaseFailed(result)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        if isinstance(excinfo.value, CaseFailed):
            return format_case_failure(excinfo.value.result)
        return str(super().repr_failure(excinfo, style))

    def reportinfo(self) -> tuple[Any, int | None, str]:
        return self.path, self.case.location.line - 1, f"{self.spec.feature}::{self.case.id}"


class SpecErrorItem(pytest.Item):
    """Stands in for a spec that failed to load, so the rest of the suite still runs."""

    def __init__(self, *, error: AitestError, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.error = error
        self.add_marker("aitest")

    def runtest(self) -> None:
        raise SpecLoadFailed(self.error)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        if isinstance(excinfo.value, SpecLoadFailed):
            return str(excinfo.value.error)
        return str(super().repr_failure(excinfo, style))

    def reportinfo(self) -> tuple[Any, int | None, str]:
        line = self.error.location.line - 1 if self.error.location and self.error.location.line else None
        return self.path, line, f"{self.path.name}: spec error"


SUMMARY_KEY = pytest.StashKey[SessionSummary]()


def _summary(config: pytest.Config) -> SessionSummary:
    if SUMMARY_KEY not in config.stash:
        config.stash[SUMMARY_KEY] = SessionSummary()
    return config.stash[SUMMARY_KEY]


def finish_session(config: pytest.Config) -> None:
    """A worker hands its counts to the controller; the controller (or a lone process) prunes for `rewrite`."""
    runtime = session_runtime(config)
    if hasattr(config, "workeroutput"):
        config.workeroutput[WORKER_KEY] = SessionSummary.payload(runtime) if runtime else None
        return
    summary = _summary(config)
    if runtime is not None:
        summary.add(SessionSummary.payload(runtime))
    if record_mode(config) == "rewrite":
        summary.prune(aitest_session(config).runtime_or_default())


def merge_worker(config: pytest.Config, payload: dict[str, Any] | None) -> None:
    _summary(config).add(payload)


def summary_lines(config: pytest.Config) -> list[str]:
    summary = _summary(config)
    runtime = aitest_session(config).runtime_or_default()
    return summary.lines(runtime.mode, summary.unused(runtime) if summary.used else 0)
