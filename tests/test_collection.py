"""Collection rules, node ids, -k and -m, and a broken spec that does not stop the others."""

from __future__ import annotations

from conftest import Project

ECHO_SPEC = """
feature: {feature}
target: feature:echo
cases:
  - id: first
    vars: {{text: hello}}
    expect: [{{contains: hell}}]
  - id: second
    vars: {{text: world}}
    expect: [{{contains: wor}}]
"""


def test_one_item_per_case_with_path_and_case_id(project: Project) -> None:
    project.spec("specs/echo.yaml", ECHO_SPEC.format(feature="echo"))
    result = project.run("--collect-only", "-q")
    result.stdout.fnmatch_lines(["specs/echo.yaml::first", "specs/echo.yaml::second", "*2 tests collected*"])


def test_cases_pass_as_ordinary_items(project: Project) -> None:
    project.spec("specs/echo.yaml", ECHO_SPEC.format(feature="echo"))
    project.run().assert_outcomes(passed=2)


def test_aitest_yaml_anywhere_and_other_yaml_ignored(project: Project) -> None:
    project.spec("features/echo.aitest.yaml", ECHO_SPEC.format(feature="echo"))
    project.spec("config/settings.yaml", "debug: true\n")
    result = project.run("--collect-only", "-q")
    result.stdout.fnmatch_lines(["features/echo.aitest.yaml::first", "*2 tests collected*"])


def test_recordings_folder_is_never_collected(project: Project) -> None:
    project.spec("specs/echo.yaml", ECHO_SPEC.format(feature="echo"))
    project.spec("specs/__recordings__/echo.yaml", "version: 1\nentries: []\n")
    project.run("--collect-only", "-q").stdout.fnmatch_lines(["*2 tests collected*"])


def test_configured_spec_folders(project: Project) -> None:
    project.pytester.makepyprojecttoml('[tool.aitest]\nspecs = ["behavior"]\n')
    project.spec("behavior/echo.yaml", ECHO_SPEC.format(feature="echo"))
    project.spec("specs/not_a_spec.yaml", "anything: [1, 2]\n")
    result = project.run("--collect-only", "-q")
    result.stdout.fnmatch_lines(["behavior/echo.yaml::first", "*2 tests collected*"])


def test_k_matches_feature_and_case_ids(project: Project) -> None:
    project.spec("specs/echo.yaml", ECHO_SPEC.format(feature="echo"))
    project.spec("specs/shout.yaml", ECHO_SPEC.format(feature="shout"))
    project.run("-k", "shout").assert_outcomes(passed=2)
    project.run("-k", "second and echo").assert_outcomes(passed=1, deselected=3)


def test_marker_selects_and_deselects_aitest_items(project: Project) -> None:
    project.spec("specs/echo.yaml", ECHO_SPEC.format(feature="echo"))
    project.pytester.makepyfile(test_plain="def test_plain():\n    assert True\n")
    project.run("-m", "aitest").assert_outcomes(passed=2, deselected=1)
    project.run("-m", "not aitest").assert_outcomes(passed=1, deselected=2)


def test_broken_spec_fails_alone_and_the_rest_runs(project: Project) -> None:
    project.spec("specs/echo.yaml", ECHO_SPEC.format(feature="echo"))
    project.spec("specs/broken.yaml", "feature: broken\ncases: [\n")
    result = project.run()
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(["*specs/broken.yaml:3:1: malformed YAML*", "FAILED specs/broken.yaml::spec*"])


def test_feature_names_are_unique_in_the_suite(project: Project) -> None:
    project.spec("specs/a.yaml", ECHO_SPEC.format(feature="echo"))
    project.spec("specs/b.yaml", ECHO_SPEC.format(feature="echo"))
    result = project.run()
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(["*specs/b.yaml:1:1: feature 'echo' is already defined in specs/a.yaml:1:1*"])


def test_runs_under_xdist(project: Project) -> None:
    project.spec("specs/echo.yaml", ECHO_SPEC.format(feature="echo"))
    project.spec("specs/shout.yaml", ECHO_SPEC.format(feature="shout").replace("wor}", "nope}"))
    result = project.pytester.runpytest_subprocess("-n", "2", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=3, failed=1)
    result.stdout.fnmatch_lines(["*'nope' not found in the output*"])


def test_junitxml_carries_the_failure_message(project: Project) -> None:
    project.spec("specs/echo.yaml", ECHO_SPEC.format(feature="echo").replace("hell}", "bye}"))
    project.run("--junitxml=out.xml")
    xml = (project.root / "out.xml").read_text()
    assert "'bye' not found in the output" in xml
    assert 'name="first"' in xml


def test_plugin_import_is_light(project: Project) -> None:
    code = (
        "import sys, aitest.plugin; print(sorted(m for m in ('yaml', 'jsonschema', 'aitest.spec') if m in sys.modules))"
    )
    result = project.pytester.run(__import__("sys").executable, "-c", code)
    assert result.stdout.lines[-1] == "[]"
