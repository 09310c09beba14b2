"""Log files read one line at a time, each line bounded: a huge file costs no more memory than its longest
allowed line, and a huge line is reported and skipped, never loaded."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from aitest.importing.logged import ODD, LoggedCall, NoAnswer, NotOfFormat, Skipped, checked, malformed

MAX_LINE_BYTES = 8_000_000  # one logged request with its response; longer lines are skipped as bad
_CHUNK = 1 << 20


@dataclass(frozen=True)
class Line:
    number: int
    text: str  # "" for a line too long or not UTF-8 (then ``error`` says why)
    error: str = ""
    offset: int = 0  # where the line starts in the file (a batch input is joined by seeking to it)


def lines(handle: IO[bytes], limit: int = MAX_LINE_BYTES) -> Iterator[Line]:
    """The non-blank lines of a binary file with their numbers; a line over ``limit`` bytes is skipped
    to its end in chunks and yields an error."""
    number = 0
    while True:
        offset = handle.tell()
        raw = handle.readline(limit + 1)
        if not raw:
            return
        number += 1
        if len(raw) > limit and not raw.endswith(b"\n"):
            while True:  # the rest of the huge line, without keeping it
                rest = handle.readline(_CHUNK)
                if not rest or rest.endswith(b"\n"):
                    break
            yield Line(number, "", f"line longer than {limit // 1_000_000} MB: skipped", offset)
            continue
        try:
            text = raw.decode("utf-8").strip()
        except UnicodeDecodeError as exc:
            yield Line(number, "", f"not UTF-8 text (byte {exc.start + 1} of the line)", offset)
            continue
        if text:
            yield Line(number, text.lstrip("\ufeff"), "", offset)


def parse(line: Line) -> Any:
    """The JSON value of a line; NotOfFormat with the reason when it is not JSON."""
    if line.error:
        raise NotOfFormat(line.error)
    try:
        return json.loads(line.text)
    except ValueError as exc:
        raise NotOfFormat(f"not JSON ({exc.args[0].split(':')[0] if exc.args else 'invalid'})") from None
    except RecursionError:
        raise NotOfFormat("not JSON this reader accepts (nested too deep)") from None


def json_lines(path: Path) -> Iterator[tuple[int, Any]]:
    """(line number, JSON value or NotOfFormat) for each non-blank line of a JSONL file."""
    with path.open("rb") as handle:
        for line in lines(handle):
            try:
                yield line.number, parse(line)
            except NotOfFormat as why:
                yield line.number, why


def logged_calls(path: Path, shown: str, call_of: Callable[[Any, str], LoggedCall]) -> Iterator[LoggedCall | Skipped]:
    """Each line of a JSONL log made a call by ``call_of(value, "file:line")``, or skipped with the reason."""
    for number, value in json_lines(path):
        where = f"{shown}:{number}"
        try:
            if isinstance(value, NotOfFormat):
                raise value
            call = checked(call_of(value, where))
        except NotOfFormat as why:
            yield Skipped(where, str(why))
        except NoAnswer as why:
            yield Skipped(where, str(why), bad=False)
        except ODD as exc:
            yield Skipped(where, malformed(exc))
        else:
            yield call
