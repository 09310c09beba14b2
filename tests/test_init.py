"""`aitest init`, run as a user runs it: in an empty folder, in an existing project, twice."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
import yaml

from aitest.scaffold import templates
from conftest import Project

AITEST = str(Path(sys.executable).parent / "aitest")
REPO = Path(__file__).resolve().parent.parent
PYTESTER_FILES = ("stdout", "stderr")  # where pytester.run keeps a command's output
TABLE = templates.template("pyproject_table.toml")
EXISTING = """\
# the team's own settings, kept byte for byte
[project]
name = "shop"
version = "1.2.0"
dependencies = []   # none yet

[tool.ruff]
line-length = 100

[tool.pytest.ini_options]
addopts = "-ra"
"""


def init(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.run(AITEST, "init", *args)


def replay(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    """pytest in the project, in a process of its own, as the user runs it."""
    return pytester.run(sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "no:hypothesispytest", *args)


def files(root: Path) -> dict[str, tuple[bytes, int]]:
    """Every file under ``root`` with its bytes and modification time (but pytester's own output files)."""
    return {
        p.relative_to(root).as_posix(): (p.read_bytes(), p.stat().st_mtime_ns)
        for p in sorted(root.rglob("*"))
        if p.is_file() and "__pycache__" not in p.parts and p.relative_to(root).as_posix() not in PYTESTER_FILES
    }


def listing(root: Path) -> list[str]:
    return sorted(p.name for p in root.iterdir() if p.name not in PYTESTER_FILES)


@pytest.fixture
def empty(pytester: pytest.Pytester) -> Project:
    return Project(pytester)


def test_init_in_an_empty_folder_then_validate_and_pytest_pass(empty: Project) -> None:
    result = init(empty.pytester)
    assert result.ret == 0, result.stderr.str()
    result.stdout.fnmatch_lines(
        [
            f"aitest init: the project in {empty.root}",
            "  created  pyproject.toml: [[]tool.aitest]: where the specs and the recordings live",
            "  created  aitest_example.py: the example feature's code",
            "  created  specs/aitest_example.yaml: an example spec",
            "  created  specs/__recordings__/aitest_example.yaml: its recorded model answers (commit them)",
            "  created  aitest.schema.json: the spec format's JSON Schema, for editors*",
            "  created  .vscode/settings.json: yaml.schemas maps the spec files to the schema*",
            "  created  .github/workflows/aitest.yml: replays the specs in CI*",
            "next:",
            "  aitest validate *# checks the specs without running them",
            "  pytest specs *# runs them, replayed from the recordings: no model needed",
            "  edit AITEST_SOURCE in .github/workflows/aitest.yml: aitest is not on PyPI yet (docs/ci.md)",
        ]
    )
    assert (empty.root / "pyproject.toml").read_text() == TABLE
    spec = (empty.root / "specs/aitest_example.yaml").read_text()
    assert spec.startswith("# yaml-language-server: $schema=../aitest.schema.json\n")
    assert json.loads((empty.root / "aitest.schema.json").read_text()) == json.loads(
        empty.pytester.run(AITEST, "schema").stdout.str()
    )
    assert (empty.root / ".github/workflows/aitest.yml").read_text() == templates.workflow(None)

    validated = empty.pytester.run(AITEST, "validate")
    assert validated.ret == 0
    validated.stderr.fnmatch_lines(
        ["specs/aitest_example.yaml: ok (aitest_example, 3 cases)", "1 spec file, 0 problems"]
    )

    empty.block_imports("llama_cpp", "torch", "sentence_transformers")  # a replay needs no model
    ran = replay(empty.pytester)
    assert ran.ret == 0, ran.stdout.str()
    ran.stdout.fnmatch_lines(
        [
            "specs/aitest_example.yaml ... *",
            "aitest recordings (none): 3 replayed, 0 recorded, 0 missed, 0 unused",
            "*3 passed*",
        ]
    )


def test_the_example_fails_when_its_feature_breaks(empty: Project) -> None:
    """The example's checks judge the recorded answers: a wrong expectation fails, with its line."""
    assert init(empty.pytester).ret == 0
    spec = empty.root / "specs/aitest_example.yaml"
    spec.write_text(spec.read_text().replace("      - equals: positive", "      - equals: negative"))
    ran = replay(empty.pytester)
    assert ran.ret == 1
    ran.stdout.fnmatch_lines(
        ["*equals at specs/aitest_example.yaml:19:9: expected 'negative', got 'positive'", "*1 failed, 2 passed*"]
    )


def test_a_new_example_case_is_a_miss_that_says_how_to_record_it(empty: Project) -> None:
    assert init(empty.pytester).ret == 0
    spec = empty.root / "specs/aitest_example.yaml"
    case = '  - id: new_one\n    vars: {review: "Best purchase this year."}\n    expect:\n      - equals: positive\n'
    spec.write_text(spec.read_text() + case)
    ran = replay(empty.pytester)
    assert ran.ret == 1
    ran.stdout.fnmatch_lines(
        [
            "aitest_example::new_one failed (specs/aitest_example.yaml:34:9)",
            "  no recorded response for this model call (specs/__recordings__/aitest_example.yaml, 3 entries; *",
            "*+Review: Best purchase this year.",
            "  hint: record it with --aitest-record=new (or AITEST_RECORD=new)",
            "*1 failed, 3 passed*",
        ]
    )


def test_init_in_an_existing_project_appends_the_table_and_keeps_every_byte(empty: Project) -> None:
    root = empty.root
    (root / "pyproject.toml").write_text(EXISTING)
    empty.file("tests/test_shop.py", "def test_shop():\n    assert 1 + 1 == 2\n")
    result = init(empty.pytester)
    assert result.ret == 0, result.stderr.str()
    result.stdout.fnmatch_lines(["  added    pyproject.toml: [[]tool.aitest]: where the specs and the recordings live"])
    assert (root / "pyproject.toml").read_text() == EXISTING + "\n" + TABLE

    assert empty.pytester.run(AITEST, "validate").ret == 0
    ran = replay(empty.pytester)
    assert ran.ret == 0, ran.stdout.str()
    ran.stdout.fnmatch_lines(["*4 passed*"])  # the project's own test and the example's 3 cases


def test_a_file_without_a_final_newline_or_with_crlf_gets_the_table_in_its_style(empty: Project) -> None:
    (empty.root / "pyproject.toml").write_bytes(b'[project]\r\nname = "shop"\r\nversion = "1.0"')
    assert init(empty.pytester, "--no-example", "--no-ci", "--no-editor").ret == 0
    expected = b'[project]\r\nname = "shop"\r\nversion = "1.0"\r\n\r\n' + TABLE.replace("\n", "\r\n").encode()
    assert (empty.root / "pyproject.toml").read_bytes() == expected


def test_running_init_twice_changes_nothing(empty: Project) -> None:
    (empty.root / "pyproject.toml").write_text(EXISTING)
    assert init(empty.pytester).ret == 0
    before = files(empty.root)
    again = init(empty.pytester)
    assert again.ret == 0
    again.stdout.fnmatch_lines(
        [
            "  kept     pyproject.toml: has a [[]tool.aitest] table already; left as it is",
            "  kept     aitest_example.py: already up to date",
            "  kept     specs/aitest_example.yaml: already up to date",
            "  kept     specs/__recordings__/aitest_example.yaml: already up to date",
            "  kept     aitest.schema.json: already up to date",
            "  kept     .vscode/settings.json: yaml.schemas maps ./aitest.schema.json already",
            "  kept     .github/workflows/aitest.yml: already up to date",
            "nothing changed: the project was set up already",
        ]
    )
    assert files(empty.root) == before  # the same bytes, and not one file rewritten


def test_an_existing_tool_aitest_table_is_kept_and_its_folders_used(empty: Project) -> None:
    table = '[tool.aitest]\nspecs = ["behaviors/specs"]\nrecordings = "behaviors/recorded"\n'
    (empty.root / "pyproject.toml").write_text(EXISTING + "\n" + table)
    result = init(empty.pytester)
    assert result.ret == 0, result.stderr.str()
    result.stdout.fnmatch_lines(
        [
            "  kept     pyproject.toml: has a [[]tool.aitest] table already; left as it is",
            "  created  behaviors/specs/aitest_example.yaml: an example spec",
            "  created  behaviors/recorded/aitest_example.yaml: its recorded model answers (commit them)",
            "*",
            "  pytest behaviors/specs *# runs them*",
        ]
    )
    assert (empty.root / "pyproject.toml").read_text() == EXISTING + "\n" + table
    spec = (empty.root / "behaviors/specs/aitest_example.yaml").read_text()
    assert spec.startswith("# yaml-language-server: $schema=../../aitest.schema.json\n")
    settings = json.loads((empty.root / ".vscode/settings.json").read_text())
    globs = settings["yaml.schemas"]["./aitest.schema.json"]
    assert globs[:2] == ["behaviors/specs/**/*.yaml", "behaviors/specs/**/*.yml"]
    assert "!behaviors/recorded/**" in globs
    ran = replay(empty.pytester)
    assert ran.ret == 0, ran.stdout.str()
    ran.stdout.fnmatch_lines(["*3 replayed, 0 recorded, 0 missed*", "*3 passed*"])


def test_invalid_toml_stops_init_before_it_writes_anything(empty: Project) -> None:
    (empty.root / "pyproject.toml").write_text('[project]\nname = "shop\n')
    result = init(empty.pytester)
    assert result.ret == 1
    result.stderr.fnmatch_lines(
        [
            f"aitest init: {empty.root}/pyproject.toml:2:13: invalid TOML: Illegal character *",
            "  hint: fix pyproject.toml, then run aitest init again",
        ]
    )
    assert "Traceback" not in result.stderr.str()
    assert listing(empty.root) == ["pyproject.toml"]


def test_a_broken_tool_aitest_table_stops_init_with_its_line(empty: Project) -> None:
    (empty.root / "pyproject.toml").write_text('[tool.aitest]\nspecz = ["specs"]\n')
    result = init(empty.pytester)
    assert result.ret == 1
    result.stderr.fnmatch_lines(
        ["aitest init: *pyproject.toml:2: [[]tool.aitest] unknown key 'specz'; did you mean 'specs'?", "  hint: *"]
    )
    assert not (empty.root / "specs").exists()


def test_a_tool_table_written_inline_cannot_take_the_table_so_init_says_what_to_add(empty: Project) -> None:
    text = "tool = {ruff = {line-length = 100}}\n"
    (empty.root / "pyproject.toml").write_text(text)
    result = init(empty.pytester, "--no-example", "--no-ci", "--no-editor")
    assert result.ret == 0
    result.stdout.fnmatch_lines(
        [
            "  skipped  pyproject.toml: a [[]tool.aitest] table cannot be added to it as it is",
            "             add by hand:",
            "             [[]tool.aitest]*",
        ]
    )
    assert (empty.root / "pyproject.toml").read_text() == text


def test_vscode_settings_are_merged_keeping_every_key(empty: Project) -> None:
    settings = {"editor.tabSize": 2, "yaml.schemas": {"k8s.json": ["deploy/*.yaml"]}, "files.eol": "\n"}
    empty.file(".vscode/settings.json", json.dumps(settings, indent="\t"))
    result = init(empty.pytester, "--no-example", "--no-ci")
    result.stdout.fnmatch_lines(["  added    .vscode/settings.json: yaml.schemas maps the spec files to the schema*"])
    text = (empty.root / ".vscode/settings.json").read_text()
    merged = json.loads(text)
    assert merged["editor.tabSize"] == 2 and merged["files.eol"] == "\n"
    assert merged["yaml.schemas"]["k8s.json"] == ["deploy/*.yaml"]
    assert merged["yaml.schemas"]["./aitest.schema.json"][0] == "specs/**/*.yaml"
    assert '\n\t"editor.tabSize": 2' in text  # the file's own indentation


def test_vscode_settings_with_comments_are_left_alone_and_init_prints_what_to_add(empty: Project) -> None:
    text = '{\n    // my editor\n    "editor.tabSize": 2,\n}\n'
    empty.file(".vscode/settings.json", text)
    result = init(empty.pytester, "--no-example", "--no-ci")
    assert result.ret == 0
    result.stdout.fnmatch_lines(
        [
            "  skipped  .vscode/settings.json: not plain JSON (comments?), so left as it is",
            "             add to it:",
            "             {",
            '                 "yaml.schemas": {',
            '                     "./aitest.schema.json": [[]',
            '                         "specs/[*][*]/[*].yaml",',
        ]
    )
    assert (empty.root / ".vscode/settings.json").read_text() == text


def test_an_existing_workflow_is_kept_unless_forced(empty: Project) -> None:
    workflow = empty.file(".github/workflows/aitest.yml", "name: ours\n")
    result = init(empty.pytester, "--no-example", "--no-editor")
    result.stdout.fnmatch_lines(
        [
            "  kept     .github/workflows/aitest.yml: exists and differs from what init writes; "
            "left as it is (--force replaces it)"
        ]
    )
    assert workflow.read_text() == "name: ours\n"
    forced = init(empty.pytester, "--no-example", "--no-editor", "--force")
    forced.stdout.fnmatch_lines(["  updated  .github/workflows/aitest.yml: replays the specs in CI*"])
    assert workflow.read_text() == templates.workflow(None)


def test_a_changed_example_is_kept_and_the_schema_brought_up_to_date(empty: Project) -> None:
    assert init(empty.pytester).ret == 0
    spec = empty.root / "specs/aitest_example.yaml"
    spec.write_text(spec.read_text() + "# mine\n")
    (empty.root / "aitest.schema.json").write_text("{}\n")  # as an older aitest wrote it
    result = init(empty.pytester)
    result.stdout.fnmatch_lines(
        [
            "  kept     specs/aitest_example.yaml: exists and differs from what init writes; left as it is*",
            "  updated  aitest.schema.json: the spec format's JSON Schema, for editors*",
        ]
    )
    assert spec.read_text().endswith("# mine\n")


def test_init_from_a_subfolder_sets_up_the_project_root(empty: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    (empty.root / "pyproject.toml").write_text(EXISTING)
    sub = empty.root / "src" / "shop"
    sub.mkdir(parents=True)
    monkeypatch.chdir(sub)
    result = init(empty.pytester, "--no-ci", "--no-editor")
    assert result.ret == 0
    result.stdout.fnmatch_lines([f"aitest init: the project in {empty.root}"])
    assert (empty.root / "specs/aitest_example.yaml").is_file()
    assert not (sub / "pyproject.toml").exists() and not (sub / "specs").exists()


def test_init_in_a_named_folder_creates_it(empty: Project) -> None:
    result = init(empty.pytester, "newproj", "--no-ci", "--no-editor")
    assert result.ret == 0
    assert (empty.root / "newproj/pyproject.toml").read_text() == TABLE
    assert (empty.root / "newproj/specs/aitest_example.yaml").is_file()


def test_testpaths_that_leave_the_specs_out_are_pointed_out(empty: Project) -> None:
    (empty.root / "pyproject.toml").write_text('[tool.pytest.ini_options]\ntestpaths = ["tests"]\n')
    result = init(empty.pytester, "--no-ci", "--no-editor")
    result.stdout.fnmatch_lines(
        [
            "note: pytest's testpaths (tests) leave out specs: a bare `pytest` does not run the specs; "
            "add specs to testpaths, or name the folder (pytest specs)"
        ]
    )
    assert replay(empty.pytester, "specs").ret == 0


def test_only_what_is_asked_for(empty: Project) -> None:
    result = init(empty.pytester, "--no-example", "--no-editor", "--no-ci")
    assert result.ret == 0
    assert listing(empty.root) == ["pyproject.toml"]


def test_the_ci_workflow_in_the_docs_is_the_one_init_writes() -> None:
    workflow = templates.workflow(None)
    assert f"```yaml\n{workflow}```" in (REPO / "docs/ci.md").read_text()
    jobs = yaml.safe_load(workflow)["jobs"]
    install = next(s["run"] for s in jobs["replay"]["steps"] if s.get("name") == "Install")
    assert 'pip install "aitest @ $AITEST_SOURCE"' in install  # aitest is not on PyPI yet


def test_the_workflow_installs_aitest_from_where_it_came_from(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.metadata

    class Installed:
        def __init__(self, direct_url: dict[str, object] | None) -> None:
            self.text = json.dumps(direct_url) if direct_url else None

        def read_text(self, name: str) -> str | None:
            return self.text if name == "direct_url.json" else None

    def installed_from(direct_url: dict[str, object] | None) -> str | None:
        monkeypatch.setattr(importlib.metadata, "distribution", lambda name: Installed(direct_url))
        return templates.aitest_source()

    git = {"url": "https://github.com/acme/aitest.git", "vcs_info": {"vcs": "git", "commit_id": "0a1b2c"}}
    assert installed_from(git) == "git+https://github.com/acme/aitest.git@0a1b2c"
    wheel = {"url": "https://files.acme.dev/aitest-0.1.0-py3-none-any.whl", "archive_info": {}}
    assert installed_from(wheel) == "https://files.acme.dev/aitest-0.1.0-py3-none-any.whl"
    assert installed_from({"url": "file:///home/me/aitest", "dir_info": {"editable": True}}) is None
    assert installed_from(None) is None  # from PyPI
    filled = templates.workflow("git+https://github.com/acme/aitest.git@0a1b2c")
    assert "  AITEST_SOURCE: git+https://github.com/acme/aitest.git@0a1b2c   # where" in filled
    assert "OWNER" not in filled
    assert yaml.safe_load(filled)["env"]["AITEST_SOURCE"] == "git+https://github.com/acme/aitest.git@0a1b2c"


def test_the_package_ships_every_template() -> None:
    """pyproject.toml's package-data covers each file in aitest/templates, so a wheel has them."""
    from fnmatch import fnmatch

    from aitest.config import parse_toml

    pyproject = REPO / "pyproject.toml"
    patterns = parse_toml(pyproject.read_text(), pyproject)["tool"]["setuptools"]["package-data"]["aitest"]
    shipped = [p.relative_to(REPO / "aitest").as_posix() for p in (REPO / "aitest/templates").iterdir()]
    assert shipped and all(any(fnmatch(name, pattern) for pattern in patterns) for name in shipped)


def test_the_example_recording_is_what_gemma_answers(empty: Project, gemma: Path) -> None:
    """The recording init writes was recorded from the real model: re-recording gives the same answers."""
    assert init(empty.pytester, "--no-ci", "--no-editor").ret == 0
    recording = empty.root / "specs/__recordings__/aitest_example.yaml"
    shipped = yaml.safe_load(recording.read_text())
    recording.unlink()
    result = empty.run("--aitest-record=once")
    result.assert_outcomes(passed=3)
    recorded = yaml.safe_load(recording.read_text())
    answers = [(e["key"], e["request"], e["response"]) for e in recorded["entries"]]
    assert answers == [(e["key"], e["request"], e["response"]) for e in shipped["entries"]]


def test_the_output_in_the_docs_is_what_init_prints(empty: Project) -> None:
    """docs/cli.md shows `aitest init` in a project with a pyproject.toml: the same lines, but the path."""
    docs = (REPO / "docs/cli.md").read_text()
    shown = docs.split("$ aitest init\n", 1)[1].split("```", 1)[0]
    (empty.root / "pyproject.toml").write_text(EXISTING)
    result = init(empty.pytester)
    assert result.stdout.str().replace(str(empty.root), "/home/me/shop") == shown.rstrip("\n")


def test_a_pyproject_that_is_not_utf8_stops_init(empty: Project) -> None:
    (empty.root / "pyproject.toml").write_bytes(b'[project]\nname = "caf\xe9"\n')
    result = init(empty.pytester)
    assert result.ret == 1
    result.stderr.fnmatch_lines(
        [f"aitest init: {empty.root}/pyproject.toml: not UTF-8 text (byte 21)", "  hint: TOML files are UTF-8"]
    )
    assert listing(empty.root) == ["pyproject.toml"]


def test_a_file_that_cannot_be_written_is_named_after_what_was_done(empty: Project) -> None:
    (empty.root / ".github").write_text("not a folder\n")
    result = init(empty.pytester)
    assert result.ret == 1
    result.stdout.fnmatch_lines(["  created  pyproject.toml: *", "*", "  created  .vscode/settings.json: *"])
    result.stderr.fnmatch_lines([f"aitest init: cannot write {empty.root}/.github/workflows: *"])
    assert "Traceback" not in result.stderr.str()


def test_the_workflow_names_the_spec_folders_so_testpaths_cannot_hide_them(empty: Project) -> None:
    empty.file(
        "pyproject.toml",
        '[tool.pytest.ini_options]\ntestpaths = ["tests"]\n\n[tool.aitest]\nspecs = ["behaviour"]\n',
    )
    assert init(empty.pytester).ret == 0
    workflow = (empty.root / ".github/workflows/aitest.yml").read_text()
    assert "run: pytest behaviour -m aitest --junitxml=aitest.xml" in workflow
    assert "run: pytest behaviour -m aitest --aitest-record=off" in workflow
    replay = empty.pytester.run(sys.executable, "-m", "pytest", "behaviour", "-m", "aitest", "-p", "no:cacheprovider")
    replay.stdout.fnmatch_lines(["*3 passed*"])  # the example's cases, which `pytest -m aitest` alone would miss
