"""`python: module:function` checks, and named checks from installed packages (entry points `aitest.checks`)."""

from __future__ import annotations

import json
import sys
import textwrap
from pathlib import Path

import pytest

from conftest import Project

AITEST = str(Path(sys.executable).parent / "aitest")

CHECKS = """
def is_polite(output):
    return "thanks" in output["reply"].lower()

def short(output, value, arg):
    return len(value) <= arg, f"{len(value)} characters, more than {arg}"

def graded(reply, case):
    return {"passed": case.vars["text"] != "bad", "message": f"graded {case.feature}::{case.id}", "score": 0.25}

def boom(output):
    return helper(output)

def helper(output):
    return output["missing"]

def forgetful(output):
    "thanks" in output["reply"]

def three(output):
    return 3

def needs_more(output, threshold):
    return True
"""

APP = """
def reply(text):
    return {"reply": f"Thanks! {text}", "length": len(text)}
"""


@pytest.fixture
def custom(project: Project) -> Project:
    project.module("checks", CHECKS)
    project.module("app", APP)
    return project


def spec_with(checks: str, *, text: str = "hello there") -> str:
    body = textwrap.indent(textwrap.dedent(checks).strip(), " " * 6)
    return f"feature: f\ntarget: app:reply\ncases:\n  - id: a\n    vars: {{text: {text}}}\n    expect:\n{body}\n"


def test_a_function_that_returns_a_bool_passes_and_fails(custom: Project) -> None:
    custom.spec("specs/f.yaml", spec_with("- python: checks:is_polite"))
    custom.module("app", APP.replace("Thanks!", "Go away."))
    result = custom.run()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["  python at specs/f.yaml:7:9: checks:is_polite returned False"])
    custom.module("app", APP)
    custom.run().assert_outcomes(passed=1)


def test_the_function_gets_the_path_value_the_arg_and_its_message_is_shown(custom: Project) -> None:
    custom.spec("specs/f.yaml", spec_with("- python: checks:short\n  path: reply\n  arg: 10"))
    result = custom.run()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["  python [[]path reply] at specs/f.yaml:7:9: 19 characters, more than 10"])


def test_the_function_gets_the_case_and_its_score_reaches_the_report(custom: Project) -> None:
    custom.spec("specs/f.yaml", spec_with("- python: checks:graded", text="bad"))
    result = custom.run("--aitest-report=report.json")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["  python at specs/f.yaml:7:9: graded f::a"])
    report = json.loads((custom.root / "report.json").read_text())
    check = report["cases"][0]["runs"][0]["checks"][0]
    assert (check["name"], check["passed"], check["score"]) == ("python", False, 0.25)


def test_an_exception_in_the_function_fails_the_check_in_one_line(custom: Project) -> None:
    custom.spec("specs/f.yaml", spec_with("- python: checks:boom\n- python: checks:is_polite"))
    result = custom.run()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "  1 of 2 checks failed:",
            "  python at specs/f.yaml:7:9: checks:boom raised KeyError: 'missing' (checks.py:14)",
        ]
    )
    assert "aitest/" not in result.stdout.str()
    assert "Traceback" not in result.stdout.str()


@pytest.mark.parametrize(
    ("function", "message"),
    [
        ("three", "  specs/f.yaml:7:17: checks:three returned 3 (a whole number); that is not a verdict"),
        ("forgetful", "  specs/f.yaml:7:17: checks:forgetful returned None; is a return statement missing?"),
    ],
)
def test_a_return_value_that_is_no_verdict_errors_the_case_naming_line_and_function(
    custom: Project, function: str, message: str
) -> None:
    custom.spec("specs/f.yaml", spec_with(f"- python: checks:{function}"))
    result = custom.run("--aitest-report=report.json")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            message,
            "  hint: a check function returns True or False, a (passed, message) pair, "
            "or a mapping with passed, message and score",
        ]
    )
    assert json.loads((custom.root / "report.json").read_text())["cases"][0]["outcome"] == "error"


@pytest.mark.parametrize(
    ("check", "message"),
    [
        ("checks:is_polit", "specs/f.yaml:7:17: module 'checks' has no function 'is_polit'; did you mean 'is_polite'?"),
        ("chekcs:is_polite", "specs/f.yaml:7:17: python check module 'chekcs' not found (no module named 'chekcs')"),
        ("os:system", "specs/f.yaml:7:17: python check 'os:system' is not the project's own code (module 'os' is *"),
        ("checks.is_polite", "specs/f.yaml:7:17: 'python' 'checks.is_polite' is not allowed"),
        (
            "checks:needs_more",
            "specs/f.yaml:7:17: python check checks:needs_more: its parameter 'threshold' is not one aitest gives "
            "(the output first, then value, case, arg)",
        ),
    ],
)
def test_a_function_that_cannot_be_used_is_a_spec_error_at_load(custom: Project, check: str, message: str) -> None:
    custom.spec("specs/f.yaml", spec_with(f"- python: {check}"))
    result = custom.pytester.run(AITEST, "validate")
    assert result.ret == 1
    result.stdout.fnmatch_lines([message])


