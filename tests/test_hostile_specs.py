"""Hostile and careless specs: every one a file:line:col error within a second, never a traceback or a hang."""

from __future__ import annotations

import subprocess
import sys

import pytest

from conftest import ALIAS_BOMB, Project

BOMB = "feature: bomb\n" + ALIAS_BOMB + "cases: [*g]\n"


def validate(project: Project, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """`aitest validate` in its own process, as a user runs it (a hang fails the test instead of the suite)."""
    return subprocess.run(
        [sys.executable, "-m", "aitest.cli", "validate"],
        cwd=project.root,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def assert_one_error(project: Project, pattern: str) -> None:
    result = validate(project)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    lines = [line for line in result.stdout.splitlines() if line.strip()]
    assert 1 <= len(lines) <= 2, lines
    assert __import__("fnmatch").fnmatch(lines[0], pattern), lines[0]


def test_an_alias_bomb_is_refused_at_once(project: Project) -> None:
    project.spec("specs/bomb.yaml", BOMB)
    assert_one_error(project, "specs/bomb.yaml:*:*: the spec expands to more than 100000 values through YAML aliases*")
    pytest_run = project.run()
    pytest_run.assert_outcomes(failed=1)


@pytest.mark.parametrize(
    ("text", "pattern"),
    [
        ("feature: x\ncases: &c [*c]\n", "specs/bad.yaml:2:*: *YAML alias*refers to itself*"),
        ("feature: x\ncases: " + "[" * 700 + "]" * 700 + "\n", "specs/bad.yaml:2:*: *nested more than 100 levels*"),
        ("feature: x\nowner: !!int abc\ncases: [{id: a}]\n", "specs/bad.yaml:2:8: 'abc' is not a valid !!int*"),
        ("feature: x\nowner: !!bool maybe\ncases: [{id: a}]\n", "specs/bad.yaml:2:8: 'maybe' is not a valid !!bool*"),
        (
            "feature: x\ntarget: feature:echo\ncases: [{id: a, vars: {text: x}, expect: [{type: [contains], value: x}]}]\n",
            "specs/bad.yaml:3:*: unknown check*",
        ),
        ("feature: x\nowner: \x01bad\ncases: [{id: a}]\n", "specs/bad.yaml:2:8: malformed YAML: *control character*"),
        ("feature: x\n\nowner: ok\x7f\ncases: [{id: a}]\n", "specs/bad.yaml:3:10: malformed YAML: *control character*"),
    ],
    ids=["recursive_alias", "deep_nesting", "bad_int_tag", "bad_bool_tag", "type_list", "control_char", "del_char"],
)
def test_malformed_yaml_is_a_located_error(project: Project, text: str, pattern: str) -> None:
    (project.root / "specs").mkdir(exist_ok=True)
    (project.root / "specs/bad.yaml").write_text(text)
    assert_one_error(project, pattern)


def test_a_binary_schema_file_is_a_located_error(project: Project) -> None:
    (project.root / "specs").mkdir(exist_ok=True)
    (project.root / "specs/s.json").write_bytes(b"\x89PNG\r\n\x1a\n\x00\xff\xfe")
    project.spec(
        "specs/x.yaml",
        "feature: x\ntarget: feature:echo\nexpect: [{schema: s.json}]\ncases: [{id: a, vars: {text: hi}}]\n",
    )
    assert_one_error(project, "specs/x.yaml:3:19: schema file *s.json' is not UTF-8 text*")


def test_a_schema_path_too_long_for_the_filesystem_is_a_located_error(project: Project) -> None:
    long = "x" * 300 + ".json"
    project.spec(
        "specs/x.yaml",
        f"feature: x\ntarget: feature:echo\nexpect: [{{schema: {long}}}]\ncases: [{{id: a, vars: {{text: hi}}}}]\n",
    )
    assert_one_error(project, "specs/x.yaml:3:19: schema file * cannot be read: File name too long*")


@pytest.mark.parametrize(
    ("text", "pattern"),
    [
        (
            "feature: x\ntarget: feature:echo\ndeterminism: {runs: 2.0}\ncases: [{id: a, vars: {text: x}}]\n",
            "specs/bad.yaml:3:21: 'runs' must be a whole number, not a number",
        ),
        (
            'feature: "evil\\n"\ntarget: feature:echo\ncases: [{id: a, vars: {text: x}}]\n',
            "specs/bad.yaml:1:10: 'feature' 'evil\\n' is not allowed",
        ),
        (
            'feature: x\ntarget: feature:echo\ncases: [{id: "a\\n", vars: {text: x}}]\n',
            "specs/bad.yaml:3:*: 'id' 'a\\n' is not allowed",
        ),
        (
            "feature: x\ntarget: feature:echo\ncases: [{id: a, vars: {text: x}, expect: [{max_length: 3.0}]}]\n",
            "specs/bad.yaml:3:*: 'max_length' must be a whole number, not a number",
        ),
    ],
    ids=["float_runs", "feature_newline", "id_newline", "float_length"],
)
def test_values_that_only_look_right_are_refused(project: Project, text: str, pattern: str) -> None:
    (project.root / "specs").mkdir(exist_ok=True)
    (project.root / "specs/bad.yaml").write_text(text)
    assert_one_error(project, pattern)


def test_long_values_are_cut_in_errors(project: Project) -> None:
    huge = "j" * 100_000
    project.spec(
        "specs/x.yaml", f"feature: x\ntarget: feature:echo\noutput: {huge}\ncases: [{{id: a, vars: {{text: x}}}}]\n"
    )
    result = validate(project)
    assert result.returncode == 1
    assert max(len(line) for line in result.stdout.splitlines()) < 300
    assert "specs/x.yaml:3:9: 'output' must be one of text, json, not 'jjjj" in result.stdout


# -- targets must be the project's own code --------------------------------------------------------------


@pytest.mark.parametrize("target", ["os:system", "subprocess:getoutput", "json:dumps", "builtins:print"])
def test_a_target_outside_the_project_is_refused(project: Project, target: str) -> None:
    project.spec(
        "specs/evil.yaml", f"feature: evil\ntarget: {target}\ncases: [{{id: a, vars: {{command: 'touch pwned'}}}}]\n"
    )
    assert_one_error(project, f"specs/evil.yaml:2:9: target '{target}' is not the project's own code*")
    result = project.run()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*hint: targets are modules under the project root*target_packages*"])
    assert not (project.root / "pwned").exists()


def test_target_packages_admits_a_package_outside_the_project(project: Project) -> None:
    project.pytester.makepyprojecttoml('[tool.aitest]\nspecs = ["specs"]\ntarget_packages = ["json"]\n')
    project.spec(
        "specs/dump.yaml",
        "feature: dump\ntarget: json:dumps\ncases: [{id: a, vars: {obj: [1, 2]}, expect: [{equals: '[1, 2]'}]}]\n",
    )
    project.run().assert_outcomes(passed=1)


def test_target_packages_must_be_a_list_of_names(project: Project) -> None:
    project.pytester.makepyprojecttoml('[tool.aitest]\nspecs = ["specs"]\ntarget_packages = "json"\n')
    result = project.run()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        ["*pyproject.toml:3: [[]tool.aitest] 'target_packages' must be a list of package names*"]
    )
