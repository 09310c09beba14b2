"""Paths, nesting bounds and output streams (issue 20): a symlinked recordings folder is never collected, a
deeply nested schema or tools file is a file:line:col error, `aitest validate` prints its findings to stdout
with an exit status that says whether there were problems, and `unused` counts only this run's models."""

from __future__ import annotations

import runpy
import subprocess
import sys
import time
from fnmatch import fnmatch
from pathlib import Path

import pytest

from aitest.config import Config, load_config
from conftest import REPO, Project

AITEST = str(Path(sys.executable).parent / "aitest")
GOOD = "feature: good\ntarget: feature:echo\ncases:\n  - id: a\n    vars: {text: hi}\n    expect: [{contains: hi}]\n"
# a recording file, as aitest writes it: collected as a spec, it would fail (no cases, no target)
RECORDING = "feature: good\nentries: []\n"


def collected(project: Project, *args: str) -> list[str]:
    """The node ids pytest collects in the project (with ``args``)."""
    result = project.run("--collect-only", "-q", *args)
    return [line for line in result.stdout.lines if "::" in line]


def validate(project: Project, *args: str) -> subprocess.CompletedProcess[str]:
    """`aitest validate` in its own process, as a user runs it: stdout and stderr apart."""
    return subprocess.run(
        [sys.executable, "-m", "aitest.cli", "validate", *args],
        cwd=project.root,
        capture_output=True,
        text=True,
        timeout=120,
    )


# -- the recordings folder, and what else aitest writes, is never collected -------------------------------------


def test_a_recordings_folder_that_is_a_symlink_is_not_collected(project: Project) -> None:
    """The probe's case: specs/__recordings__ links to a folder elsewhere; its files are no specs."""
    project.spec("specs/good.yaml", GOOD)
    project.file("stored/recordings/good.yaml", RECORDING)
    (project.root / "specs/__recordings__").symlink_to(project.root / "stored/recordings")
    assert collected(project) == ["specs/good.yaml::a"]
    assert collected(project, "specs/__recordings__/good.yaml") == []  # named on the command line too
    result = validate(project)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stderr.splitlines()[-1] == "1 spec file, 0 problems"
    assert validate(project, "specs").returncode == 0


def test_a_link_in_a_spec_folder_to_the_recordings_folder_is_not_collected(project: Project) -> None:
    project.spec("specs/good.yaml", GOOD)
    project.file("specs/__recordings__/good.yaml", RECORDING)
    (project.root / "specs/old").symlink_to(project.root / "specs/__recordings__")
    (project.root / "specs/one.yaml").symlink_to(project.root / "specs/__recordings__/good.yaml")
    assert collected(project) == ["specs/good.yaml::a"]
    result = validate(project)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stderr.splitlines()[-1] == "1 spec file, 0 problems"


def test_a_recordings_folder_configured_as_a_link_into_the_spec_folder_is_not_collected(project: Project) -> None:
    project.pytester.makepyprojecttoml('[tool.aitest]\nspecs = ["specs"]\nrecordings = "recs"\n')
    project.spec("specs/good.yaml", GOOD)
    project.file("specs/stored/good.yaml", RECORDING)
    (project.root / "recs").symlink_to(project.root / "specs/stored")
    assert collected(project) == ["specs/good.yaml::a"]
    result = validate(project)
    assert result.returncode == 0, result.stdout + result.stderr


def test_aitest_cache_is_never_collected_even_in_a_spec_folder(project: Project) -> None:
    """With the project root as the spec folder, .aitest_cache lies in it: named or not, never a spec."""
    project.pytester.makepyprojecttoml('[tool.aitest]\nspecs = ["."]\n')
    project.spec("good.yaml", GOOD)
    project.file(".aitest_cache/specs/stray.yaml", RECORDING)
    project.file(".aitest_cache/x.aitest.yaml", RECORDING)
    assert collected(project) == ["good.yaml::a"]
    assert collected(project, ".aitest_cache/specs/stray.yaml", ".aitest_cache/x.aitest.yaml") == []
    for args in ([], ["."], [".aitest_cache"]):
        result = validate(project, *args)
        assert "stray" not in result.stdout + result.stderr and "x.aitest" not in result.stdout + result.stderr