def test_the_pattern_error_says_how_to_write_it(custom: Project) -> None:
    custom.spec("specs/f.yaml", spec_with("- python: checks.is_polite"))
    result = custom.pytester.run(AITEST, "validate")
    result.stdout.fnmatch_lines(["  hint: write module.path:function, e.g. myapp.checks:is_polite"])


def test_arg_for_a_function_without_that_parameter_is_a_spec_error(custom: Project) -> None:
    custom.spec("specs/f.yaml", spec_with("- python: checks:is_polite\n  arg: 3"))
    result = custom.run()
    result.stdout.fnmatch_lines(
        [
            "specs/f.yaml:7:17: python check checks:is_polite: the spec gives it 'arg', "
            "but the function has no parameter named arg",
        ]
    )


def test_target_packages_allow_an_installed_package_as_with_targets(custom: Project) -> None:
    custom.spec("specs/f.yaml", spec_with("- python: textwrap:dedent", text="x"))
    refused = custom.run()
    refused.stdout.fnmatch_lines(["*python check 'textwrap:dedent' is not the project's own code*"])
    custom.pytester.makepyprojecttoml('[tool.aitest]\nspecs = ["specs"]\ntarget_packages = ["textwrap"]\n')
    result = custom.run()  # allowed to run now: dedent() of a mapping raises, which fails the check
    result.stdout.fnmatch_lines(["  python at specs/f.yaml:7:9: textwrap:dedent raised TypeError: *"])


def test_aitest_check_runs_a_python_check_with_the_vars_as_case(custom: Project) -> None:
    custom.pytester.makepyfile(
        test_mine="""
        from aitest import check

        def test_graded():
            check({"reply": "Thanks"}, [{"python": "checks:graded"}], vars={"text": "bad"})
        """
    )
    result = custom.run("test_mine.py")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*python at *test_mine.py:4:1: graded ::*"])


# -- entry points: a real installed distribution on sys.path ---------------------------------------------------

PLUGIN = '''
import pathlib
from aitest.checks.base import CheckResult, CheckSetup, ValueCheck
from aitest.errors import SpecError

pathlib.Path("plugin_imported").write_text("yes")


class MaxWords(ValueCheck):
    """the output has at most N words"""

    name = "max_words"
    description = "the output has at most N words"
    value_schema = {"type": "integer", "minimum": 1}
    options = {"count_numbers": {"type": "boolean", "description": "numbers count as words"}}

    def __init__(self, value, options, setup: CheckSetup):
        super().__init__(value, options, setup)
        if value > 1000:
            raise SpecError("max_words: at most 1000", location=setup.location)

    def judge(self, value):
        words = str(value).split()
        if not self.opts.get("count_numbers", True):
            words = [w for w in words if not w.isdigit()]
        if len(words) <= self.value:
            return CheckResult(True, f"{len(words)} words", score=float(len(words)))
        return CheckResult(False, f"{len(words)} words, more than {self.value}", score=float(len(words)))


class Fragile(ValueCheck):
    name = "fragile"
    value_schema = {}

    def judge(self, value):
        raise RuntimeError("fragile broke")


def shouts(output, arg):
    """the output is written in capitals"""
    return output.isupper() == bool(arg), f"upper case is {output.isupper()}"
'''

ENTRY_POINTS = """
[aitest.checks]
max_words = wordy:MaxWords
shouts = wordy:shouts
fragile = wordy:Fragile
broken = wordy_missing:Nope
not_a_check = wordy:pathlib
contains = wordy:shouts
"""


@pytest.fixture
def plugin(custom: Project, monkeypatch: pytest.MonkeyPatch) -> Project:
    """A distribution `wordy` 1.0 installed in site/ (on PYTHONPATH): a module and its entry points."""
    site = custom.root / "site"
    info = site / "wordy-1.0.dist-info"
    info.mkdir(parents=True)
    (site / "wordy.py").write_text(PLUGIN)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: wordy\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(ENTRY_POINTS)
    monkeypatch.setenv("PYTHONPATH", str(site))
    custom.module("app", "def reply(text):\n    return text\n")
    return custom


def run_subprocess(project: Project, *args: str) -> pytest.RunResult:
    return project.pytester.runpytest_subprocess("-p", "no:cacheprovider", *args)


