"""The pytest plugin: hooks only, each delegating to the session (aitest.session). Cheap to import:
the engine is imported when the first spec is collected, or a worker reports, or a report is asked for."""

from __future__ import annotations

import os
from collections.abc import Callable, Generator, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import pytest

from aitest.config import MAX_EXAMPLES, load_config
from aitest.errors import AitestError, Location
from aitest.options import RunOptions, set_current
from aitest.recordings.mode import MODES, RecordMode

if TYPE_CHECKING:
    from aitest.config import Config
    from aitest.fixture import AitestModel
    from aitest.models.openai_compat import OpenAICompat
    from aitest.session import AitestSession

CONFIG_KEY = pytest.StashKey["Config"]()
OPTIONS_KEY = pytest.StashKey[RunOptions]()
SESSION_KEY = pytest.StashKey["AitestSession"]()
CALL_PASSED = pytest.StashKey[bool]()
WORKER_KEY = "aitest"
MAX_RUNS = 100
T = TypeVar("T")


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("aitest", "aitest: behavior specs for AI features")
    group.addoption(
        "--aitest-record",
        choices=MODES,
        default=None,
        help="recordings: none (replay only; default), once, new, all, rewrite, off (live, no files). "
        "Also AITEST_RECORD.",
    )
    group.addoption("--aitest-model", default=None, metavar="PROFILE", help="run every spec on this model profile")
    group.addoption(
        "--aitest-runs", type=int, default=None, metavar="N", help="run every case N times (overrides determinism runs)"
    )
    group.addoption(
        "--aitest-report",
        default=None,
        metavar="PATH",
        help="write every case's result as a JSON run report (also [tool.aitest] report)",
    )
    group.addoption(
        "--aitest-max-examples",
        type=int,
        default=None,
        metavar="N",
        help="at most N generated examples per property (also [tool.aitest] max_examples)",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "aitest: a behavior case from an aitest YAML spec")
    config.addinivalue_line("markers", "aitest_model(profile): the model profile of this test's aitest_model fixture")
    config.stash[OPTIONS_KEY] = _run_options(config)
    set_current(config.stash[OPTIONS_KEY])  # aitest.check in the run's tests follows its record mode
    if config.pluginmanager.hasplugin("xdist"):
        config.pluginmanager.register(XdistHooks(), "aitest-xdist")


def _run_options(config: pytest.Config) -> RunOptions:
    """[tool.aitest] (kept on the config) and the flags, checked once: a bad one is a usage error."""
    try:
        project = config.stash[CONFIG_KEY] = load_config(config.rootpath)
        mode = RecordMode.parse(
            config.getoption("aitest_record") or os.environ.get("AITEST_RECORD"), source="AITEST_RECORD"
        )
        model = config.getoption("aitest_model")
        if model:
            _check_profile(project, model)
    except AitestError as error:
        raise pytest.UsageError(str(error)) from None
    report = config.getoption("aitest_report")
    if report and Path(report).is_dir():
        raise pytest.UsageError(
            f"--aitest-report={report}: that is a folder; give a file path, e.g. {report}/aitest.json"
        )
    existing = getattr(config, "workerinput", {}).get("aitest_existing")
    return RunOptions(
        mode=mode,
        model=model,
        runs=_bounded(config, "--aitest-runs", MAX_RUNS, "runs"),
        report=Path(report).resolve() if report else None,
        existing=frozenset(existing) if existing is not None else None,
        max_examples=_bounded(config, "--aitest-max-examples", MAX_EXAMPLES, "examples"),
    )


def _bounded(config: pytest.Config, flag: str, most: int, unit: str) -> int | None:
    value: int | None = config.getoption(flag.lstrip("-").replace("-", "_"))
    if value is not None and not 1 <= value <= most:
        raise pytest.UsageError(f"{flag}={value}: use 1 to {most} {unit}")
    return value


def _check_profile(project: Config, name: str) -> None:
    from aitest.models.profiles import all_profiles
    from aitest.util.text import did_you_mean, shown

    known = all_profiles(project)
    if name not in known:
        raise AitestError(
            f"--aitest-model: unknown model profile {shown(name)}{did_you_mean(name, list(known))}",
            hint=f"known profiles: {', '.join(sorted(known))}",
        )


def owner(config: pytest.Config) -> AitestSession:
    """The session's aitest side, started on first use (and its hooks with it)."""
    if SESSION_KEY not in config.stash:
        from aitest.session import AitestSession

        session = config.stash[SESSION_KEY] = AitestSession(config.stash[CONFIG_KEY], config.stash[OPTIONS_KEY])
        config.pluginmanager.register(SessionHooks(session, config), "aitest-session")
    return config.stash[SESSION_KEY]


def _started(config: pytest.Config) -> bool:
    return SESSION_KEY in config.stash


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> Any:
    if file_path.suffix not in (".yaml", ".yml") or not parent.config.stash[CONFIG_KEY].is_spec_file(file_path):
        return None
    from aitest.items import SpecFile

    return SpecFile.from_parent(parent, path=file_path, owner=owner(parent.config))


@pytest.fixture
def aitest_model(request: pytest.FixtureRequest) -> Iterator[AitestModel]:
    """The model client of the default profile (or --aitest-model, or @pytest.mark.aitest_model(NAME)),
    recorded and replayed under the record mode as a spec's calls are, in a recording file of this test."""
    session = owner(request.config)
    file, line, _ = request.node.location  # the line of the test's first decorator, or of its def
    marker = request.node.get_closest_marker("aitest_model")
    model = _or_fail(
        session.model_for_test,
        request.node.nodeid,
        marker=(marker.args, marker.kwargs) if marker else None,
        where=Location(file, (line or 0) + 1),
    )
    yield model
    _or_fail(session.after_test, model, passed=request.node.stash.get(CALL_PASSED, False))