def test_a_linked_folder_of_specs_is_collected_and_validated_alike(project: Project) -> None:
    """A spec folder's link to specs elsewhere: pytest walks into it, and so does `aitest validate`."""
    project.spec("specs/good.yaml", GOOD)
    project.spec("shared/other.yaml", GOOD.replace("good", "other"))
    (project.root / "specs/shared").symlink_to(project.root / "shared")
    assert collected(project) == ["specs/good.yaml::a", "specs/shared/other.yaml::a"]
    result = validate(project)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "other.yaml: ok (other, 1 case)" in result.stderr  # shown where it really is, as pytest shows its lines
    assert result.stderr.splitlines()[-1] == "2 spec files, 0 problems"


def test_a_folder_that_links_to_itself_is_walked_once(project: Project) -> None:
    project.spec("specs/good.yaml", GOOD)
    (project.root / "specs/loop").symlink_to(project.root / "specs")
    result = validate(project, "specs")
    assert result.stderr.count("specs/good.yaml: ok") == 1, result.stderr


def test_is_spec_file_resolves_each_folder_once_and_is_quick(tmp_path: Path) -> None:
    (tmp_path / "specs/many").mkdir(parents=True)
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "specs/__recordings__").symlink_to(tmp_path / "elsewhere")
    config = load_config(tmp_path)
    paths = [tmp_path / f"specs/many/s{i}.yaml" for i in range(1000)]
    start = time.perf_counter()
    assert all(config.is_spec_file(p) for p in paths)
    assert time.perf_counter() - start < 1.0  # ~1 ms here: one realpath per folder, not per file
    assert not config.is_spec_file(tmp_path / "specs/__recordings__/x.yaml")
    assert not config.is_spec_file(tmp_path / "elsewhere/x.yaml")
    assert not config.is_spec_file(tmp_path / "specs/a.schema.yaml")
    assert config.is_spec_file(tmp_path / "docs/x.aitest.yaml")
    assert not config.is_spec_file(tmp_path / "docs/x.yaml")
    assert config.is_spec_file(tmp_path / "docs/x.yaml", anywhere=True)


def test_a_config_made_with_relative_folders_is_measured_from_its_root(tmp_path: Path) -> None:
    config = Config(tmp_path, specs=(Path("specs"),))  # as a test or the Python API may build one
    assert config.is_spec_file(tmp_path / "specs/a.yaml")
    assert not config.is_spec_file(tmp_path / "specs/__recordings__/a.yaml")


# -- nesting in schema and tools files is bounded as in specs ---------------------------------------------------


def deep_json(depth: int) -> str:
    return '{"items": ' * depth + "{}" + "}" * depth


def deep_block_yaml(depth: int) -> str:
    return "".join("  " * i + "items:\n" for i in range(depth)) + "  " * depth + "type: string\n"


def schema_spec(file: str) -> str:
    return (
        "feature: deep\ntarget: feature:echo\ncases:\n  - id: a\n    vars: {text: hi}\n"
        f"    expect:\n      - schema: {file}\n"
    )


@pytest.mark.parametrize(
    ("file", "text", "pattern"),
    [
        ("deep.json", deep_json(2000), "specs/deep.json:1:1001: values are nested more than 100 levels deep"),
        ("deep.json", deep_json(100_000), "specs/deep.json:1:1001: values are nested more than 100 levels deep"),
        ("deep.json", deep_json(150), "specs/deep.json:1:1001: values are nested more than 100 levels deep"),
        ("deep.schema.yaml", deep_json(150), "specs/deep.schema.yaml:1:*: values are nested more than 100 levels*"),
        (
            "deep.schema.yaml",
            deep_json(2000),
            "specs/deep.schema.yaml:1:*: values are nested more than 100 levels deep",
        ),
        (
            "deep.schema.yaml",
            deep_json(100_000),
            "specs/deep.schema.yaml:1:*: values are nested more than 100 levels deep",
        ),
        (
            "deep.schema.yaml",
            deep_block_yaml(2000),
            "specs/deep.schema.yaml:*:*: values are nested more than 100 levels deep",
        ),
    ],
    ids=["json_2000", "json_100000", "json_150", "yaml_150", "yaml_2000", "yaml_100000", "yaml_block_2000"],
)
def test_a_deeply_nested_schema_file_is_a_located_error(project: Project, file: str, text: str, pattern: str) -> None:
    project.file(f"specs/{file}", text)
    project.spec("specs/deep.yaml", schema_spec(file))
    result = validate(project)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 2 and fnmatch(lines[0], pattern), lines
    assert lines[1].startswith("  hint: the schema file of specs/deep.yaml:7:17"), lines  # the spec line reading it
    ran = project.run()
    ran.assert_outcomes(failed=1)
    ran.stdout.fnmatch_lines([pattern])
    assert "RecursionError" not in ran.stdout.str() and "Traceback" not in ran.stdout.str()


