"""The pytest plugin: hooks only. The engine lives below and is imported when a spec is found."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from aitest.config import Config, load_config
from aitest.errors import AitestError
from aitest.recordings import MODES

CONFIG_KEY = pytest.StashKey[Config]()
ACTIVE_KEY = pytest.StashKey[bool]()  # set once a spec is collected (or a worker reports): the engine is needed
WORKER_KEY = "aitest"
MAX_RUNS = 100


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


def record_mode(config: pytest.Config) -> str:
    mode = config.getoption("aitest_record") or os.environ.get("AITEST_RECORD") or "none"
    if mode not in MODES:
        raise pytest.UsageError(f"AITEST_RECORD={mode!r} is not a record mode; use one of {', '.join(MODES)}")
    return str(mode)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "aitest: a behavior case from an aitest YAML spec")
    try:
        config.stash[CONFIG_KEY] = load_config(config.rootpath)
        if config.getoption("aitest_model"):
            from aitest.models.profiles import all_profiles

            known = all_profiles(config.stash[CONFIG_KEY])
            if config.getoption("aitest_model") not in known:
                raise AitestError(
                    f"--aitest-model: unknown model profile '{config.getoption('aitest_model')}'",
                    hint=f"known profiles: {', '.join(sorted(known))}",
                )
    except AitestError as error:
        raise pytest.UsageError(str(error)) from None
    record_mode(config)
    runs = config.getoption("aitest_runs")
    if runs is not None and not 1 <= runs <= MAX_RUNS:
        raise pytest.UsageError(f"--aitest-runs={runs}: use 1 to {MAX_RUNS} runs")
    if config.pluginmanager.hasplugin("xdist"):
        config.pluginmanager.register(XdistHooks(), "aitest-xdist")


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> Any:
    if file_path.suffix not in (".yaml", ".yml") or not parent.config.stash[CONFIG_KEY].is_spec_file(file_path):
        return None
    from aitest.items import SpecFile

    parent.config.stash[ACTIVE_KEY] = True
    return SpecFile.from_parent(parent, path=file_path)


def pytest_sessionfinish(session: pytest.Session) -> None:
    if not session.config.stash.get(ACTIVE_KEY, False):
        return  # no spec in this session: nothing to summarise, and the engine stays unimported
    from aitest.items import finish_session

    finish_session(session.config)


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    if not config.stash.get(ACTIVE_KEY, False):
        return
    from aitest.items import summary_lines

    for line in summary_lines(config):
        terminalreporter.write_line(line)


class XdistHooks:
    """Under pytest-xdist: the controller tells workers which recordings existed, and merges their counts."""

    def pytest_configure_node(self, node: Any) -> None:
        from aitest.recordings.store import RecordingStore

        node.workerinput["aitest_existing"] = sorted(RecordingStore.existing(node.config.stash[CONFIG_KEY].recordings))

    def pytest_testnodedown(self, node: Any, error: Any) -> None:
        payload = getattr(node, "workeroutput", {}).get(WORKER_KEY)
        if payload:
            from aitest.items import merge_worker

            node.config.stash[ACTIVE_KEY] = True
            merge_worker(node.config, payload)
