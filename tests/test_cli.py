"""`aitest validate`, `aitest schema` and `aitest run`, run as a user runs them."""

from __future__ import annotations

import inspect
import json
import sys
from pathlib import Path

import jsonschema
import pytest
import yaml

from conftest import NON_EMPTY, Project

AITEST = str(Path(sys.executable).parent / "aitest")
# pytest 8.1 and later root a run at the nearest pyproject.toml, also one without a [tool.pytest] table;
# before, only a pytest configuration counts (aitest's find_rootdir follows 8.1)
PLAIN_PYPROJECT_IS_ROOT = tuple(int(part) for part in pytest.__version__.split(".")[:2]) >= (8, 1)
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
    result.stdout.fnmatch_lines([f"other/extra.aitest.yaml:2:8: 'cases': [[]] {NON_EMPTY}"])
    result.stderr.fnmatch_lines(["3 spec files, 5 problems"])  # each file: all its problems at once


def test_validate_given_paths(project: Project) -> None:
    project.spec("specs/good.yaml", GOOD)
    project.spec("specs/bad.yaml", "feature: [x]\n")
    assert project.pytester.run(AITEST, "validate", "specs/good.yaml").ret == 0
    result = project.pytester.run(AITEST, "validate", "specs/bad.yaml", "specs/missing.yaml")
    assert result.ret == 1
    result.stdout.fnmatch_lines(["specs/missing.yaml: no such file or folder"])  # a finding: stdout, counted


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


def test_version_prints_the_package_version(project: Project) -> None:
    import importlib.metadata
    import re

    import aitest

    result = project.pytester.run(AITEST, "--version")
    assert result.ret == 0
    assert result.stdout.str().strip() == f"aitest {aitest.__version__}"
    assert re.fullmatch(r"\d+\.\d+\.\d+", aitest.__version__)
    assert importlib.metadata.version("aitest") == aitest.__version__
    assert project.pytester.run(AITEST, "-V").stdout.str().strip() == f"aitest {aitest.__version__}"


# -- run from anywhere in the project: every command finds the root as pytest does ----------------


@pytest.fixture
def in_specs(project: Project, monkeypatch: pytest.MonkeyPatch) -> Project:
    """A project with one good spec, the current folder its specs/ folder."""
    project.spec("specs/good.yaml", GOOD)
    monkeypatch.chdir(project.root / "specs")
    return project


def test_validate_from_a_subfolder_finds_the_project_root(in_specs: Project) -> None:
    in_specs.spec("specs/bad.yaml", "feature: bad\ntarget: feature:echo\nouput: json\ncases:\n  - id: a\n")
    result = in_specs.pytester.run(AITEST, "validate")
    assert result.ret == 1
    # paths relative to the root, as pytest's node ids are; the root is named first, as pytest does
    result.stderr.fnmatch_lines([f"rootdir: {in_specs.root}", "specs/good.yaml: ok (good, 1 case)", "*"])
    result.stdout.fnmatch_lines(
        ["specs/bad.yaml:3:1: unknown key 'ouput'; did you mean 'output'?", "*", "specs/bad.yaml:5:*text*"]
    )
    result.stderr.fnmatch_lines(["2 spec files, 2 problems"])
    one = in_specs.pytester.run(AITEST, "validate", "good.yaml")  # a path relative to the current folder
    assert one.ret == 0
    one.stderr.fnmatch_lines(["specs/good.yaml: ok (good, 1 case)", "1 spec file, 0 problems"])


def test_validate_in_the_root_names_no_rootdir(project: Project) -> None:
    project.spec("specs/good.yaml", GOOD)
    result = project.pytester.run(AITEST, "validate")
    assert "rootdir" not in result.stderr.str()


def test_run_from_a_subfolder(in_specs: Project) -> None:
    """On every pytest: before 8.1, `aitest run` names the root pytest would not find (--rootdir)."""
    ran = in_specs.pytester.run(AITEST, "run", "-p", "no:cacheprovider")
    assert ran.ret == 0
    ran.stdout.fnmatch_lines([f"rootdir: {in_specs.root}", "good.yaml .*", "*1 passed*"])