def test_a_deep_schema_behind_a_ref_and_as_params_json_schema_is_a_located_error(project: Project) -> None:
    project.file("specs/deep.json", deep_json(2000))
    project.file("specs/top.json", '{"type": "object", "properties": {"a": {"$ref": "deep.json"}}}')
    project.spec("specs/deep.yaml", schema_spec("top.json"))
    project.spec(
        "specs/param.yaml",
        "feature: param\nprompt: hi\nparams: {json_schema: deep.json}\ncases:\n  - id: a\n",
    )
    result = validate(project)
    assert result.returncode == 1 and "Traceback" not in result.stdout + result.stderr
    assert result.stdout.count("specs/deep.json:1:1001: values are nested more than 100 levels deep") == 2
    assert "  hint: the schema file of specs/deep.yaml:7:17" in result.stdout
    assert "  hint: the schema file of specs/param.yaml:3:" in result.stdout


@pytest.mark.parametrize("depth", [2000, 100_000])
def test_a_deeply_nested_tools_file_is_a_located_error(project: Project, depth: int) -> None:
    parameters = '{"type": "object", "properties": {"a": ' + deep_json(depth) + "}}"
    project.file(
        "specs/tools.json", '[{"type": "function", "function": {"name": "f", "parameters": ' + parameters + "}}]"
    )
    project.spec("specs/chat.yaml", "feature: chat\nprompt: hi\ntools: tools.json\ncases:\n  - id: a\n")
    result = validate(project)
    assert result.returncode == 1 and "Traceback" not in result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert 1 <= len(lines) <= 2 and lines[0] == "specs/tools.json:1:1052: values are nested more than 100 levels deep"
    project.run().assert_outcomes(failed=1)


def test_an_inline_schema_is_bounded_by_the_spec_loader(project: Project) -> None:
    inline = "{items: " * 2000 + "{}" + "}" * 2000
    project.spec("specs/deep.yaml", schema_spec(inline))
    result = validate(project)
    assert result.returncode == 1 and "Traceback" not in result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert 1 <= len(lines) <= 2 and fnmatch(
        lines[0], "specs/deep.yaml:7:*: values are nested more than 100 levels deep"
    ), lines


def test_an_empty_schema_file_says_so(project: Project) -> None:
    project.file("specs/empty.json", "\n")
    project.spec("specs/deep.yaml", schema_spec("empty.json"))
    result = validate(project)
    assert result.stdout.splitlines()[:2] == [
        "specs/empty.json:1:1: the schema file is empty",
        "  hint: the schema file of specs/deep.yaml:7:17",
    ]


# -- `aitest validate`: findings on stdout, the rest on stderr; the exit status says if there was a problem -----

WARNS = GOOD.replace("good", "warns").replace("contains: hi", "one_of: [hi, yes]")


def test_validate_prints_findings_to_stdout_and_the_rest_to_stderr(project: Project) -> None:
    project.spec("specs/good.yaml", GOOD)
    project.spec("specs/warns.yaml", WARNS)
    project.spec("specs/bad.yaml", GOOD.replace("good", "bad").replace("contains", "contians"))
    result = validate(project)
    assert result.returncode == 1
    findings = result.stdout.splitlines()
    assert [line for line in findings if not line.startswith("  hint: ")] == [
        "specs/bad.yaml:6:15: unknown check 'contians'; did you mean 'contains'?",
        "specs/warns.yaml:6:28: warning: yes without quotes is the boolean true in YAML, not the text 'yes'",
    ]
    assert len(findings) == 4  # each with its hint
    assert result.stderr.splitlines() == [
        "specs/good.yaml: ok (good, 1 case)",
        "specs/warns.yaml: ok (warns, 1 case)",
        "3 spec files, 1 problem, 1 warning",
    ]


def test_validate_with_warnings_only_exits_0(project: Project) -> None:
    project.spec("specs/warns.yaml", WARNS)
    result = validate(project)
    assert result.returncode == 0
    assert result.stdout.startswith("specs/warns.yaml:6:28: warning: ")
    assert result.stderr.splitlines()[-1] == "1 spec file, 0 problems, 1 warning"


