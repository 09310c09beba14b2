"""Bounded messages: a key, name, path or value the user wrote is echoed cut to a readable length,
the cut shown, and no line of an error is longer than MAX_MESSAGE_LINE, whatever was missed."""

from __future__ import annotations

import sys
import time
from fnmatch import fnmatch
from pathlib import Path

import pytest

from aitest.errors import AitestError, Location, SpecError, SpecErrors, SpecWarning
from aitest.util.text import MAX_MESSAGE_LINE, SHOWN, bounded_line, did_you_mean, shown
from conftest import Project

AITEST = str(Path(sys.executable).parent / "aitest")
HUGE = 100_000
LONG = 1_000  # a YAML plain key may be at most 1024 characters


def validate_lines(project: Project) -> list[str]:
    """The lines `aitest validate` prints (stdout and stderr), checked to be bounded and free of tracebacks."""
    result = project.pytester.run(AITEST, "validate")
    assert result.ret == 1
    lines = result.stdout.lines + result.stderr.lines
    assert "Traceback" not in "\n".join(lines)
    assert max(len(line) for line in lines) <= MAX_MESSAGE_LINE, max(lines, key=len)[:200]
    return lines


def assert_line(lines: list[str], pattern: str) -> str:
    """The one line matching ``pattern``; it shows the cut (… and the whole length)."""
    found = [line for line in lines if fnmatch(line, pattern)]
    assert len(found) == 1, (pattern, [line[:200] for line in lines])
    return found[0]


# -- the helper -------------------------------------------------------------------------------------------------------


def test_a_short_value_is_quoted_as_written() -> None:
    assert shown("contians") == "'contians'"
    assert shown("it's") == "'it's'"
    assert shown("") == "''"
    assert shown("specs/x.csv", quoted=False) == "specs/x.csv"
    assert shown("a" * SHOWN) == "'" + "a" * SHOWN + "'"


def test_a_long_value_is_cut_in_the_middle_with_its_length() -> None:
    value = "head" + "x" * HUGE + "tail"
    text = shown(value)
    assert text.startswith("'headxxx")
    assert text.endswith("xxtail' (100,008 characters)")
    assert text.count("…") == 1
    assert len(text) < SHOWN + 30
    assert shown("a" * (SHOWN + 1)).endswith(f"' ({SHOWN + 1} characters)")


def test_the_limit_and_the_unquoted_form() -> None:
    assert len(shown("y" * 5000, 120)) < 150
    text = shown("d/" * 2000 + "x.csv", 120, quoted=False)
    assert text.startswith("d/d/") and text.endswith("/x.csv (4,005 characters)")


def test_invisible_characters_are_escaped_and_never_split() -> None:
    assert shown("evil\n") == "'evil\\n'"
    assert shown("a\x00b\u202ec") == "'a\\x00b\\u202ec'"
    text = shown("\n" * 500)
    assert text == "'" + "\\n" * 20 + "…" + "\\n" * 9 + "' (500 characters)"


def test_other_values_as_python_writes_them() -> None:
    assert shown(2.5) == "2.5"
    assert shown(None) == "None"
    assert shown(["a", 1]) == "['a', 1]"
    assert shown(list(range(10_000))).endswith("9999] (58,890 characters)")


def test_did_you_mean_cuts_its_suggestion_and_gives_up_on_a_huge_word_at_once() -> None:
    assert did_you_mean("contians", ["contains", "equals"]) == "; did you mean 'contains'?"
    start = time.perf_counter()
    assert did_you_mean("c" * 10_000_000, ["contains", "equals"]) == ""
    assert time.perf_counter() - start < 0.5
    long_choice = "case_" + "z" * 200
    assert did_you_mean(long_choice[:-1], [long_choice]).endswith("' (205 characters)?")


