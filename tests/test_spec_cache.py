"""The cache of parsed specs (.aitest_cache/specs): keyed by content, never stale, never trusted blindly,
and never a different message from a parse of the file itself."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from aitest.errors import AitestError
from aitest.spec.cache import cache_key, parse_spec_yaml
from aitest.spec.loader import load_spec
from aitest.spec.yaml_loader import load_yaml
from conftest import Project

SPEC = """
feature: echo
target: feature:echo
expect:
  - max_length: 100
cases:
  - id: first
    vars: {text: hello}
    expect: [{contains: hello}]
  - id: second
    vars: {text: "on"}
    expect:
      - any_of: [{equals: "on"}, {regex: 'o\\w'}]
"""


def _cache(project: Project) -> Path:
    return project.root / ".aitest_cache" / "specs"


def _load(project: Project, name: str = "specs/echo.yaml", *, cache: bool = True) -> object:
    return load_spec(project.root / name, rootdir=project.root, cache_dir=_cache(project) if cache else None)


def _outcome(project: Project, name: str = "specs/echo.yaml", *, cache: bool = True) -> str:
    """What a user sees of a load: every case with its checks and locations, or the errors and warnings."""
    try:
        spec = _load(project, name, cache=cache)
    except AitestError as error:
        shown = [str(w) for w in getattr(error, "warnings", ())]
        return f"{type(error).__name__}: {error}\n" + "\n".join(shown)
    cases = [(c.id, c.vars, c.location, [(e.name, e.location) for e in c.expect]) for c in spec.cases]
    return repr((spec.feature, spec.location, cases, [str(w) for w in spec.warnings]))


def test_the_parse_is_kept_and_answers_the_next_load(project: Project) -> None:
    project.spec("specs/echo.yaml", SPEC)
    first = _outcome(project)
    assert len(list(_cache(project).glob("*.json"))) == 1
    assert (project.root / ".aitest_cache" / ".gitignore").is_file()
    assert _outcome(project) == first == _outcome(project, cache=False)


def test_positions_and_booleans_come_back_exactly_as_parsed(tmp_path: Path) -> None:
    text = textwrap.dedent(SPEC) + "gate: {enabled: yes, list: [1, 2.5, null, -0.0, '2024-01-01', 2024-01-02]}\n"
    parsed = load_yaml(text, "specs/x.yaml")
    parse_spec_yaml(text, "specs/x.yaml", cache_dir=tmp_path)
    cached = parse_spec_yaml(text, "specs/x.yaml", cache_dir=tmp_path)
    assert cached == parsed
    assert cached[1].yaml11_booleans == {("gate", "enabled"): "yes"}


def test_a_spec_edited_on_disk_is_parsed_again(project: Project) -> None:
    path = project.spec("specs/echo.yaml", SPEC)
    _load(project)
    path.write_text(path.read_text().replace("id: second", "id: renamed"))
    assert [c.id for c in _load(project).cases] == ["first", "renamed"]  # type: ignore[attr-defined]
    path.write_text(path.read_text().replace("max_length: 100", "max_lenght: 100"))
    with pytest.raises(AitestError, match="unknown check 'max_lenght'"):
        _load(project)
    assert len(list(_cache(project).glob("*.json"))) == 3  # one per content parsed (its YAML was fine)


def test_files_the_spec_names_are_read_again_on_every_load(project: Project) -> None:
    project.spec("specs/data.yaml", "feature: data\ntarget: feature:echo\ncases_from: rows.csv\n")
    rows = project.file("specs/rows.csv", "id,text\none,hello\n")
    project.file("specs/schema.json", '{"type": "string"}')
    checked = project.spec(
        "specs/schema.yaml",
        "feature: schema\ntarget: feature:echo\ncases:\n  - id: a\n    vars: {text: x}\n"
        "    expect: [{schema: schema.json}]\n",
    )
    assert [c.id for c in _load(project, "specs/data.yaml").cases] == ["one"]  # type: ignore[attr-defined]
    _load(project, checked.relative_to(project.root).as_posix())
    rows.write_text("id,text\none,hello\ntwo,world\n")
    assert [c.id for c in _load(project, "specs/data.yaml").cases] == ["one", "two"]  # type: ignore[attr-defined]
    (project.root / "specs" / "schema.json").write_text("{not json")
    with pytest.raises(AitestError, match=r"schema\.json"):
        _load(project, "specs/schema.yaml")


@pytest.mark.parametrize(
    "damage",
    [
        "",
        "{not json",
        '{"key": "another", "data": {}, "values": [], "keys": [], "booleans": []}',
        "KEY_WITH_SHORT_POSITIONS",
        "KEY_WITH_TEXT_POSITIONS",
        "KEY_WITH_OTHER_DATA",
    ],
)
def test_a_damaged_cache_file_is_ignored_and_replaced(project: Project, damage: str) -> None:
    path = project.spec("specs/echo.yaml", SPEC)
    expected = _outcome(project, cache=False)
    _load(project)
    (cached,) = _cache(project).glob("*.json")
    stored = json.loads(cached.read_text())
    if damage == "KEY_WITH_SHORT_POSITIONS":
        stored["values"] = stored["values"][:-2]
        damage = json.dumps(stored)
    elif damage == "KEY_WITH_TEXT_POSITIONS":
        stored["values"] = [str(n) for n in stored["values"]]
        damage = json.dumps(stored)
    elif damage == "KEY_WITH_OTHER_DATA":  # positions for a document of another shape
        stored["data"]["cases"].append({"id": "planted"})
        damage = json.dumps(stored)
    assert cached.name == f"{cache_key(path.read_text())}.json"
    cached.write_text(damage)
    assert _outcome(project) == expected
    assert json.loads(cached.read_text()) != damage  # parsed again and written anew
    assert _outcome(project) == expected


BROKEN = [
    # YAML syntax: never cached, the same message every time
    "feature: echo\ncases: [\n",
    # structure and checks
    "feature: echo\ntarget: feature:echo\nouput: json\ncases:\n  - id: a\n    vars: {text: x}\n"
    "    expect: [{contians: x}, {regex: '(unclosed'}]\n  - id: a\n    vars: {text: y}\n",
    # structurally valid, broken in its meaning (a check's value, a var): the structure is marked valid,
    # and what the loader builds is still checked on every load
    "feature: echo\ntarget: feature:echo\ncases:\n  - id: a\n    vars: {txt: x}\n    expect: [{regex: '(unclosed'}]\n",
    # a warning (yes as a boolean) beside an error
    "feature: echo\ntarget: feature:echo\ncases:\n  - id: a\n    vars: {text: yes}\n    expect: [{equals: on}]\n"
    "  - id: b\n    vars: {text: x}\n    determinism: {runs: 0}\n",
    # aliases and merge keys
    "feature: echo\ntarget: feature:echo\nbase: &b {text: x}\ncases:\n  - id: a\n    vars: {<<: *b, extra: 1}\n",
    "[1, 2]\n",
    "",
]


@pytest.mark.parametrize("text", BROKEN)
def test_errors_and_warnings_are_the_same_with_and_without_the_cache(project: Project, text: str) -> None:
    (project.root / "specs").mkdir(exist_ok=True)
    (project.root / "specs" / "echo.yaml").write_text(text)
    without = _outcome(project, cache=False)
    assert "Error" in without or "Warning" in without or "NotASpec" in without
    assert _outcome(project) == without  # cold: parsed, then kept
    assert _outcome(project) == without  # warm: from the cache
    assert _outcome(project) == without


def test_a_warning_of_a_cached_spec_is_still_given(project: Project) -> None:
    project.spec("specs/echo.yaml", "feature: echo\ntarget: feature:echo\ncases:\n  - id: a\n    vars: {text: on}\n")
    shown = [[str(w) for w in _load(project).warnings] for _ in range(3)]  # type: ignore[attr-defined]
    assert "specs/echo.yaml:5:18: warning: on without quotes is the boolean true" in shown[0][0]
    assert shown[0] == shown[1] == shown[2]


def test_pytest_runs_from_the_cache_and_under_xdist(project: Project) -> None:
    for i in range(6):
        project.spec(f"specs/echo{i}.yaml", SPEC.replace("feature: echo", f"feature: echo{i}"))
    for _ in range(2):  # the first run writes the cache from two workers at once, the second reads it
        result = project.pytester.runpytest_subprocess("-n", "2", "-p", "no:cacheprovider", "-q")
        result.assert_outcomes(passed=12)
    files = sorted(p.name for p in _cache(project).iterdir())
    assert len([f for f in files if f.endswith(".json")]) == 6
    assert not [f for f in files if ".tmp-" in f]  # every write was atomic: no temp file left
    for cached in _cache(project).glob("*.json"):
        json.loads(cached.read_text())
    project.spec(
        "specs/echo0.yaml", SPEC.replace("feature: echo", "feature: echo0").replace("contains: hello", "contains: bye")
    )
    result = project.run("-q")
    result.assert_outcomes(passed=11, failed=1)
    result.stdout.fnmatch_lines(["*contains at specs/echo0.yaml:8:14: *bye* not found*"])


def test_a_project_that_cannot_be_written_still_loads(project: Project) -> None:
    project.spec("specs/echo.yaml", SPEC)
    (project.root / ".aitest_cache").write_text("a file where the cache folder would be")
    assert _outcome(project) == _outcome(project, cache=False)