def test_validate_clean_prints_nothing_to_stdout(project: Project) -> None:
    project.spec("specs/good.yaml", GOOD)
    result = validate(project)
    assert (result.returncode, result.stdout) == (0, "")
    assert result.stderr == "specs/good.yaml: ok (good, 1 case)\n1 spec file, 0 problems\n"


def test_validate_bad_usage_is_exit_2_on_stderr(project: Project) -> None:
    result = validate(project, "--no-such-flag")
    assert (result.returncode, result.stdout) == (2, "")
    assert "unrecognized arguments: --no-such-flag" in result.stderr


def test_validate_a_missing_path_is_a_problem(project: Project) -> None:
    project.spec("specs/good.yaml", GOOD)
    result = validate(project, "specs/good.yaml", "specs/typo.yaml")
    assert result.returncode == 1  # a typo in CI must not pass quietly
    assert result.stdout == "specs/typo.yaml: no such file or folder\n"
    assert result.stderr.splitlines()[-1] == "1 spec file, 1 problem"


def test_validate_a_broken_config_is_a_finding(project: Project) -> None:
    project.pytester.makepyprojecttoml('[tool.aitest]\nspecs = ["specs"]\nspec = "x"\n')
    project.spec("specs/good.yaml", GOOD)
    result = validate(project)
    assert result.returncode == 1
    assert result.stdout.startswith(f"{project.root / 'pyproject.toml'}:3: [tool.aitest] unknown key 'spec'")
    assert result.stderr == ""


def test_validate_no_spec_file_is_a_problem_on_stdout(project: Project) -> None:
    result = validate(project)
    assert result.returncode == 1
    assert result.stdout.startswith("no spec files found (looked in: ")


# -- `unused` counts the entries of the models this run called, not other profiles' ------------------------------

INSTANT = runpy.run_path(str(REPO / "bench" / "instant.py"))["CONFTEST"]  # a provider that answers at once
ROUTE = (
    'feature: route\nprompt: "Ticket {{ n }}"\ncases:\n'
    "  - id: t1\n    vars: {n: 1}\n    expect: [{contains: billing}]\n"
    "  - id: t2\n    vars: {n: 2}\n    expect: [{contains: billing}]\n"
)


@pytest.fixture
def two_models(project: Project) -> Project:
    """One feature recorded on two profiles ("a", the default, and "b"): four entries in one file."""
    project.pytester.makepyprojecttoml(
        '[tool.aitest]\nspecs = ["specs"]\ndefault_model = "a"\n\n'
        '[tool.aitest.models.a]\nprovider = "instant"\nmodel = "a"\n\n'
        '[tool.aitest.models.b]\nprovider = "instant"\nmodel = "b"\n'
    )
    project.file("conftest.py", INSTANT)
    project.spec("specs/route.yaml", ROUTE)
    project.run("--aitest-record=new").assert_outcomes(passed=2)
    project.run("--aitest-model=b", "--aitest-record=new").assert_outcomes(passed=2)
    return project


def test_unused_does_not_count_another_profiles_entries(two_models: Project) -> None:
    result = two_models.run()
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["aitest recordings (none): 2 replayed, 0 recorded, 0 missed, 0 unused"])
    one = two_models.run("--aitest-model=b", "-k", "t1")
    one.stdout.fnmatch_lines(["aitest recordings (none): 1 replayed, 0 recorded, 0 missed, 1 unused"])  # b's t2


def test_unused_counts_the_stale_entries_of_this_runs_model_even_when_every_call_misses(two_models: Project) -> None:
    spec = two_models.root / "specs/route.yaml"
    spec.write_text(spec.read_text().replace("Ticket", "Case"))
    result = two_models.run()
    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines(["aitest recordings (none): 0 replayed, 0 recorded, 2 missed, 2 unused"])  # a's


def test_unused_over_xdist_workers(two_models: Project) -> None:
    result = two_models.pytester.runpytest_subprocess("-p", "no:cacheprovider", "-n", "2")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["aitest recordings (none): 2 replayed, 0 recorded, 0 missed, 0 unused"])


def test_rewrite_still_keeps_exactly_this_runs_entries(two_models: Project) -> None:
    """Pruning is unchanged: `rewrite` on one model removes the other's entries (docs/recordings.md)."""
    result = two_models.run("--aitest-record=rewrite")
    result.stdout.fnmatch_lines(["aitest recordings (rewrite): 0 replayed, 2 recorded, 0 missed, 0 unused, 2 pruned"])
