"""Properties replay the inputs their recording holds: no Hypothesis needed (nor any particular version), the
same inputs, shrink result and outcome as the run that recorded them; a property whose inputs are not
recorded says why and how to record them."""

from __future__ import annotations

import json
from typing import Any

import yaml
from recorded import ECHO

from conftest import Project

RECORDING = "specs/__recordings__/echo.yaml"

# `same` breaks whenever the text changes (the echo answers with it); `contains` holds whatever the case
SPEC = """\
feature: echo
model: echo
prompt: 'Question: {{ q }}'
cases:
  - id: first
    vars: {q: where is my parcel}
  - id: second
    vars: {q: how do I pay}
properties:
  - id: unchanged_by_case
    vary: {q: [case, whitespace]}
    examples: 6
    expect: same
  - id: still_echoes
    from: [second]
    vary: {q: [filler]}
    examples: 4
    expect:
      - contains: 'echo:'
"""


def prepare(project: Project, spec: str = SPEC) -> None:
    project.pytester.makepyprojecttoml(
        '[tool.aitest]\nspecs = ["specs"]\n\n[tool.aitest.models.echo]\nprovider = "echo"\nmodel = "e1"\n'
    )
    project.file("conftest.py", ECHO)
    project.spec("specs/echo.yaml", spec)


def report(project: Project, *args: str, name: str = "report.json", subprocess: bool = False) -> dict[str, Any]:
    run = project.pytester.runpytest_subprocess if subprocess else project.run
    result = run("-p", "no:cacheprovider", "-p", "no:hypothesispytest", f"--aitest-report={name}", *args)
    assert "Traceback" not in result.stdout.str(), result.stdout.str()
    document: dict[str, Any] = json.loads((project.root / name).read_text())
    document["_stdout"] = result.stdout.str()
    return document


def prop(document: dict[str, Any], prop_id: str) -> dict[str, Any]:
    found: dict[str, Any] = next(c for c in document["cases"] if c["id"] == prop_id)
    return found


def inputs(result: dict[str, Any]) -> list[tuple[str, Any, bool]]:
    return [(e["base"], e["vars"], e["shrinking"]) for e in result["extra"]["property"]["examples"]]


def without_hypothesis(project: Project) -> None:
    project.block_imports("hypothesis")


def test_a_recorded_property_keeps_its_inputs_readable_in_the_feature_recording(project: Project) -> None:
    prepare(project)
    drawn = report(project, "--aitest-record=once")
    broken, held = prop(drawn, "unchanged_by_case"), prop(drawn, "still_echoes")
    assert (broken["outcome"], held["outcome"]) == ("failed", "passed")
    assert broken["extra"]["property"]["inputs"] == "drawn"
    data = yaml.safe_load((project.root / RECORDING).read_text())
    records = {r["property"]: r for r in data["properties"]}
    assert set(records) == {"unchanged_by_case", "still_echoes"}
    record = records["unchanged_by_case"]
    assert record["model"] == {"provider": "echo", "model": "e1"} and record["budget"] == 6
    assert record["hypothesis"]  # the version that drew them, for the reader
    tried = [(e["base"], e["vars"], e["shrinking"]) for e in record["examples"]]
    assert tried == [(b, v, s) for b, v, s in inputs(broken)]  # every input, in order, shrinking included
    assert any(e["shrinking"] for e in record["examples"])
    minimal = record["examples"][record["minimal"]]  # the shrink result
    assert minimal["vars"] == broken["extra"]["property"]["minimal"]["vars"]
    assert records["still_echoes"]["minimal"] is None


def test_a_replay_needs_no_hypothesis_and_gives_the_same_result(project: Project) -> None:
    prepare(project)
    drawn = report(project, "--aitest-record=once")
    without_hypothesis(project)
    replayed = report(project, name="replayed.json", subprocess=True)
    assert "aitest recordings (none): " in replayed["_stdout"] and " 0 missed" in replayed["_stdout"]
    for prop_id in ("unchanged_by_case", "still_echoes"):
        was, now = prop(drawn, prop_id), prop(replayed, prop_id)
        assert now["outcome"] == was["outcome"]
        assert now["extra"]["property"]["inputs"] == "recorded"
        assert inputs(now) == inputs(was)
        assert [e["output"] for e in now["extra"]["property"]["examples"]] == [
            e["output"] for e in was["extra"]["property"]["examples"]
        ]
        assert now["extra"]["property"].get("minimal") == was["extra"]["property"].get("minimal")
        assert now["reason"] == was["reason"]
    # `new` replays recorded inputs too (it only draws what is not recorded): still no Hypothesis
    again = report(project, "--aitest-record=new", name="new.json", subprocess=True)
    assert prop(again, "unchanged_by_case")["outcome"] == "failed"
    assert "0 recorded" in again["_stdout"]