@pytest.fixture
def aitest_openai(aitest_model: AitestModel) -> OpenAICompat:
    """A client shaped like the OpenAI Python SDK's (``aitest_openai.chat.completions.create(...)``) over this
    test's ``aitest_model``: recorded and replayed the same way; the profile, not ``model=``, picks the model."""
    from aitest.fixture import openai_client

    return openai_client(aitest_model)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if report.when == "call":
        item.stash[CALL_PASSED] = report.passed  # the aitest_model fixture's teardown asks
    return report


def _or_fail(call: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """``call``'s result; an AitestError fails the test with its message and hint, not a traceback."""
    try:
        return call(*args, **kwargs)
    except AitestError as error:
        message = str(error)
    pytest.fail(message, pytrace=False)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    config = session.config
    wants_report = config.stash[OPTIONS_KEY].report or config.stash[CONFIG_KEY].report
    if not _started(config) and not wants_report:
        return  # no spec in this session and no report asked for: the engine stays unimported
    if hasattr(config, "workeroutput"):
        config.workeroutput[WORKER_KEY] = owner(config).worker_payload()
        return
    aitest = owner(config)
    aitest.finish()
    if aitest.failed and exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.USAGE_ERROR  # a path that cannot be written: the setup is wrong


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    if _started(config) and not hasattr(config, "workeroutput"):
        for line in owner(config).summary_lines():
            terminalreporter.write_line(line)


class SessionHooks:
    """Registered with the session: sends model calls ahead of the selected cases, and settles each case's
    outcome from pytest's reports."""

    def __init__(self, session: AitestSession, config: pytest.Config) -> None:
        self.session, self.config = session, config
        self.queued: set[int] = set()  # under xdist: the indices of the items this worker was handed so far

    @pytest.hookimpl(wrapper=True)
    def pytest_runtestloop(self, session: pytest.Session) -> Generator[None, object, object]:
        runs = not session.config.option.collectonly and not (
            session.testsfailed and not session.config.option.continue_on_collection_errors
        )
        try:
            if runs and not hasattr(session.config, "workerinput"):
                line = self.session.send_ahead(_cases(session.items))
                reporter = session.config.pluginmanager.get_plugin("terminalreporter")
                if line and reporter is not None:
                    reporter.write_line(line)
            return (yield)
        finally:
            self.session.stop_ahead()

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_protocol(self, item: pytest.Item, nextitem: pytest.Item | None) -> None:
        """Under xdist a worker learns its items bit by bit: send ahead those queued for it so far."""
        if hasattr(item.config, "workerinput") and self.session.runtime.sends_ahead:
            self.session.send_ahead(_cases([item, *self._queued(item)]))

    def _queued(self, item: pytest.Item) -> list[pytest.Item]:
        """The items xdist has newly queued for this worker (its WorkerInteractor's `torun`, read from the end
        up to the first one seen before); [] if it cannot be seen."""
        for plugin in item.config.pluginmanager.get_plugins():
            queue = getattr(plugin, "torun", None)
            if queue is not None and hasattr(queue, "lock"):
                with queue.lock() as indices:
                    new = []
                    for index in reversed(indices):
                        if isinstance(index, int):
                            if index in self.queued:
                                break
                            new.append(index)
                self.queued.update(new)
                return [item.session.items[i] for i in reversed(new)]
        return []

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.when == "call":  # now and then, how far the calls sent ahead are: a long live run is moving
            line = self.session.progress_line()
            reporter = self.config.pluginmanager.get_plugin("terminalreporter") if line else None
            if reporter is not None:
                reporter.write_line(line)
        if report.passed and not hasattr(report, "wasxfail"):
            return  # a phase that passed changes no outcome
        message = getattr(report, "wasxfail", "") or _reason(report)
        self.session.observe(
            report.nodeid, when=report.when, outcome=report.outcome, xfail=hasattr(report, "wasxfail"), message=message
        )


def _cases(items: list[pytest.Item]) -> Iterator[tuple[str, Any, Any]]:
    """(node id, spec, case) of each item that is a spec's case."""
    for item in items:
        case = getattr(item, "case", None)
        if case is not None:
            yield item.nodeid, item.spec, case  # type: ignore[attr-defined]


def _reason(report: pytest.TestReport) -> str:
    if report.skipped and isinstance(report.longrepr, tuple):
        return str(report.longrepr[2]).removeprefix("Skipped: ")  # (file, line, reason) of a skip
    crash = getattr(report.longrepr, "reprcrash", None)
    return str(crash.message) if crash is not None else str(report.longrepr or "")


class XdistHooks:
    """Under pytest-xdist: the controller tells workers which recordings existed, and merges their results."""

    def pytest_configure_node(self, node: Any) -> None:
        from aitest.session import existing_recordings

        node.workerinput["aitest_existing"] = existing_recordings(node.config.stash[CONFIG_KEY])

    def pytest_testnodedown(self, node: Any, error: Any) -> None:
        payload = getattr(node, "workeroutput", {}).get(WORKER_KEY)
        if payload:
            owner(node.config).merge(payload)
