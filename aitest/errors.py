"""Errors a user can cause, each carrying where it happened and what to do."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from aitest.util.text import bounded

_PACKAGE_DIR = str(Path(__file__).resolve().parent)


@dataclass(frozen=True)
class Location:
    """A place in a file; line and col are 1-based, 0 when unknown."""

    file: str
    line: int = 0
    col: int = 0

    def __str__(self) -> str:
        if self.line and self.col:
            return f"{self.file}:{self.line}:{self.col}"
        if self.line:
            return f"{self.file}:{self.line}"
        return self.file


class _Bounded:
    """A message and its hint printed in lines of at most MAX_MESSAGE_LINE characters: a value echoed
    whole somewhere (a key of 100,000 characters) is cut in the middle, the cut shown, whatever the message."""

    _message: str
    hint: str

    @property
    def message(self) -> str:
        """The message, each line bounded (for one-line reasons: pytest's short summary, JUnit)."""
        return bounded(self._message)

    @message.setter
    def message(self, value: str) -> None:
        self._message = value

    def _render(self, head: str) -> str:
        """``head`` (the location and the message) and the hint, each line bounded."""
        return bounded(f"{head}\n  hint: {self.hint}" if self.hint else head)


class AitestError(_Bounded, Exception):
    """Base of every error aitest reports to a user as one or two lines."""

    def __init__(self, message: str, *, location: Location | None = None, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.location = location
        self.hint = hint

    def __str__(self) -> str:
        return self._render(f"{self.location}: {self._message}" if self.location else self._message)


class SpecError(AitestError):
    """A spec file (or a file it names) is malformed or inconsistent."""


class SpecWarning(_Bounded, UserWarning):
    """Something in a spec that loads, but likely does not mean what its author meant.

    A pytest warning on collection (``-W error::aitest.errors.SpecWarning`` makes it an error)
    and a `warning:` line of `aitest validate`.
    """

    def __init__(self, message: str, *, location: Location, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.location = location
        self.hint = hint

    def __str__(self) -> str:
        return self._render(f"{self.location}: warning: {self._message}")


class NotASpec(AitestError):
    """A YAML file in a specs folder that is data, not a spec (a list of tool definitions): not collected."""


class SpecErrors(AitestError):
    """Several problems found in one spec file; str() lists them one per line.

    ``warnings`` are the file's warnings, reported with its errors (all in one round).
    """

    def __init__(self, errors: list[SpecError], *, warnings: tuple[SpecWarning, ...] = ()) -> None:
        super().__init__(errors[0].message, location=errors[0].location, hint=errors[0].hint)
        self.errors = errors
        self.warnings = warnings

    def __str__(self) -> str:
        """The errors, one per line, with the warnings among them in the order of the spec's lines."""
        spec_file = self.warnings[0].location.file if self.warnings else None

        def key(problem: SpecError | SpecWarning) -> tuple[int, int, int]:
            where = problem.location
            return (0, where.line, where.col) if where and where.file == spec_file else (1, 0, 0)

        problems: list[SpecError | SpecWarning] = [*self.errors, *self.warnings]
        return "\n".join(str(p) for p in (sorted(problems, key=key) if spec_file else problems))


class ConfigError(AitestError):
    """The [tool.aitest] configuration is malformed."""


class TargetError(AitestError):
    """The feature's target raised; keeps the original exception for its traceback."""

    def __init__(self, message: str, *, original: BaseException, location: Location | None = None) -> None:
        super().__init__(message, location=location)
        self.original = original

    def user_traceback(self) -> str:
        """The traceback of the original exception without aitest's own frames: the user's code only."""
        import traceback

        frames = traceback.extract_tb(self.original.__traceback__)
        return "".join(traceback.format_list([f for f in frames if not f.filename.startswith(_PACKAGE_DIR)])).rstrip()


class CheckError(AitestError):
    """A check written in Python (`python:`, a plugin's) gave something that is not a verdict."""


class ModelError(AitestError):
    """A model cannot be loaded or called: missing file or package, server down, bad response."""


class RecordingError(AitestError):
    """A recording file is corrupt, truncated or from a newer aitest."""


class RecordingMiss(AitestError):
    """Replay found no recorded entry for a model call."""