def test_a_changed_invariant_judges_the_recorded_inputs_again(project: Project) -> None:
    prepare(project)
    report(project, "--aitest-record=once")
    spec = project.root / "specs/echo.yaml"
    spec.write_text(spec.read_text().replace("    expect: same\n", "    expect:\n      - contains: 'echo:'\n"))
    without_hypothesis(project)
    replayed = report(project, subprocess=True)
    assert prop(replayed, "unchanged_by_case")["outcome"] == "passed"


def test_a_recording_without_the_inputs_says_how_to_record_them(project: Project) -> None:
    """A recording from an aitest that did not keep a property's inputs (or made by hand): a miss, with the flag."""
    prepare(project)
    report(project, "--aitest-record=once")
    path = project.root / RECORDING
    text = path.read_text()
    path.write_text(text[: text.index("properties:\n")] + text[text.index("entry_count:") :])
    result = project.run("-p", "no:cacheprovider")
    result.assert_outcomes(passed=2, failed=2)
    result.stdout.fnmatch_lines(
        [
            "*no recorded inputs for property 'unchanged_by_case' (specs/__recordings__/echo.yaml; model echo e1, budget 6)",
            "*the recording has no inputs of this property: it was added since, renamed, or recorded by an aitest "
            "that did not keep a property's inputs",
            "*hint: record them with --aitest-record=new (or AITEST_RECORD=new)",
        ]
    )
    # the flag it names records them, and the replay passes again
    project.run("-p", "no:cacheprovider", "--aitest-record=new").assert_outcomes(passed=3, failed=1)
    assert "properties:" in path.read_text()
    project.run("-p", "no:cacheprovider").assert_outcomes(passed=3, failed=1)


def test_another_budget_or_changed_variations_are_misses_that_say_why(project: Project) -> None:
    prepare(project)
    report(project, "--aitest-record=once")
    cut = project.run("-p", "no:cacheprovider", "--aitest-max-examples=3", "-k", "still_echoes")
    cut.assert_outcomes(failed=1)
    cut.stdout.fnmatch_lines(["*nearest recorded inputs differ in budget: recorded 4 examples, now 3*"])
    spec = project.root / "specs/echo.yaml"
    spec.write_text(spec.read_text().replace("vary: {q: [filler]}", "vary: {q: [filler, typos]}"))
    changed = project.run("-p", "no:cacheprovider", "-k", "still_echoes")
    changed.assert_outcomes(failed=1)
    changed.stdout.fnmatch_lines(
        ["*nearest recorded inputs differ in its variations, base cases or the values they vary changed since*"]
    )
    # another model: its own inputs (its shrinking follows its own answers)
    toml = project.root / "pyproject.toml"
    toml.write_text(toml.read_text().replace('model = "e1"', 'model = "e2"'))
    other = project.run("-p", "no:cacheprovider", "-k", "unchanged_by_case")
    other.assert_outcomes(failed=1)
    other.stdout.fnmatch_lines(["*differ in model: recorded echo e1, now echo e2*"])


def test_properties_recorded_by_two_workers_land_in_one_file(project: Project) -> None:
    prepare(project)
    project.run("-p", "no:cacheprovider", "-n", "2", "--aitest-record=once").assert_outcomes(passed=3, failed=1)
    data = yaml.safe_load((project.root / RECORDING).read_text())
    assert sorted(r["property"] for r in data["properties"]) == ["still_echoes", "unchanged_by_case"]
    project.run("-p", "no:cacheprovider", "-n", "2").assert_outcomes(passed=3, failed=1)


def test_rewrite_keeps_only_the_inputs_it_used(project: Project) -> None:
    prepare(project)
    report(project, "--aitest-record=once")
    spec = project.root / "specs/echo.yaml"
    spec.write_text(spec.read_text().replace("id: still_echoes", "id: echoes_still"))
    project.run("-p", "no:cacheprovider", "--aitest-record=rewrite").assert_outcomes(passed=3, failed=1)
    data = yaml.safe_load((project.root / RECORDING).read_text())
    assert sorted(r["property"] for r in data["properties"]) == ["echoes_still", "unchanged_by_case"]


def test_inputs_edited_to_name_another_case_are_an_error_not_a_replay(project: Project) -> None:
    prepare(project)
    report(project, "--aitest-record=once")
    path = project.root / RECORDING
    text = path.read_text()
    head, inputs = text.split("properties:\n", 1)
    path.write_text(head + "properties:\n" + inputs.replace("- base: second", "- base: nowhere", 1))
    result = project.run("-p", "no:cacheprovider", "-k", "still_echoes")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*the recorded inputs of property 'still_echoes' (key *) hold example 1 of base case 'nowhere' "
            "with vars q, which this property does not vary: they were edited by hand",
            "*hint: record the feature again with --aitest-record=rewrite*",
        ]
    )
    assert "Traceback" not in result.stdout.str()


def test_a_missing_property_reports_no_inputs_tried(project: Project) -> None:
    prepare(project)
    document = report(project, "-k", "still_echoes")  # nothing recorded yet: the file does not exist
    missing = prop(document, "still_echoes")
    assert missing["outcome"] == "missing"
    assert missing["extra"]["property"]["inputs"] == "none" and missing["extra"]["property"]["examples"] == []
