"""`cases_from: FILE`: cases read from a .csv file (a header row, then one case per row) or a .jsonl file
(one JSON object per line). Every problem names the file and the line of its row; reading is bounded."""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from aitest.errors import AitestError, Location, SpecError
from aitest.util.files import Unreadable, read_text
from aitest.util.text import cut, plural, shown, type_word

SUFFIXES = (".csv", ".jsonl")
MAX_DATA_BYTES = 10_000_000
MAX_ROWS = 10_000  # each row is a pytest item: more is a benchmark, not a behavior spec
MAX_COLUMNS = 1_000
MAX_DEPTH = 100  # levels of nesting in a JSON row, as in a spec
_ID = re.compile(r"[A-Za-z0-9_-]+\Z")
_ID_HINT = "use letters, digits, _ and -, e.g. double_charge"


_EXPECTED = re.compile(r"__expected\d*\Z")
EXPECT_PREFIX = "expect."  # `expect.FIELD`: equals on that path
_CASE_COLUMNS = ("__description", "__threshold")
_COLUMNS_HINT = (
    "aitest reads __expected (__expected1, __expected2, ...), expect.FIELD, __description and __threshold; "
    "the other columns are the vars"
)


@dataclass(frozen=True)
class DataCheck:
    """A check a row carries (an `__expected` or `expect.FIELD` cell): a check mapping, or a check name alone;
    where the cell is."""

    item: Any
    location: Location


@dataclass(frozen=True)
class DataRow:
    """One case of a data file: its id (the `id` column, else `row_N`), its vars, where it is, and what the
    `__` and `expect.` columns give it."""

    id: str
    vars: dict[str, Any]
    location: Location  # the file and the line the row starts on
    checks: tuple[DataCheck, ...] = ()
    description: str = ""
    threshold: float | None = None
    numbered: bool = False  # no id column: the id is its number among the rows


@dataclass(frozen=True)
class DataCases:
    """What a data file gave: its rows, and the problems of the rows that could not be read."""

    file: str
    rows: tuple[DataRow, ...]
    errors: tuple[SpecError, ...]


def read_cases(path: Path, display: str, written: Location, *, prefix: str = "") -> DataCases:
    """Read the rows of ``path`` (shown as ``display``); SpecError at ``written`` (the spec's `cases_from`)
    when the file cannot be read at all. Rows without an id are numbered ``{prefix}row_N``."""
    if path.suffix not in SUFFIXES:
        raise SpecError(
            f"cases_from: {shown(path.name, 80)} is neither a .csv nor a .jsonl file",
            location=written,
            hint="a .csv file with a header row, or a .jsonl file with one JSON object per line",
        )
    try:
        text = read_text(path, limit=MAX_DATA_BYTES).removeprefix("\ufeff")  # a BOM, as spreadsheets write
    except Unreadable as why:
        raise SpecError(
            f"cases_from: the file {shown(display, 120, quoted=False)} {why}",
            location=written,
            hint="the path is relative to the spec file",
        ) from None
    rows, errors = (_read_csv if path.suffix == ".csv" else _read_jsonl)(text, display)
    if prefix:
        rows = [replace(r, id=prefix + r.id) if r.numbered else r for r in rows]
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
                        f"{len(header)} columns ({shown(', '.join(header), 120, quoted=False)})",
                        location=where,
                        hint="give every row one value per column; quote a value that holds a comma",
                    )
                )
                continue
            columns = _columns(text, start, reader.line_num, file)
            _add_row(
                dict(zip(header, record, strict=True)), where, rows, errors, dict(zip(header, columns, strict=False))
            )
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
            return SpecError(f"the header names column {shown(name, 80)} twice", location=where)
        if _unknown_column(name):
            return _not_read(name, where)
    return None


def _unknown_column(column: str) -> bool:
    """A promptfoo `__` column aitest has no use for (`__prefix`, `__metric`, ...), or a bare `expect.`."""
    known = _EXPECTED.match(column) or column in _CASE_COLUMNS
    return (column.startswith("__") and not known) or column == EXPECT_PREFIX


def _not_read(column: str, where: Location) -> SpecError:
    return SpecError(f"aitest does not read the column {shown(column, 80)}", location=where, hint=_COLUMNS_HINT)


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
            at = {k: Location(file, number, raw.find(json.dumps(k)) + 1 or 1) for k in value if _special(k)}
            _add_row(value, where, rows, errors, at)
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


def _columns(text: str, first: int, last: int, file: str) -> list[Location]:
    """Where each value of a CSV record (lines ``first`` to ``last``) starts, quotes and spaces skipped."""
    lines = text.split("\n")[first - 1 : last]
    starts, quoted, fresh = [], False, True
    for number, line in enumerate(lines, first):
        for col, char in enumerate(line, 1):
            if fresh and char != " ":
                starts.append(Location(file, number, col + (char == '"')))
                fresh = False
            if char == '"':
                quoted = not quoted
            elif char == "," and not quoted:
                fresh = True
        if fresh and not quoted:
            starts.append(Location(file, number, len(line) + 1))
            fresh = False
    return starts


def _special(column: str) -> bool:
    """A column that is not a var: a row's checks, or a field of its case (promptfoo's `__` columns)."""
    return column.startswith(("__", EXPECT_PREFIX))


