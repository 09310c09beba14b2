"""pytest collectors and items for spec files: one item per case, one failing item per broken spec."""

from __future__ import annotations

import contextlib
import gc
import warnings
from collections.abc import Callable, Iterable, Iterator
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from _pytest._code.code import ReprEntry, ReprExceptionInfo, ReprFileLocation, ReprTraceback

from aitest.errors import AitestError, Location, NotASpec, SpecWarning
from aitest.failure import format_case_failure
from aitest.reports.junit import junit_properties
from aitest.result import CaseResult
from aitest.session import AitestSession, placeholder
from aitest.spec.cache import kept_in
from aitest.spec.loader import gc_paused
from aitest.spec.model import Case, Property, Spec


class CaseNotPassed(Exception):
    def __init__(self, result: CaseResult) -> None:
        super().__init__(result.reason)
        self.result = result


class CaseFailed(CaseNotPassed):
    """The checks failed, or the case could not run: what a case's `xfail` expects."""


class CaseMissing(CaseNotPassed):
    """A replay miss: no evidence either way, so never an expected failure (it must be recorded)."""


class XfailPassed(CaseNotPassed):
    """A case marked `xfail` passed: strict, as pytest's xfail_strict, it fails and says to remove the mark."""


class SpecFile(pytest.File):
    """A YAML behavior spec."""

    def __init__(self, *, owner: AitestSession, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.owner = owner

    def collect(self) -> Iterator[pytest.Item]:
        root = self.owner.config.rootdir
        try:
            with kept_in(self.owner.config.cache_dir / "specs"):  # the parse, keyed by the file's content
                spec = self.owner.load(self.path)
            _warn(spec.warnings, root)
        except NotASpec:
            return  # a tools file beside the specs: data, not a spec
        except SpecWarning as warning:  # -W error::aitest.errors.SpecWarning: a warning fails its spec
            error = AitestError(warning.message, location=warning.location, hint=warning.hint)
            yield SpecErrorItem.from_parent(self, name="spec", error=error)
            return
        except AitestError as error:
            with contextlib.suppress(SpecWarning):  # the spec fails already
                _warn(getattr(error, "warnings", ()), root)
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
        with gc_paused():  # thousands of items, none of them garbage: nothing for the collector's passes to find
            mark = pytest.mark.aitest  # once per file: looking a marker up by name is most of add_marker's cost
            items: list[pytest.Item] = [
                CaseItem.from_parent(self, name=case.id, spec=spec, case=case, mark=mark) for case in spec.cases
            ]
            items += [
                PropertyItem.from_parent(self, name=prop.id, spec=spec, prop=prop, mark=mark)
                for prop in spec.properties
            ]
        gc.freeze()  # the spec and its items live as long as the session: keep them out of every later GC pass
        yield from items


def _warn(found: Iterable[SpecWarning], rootdir: Path) -> None:
    """A spec's warnings as pytest warnings of its collection (in the warnings summary; -W applies)."""
    for warning in found:
        warnings.warn_explicit(warning, SpecWarning, str(rootdir / warning.location.file), warning.location.line)


def _failure_repr(item: pytest.Item, text: str, reason: str, location: Location) -> ReprExceptionInfo:
    """The failure as pytest renders an exception: the text under FAILURES, and ``reason`` at ``location``
    for the short summary (`FAILED id - reason`), `--tb=line` and JUnit's message. Survives xdist."""
    lines = [] if item.config.getoption("tbstyle", "auto") == "line" else text.splitlines()
    entry = ReprEntry(lines=lines, reprfuncargs=None, reprlocals=None, reprfileloc=None, style="value")
    crash = ReprFileLocation(path=location.file, lineno=location.line, message=reason)
    return ReprExceptionInfo(
        reprtraceback=ReprTraceback(reprentries=[entry], extraline=None, style="value"), reprcrash=crash
    )


class _BehaviorItem(pytest.Item):
    """What a case's item and a property's share: the spec, the marker, the session, JUnit's properties,
    and the failure rendered as pytest renders an exception."""

    def __init__(self, *, spec: Spec, subject: Case | Property, mark: pytest.MarkDecorator, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.spec = spec
        self.add_marker(mark)
        self.extra_keyword_matches.add(spec.feature)
        self.owner: AitestSession = self.parent.owner  # type: ignore[union-attr]
        self.owner.expect(self.nodeid, partial(placeholder, spec, subject, self.nodeid))

    def _settle(self, result: CaseResult) -> None:
        """Hand the result to pytest: properties for --junitxml, and an exception unless it passed."""
        if self.config.getoption("xmlpath", None):  # --junitxml: properties for CI dashboards
            self.user_properties.extend(junit_properties(result))
        if result.outcome == "missing":
            raise CaseMissing(result)
        if not result.passed:
            raise CaseFailed(result)

    def _result_repr(self, result: CaseResult, render: Callable[..., str]) -> ReprExceptionInfo:
        text = render(result, short=self.config.getoption("tbstyle", "auto") == "short")
        return _failure_repr(self, text, result.reason, result.reason_location or result.location)


class CaseItem(_BehaviorItem):
    """One case of a spec, run as an ordinary pytest item."""

    def __init__(self, *, spec: Spec, case: Case, mark: pytest.MarkDecorator, **kwargs: Any) -> None:
        super().__init__(spec=spec, subject=case, mark=mark, **kwargs)
        self.case = case
        if case.skip:
            self.add_marker(pytest.mark.skip(reason=case.skip))
        if case.xfail:  # a replay miss (CaseMissing) is not the failure it expects
            self.add_marker(pytest.mark.xfail(reason=case.xfail, strict=True, raises=CaseFailed))

    def runtest(self) -> None:
        result = self.owner.run(self.spec, self.case, self.nodeid)
        self._settle(result)
        if self.case.xfail and not self.config.getoption("runxfail", False):
            raise XfailPassed(result)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> Any:
        if isinstance(excinfo.value, XfailPassed):
            where = self.case.location
            reason = f"the case passed, but it is marked xfail ({self.case.xfail})"
            text = f"{reason}\n  hint: the behavior holds now: remove the case's xfail (the case is at {where})"
            return _failure_repr(self, text, reason, where)
        if isinstance(excinfo.value, CaseNotPassed):
            return self._result_repr(excinfo.value.result, format_case_failure)
        return super().repr_failure(excinfo, style)

    def reportinfo(self) -> tuple[Any, int | None, str]:
        where = self.case.location  # in the spec, or in the data file of `cases_from`
        path = self.path if where.file == self.spec.location.file else self.owner.config.rootdir / where.file
        return path, where.line - 1, f"{self.spec.feature}::{self.case.id}"


class PropertyItem(_BehaviorItem):
    """One property of a spec: Hypothesis varies the cases' inputs and the invariant must hold of each output."""

    def __init__(self, *, spec: Spec, prop: Property, mark: pytest.MarkDecorator, **kwargs: Any) -> None:
        super().__init__(spec=spec, subject=prop, mark=mark, **kwargs)
        self.prop = prop

    def runtest(self) -> None:
        self._settle(self.owner.run_property(self.spec, self.prop, self.nodeid))

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> Any:
        if isinstance(excinfo.value, CaseNotPassed):
            from aitest.properties.failure import format_property_failure

            return self._result_repr(excinfo.value.result, format_property_failure)
        return super().repr_failure(excinfo, style)

    def reportinfo(self) -> tuple[Any, int | None, str]:
        return self.path, self.prop.location.line - 1, f"{self.spec.feature}::{self.prop.id}"


class SpecLoadFailed(Exception):
    def __init__(self, error: AitestError) -> None:
        super().__init__(str(error))
        self.error = error


class SpecErrorItem(pytest.Item):
    """Stands in for a spec that failed to load, so the rest of the suite still runs."""

    def __init__(self, *, error: AitestError, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.error = error
        self.add_marker("aitest")
        self.owner: AitestSession = self.parent.owner  # type: ignore[union-attr]
        self.owner.expect(self.nodeid, partial(AitestSession.spec_error, self.path, error, self.nodeid))

    def runtest(self) -> None:
        raise SpecLoadFailed(self.error)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> Any:
        if isinstance(excinfo.value, SpecLoadFailed):
            error = excinfo.value.error
            location = error.location or Location(str(self.path))
            return _failure_repr(self, str(error), error.message.splitlines()[0], location)
        return super().repr_failure(excinfo, style)

    def reportinfo(self) -> tuple[Any, int | None, str]:
        line = self.error.location.line - 1 if self.error.location and self.error.location.line else None
        return self.path, line, f"{self.path.name}: spec error"
