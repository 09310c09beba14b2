"""`cases_from: FILE`: one case per row of a .csv or .jsonl file; every problem names the file and the row."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import Project, literal_brackets

AITEST = str(Path(sys.executable).parent / "aitest")

SPEC = """
feature: triage
target: feature:triage
output: json
expect:
  - schema: {type: object, required: [category]}
cases:
  - id: written
    vars: {ticket: "charged twice"}
cases_from: SOURCE
"""


def spec(source: str) -> str:
    return SPEC.replace("SOURCE", source)


def validate(project: Project) -> pytest.RunResult:
    return project.pytester.run(AITEST, "validate")


def test_csv_rows_are_cases_with_the_id_column_combined_with_cases(project: Project) -> None:
    project.spec("specs/triage.yaml", spec("tickets.csv"))
    project.file("specs/tickets.csv", 'id,ticket\nlate_parcel,My parcel is late\ncharge,"charged twice, again"\n')
    result = project.run("--collect-only", "-q")
    result.stdout.fnmatch_lines(
        ["specs/triage.yaml::written", "specs/triage.yaml::late_parcel", "specs/triage.yaml::charge", "*3 tests*"]
    )
    project.run().assert_outcomes(passed=3)
    project.run("-k", "late_parcel").assert_outcomes(passed=1, deselected=2)


def test_without_an_id_column_rows_are_numbered(project: Project) -> None:
    project.spec("specs/triage.yaml", spec("tickets.csv"))
    project.file("specs/tickets.csv", "ticket\nfirst\n\nsecond\n")
    result = project.run("--collect-only", "-q")
    result.stdout.fnmatch_lines(["specs/triage.yaml::written", "specs/triage.yaml::row_1", "specs/triage.yaml::row_2"])


def test_csv_values_are_text_as_written(project: Project) -> None:
    project.module("show", "def show(a, b):\n    return repr((a, b))\n")
    project.spec(
        "specs/show.yaml",
        "feature: show\ntarget: show:show\ncases_from:\n  file: rows.csv\n  expect: [{equals: \"('42', '')\"}]\n",
    )
    path = project.root / "specs/rows.csv"
    path.write_bytes("\ufeffid, a, b\nnumber, 42,\n".encode())  # a BOM and spaces after commas, as spreadsheets write
    project.run().assert_outcomes(passed=1)


def test_jsonl_values_are_any_json_and_reach_the_target(project: Project) -> None:
    project.module("count", "def count(items, label):\n    return {'n': len(items), 'label': label}\n")
    project.spec(
        "specs/count.yaml",
        "feature: count\ntarget: count:count\noutput: json\ncases_from:\n  file: rows.jsonl\n"
        "  expect:\n    - equals: 2\n      path: n\n",
    )
    project.file(
        "specs/rows.jsonl",
        '{"id": "pair", "items": [1, {"a": null}], "label": "x"}\n{"id": 7, "items": ["a", "b"], "label": "y"}\n'
        '{"items": [1, 2, 3], "label": "z"}\n',
    )
    result = project.run("-rf")
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(
        [
            "count::row_3 failed (specs/rows.jsonl:3:1)",
            literal_brackets("  equals [path n] at specs/count.yaml:7:7: expected 2, got 3"),
            literal_brackets("FAILED specs/count.yaml::row_3 - equals [path n]: expected 2, got 3"),
        ]
    )


def test_the_checks_of_the_mapping_form_apply_to_its_rows_only(project: Project) -> None:
    project.spec(
        "specs/triage.yaml",
        "feature: triage\ntarget: feature:triage\noutput: json\ncases:\n  - id: written\n"
        "    vars: {ticket: hello}\ncases_from:\n  file: tickets.csv\n  expect:\n"
        "    - equals: billing\n      path: category\n",
    )
    project.file("specs/tickets.csv", "ticket\ncharged twice\nhello\n")
    result = project.run("-rf", "-vv")
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(
        [
            literal_brackets(
                "FAILED specs/triage.yaml::row_2 - equals [path category]: expected 'billing', got 'account'"
            )
        ]
    )


def test_a_spec_may_have_cases_from_alone_but_not_neither(project: Project) -> None:
    project.spec("specs/a.yaml", "feature: a\ntarget: feature:echo\ncases_from: a.csv\n")
    project.file("specs/a.csv", "text\nhi\n")
    project.spec("specs/b.yaml", "feature: b\ntarget: feature:echo\n")
    result = validate(project)
    assert result.stdout.lines == [
        "specs/b.yaml:1:1: missing required key 'cases' in the spec",
        "  hint: give the cases as a list under cases:, or read them from a file with cases_from: FILE",
    ]
    result.stderr.fnmatch_lines(["specs/a.yaml: ok (a, 1 case)", "2 spec files, 1 problem"])


@pytest.mark.parametrize(
    ("name", "data", "lines"),
    [
        (
            "missing.csv",
            None,
            [
                "specs/triage.yaml:9:13: cases_from: the file specs/missing.csv is not found",
                "  hint: the path is relative to the spec file",
            ],
        ),
        (
            "tickets.txt",
            "ticket\nx\n",
            [
                "specs/triage.yaml:9:13: cases_from: 'tickets.txt' is neither a .csv nor a .jsonl file",
                "  hint: a .csv file with a header row, or a .jsonl file with one JSON object per line",
            ],
        ),
        (
            "tickets.csv",
            "",
            [
                "specs/tickets.csv:1: the file has no rows of cases",
                "  hint: a header row names the vars (and an optional id column), then one row per case",
            ],
        ),
        (
            "tickets.csv",
            "id,ticket\n",
            [
                "specs/tickets.csv:1: the file has a header but no rows of cases",
                "  hint: a header row names the vars (and an optional id column), then one row per case",
            ],
        ),
        (
            "tickets.csv",
            'id,ticket\nok,"two\nlines"\nragged,a,b\nbad id,x\n,y\nwritten,z\nok,again\n',
            [
                "specs/tickets.csv:4: row 2 has 3 values, but the header has 2 columns (id, ticket)",
                "  hint: give every row one value per column; quote a value that holds a comma",
                "specs/tickets.csv:5: the id 'bad id' of row 3 is not allowed",
                "  hint: use letters, digits, _ and -, e.g. double_charge",
                "specs/tickets.csv:6: the id of row 4 is empty",
                "  hint: give every row an id, or leave the id out of every row to number them (row_1, row_2, ...)",
                "specs/tickets.csv:7: duplicate case id 'written' (first at specs/triage.yaml:7:9)",
                "  hint: case ids must be unique in a file, rows of cases_from included",
                "specs/tickets.csv:8: duplicate case id 'ok' (first at line 2)",
                "  hint: case ids must be unique in a file, rows of cases_from included",
            ],
        ),
        (
            "tickets.csv",
            "id,ticket,id\na,b,c\n",
            ["specs/tickets.csv:1: the header names column 'id' twice"],
        ),
        (
            "tickets.csv",
            "id,,ticket\na,b,c\n",
            [
                "specs/tickets.csv:1: column 2 of the header has no name",
                "  hint: the first row names the columns: each is a var of the cases (or their id)",
            ],
        ),
        (
            "tickets.jsonl",
            '{"ticket": "a"}\n{"ticket": "b"\n[1, 2]\n{"id": "x y", "ticket": "c"}\n{"id": true, "ticket": "d"}\n',
            [
                "specs/tickets.jsonl:2:15: not valid JSON: Expecting ',' delimiter",
                '  hint: one JSON object per line, e.g. {"id": "refund", "ticket": "Where is my refund?"}',
                "specs/tickets.jsonl:3:1: a row must be a JSON object ({...}), not a list",
                '  hint: one JSON object per line, e.g. {"id": "refund", "ticket": "Where is my refund?"}',
                "specs/tickets.jsonl:4:1: the id 'x y' of row 4 is not allowed",
                "  hint: use letters, digits, _ and -, e.g. double_charge",
                "specs/tickets.jsonl:5:1: the id of row 5 must be text, not true or false",
            ],
        ),
    ],
    ids=["missing", "suffix", "empty", "header_only", "bad_rows", "duplicate_column", "unnamed_column", "bad_jsonl"],
)
def test_errors_name_the_data_file_and_the_row(project: Project, name: str, data: str | None, lines: list[str]) -> None:
    project.spec("specs/triage.yaml", spec(name))
    if data is not None:
        project.file(f"specs/{name}", data)
    result = validate(project)
    assert result.ret == 1
    assert result.stdout.lines == lines


def test_the_vars_of_rows_are_checked_against_the_target_once_per_mistake(project: Project) -> None:
    project.spec("specs/triage.yaml", spec("tickets.csv"))
    project.file("specs/tickets.csv", "tickt\na\nb\nc\n")
    result = validate(project)
    assert result.stdout.lines == [
        "specs/tickets.csv:2: var 'tickt' is not a parameter of feature:triage; did you mean 'ticket'? (and 2 more rows)",
        "  hint: its parameters: ticket",
    ]
    result = project.run()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["FAILED specs/triage.yaml::spec - var 'tickt' is not a parameter*"])


def test_the_prompt_vars_are_checked_against_the_rows(project: Project) -> None:
    project.spec(
        "specs/greet.yaml", "feature: greet\nprompt: 'Hi {{ name }} from {{ city }}'\ncases_from: people.csv\n"
    )
    project.file("specs/people.csv", "id,name\nada,Ada\n")
    result = validate(project)
    assert result.stdout.lines == [
        "specs/greet.yaml:2:1: the prompt uses {{ city }}, but case 'ada' has no var 'city'",
        "  hint: add a value for city to the row of case 'ada' (specs/people.csv:2)",
    ]


@pytest.mark.parametrize(
    ("name", "content", "pattern"),
    [
        (
            "big.csv",
            "ticket\n" + "x\n" * 5_500_000,
            "cases_from: the file specs/big.csv is 11 MB, more than the 10 MB*",
        ),
        ("rows.csv", "ticket\n" + "x\n" * 10_001, "specs/rows.csv:10002: more than 10000 rows"),
        (
            "field.csv",
            "ticket\n" + "x" * 200_000 + "\n",
            "specs/field.csv:2: malformed CSV: field larger than field limit*",
        ),
        (
            "deep.jsonl",
            '{"a": ' + "[" * 100_000 + "]" * 100_000 + "}\n",
            "specs/deep.jsonl:1:1: not valid JSON: values*",
        ),
        (
            "nest.jsonl",
            '{"a": ' + "[" * 150 + "]" * 150 + "}\n",
            "specs/nest.jsonl:1:1: values are nested more than 100*",
        ),
        ("digits.jsonl", '{"a": ' + "9" * 5000 + "}\n", "specs/digits.jsonl:1:1: not valid JSON: Exceeds the limit*"),
        ("nan.jsonl", '{"a": NaN}\n', "specs/nan.jsonl:1:1: not valid JSON: NaN is not a JSON value"),
        ("bin.csv", b"ticket\n\xff\xfe\n", "cases_from: the file specs/bin.csv is not UTF-8 text*"),
    ],
    ids=["too_big", "too_many_rows", "huge_field", "deep_nesting", "nesting", "long_number", "nan", "binary"],
)
def test_hostile_data_files_are_errors_within_a_second(
    project: Project, name: str, content: str | bytes, pattern: str
) -> None:
    project.spec("specs/triage.yaml", spec(name))
    path = project.root / "specs" / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "aitest.cli", "validate"], cwd=project.root, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert any(__import__("fnmatch").fnmatch(line, f"*{pattern}") for line in result.stdout.splitlines()), result.stdout
    assert time.perf_counter() - started < 10  # the process itself starts in about a second; the file adds little


def test_the_editor_schema_knows_cases_from() -> None:
    from aitest.spec.schema import spec_schema

    schema = spec_schema()
    assert "cases_from" in schema["properties"]
    assert schema["anyOf"] == [{"required": ["cases"]}, {"required": ["cases_from"]}]


def test_a_failing_row_points_at_its_line_in_the_data_file(project: Project) -> None:
    project.spec(
        "specs/triage.yaml",
        "feature: triage\ntarget: feature:triage\noutput: json\ncases_from:\n  file: tickets.jsonl\n"
        "  expect: [{equals: billing, path: category}]\n",
    )
    rows = [{"id": "charge", "ticket": "charged twice"}, {"id": "hello", "ticket": "hello"}]
    project.file("specs/tickets.jsonl", "".join(json.dumps(row) + "\n" for row in rows))
    result = project.run("--aitest-report=r.json")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        [
            "triage::hello failed (specs/tickets.jsonl:2:1)",
            literal_brackets("  equals [path category] at specs/triage.yaml:6:12: expected 'billing', got 'account'"),
        ]
    )
    cases = json.loads((project.root / "r.json").read_text())["cases"]
    assert [(c["id"], c["outcome"], c["file"], c["line"]) for c in cases] == [
        ("charge", "passed", "specs/tickets.jsonl", 1),
        ("hello", "failed", "specs/tickets.jsonl", 2),
    ]


def test_rows_run_on_the_real_model_are_recorded_and_replayed(project: Project, gemma: Path) -> None:
    project.spec(
        "specs/greet.yaml",
        'feature: greet\nprompt: "Write one short greeting for {{ name }}.\\nGreeting:"\n'
        "params: {temperature: 0, max_tokens: 6, seed: 1}\nexpect: [{min_length: 1}]\n"
        "cases:\n  - id: later\n    vars: {name: Zed}\n    skip: not this one\ncases_from: people.csv\n",
    )
    project.file("specs/people.csv", "id,name\nada,Ada\nbob,Bob\n")
    live = project.run("--aitest-record=once")
    live.assert_outcomes(passed=2, skipped=1)
    live.stdout.fnmatch_lines(["aitest recordings (once): 0 replayed, 2 recorded, 0 missed, 0 unused"])
    recorded = (project.root / "specs/__recordings__/greet.yaml").read_text()
    assert "Write one short greeting for Ada." in recorded and "Zed" not in recorded
    replay = project.run()
    replay.assert_outcomes(passed=2, skipped=1)
    replay.stdout.fnmatch_lines(["aitest recordings (none): 2 replayed, 0 recorded, 0 missed, 0 unused"])
