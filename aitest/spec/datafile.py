"""`cases_from: FILE`: cases read from a .csv file (a header row, then one case per row) or a .jsonl file
(one JSON object per line). Every problem names the file and the line of its row; reading is bounded."""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aitest.errors import Location, SpecError
from aitest.util.files import Unreadable, read_text
from aitest.util.text import cut, plural, type_word

SUFFIXES = (".csv", ".jsonl")
MAX_DATA_BYTES = 10_000_000
MAX_ROWS = 10_000  # each row is a pytest item: more is a benchmark, not a behavior spec
MAX_COLUMNS = 1_000
MAX_DEPTH = 100  # levels of nesting in a JSON row, as in a spec
_ID = re.compile(r"[A-Za-z0-9_-]+\Z")
_ID_HINT = "use letters, digits, _ and -, e.g. double_charge"


@dataclass(frozen=True)
class DataRow:
    """One case of a data file: its id (the `id` column, else `row_N`), its vars, where it is."""

    id: str
    vars: dict[str, Any]
    location: Location  # the file and the line the row starts on


@dataclass(frozen=True)
class DataCases:
    """What a data file gave: its rows, and the problems of the rows that could not be read."""

    file: str
    rows: tuple[DataRow, ...]
    errors: tuple[SpecError, ...]


def read_cases(path: Path, display: str, written: Location) -> DataCases:
    """Read the rows of ``path`` (shown as ``display``); SpecError at ``written`` (the spec's `cases_from`)
    when the file cannot be read at all."""
    if path.suffix not in SUFFIXES:
        raise SpecError(
            f"cases_from: {cut(repr(path.name), 80)} is neither a .csv nor a .jsonl file",
            location=written,
            hint="a .csv file with a header row, or a .jsonl file with one JSON object per line",
        )
    try:
        text = read_text(path, limit=MAX_DATA_BYTES).removeprefix("\ufeff")  # a BOM, as spreadsheets write
    except Unreadable as why:
        raise SpecError(
            f"cases_from: the file {cut(display if display.isprintable() else repr(display), 120)} {why}",
            location=written,
            hint="the path is relative to the spec file",
        ) from None
    rows, errors = (_read_csv if path.suffix == ".csv" else _read_jsonl)(text, display)
    if not rows and not errors:
        what = "a header but no rows" if path.suffix == ".csv" and text.strip() else "no rows"
        errors = [SpecError(f"the file has {what} of cases", location=Location(display, 1), hint=_hint(path.suffix))]
    return DataCases(display, tuple(rows), tuple(errors))


def _hint(suffix: str) -> str:
    if suffix == ".csv":
        return "a header row names the vars (and an optional id column), then one row per case"
    return 'one JSON object per line, e.g. {"id": "refund", "ticket": "Where is my refund?"}'


def _read_csv(text: str, file: str) -> tuple[list[DataRow], list[SpecError]]:
    reader = csv.reader(io.StringIO(text, newline=""), skipinitialspace=True)
    rows: list[DataRow] = []
    errors: list[SpecError] = []
    header: list[str] | None = None
    line = 1
    try:
        for record in reader:
            start, line = line, reader.line_num + 1  # a quoted value may span lines: the row starts at `start`
            if not record or record == [""]:
                continue  # a blank line
            where = Location(file, start)
            if header is None:
                header = [name.strip() for name in record]
                problem = _header_problem(header, where)
                if problem is not None:
                    return [], [problem]
                continue
            if len(rows) + len(errors) >= MAX_ROWS:
                return rows, [*errors, _too_many(where)]
            if len(record) != len(header):
                errors.append(
                    SpecError(
                        f"row {len(rows) + len(errors) + 1} has {plural(len(record), 'value')}, but the header has "
                        f"{len(header)} columns ({cut(', '.join(header), 120)})",
                        location=where,
                        hint="give every row one value per column; quote a value that holds a comma",
                    )
                )
                continue
            _add_row(dict(zip(header, record, strict=True)), where, rows, errors)
    except csv.Error as exc:
        errors.append(SpecError(f"malformed CSV: {exc}", location=Location(file, reader.line_num)))
    return rows, errors


def _header_problem(header: list[str], where: Location) -> SpecError | None:
    if len(header) > MAX_COLUMNS:
        return SpecError(f"the header has more than {MAX_COLUMNS} columns", location=where)
    for index, name in enumerate(header, 1):
        if not name:
            return SpecError(
                f"column {index} of the header has no name",
                location=where,
                hint="the first row names the columns: each is a var of the cases (or their id)",
            )
        if header.index(name) != index - 1:
            return SpecError(f"the header names column {cut(repr(name), 80)} twice", location=where)
    return None


def _read_jsonl(text: str, file: str) -> tuple[list[DataRow], list[SpecError]]:
    rows: list[DataRow] = []
    errors: list[SpecError] = []
    for number, raw in enumerate(text.split("\n"), 1):
        if not raw.strip():
            continue
        if len(rows) + len(errors) >= MAX_ROWS:
            return rows, [*errors, _too_many(Location(file, number))]
        try:
            value = json.loads(raw, parse_constant=_no_constant)
        except json.JSONDecodeError as exc:
            errors.append(_bad_json(exc.msg, Location(file, number, exc.colno)))
            continue
        except (ValueError, RecursionError) as exc:  # a number of too many digits, NaN, nesting past recursion
            reason = "values are nested too deep" if isinstance(exc, RecursionError) else str(exc)
            errors.append(_bad_json(reason, Location(file, number, 1)))
            continue
        where = Location(file, number, 1)
        if not isinstance(value, dict):
            errors.append(
                SpecError(
                    f"a row must be a JSON object ({{...}}), not {type_word(value)}",
                    location=where,
                    hint=_hint(".jsonl"),
                )
            )
        elif _depth(value) > MAX_DEPTH:
            errors.append(SpecError(f"values are nested more than {MAX_DEPTH} levels deep", location=where))
        else:
            _add_row(value, where, rows, errors)
    return rows, errors


def _bad_json(reason: str, where: Location) -> SpecError:
    return SpecError(f"not valid JSON: {cut(reason, 120)}", location=where, hint=_hint(".jsonl"))


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value")


def _too_many(where: Location) -> SpecError:
    return SpecError(
        f"more than {MAX_ROWS} rows", location=where, hint="split the cases over several specs (one data file each)"
    )


def _depth(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + max((_depth(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((_depth(v) for v in value), default=0)
    return 0


def _add_row(values: dict[str, Any], where: Location, rows: list[DataRow], errors: list[SpecError]) -> None:
    """The row's vars and id (its `id` value, else its number among the rows)."""
    number = len(rows) + len(errors) + 1
    variables = dict(values)
    raw_id = variables.pop("id", None)
    if raw_id is None and "id" not in values:
        rows.append(DataRow(f"row_{number}", variables, where))
        return
    case_id = str(raw_id) if isinstance(raw_id, int) and not isinstance(raw_id, bool) else raw_id
    if not isinstance(case_id, str):
        errors.append(SpecError(f"the id of row {number} must be text, not {type_word(raw_id)}", location=where))
    elif not case_id:
        errors.append(
            SpecError(
                f"the id of row {number} is empty",
                location=where,
                hint="give every row an id, or leave the id out of every row to number them (row_1, row_2, ...)",
            )
        )
    elif not _ID.match(case_id):
        errors.append(
            SpecError(f"the id {cut(repr(case_id), 80)} of row {number} is not allowed", location=where, hint=_ID_HINT)
        )
    else:
        rows.append(DataRow(case_id, variables, where))
