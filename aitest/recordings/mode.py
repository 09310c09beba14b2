"""Record modes as one type that carries its policy, as vcrpy's record modes do."""

from __future__ import annotations

from enum import Enum

from aitest.errors import AitestError


class RecordMode(Enum):
    """What a session does with recordings: replay, record, both, or neither."""

    NONE = "none"  # replay only; a miss fails the case
    ONCE = "once"  # replay; record a feature only when it has no recording file yet
    NEW = "new"  # replay hits; call the model and record misses
    ALL = "all"  # call the model for everything; update those entries, keep the rest
    REWRITE = "rewrite"  # call the model for everything; the file then holds exactly this run's entries
    OFF = "off"  # call the model live; never read or write recordings

    @classmethod
    def parse(cls, text: str | None, *, source: str = "--aitest-record") -> RecordMode:
        """The mode named ``text`` (default ``none``); AitestError naming ``source`` otherwise."""
        if not text:
            return cls.NONE
        try:
            return cls(text)
        except ValueError:
            raise AitestError(f"{source}={text!r} is not a record mode; use one of {', '.join(MODES)}") from None

    @property
    def uses_files(self) -> bool:
        """Reads or writes recording files at all."""
        return self is not RecordMode.OFF

    def replays(self, *, file_existed: bool) -> bool:
        """Looks a call up in the recording before calling the model."""
        return self in (RecordMode.NONE, RecordMode.NEW) or (self is RecordMode.ONCE and file_existed)

    def records_misses(self, *, file_existed: bool) -> bool:
        """Calls the model when a call is not recorded (else a miss fails the case)."""
        if self is RecordMode.ONCE:
            return not file_existed
        return self in (RecordMode.NEW, RecordMode.ALL, RecordMode.REWRITE)

    @property
    def records(self) -> bool:
        """May write recordings; also writes the committed embedding cache beside them."""
        return self in (RecordMode.ONCE, RecordMode.NEW, RecordMode.ALL, RecordMode.REWRITE)

    @property
    def prunes(self) -> bool:
        """At the end of the session, drops the entries this run did not use (`rewrite`)."""
        return self is RecordMode.REWRITE


MODES = tuple(mode.value for mode in RecordMode)
