"""`aitest validate`, `aitest schema` and `aitest run`, run as a user runs them."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import jsonschema
import pytest
import yaml

from conftest import Project

AITEST = str(Path(sys.executable).parent / "aitest")
REPO = Path(__file__).resolve().parent.parent
GOOD = "feature: good\ntarget: feature:echo\ncases:\n  - id: a\n    vars: {text: hi}\n    expect: [{contains: hi}]\n"


def test_validate_ok(project: Project) -> None:
    project.spec("specs/good.yaml", GOOD)
    result = project.pytester.run(AITEST, "validate")
    assert result.ret == 0
    result.stderr.fnmatch_lines(["specs/good.yaml: ok (good, 1 case)", "1 spec file, 0 problems"])


def test_validate_prints_every_problem_and_exits_1(project: Project) -> None:
    project.spec("specs/good.yaml", GOOD)
    project.spec(
        "specs/bad.yaml",
        "feature: bad\ntarget: feature:echo\nouput: json\ncases:\n  - id: a\n    expect: [{regx: a}]\n",
    )
    project.spec("other/extra.aitest.yaml", "feature: extra\ncases: []\n")
    result = project.pytester.run(AITEST, "validate")
    assert result.ret == 1
    result.stdout.fnmatch_lines(
        [
            "specs/bad.yaml:3:1: unknown key 'ouput'; did you mean 'output'?",
            "*",
            "specs/bad.yaml:6:15: unknown check 'regx'; did you mean 'regex'?",
            "*",
        ]
    )
    result.stdout.fnmatch_lines(["other/extra.aitest.yaml:2:8: 'cases': [[]] should be non-empty"])
    result.stderr.fnmatch_lines(["3 spec files, 5 problems"])  # each file: all its problems at once


def test_validate_given_paths(project: Project) -> None:
    project.spec("specs/good.yaml", GOOD)
    project.spec("specs/bad.yaml", "feature: [x]\n")
    assert project.pytester.run(AITEST, "validate", "specs/good.yaml").ret == 0
    result = project.pytester.run(AITEST, "validate", "specs/bad.yaml", "specs/missing.yaml")
    assert result.ret == 1
    result.stderr.fnmatch_lines(["*specs/missing.yaml: no such file or folder"])


def test_schema_prints_the_spec_format_and_accepts_the_examples(project: Project) -> None:
    result = project.pytester.run(AITEST, "schema")
    assert result.ret == 0
    schema = json.loads(result.stdout.str())
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    for spec in (REPO / "specs").glob("*.yaml"):
        assert not list(validator.iter_errors(yaml.safe_load(spec.read_text()))), spec
    assert list(validator.iter_errors({"feature": "x", "cases": [{"id": "a", "expect": [{"contians": "x"}]}]}))


def test_committed_editor_schema_is_current() -> None:
    from aitest.spec.schema import spec_schema

    committed = json.loads((REPO / "aitest.schema.json").read_text())
    assert committed == spec_schema(), "run: aitest schema > aitest.schema.json"


def test_run_passes_arguments_to_pytest(project: Project) -> None:
    project.spec("specs/good.yaml", GOOD)
    project.pytester.makepyfile(test_plain="def test_plain():\n    assert False\n")
    result = project.pytester.run(AITEST, "run", "-q", "-p", "no:cacheprovider")
    assert result.ret == 0
    result.stdout.fnmatch_lines(["1 passed, 1 deselected*"])
    assert "PytestAssertRewriteWarning" not in result.stdout.str()


@pytest.mark.parametrize("args", [["--help"], ["validate", "--help"]])
def test_help(project: Project, args: list[str]) -> None:
    assert project.pytester.run(AITEST, *args).ret == 0
