"""Plain input/output pairs, as JSONL (``{"input": ..., "output": ...}``) or CSV with those columns: the
input becomes the case's one user turn, the output its recorded answer. Optional: ``latency_ms``,
``prompt_tokens``, ``completion_tokens``, ``model``."""

from __future__ import annotations

import csv
import io
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from aitest.importing.jsonl import MAX_LINE_BYTES, logged_calls
from aitest.importing.logged import ODD, LoggedCall, NotOfFormat, Skipped, checked, count, malformed, milliseconds

_OPTIONAL = ("latency_ms", "prompt_tokens", "completion_tokens", "model")


def read_jsonl(path: Path, shown: str) -> Iterator[LoggedCall | Skipped]:
    return logged_calls(path, shown, call_of)


def read_csv(path: Path, shown: str) -> Iterator[LoggedCall | Skipped]:
    csv.field_size_limit(min(MAX_LINE_BYTES, sys.maxsize))
    with path.open("rb") as raw:
        # undecodable bytes become lone surrogates, so that one row in another encoding is skipped, not the file
        text = io.TextIOWrapper(raw, encoding="utf-8-sig", errors="surrogateescape", newline="")
        reader = csv.DictReader(text)
        try:
            header = reader.fieldnames or []
        except csv.Error as exc:
            yield Skipped(f"{shown}:1", f"not CSV: {exc}")
            return
        missing = [c for c in ("input", "output") if c not in header]
        if missing:
            has = ", ".join(header[:8]) or "nothing"
            yield Skipped(f"{shown}:1", f"the CSV header has no {' or '.join(missing)} column (it has: {has})")
            return
        while True:
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                yield Skipped(f"{shown}:{reader.line_num}", f"not CSV: {exc}; the rows after it are not read")
                return  # the reader cannot find where the next row starts
            where = f"{shown}:{reader.line_num}"
            try:
                fields = {k: v for k, v in row.items() if k is not None}
                if any("\udc80" <= c <= "\udcff" for v in fields.values() if isinstance(v, str) for c in v):
                    raise NotOfFormat("not UTF-8 text (a CSV saved in another encoding? save it as UTF-8)")
                call = checked(call_of(fields, where, from_csv=True))
            except NotOfFormat as why:
                yield Skipped(where, str(why))
            except ODD as exc:
                yield Skipped(where, malformed(exc))
            else:
                yield call


def call_of(row: Any, where: str, *, from_csv: bool = False) -> LoggedCall:
    if not isinstance(row, dict) or "input" not in row or "output" not in row:
        raise NotOfFormat("not an input/output pair (an object with 'input' and 'output')")
    given, answer = row["input"], row["output"]
    if not isinstance(given, str) or not given.strip():
        raise NotOfFormat("'input' is empty or not text")
    if answer is None or not isinstance(answer, str):
        raise NotOfFormat("'output' is missing or not text")
    extra = {k: _number(row.get(k)) if from_csv and k != "model" else row.get(k) for k in _OPTIONAL}
    model = extra["model"] if isinstance(extra["model"], str) and extra["model"] else None
    return LoggedCall(
        where, ({"role": "user", "content": given},), answer, model=model,
        latency_ms=milliseconds(extra["latency_ms"]),
        prompt_tokens=count(extra["prompt_tokens"]), completion_tokens=count(extra["completion_tokens"]),
    )  # fmt: skip


def _number(text: Any) -> Any:
    if not isinstance(text, str) or not text.strip():
        return None
    try:
        value = float(text)
    except ValueError:
        return None
    return int(value) if value.is_integer() else value