@pytest.mark.skipif(not PLAIN_PYPROJECT_IS_ROOT, reason="pytest < 8.1 roots this run at the subfolder")
def test_pytest_from_a_subfolder(in_specs: Project) -> None:
    in_specs.spec("specs/fails.yaml", GOOD.replace("good", "fails").replace("contains: hi", "contains: bye"))
    one = in_specs.pytester.run(sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "fails.yaml")
    assert one.ret == 1
    # pytest shows node ids relative to the current folder; the spec's lines are relative to the root
    one.stdout.fnmatch_lines(
        [
            f"rootdir: {in_specs.root}",
            "fails.yaml F*",
            "fails::a failed (specs/fails.yaml:4:9)",
            "  1 of 1 check failed:",
            "  contains at specs/fails.yaml:6:14: 'bye' not found in the output",
            "FAILED fails.yaml::a - contains: 'bye' not found in the output",
        ]
    )


def test_compare_from_a_subfolder(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    """`aitest init`'s example, recorded from gemma-270m, compared with itself from the spec folder."""
    assert pytester.run(AITEST, "init", "--no-ci", "--no-editor").ret == 0
    monkeypatch.chdir(pytester.path / "specs")
    result = pytester.run(AITEST, "compare", "--baseline", "gemma-270m", "--candidate", "gemma-270m", "-q")
    assert result.ret == 0, result.stderr.str()
    result.stdout.fnmatch_lines(
        ["GATE PASSED: gemma-270m (baseline) vs gemma-270m: no case regressed, none missing", "*", "*aitest_example *"]
    )


ROOT_LAYOUTS = {
    # name: (files, the folder pytest runs in, its arguments)
    "pyproject without pytest table": ({"pyproject.toml": "[tool.aitest]\n"}, "specs", []),
    "pytest table above a plain pyproject": (
        {"pyproject.toml": "[tool.pytest.ini_options]\n", "app/pyproject.toml": "[project]\nname = 'a'\n"},
        "app/specs",
        [],
    ),
    "pytest.ini always counts": ({"pyproject.toml": "[tool.pytest.ini_options]\n", "app/pytest.ini": ""}, "app", []),
    "setup.cfg with tool:pytest": ({"setup.cfg": "[tool:pytest]\n", "app/setup.cfg": "[metadata]\n"}, "app", []),
    "tox.ini with pytest": ({"tox.ini": "[pytest]\naddopts = -q\n", "app/tox.ini": "[tox]\n"}, "app", []),
    "setup.py only": ({"setup.py": "", "specs/x.yaml": ""}, "specs", []),
    "nothing": ({"specs/x.yaml": ""}, "specs", []),
    "paths name another project": (
        {"here/pyproject.toml": "[tool.aitest]\n", "there/pyproject.toml": "[tool.aitest]\n", "there/specs/x.yaml": ""},
        "here",
        ["../there/specs/x.yaml::case"],
    ),
    "paths in two folders": ({"a/x.yaml": "", "b/y.yaml": "", "pyproject.toml": ""}, ".", ["a/x.yaml", "b/y.yaml"]),
}


@pytest.mark.parametrize("layout", ROOT_LAYOUTS)
def test_find_rootdir_agrees_with_pytest(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, layout: str) -> None:
    from _pytest.config.findpaths import determine_setup

    from aitest.config import find_rootdir

    files, cwd, args = ROOT_LAYOUTS[layout]
    if not PLAIN_PYPROJECT_IS_ROOT and layout in {"pyproject without pytest table", "paths name another project"}:
        pytest.skip("before 8.1 pytest does not root a run at a pyproject.toml without a pytest table")
    project = tmp_path / "p"
    for name, text in files.items():
        (project / name).parent.mkdir(parents=True, exist_ok=True)
        (project / name).write_text(text)
    start = project / cwd
    start.mkdir(parents=True, exist_ok=True)
    monkeypatch.chdir(start)  # pytest resolves its arguments from the current folder
    # a private API whose keywords change between pytest releases: pass the ones this pytest takes
    known = {"inifile": None, "override_ini": None, "args": args, "rootdir_cmd_arg": None, "invocation_dir": start}
    expected = determine_setup(**{k: v for k, v in known.items() if k in inspect.signature(determine_setup).parameters})
    assert find_rootdir(start, args) == expected[0]


def test_validate_checks_model_profiles(project: Project) -> None:
    project.spec(
        "specs/r.yaml", 'feature: r\nmodel: gemma-27m\nprompt: "Say {{ x }}"\ncases:\n  - id: a\n    vars: {x: hi}\n'
    )
    result = project.pytester.run(AITEST, "validate")
    assert result.ret == 1
    result.stdout.fnmatch_lines(
        [
            "specs/r.yaml:2:8: unknown model profile 'gemma-27m' (from the spec's model); did you mean 'gemma-270m'?",
            "  hint: known profiles: gemma-270m, smollm2-135m; define others under [[]tool.aitest.models.NAME]",
        ]
    )