def _add_row(
    values: dict[str, Any],
    where: Location,
    rows: list[DataRow],
    errors: list[SpecError],
    at: dict[str, Location] | None = None,
) -> None:
    """The row's vars and id (its `id` value, else its number among the rows); ``at`` is where each value is,
    for the checks and fields of the `__` and `expect.` columns."""
    number = len(rows) + len(errors) + 1
    variables = {k: v for k, v in values.items() if not _special(k)}
    fields = _row_fields(values, at or {}, where)
    if isinstance(fields, SpecError):
        errors.append(fields)
        return
    raw_id = variables.pop("id", None)
    if raw_id is None and "id" not in values:
        rows.append(DataRow(f"row_{number}", variables, where, *fields, numbered=True))
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
            SpecError(f"the id {shown(case_id, 80)} of row {number} is not allowed", location=where, hint=_ID_HINT)
        )
    else:
        rows.append(DataRow(case_id, variables, where, *fields))


def _row_fields(
    values: dict[str, Any], at: dict[str, Location], where: Location
) -> tuple[tuple[DataCheck, ...], str, float | None] | SpecError:
    """The checks, description and threshold of a row's `__` and `expect.` columns; the first bad one's error."""
    checks: list[DataCheck] = []
    description, threshold = "", None
    for column, value in values.items():
        if not _special(column):
            continue
        here = at.get(column, where)
        if _unknown_column(column):
            return _not_read(column, here)
        if value is None or value == "":
            continue  # an empty cell: nothing expected of this row there
        if _EXPECTED.match(column):
            for item in value if isinstance(value, list) else [value]:
                parsed = short_check(item, here) if isinstance(item, str) else item
                if isinstance(parsed, SpecError):
                    return parsed
                checks.append(DataCheck(parsed if isinstance(item, (str, dict)) else {"equals": item}, here))
        elif column.startswith(EXPECT_PREFIX):
            checks.append(DataCheck({"equals": value, "path": column[len(EXPECT_PREFIX) :]}, here))
        elif column == "__description":
            description = str(value)
        else:
            share = _threshold(value, here)
            if isinstance(share, SpecError):
                return share
            threshold = share
    return tuple(checks), description, threshold


def _threshold(value: Any, here: Location) -> float | SpecError:
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = -1.0
    if isinstance(value, bool) or not 0.0 <= number <= 1.0:
        return SpecError(
            f"__threshold must be a number from 0 to 1, not {shown(value, 40)}",
            location=here,
            hint="the weighted share of the row's checks that must pass, e.g. 0.75",
        )
    return number


_SHORT = re.compile(r"(?P<name>[a-z][\w-]*)(?:\((?P<threshold>\d*\.?\d+)\))?\s*:(?P<value>.*)\Z", re.DOTALL)


def short_check(cell: str, here: Location) -> Any:
    """A check in promptfoo's short form, as an `__expected` cell holds it: `contains: sorry`, `not-contains:
    refund`, `similar(0.9): text`, a check that takes no value by its name (`is_json`); anything else is the
    expected answer itself (`equals`). A SpecError for what looks like a misspelt check name."""
    from aitest.checks.registry import all_checks
    from aitest.spec.forms import spelling
    from aitest.util.text import did_you_mean

    text = cell.strip()
    alone = spelling(text)
    if alone is not None and _takes_no_value(alone.name):
        return text
    match = _SHORT.match(text)
    if match is None:
        return {"equals": text}
    name, value = match["name"], match["value"].strip()
    spelled = spelling(name)
    if spelled is None:
        guess = did_you_mean(name, sorted(all_checks()))
        if not guess:
            return {"equals": text}
        return SpecError(
            f"unknown check {shown(name, 80)} in the cell{guess}",
            location=here,
            hint="write CHECK: VALUE (e.g. contains: sorry), "
            f"or equals: {shown(text, 40, quoted=False)} for the text itself",
        )
    check: dict[str, Any] = {name: _typed(value, all_checks()[spelled.name].value_schema)}
    if match["threshold"] is not None:  # promptfoo's levenshtein(N) is the largest distance
        number = float(match["threshold"])
        if spelled.name == "levenshtein":
            check["max_distance"] = int(number) if number.is_integer() else number
        else:
            check["threshold"] = number
    return check


def _takes_no_value(name: str) -> bool:
    from aitest.checks.registry import all_checks
    from aitest.util.schema_quick import quick_valid

    schema = all_checks()[name].value_schema
    return quick_valid(schema, None, {}) and not quick_valid(schema, "x", {})


def _typed(value: str, schema: dict[str, Any]) -> Any:
    """The cell's value as the check takes it: text when it takes text, else the value read as YAML (a list,
    a number, a mapping), else the text (for the check's own error)."""
    from aitest.util.schema_quick import quick_valid

    if quick_valid(schema, value, {}):
        return value
    from aitest.spec.yaml_loader import load_yaml

    try:
        parsed, _ = load_yaml(value, "cell", what="value")
    except AitestError:
        return value
    if quick_valid(schema, parsed, {}):
        return parsed
    from jsonschema import Draft202012Validator  # the quick check says no when it is not sure (a oneOf of objects)

    return parsed if Draft202012Validator(schema).is_valid(parsed) else value