def test_a_long_line_is_cut_in_the_middle_keeping_its_start() -> None:
    line = "specs/x.yaml:3:9: unknown thing " + "q" * HUGE + " END"
    cut = bounded_line(line)
    assert len(cut) == MAX_MESSAGE_LINE
    assert cut.startswith("specs/x.yaml:3:9: unknown thing qqq")
    assert cut.endswith("qqq END")
    marker = " … (99,565 characters cut) … "  # 100,036 characters, of which 500 - len(marker) are kept
    assert marker in cut and len(line) - (MAX_MESSAGE_LINE - len(marker)) == 99_565
    assert bounded_line("short") == "short"


# -- the safety net of every error ------------------------------------------------------------------------------------


def test_an_error_that_echoes_a_value_whole_still_prints_bounded_lines() -> None:
    error = SpecError(f"bad {'v' * HUGE}", location=Location("specs/x.yaml", 3, 9), hint="h" * HUGE)
    head, hint = str(error).split("\n")
    assert head.startswith("specs/x.yaml:3:9: bad vvvv") and "characters cut" in head
    assert hint.startswith("  hint: hhhh") and "characters cut" in hint
    assert max(len(head), len(hint)) <= MAX_MESSAGE_LINE
    assert len(error.message) <= MAX_MESSAGE_LINE  # the one-line reason (pytest's summary, JUnit)


def test_short_errors_are_unchanged() -> None:
    error = SpecError("unknown check 'x'", location=Location("s.yaml", 1, 2), hint="checks: a, b")
    assert str(error) == "s.yaml:1:2: unknown check 'x'\n  hint: checks: a, b"
    assert str(AitestError("plain")) == "plain"
    warning = SpecWarning("odd", location=Location("s.yaml", 4))
    assert str(warning) == "s.yaml:4: warning: odd"


def test_warnings_and_lists_of_errors_are_bounded_too() -> None:
    where = Location("s.yaml", 2, 1)
    warning = SpecWarning("w" * HUGE, location=where)
    errors = SpecErrors([SpecError("e" * HUGE, location=where)], warnings=(warning,))
    lines = str(errors).splitlines()
    assert len(lines) == 2
    assert all(len(line) <= MAX_MESSAGE_LINE and line.startswith("s.yaml:2:1: ") for line in lines)


# -- as a user sees it: aitest validate and a pytest run ----------------------------------------------------------


def huge_check_type(project: Project) -> None:
    project.spec(
        "specs/x.yaml",
        "feature: x\ntarget: feature:echo\nexpect:\n  - type: " + "t" * HUGE + "\n    value: x\n"
        "cases: [{id: a, vars: {text: hi}}]\n",
    )


def test_an_unknown_check_type_of_100000_characters_through_validate(project: Project) -> None:
    huge_check_type(project)
    lines = validate_lines(project)
    line = assert_line(lines, "specs/x.yaml:4:11: unknown check type 'tttt*…*tttt' (100,000 characters)")
    assert len(line) < 150


def test_an_unknown_check_type_of_100000_characters_through_pytest(project: Project) -> None:
    huge_check_type(project)
    result = project.run("-rf")
    result.assert_outcomes(failed=1)
    assert max(len(line) for line in result.outlines) <= MAX_MESSAGE_LINE
    result.stdout.fnmatch_lines(["specs/x.yaml:4:11: unknown check type 'tttt*…*tttt' (100,000 characters)"])
    assert "t" * 200 not in result.stdout.str()


