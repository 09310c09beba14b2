"""The YAML mistakes people actually make, explained: a regex in double quotes, an option with a dash,
yes/no/on/off read as booleans (a warning), a tab, a colon in a value."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from conftest import Project

AITEST = str(Path(sys.executable).parent / "aitest")
HEAD = "feature: f\ntarget: feature:echo\ncases:\n  - id: a\n    vars: {text: hi}\n    expect:\n"


def validate(project: Project, text: str) -> pytest.RunResult:
    project.spec("specs/f.yaml", text)
    return project.pytester.run(AITEST, "validate")


def test_a_double_quoted_regex_says_to_use_single_quotes_or_double_the_backslash(project: Project) -> None:
    result = validate(project, HEAD + '      - regex: "\\d+ days"\n')
    assert result.ret == 1
    assert result.stdout.lines == [
        "specs/f.yaml:7:17: malformed YAML: found unknown escape character '\\d' in double quotes",
        "  hint: in double quotes a backslash starts an escape: write it in single quotes, '\\d+ days', "
        'or double each backslash, "\\\\d+ days"',
    ]


def test_the_suggested_forms_of_the_regex_load(project: Project) -> None:
    for fixed in ("'\\d+ days'", '"\\\\d+ days"'):
        result = validate(project, HEAD + f"      - regex: {fixed}\n")
        assert result.ret == 0, result.stdout.str()


@pytest.mark.parametrize(
    ("items", "lines"),
    [
        (
            "      - similar: a refund\n      - threshold: 0.7\n",
            [
                "specs/f.yaml:8:9: 'threshold' is an option of the check 'similar' above (line 7), "
                "not a check of its own",
                "  hint: remove the '- ' before threshold, so that it lines up under similar as part of that check",
            ],
        ),
        (
            "      - equals: billing\n      - path: category\n",
            [
                "specs/f.yaml:8:9: 'path' is an option of the check 'equals' above (line 7), not a check of its own",
                "  hint: remove the '- ' before path, so that it lines up under equals as part of that check",
            ],
        ),
        (
            "      - contains: refund\n      - ignore_case: true\n",
            [
                "specs/f.yaml:8:9: 'ignore_case' is an option of the check 'contains' above (line 7), "
                "not a check of its own",
                "  hint: remove the '- ' before ignore_case, so that it lines up under contains as part of that check",
            ],
        ),
    ],
    ids=["threshold", "path", "ignore_case"],
)
def test_an_option_written_as_a_list_item_is_named_as_an_option_of_the_check_above(
    project: Project, items: str, lines: list[str]
) -> None:
    result = validate(project, HEAD + items)
    assert result.ret == 1
    assert result.stdout.lines == lines


def test_an_option_the_check_above_does_not_take_is_an_unknown_check(project: Project) -> None:
    result = validate(project, HEAD + "      - min_length: 2\n      - ignore_case: true\n")
    assert result.stdout.lines[0] == "specs/f.yaml:8:9: unknown check 'ignore_case'"


def test_a_lone_path_item_first_in_the_list_needs_a_check(project: Project) -> None:
    result = validate(project, HEAD + "      - path: category\n")
    assert result.stdout.lines == ["specs/f.yaml:7:9: a check needs a name, e.g. '- contains: text'"]


def test_a_tab_and_a_colon_in_a_value_are_explained(project: Project) -> None:
    result = validate(project, "feature: f\ncases:\n\t- id: a\n")
    assert result.stdout.lines == [
        "specs/f.yaml:3:1: malformed YAML: a tab character",
        "  hint: YAML indents with spaces, never tabs: replace the tab with spaces",
    ]
    result = validate(project, HEAD + "      - contains: Note: refund\n")
    assert result.stdout.lines == [
        "specs/f.yaml:7:23: malformed YAML: mapping values are not allowed in this context",
        "  hint: a value that holds ': ' must be quoted, e.g. contains: 'Note: refund' "
        "(or the indentation of this line is off)",
    ]


BOOLEANS = """
feature: f
target: feature:triage
output: json
cases:
  - id: a
    vars: {ticket: on}
    expect:
      - one_of: [yes, no, "maybe"]
        path: category
        ignore_case: yes
        critical: on
      - equals: {answer: Off}
      - contains_all: ["yes", y, n]
"""


def test_yes_no_on_off_as_booleans_in_values_and_vars_are_warnings_naming_the_line(project: Project) -> None:
    result = validate(project, BOOLEANS)
    assert result.ret == 0  # warnings do not fail validation
    assert result.stdout.lines == [
        "specs/f.yaml:6:20: warning: on without quotes is the boolean true in YAML, not the text 'on'",
        '  hint: write "on" in quotes for the text (or true for the boolean)',
        "specs/f.yaml:8:18: warning: yes without quotes is the boolean true in YAML, not the text 'yes'",
        '  hint: write "yes" in quotes for the text (or true for the boolean)',
        "specs/f.yaml:8:23: warning: no without quotes is the boolean false in YAML, not the text 'no'",
        '  hint: write "no" in quotes for the text (or false for the boolean)',
        "specs/f.yaml:12:26: warning: Off without quotes is the boolean false in YAML, not the text 'Off'",
        '  hint: write "Off" in quotes for the text (or false for the boolean)',
    ]
    result.stderr.fnmatch_lines(["specs/f.yaml: ok (f, 1 case)", "1 spec file, 0 problems, 4 warnings"])


def test_a_boolean_where_text_must_be_is_an_error_with_the_same_hint(project: Project) -> None:
    result = validate(project, HEAD + "      - contains: yes\n")
    assert result.ret == 1
    assert result.stdout.lines == [
        "specs/f.yaml:7:19: 'contains' must be text, not true or false",
        '  hint: YAML reads yes without quotes as true: write "yes" in quotes for the text',
    ]


def test_pytest_shows_the_warning_in_its_warnings_summary(project: Project) -> None:
    project.spec("specs/f.yaml", BOOLEANS)
    result = project.run()
    result.assert_outcomes(failed=1, warnings=4)  # the feature answers "billing", not true or false
    result.stdout.fnmatch_lines(
        [
            "*= warnings summary =*",
            "specs/f.yaml:6",
            "  */specs/f.yaml:6: SpecWarning: specs/f.yaml:6:20: warning: on without quotes is the boolean true in "
            "YAML, not the text 'on'",
            '    hint: write "on" in quotes for the text (or true for the boolean)',
        ]
    )


def test_pytest_w_error_makes_the_warning_fail_its_spec(project: Project) -> None:
    project.spec("specs/f.yaml", BOOLEANS)
    project.spec("specs/good.yaml", "feature: good\ntarget: feature:echo\ncases: [{id: a, vars: {text: hi}}]\n")
    result = project.run("-W", "error::aitest.errors.SpecWarning")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        [
            "specs/f.yaml:6:20: on without quotes is the boolean true in YAML, not the text 'on'",
            '  hint: write "on" in quotes for the text (or true for the boolean)',
            "FAILED specs/f.yaml::spec - on without quotes*",
        ]
    )


def test_quoted_text_and_true_false_give_no_warning(project: Project) -> None:
    result = validate(project, HEAD + '      - one_of: ["yes", "no", true, false]\n      - contains: "on"\n')
    assert result.ret == 0
    assert result.stdout.lines == []
    result.stderr.fnmatch_lines(["1 spec file, 0 problems"])