def test_a_plugin_check_class_and_function_work_like_built_in_checks(plugin: Project) -> None:
    plugin.spec(
        "specs/w.yaml",
        spec_with(
            "- max_words: 2\n- max_words: 3\n  count_numbers: false\n- shouts: true\n- shouts: false",
            text="'three word reply 42'",
        ),
    )
    result = run_subprocess(plugin)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "  2 of 4 checks failed:",
            "  max_words at specs/w.yaml:7:9: 4 words, more than 2",
            "  shouts at specs/w.yaml:10:9: upper case is False",
        ]
    )


def test_a_plugin_check_error_names_the_check_line(plugin: Project) -> None:
    plugin.spec("specs/w.yaml", spec_with("- max_words: 2\n  count_numbrs: false", text="x"))
    result = run_subprocess(plugin)
    result.stdout.fnmatch_lines(
        [
            "specs/w.yaml:8:9: unknown option 'count_numbrs' of check 'max_words'; did you mean 'count_numbers'?",
        ]
    )
    plugin.spec("specs/w.yaml", spec_with("- max_words: 5000", text="x"))
    run_subprocess(plugin).stdout.fnmatch_lines(["specs/w.yaml:7:20: max_words: at most 1000"])


def test_an_exception_in_a_plugin_check_fails_it_in_one_line(plugin: Project) -> None:
    plugin.spec("specs/w.yaml", spec_with("- fragile: {}", text="x"))
    result = run_subprocess(plugin)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "  fragile at specs/w.yaml:7:9: check 'fragile' (wordy:Fragile) raised RuntimeError: fragile broke (*wordy.py:*)"
        ]
    )


def test_a_broken_plugin_fails_only_the_specs_that_use_it_naming_the_entry_point(plugin: Project) -> None:
    plugin.spec("specs/w.yaml", spec_with("- broken: 1", text="x"))
    plugin.spec("specs/ok.yaml", spec_with("- max_words: 1", text="x").replace("feature: f", "feature: ok"))
    result = run_subprocess(plugin)
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        [
            "specs/w.yaml:7:17: check 'broken' could not be loaded from the entry point 'broken = wordy_missing:Nope' "
            "(group aitest.checks, package wordy 1.0): importing it raised ModuleNotFoundError: "
            "No module named 'wordy_missing'",
            "  hint: fix or reinstall the package that provides it, or remove the check from the spec",
        ]
    )


def test_an_entry_point_that_is_no_check_and_a_taken_name_are_reported(plugin: Project) -> None:
    plugin.spec("specs/w.yaml", spec_with("- not_a_check: 1", text="x"))
    result = run_subprocess(plugin, "-W", "default")
    result.stdout.fnmatch_lines(
        [
            "specs/w.yaml:7:22: check 'not_a_check' could not be loaded from the entry point "
            "'not_a_check = wordy:pathlib' (group aitest.checks, package wordy 1.0): it is the module pathlib, "
            "neither a Check subclass nor a function",
        ]
    )
    result.stdout.fnmatch_lines(
        [
            "*aitest: the entry point 'contains = wordy:shouts' (group aitest.checks, package wordy 1.0) is ignored: "
            "the name 'contains' is already taken"
        ]
    )


def test_plugins_are_loaded_with_the_first_spec_not_when_pytest_starts(plugin: Project) -> None:
    plugin.pytester.makepyfile(test_plain="def test_plain():\n    assert True\n")
    run_subprocess(plugin, "test_plain.py").assert_outcomes(passed=1)
    assert not (plugin.root / "plugin_imported").exists()
    plugin.spec("specs/w.yaml", spec_with("- max_words: 5", text="x"))
    run_subprocess(plugin).assert_outcomes(passed=2)
    assert (plugin.root / "plugin_imported").exists()


def test_the_editor_schema_has_the_plugin_checks_and_their_options(plugin: Project) -> None:
    result = plugin.pytester.run(AITEST, "schema")
    assert result.ret == 0
    checks = {
        name: item
        for item in json.loads(result.stdout.str())["$defs"]["check"]["anyOf"]
        for name in item.get("required", [])
        if name != "type"
    }
    assert checks["max_words"]["properties"]["max_words"] == {
        "type": "integer",
        "minimum": 1,
        "description": "the output has at most N words",
    }
    assert checks["max_words"]["properties"]["count_numbers"]["type"] == "boolean"
    assert checks["shouts"]["properties"]["shouts"]["description"] == "the output is written in capitals"
    assert checks["broken"]["additionalProperties"] is True
    assert "python" in checks and "rubric" in checks