@pytest.mark.parametrize(
    ("spec", "pattern"),
    [
        (
            "feature: x\ntarget: feature:echo\n" + "k" * LONG + ": 1\ncases: [{id: a, vars: {text: x}}]\n",
            "specs/x.yaml:3:1: unknown key 'kkkk*…*kkkk' (1,000 characters)",
        ),
        (
            "feature: x\ntarget: feature:echo\ncases:\n  - id: a\n    vars:\n      text: x\n      "
            + "v" * LONG
            + ": 2\n",
            "specs/x.yaml:6:7: var 'vvvv*…*vvvv' (1,000 characters) is not a parameter of feature:echo",
        ),
        (
            "feature: x\nprompt: '{{ " + "n" * LONG + " }}'\ncases: [{id: a}]\n",
            "specs/x.yaml:2:1: the prompt uses {{ nnnn*…*nnnn (1,000 characters) }}, "
            "but case 'a' has no var 'nnnn*…*nnnn' (1,000 characters)",
        ),
        (
            "feature: x\ntarget: feature:echo\ncases: [{id: a, vars: {text: x}}]\n"
            "properties:\n  - id: p\n    vary:\n      text: [" + "w" * LONG + "]\n    expect: same\n",
            "specs/x.yaml:7:14: unknown variation 'wwww*…*wwww' (1,000 characters)",
        ),
        (
            "feature: x\ntarget: feature:echo\noutput: " + "j" * HUGE + "\ncases: [{id: a, vars: {text: x}}]\n",
            "specs/x.yaml:3:9: 'output' must be one of text, json, not 'jjjj*…*jjjj' (100,000 characters)",
        ),
        (
            "feature: x\ntarget: feature:echo\ncases_from: " + "d/" * 2000 + "rows.csv\n",
            "specs/x.yaml:3:13: cases_from: the file specs/d/d/*…*/d/rows.csv (4,014 characters) *",
        ),
        (
            "feature: x\nprompt: hi\ntools: " + "t" * 5000 + ".yaml\ncases: [{id: a}]\n",
            "specs/x.yaml:3:8: tools file tttt*…*tttt.yaml (5,005 characters): the file *",
        ),
        (
            "feature: x\ntarget: feature:echo\nexpect: [{equals: x, path: '" + "[" * 5000 + "'}]\n"
            "cases: [{id: a, vars: {text: x}}]\n",
            "specs/x.yaml:3:*: malformed path '[[[[*…*[[[[' (5,000 characters): use dotted keys and [n]*",
        ),
        (
            "feature: x\ntarget: feature:echo\nexpect: [{regex: '"
            + "(" * 5000
            + "'}]\ncases: [{id: a, vars: {text: x}}]\n",
            "specs/x.yaml:3:*: regex: the pattern '((((*…*((((' (5,000 characters) is nested too deeply to compile",
        ),
    ],
    ids=[
        "top_level_key",
        "var_name",
        "template_var",
        "variation",
        "value_not_one_of",
        "data_path",
        "tools_path",
        "json_path",
        "regex",
    ],
)
def test_long_names_paths_and_values_are_cut(project: Project, spec: str, pattern: str) -> None:
    project.spec("specs/x.yaml", spec)
    line = assert_line(validate_lines(project), pattern)
    assert len(line) < 300


def test_a_long_profile_name_in_pyproject_is_cut(project: Project) -> None:
    name = "p" * 3000
    project.pytester.makepyprojecttoml(
        f'[tool.aitest]\nspecs = ["specs"]\n[tool.aitest.models."{name}"]\nprovider = "openai"\n'
        f'base_url = "http://localhost:1"\nmodel = "m"\nconcurrency = "{"z" * 3000}"\n'
    )
    project.spec("specs/x.yaml", "feature: x\nprompt: hi\ncases: [{id: a}]\n")
    lines = validate_lines(project)
    assert_line(
        lines,
        "*pyproject.toml:3: model profile 'pppp*…*pppp' (3,000 characters): 'concurrency' must be a whole number "
        "from 1 to * or \"auto\", not 'zzzz*…*zzzz' (3,000 characters)",
    )


def test_a_long_unknown_model_profile_and_config_key_are_cut(project: Project) -> None:
    project.spec("specs/x.yaml", f"feature: x\nprompt: hi\nmodel: {'m' * 3000}\ncases: [{{id: a}}]\n")
    assert_line(
        validate_lines(project),
        "specs/x.yaml:3:8: unknown model profile 'mmmm*…*mmmm' (3,000 characters) (from the spec's model)",
    )
    project.pytester.makepyprojecttoml(f"[tool.aitest]\n{'q' * 3000} = 1\n")
    assert_line(
        validate_lines(project), "*pyproject.toml:2: [[]tool.aitest] unknown key 'qqqq*…*qqqq' (3,000 characters)"
    )
