"""How this run was asked to behave: the record mode and the flags, parsed once when pytest starts."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from aitest.recordings.mode import RecordMode


@dataclass(frozen=True)
class RunOptions:
    mode: RecordMode = RecordMode.NONE
    model: str | None = None  # --aitest-model: every spec runs on this profile
    runs: int | None = None  # --aitest-runs: every case runs this many times
    report: Path | None = None  # --aitest-report (or [tool.aitest] report)
    existing: frozenset[str] | None = None  # under xdist: the recording files the controller saw at start
    max_examples: int | None = None  # --aitest-max-examples: at most this many examples per property


_CURRENT: list[RunOptions] = []  # the options of the pytest run in this process, for aitest.check


def set_current(options: RunOptions) -> None:
    """Called when pytest starts: `aitest.check` then follows the run's record mode."""
    _CURRENT[:] = [options]


def current_mode() -> RecordMode:
    """The record mode of this process: the pytest run's (--aitest-record), else AITEST_RECORD, else none."""
    if _CURRENT:
        return _CURRENT[0].mode
    import os

    return RecordMode.parse(os.environ.get("AITEST_RECORD"), source="AITEST_RECORD")
