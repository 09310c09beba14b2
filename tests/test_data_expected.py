"""A row of `cases_from` carries its own expectations as promptfoo's do: `__expected` columns (one check each in
short form), `expect.FIELD` columns (equals on that path), `__description` and `__threshold`; `cases_from` may
list several files. Real specs, run as a user runs them."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from conftest import Project, literal_brackets

AITEST = str(Path(sys.executable).parent / "aitest")


def validate(project: Project) -> pytest.RunResult:
    return project.pytester.run(AITEST, "validate")


def test_expected_columns_are_checks_not_vars(project: Project) -> None:
    project.spec("specs/reply.yaml", "feature: reply\ntarget: feature:echo\ncases_from: replies.csv\n")
    project.file(
        "specs/replies.csv",
        "id,text,__expected,__expected2\n"
        "sorry,Sorry for the delay,contains: Sorry,not-contains: refund\n"
        "bare,refund,refund,\n"
        'typed,a b c,"contains_all: [a, c]",max_length: 5\n'
        "scored,hello,similar(0.9): hello,\n"
        "fails,Hello there,contains: sorry,\n",
    )
    result = project.run("-rf", "-W", "ignore::aitest.errors.SpecWarning", "-k", "not scored")
    result.assert_outcomes(passed=3, failed=1, deselected=1)
    result.stdout.fnmatch_lines(
        [
            "reply::fails failed (specs/replies.csv:6)",
            "  contains at specs/replies.csv:6:19: 'sorry' not found in the output",
            "FAILED specs/reply.yaml::fails - contains: 'sorry' not found in the output",
        ]
    )


def test_an_expect_column_is_equals_on_its_path(project: Project) -> None:
    # the case: an `intent` column was refused as "not a parameter of the target"
    project.spec("specs/triage.yaml", "feature: triage\ntarget: feature:triage\noutput: json\ncases_from: t.csv\n")
    project.file(
        "specs/t.csv",
        "id,ticket,expect.category,expect.items[0].qty\ncharge,charged twice,billing,2\n"
        "password,reset my password,billing,\n",
    )
    result = project.run("-rf")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        [
            literal_brackets(
                "  equals [path category] at specs/t.csv:3:28: expected 'billing', got 'account'",
            ),
        ]
    )


def test_jsonl_rows_carry_checks_descriptions_and_thresholds(project: Project) -> None:
    project.spec("specs/reply.yaml", "feature: reply\ntarget: feature:echo\ncases_from: r.jsonl\n")
    project.file(
        "specs/r.jsonl",
        '{"id": "mapping", "text": "hi", "__expected": {"starts_with": "h"}}\n'
        '{"id": "promptfoo", "text": "hi", "__expected": {"type": "icontains", "value": "HI"}}\n'
        '{"id": "several", "text": "hi", "__expected": ["contains: h", "equals: hi"], "__description": "two"}\n'
        '{"id": "scored", "text": "hi", "__expected1": "contains: h", "__expected2": "contains: x", '
        '"__threshold": 0.5}\n'
        '{"id": "number", "text": 42, "__expected": 42}\n'
        '{"id": "below", "text": "hi", "__expected1": "contains: x", "__expected2": "contains: h", '
        '"__threshold": 0.75}\n',
    )
    result = project.run("-rf", "-W", "ignore::aitest.errors.SpecWarning", "--aitest-report=report.json")
    result.assert_outcomes(passed=5, failed=1)
    result.stdout.fnmatch_lines(["FAILED specs/reply.yaml::below - weighted score 0.50 < threshold 0.75"])
    cases = {c["id"]: c for c in json.loads((project.root / "report.json").read_text())["cases"]}
    assert cases["scored"]["extra"]["score"] == 0.5
    assert [c["name"] for c in cases["several"]["runs"][0]["checks"]] == ["contains", "equals"]


def test_promptfoo_names_in_cells_are_hinted(project: Project) -> None:
    project.spec("specs/reply.yaml", "feature: reply\ntarget: feature:echo\ncases_from: r.csv\n")
    project.file("specs/r.csv", "text,__expected\nhello,starts-with: he\n")
    result = validate(project)
    assert result.ret == 0
    assert result.stdout.lines == [
        "specs/r.csv:2:7: warning: 'starts-with' is promptfoo's name: aitest calls it 'starts_with'"
    ]


def test_cases_from_may_list_several_files(project: Project) -> None:
    project.spec(
        "specs/reply.yaml",
        "feature: reply\ntarget: feature:echo\ncases_from:\n  - a.csv\n  - file: b.jsonl\n"
        "    expect: [{max_length: 3}]\n",
    )
    project.file("specs/a.csv", "text,__expected\nhi,hi\nhey,hey\n")
    project.file("specs/b.jsonl", '{"text": "yo", "__expected": "yo"}\n{"id": "long", "text": "hello"}\n')
    result = project.run("--collect-only", "-q")
    result.stdout.fnmatch_lines(
        [
            "specs/reply.yaml::a_row_1",
            "specs/reply.yaml::a_row_2",
            "specs/reply.yaml::b_row_1",
            "specs/reply.yaml::long",
        ]
    )
    result = project.run("-rf")
    result.assert_outcomes(passed=3, failed=1)
    result.stdout.fnmatch_lines(["FAILED specs/reply.yaml::long - max_length: 5 characters, more than the maxim*"])


@pytest.mark.parametrize(
    ("name", "data", "lines"),
    [
        (
            "r.csv",
            "text,__expected\nhi,contians: h\n",
            [
                "specs/r.csv:2:4: unknown check 'contians' in the cell; did you mean 'contains'?",
                "  hint: write CHECK: VALUE (e.g. contains: sorry), or equals: contians: h for the text itself",
            ],
        ),
        (
            "r.csv",
            'text,__expected\nhi,"max_length: many"\n',
            ["specs/r.csv:2:5: 'max_length' must be a whole number, not text"],
        ),
        (
            "r.csv",
            "text,__prefix\nhi,x\n",
            [
                "specs/r.csv:1: aitest does not read the column '__prefix'",
                "  hint: aitest reads __expected (__expected1, __expected2, ...), expect.FIELD, __description and "
                "__threshold; the other columns are the vars",
            ],
        ),
        (
            "r.jsonl",
            '{"text": "hi", "__threshold": 1.5}\n',
            [
                "specs/r.jsonl:1:16: __threshold must be a number from 0 to 1, not 1.5",
                "  hint: the weighted share of the row's checks that must pass, e.g. 0.75",
            ],
        ),
        (
            "r.csv",
            "text,expect.a..b\nhi,x\n",
            ["specs/r.csv:2:4: *a..b*"],
        ),
        (
            "r.jsonl",
            '{"text": "hi", "__expected": {"not": {}}}\n',
            [
                "specs/r.jsonl:1:16: 'not' wraps no check",
                "  hint: write the check to negate under it, e.g. not: {contains: sorry}",
            ],
        ),
    ],
    ids=["misspelt", "wrong_type", "promptfoo_column", "threshold", "bad_path", "empty_not"],
)
def test_a_bad_cell_is_an_error_at_its_line_and_column(
    project: Project, name: str, data: str, lines: list[str]
) -> None:
    project.spec("specs/reply.yaml", f"feature: reply\ntarget: feature:echo\ncases_from: {name}\n")
    project.file(f"specs/{name}", data)
    result = validate(project)
    assert result.ret == 1
    result.stdout.fnmatch_lines(lines, consecutive=True)


def test_a_cell_that_only_looks_like_a_check_is_the_expected_text(project: Project) -> None:
    project.spec("specs/reply.yaml", "feature: reply\ntarget: feature:echo\ncases_from: r.csv\n")
    project.file("specs/r.csv", 'text,__expected\n"Note: call back","Note: call back"\nlanguage,language\n')
    project.run().assert_outcomes(passed=2)


def test_the_editor_schema_knows_several_data_files() -> None:
    import jsonschema

    from aitest.spec.schema import spec_schema

    validator = jsonschema.Draft202012Validator(spec_schema())
    base = {"feature": "f", "prompt": "x"}
    assert not list(validator.iter_errors({**base, "cases_from": ["a.csv", {"file": "b.jsonl", "expect": []}]}))
    assert list(validator.iter_errors({**base, "cases_from": []}))


def test_a_cell_value_that_is_a_mapping(project: Project) -> None:
    project.module("feature", "def echo(text):\n    return text\n")
    project.file(
        "specs/rows.csv",
        'text,__expected\nthree short words,"word_count: {max: 3}"\nfour words right here,"word_count: {max: 3}"\n',
    )
    project.spec("specs/wc.yaml", "feature: wc\ntarget: feature:echo\ncases_from: rows.csv\n")
    result = project.run()
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*4 words, more than the maximum 3*"])
