"""The checks users bring from promptfoo (text, structure, reply), passing and failing as a user sees them."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest

from aitest.checks.registry import all_checks
from aitest.checks.text import edit_distance
from aitest.recordings import fileformat
from aitest.recordings.entry import Entry, Request, entry_key
from aitest.util.files import write_atomic
from conftest import Project, literal_brackets


def verdict(project: Project, check: str, output: str) -> tuple[dict[str, Any], Any]:
    """Run one case whose target returns ``output`` (a Python literal) under ``check`` (YAML of one list item);
    the check's verdict as the JSON report holds it, and the pytest result."""
    project.module("out", f"def produce():\n    return {output}\n")
    project.spec(
        "specs/c.yaml", f"feature: c\ntarget: out:produce\ncases:\n  - id: one\n    expect:\n      - {check}\n"
    )
    result = project.run("--aitest-report=report.json")
    (case,) = json.loads((project.root / "report.json").read_text())["cases"]
    (checked,) = case["runs"][0]["checks"]
    return checked, result


# (check YAML, output as a Python literal, the message of the verdict, its score or None)
PASSING = [
    ("starts_with: Hello", "'  Hello there'", "starts with 'Hello'", None),
    ("starts_with: HELLO\n        ignore_case: true", "'hello there'", "starts with 'HELLO'", None),
    ("ends_with: thanks.", "'Done, thanks.\\n'", "ends with 'thanks.'", None),
    ("ends_with: THANKS.\n        ignore_case: true", "'Done, thanks.'", "ends with 'THANKS.'", None),
    ("word_count: 3", "'one two  three'", "3 words, exactly 3", None),
    ("word_count: {min: 2, max: 4}", "'one two three'", "3 words, within 2..4", None),
    ("word_count: {max: 80}", "'short answer'", "2 words <= 80", None),
    ("word_count: {min: 1}", "'word'", "1 word >= 1", None),
    ("levenshtein: kitten", "'sitting'", "edit distance 3 to 'kitten' <= max_distance 5", 1 - 3 / 7),
    ("levenshtein: Hello\n        ignore_case: true", "'hello'", "edit distance 0 to 'Hello' <= max_distance 5", 1.0),
    ("is_json", "'{\"a\": 1}'", "the output is JSON", None),
    ("is_json", "'```json\\n[1, 2]\\n```'", "the output is JSON", None),
    ("is_json: {type: object, required: [a]}", "{'a': 1}", "JSON valid against the schema", None),
    ("contains_json", "'Here: {\"a\": [1, 2]} done'", "contains JSON '{\"a\": [1, 2]}'", None),
    ("contains_json", "'Sure!\\n```json\\n{\"b\": true}\\n```'", "contains JSON '{\"b\": true}'", None),
    ("contains_json: {required: [b]}", '\'{"a": 1} or {"b": 2}\'', "contains JSON '{\"b\": 2}'", None),
    ("is_xml", "'<root><child>x</child></root>'", "well-formed XML with root <root>", None),
    (
        "is_xml:\n        required_elements: [analysis.color]",
        "'<analysis><color>Red</color></analysis>'",
        "well-formed XML with root <analysis>",
        None,
    ),
    (
        "contains_xml",
        "'Sure, here is your xml:\\n<root><child>C</child></root>\\nAnything else?'",
        "contains XML '<root><child>C</child></root>' with root <root>",
        None,
    ),
    ("is_refusal", "\"I'm sorry, but I can't help with that.\"", 'a refusal: "I\'m sorry, but"', None),
    ("is_refusal", "'As an AI, I do not have opinions.'", "a refusal: 'As an AI,'", None),
    ("is_refusal", "'  '", "a refusal: the output is empty", None),
]


@pytest.mark.parametrize(("check", "output", "message", "score"), PASSING)
def test_check_passes_with_its_message(
    project: Project, check: str, output: str, message: str, score: float | None
) -> None:
    checked, result = verdict(project, check, output)
    result.assert_outcomes(passed=1)
    assert checked["message"] == message
    assert checked.get("score") == (pytest.approx(score) if score is not None else None)


# (check YAML, output as a Python literal, the failure line a user reads)
FAILING = [
    (
        "starts_with: Hello",
        "'Goodbye now'",
        "starts_with at specs/c.yaml:6:9: does not start with 'Hello': it starts with 'Goodbye now'",
    ),
    ("starts_with: Hello", "''", "starts_with at *: does not start with 'Hello': the output is empty"),
    ("starts_with: HELLO", "'hello'", "starts_with at *: does not start with 'HELLO': it starts with 'hello'"),
    ("ends_with: thanks.", "'Done. Bye'", "ends_with at *: does not end with 'thanks.': it ends with 'Done. Bye'"),
    ("word_count: 2", "'one two three'", "word_count at *: 3 words, expected exactly 2"),
    ("word_count: {min: 5}", "'one two'", "word_count at *: 2 words, fewer than the minimum 5"),
    ("word_count: {min: 1, max: 2}", "'a b c'", "word_count at *: 3 words, more than the maximum 2"),
    (
        "levenshtein: kitten\n        max_distance: 2",
        "'sitting'",
        "levenshtein at *: edit distance 3 to 'kitten', more than max_distance 2",
    ),
    (
        "levenshtein: abc",
        "'x' * 20001",
        "levenshtein at *: the output has 20001 characters, too long for an edit distance (at most 20000)",
    ),
    ("is_json", "'Sure! {'", "is_json at *: the output is not JSON: Expecting value: line 1 column 1 (char 0)"),
    ("is_json", "'[' * 100000", "is_json at *: the output is not JSON that can be read: it is nested too deeply"),
    (
        "is_json: {type: object, properties: {a: {type: string}}}",
        "'{\"a\": 1}'",
        "is_json at *: JSON, but not valid against the schema: at /a: 1 is not of type 'string'",
    ),
    ("contains_json", "'no JSON [here'", "contains_json at *: no JSON object or array found in the output"),
    ("contains_json", "'\\x00\\xff' * 50000", "contains_json at *: no JSON object or array found in the output"),
    (
        "contains_json: {required: [c]}",
        '\'{"a": 1} and {"b": 2}\'',
        "contains_json at *: contains 2 JSON values, none of them valid against the schema: at /: 'c' is a required property",
    ),
    ("is_xml", "'<root><child>x</root>'", "is_xml at *: not well-formed XML: mismatched tag: line 1, column 16"),
    ("is_xml", "''", "is_xml at *: not well-formed XML: the output is empty"),
    ("is_xml", "'Here: <a/>'", "is_xml at *: not well-formed XML: syntax error: line 1, column 0"),
    (
        "is_xml",
        '\'<!DOCTYPE l [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]><l>&b;</l>\'',
        "is_xml at *: not well-formed XML: it declares a DTD (<!DOCTYPE ...>), which aitest does not read: its "
        "entities could expand without bound",
    ),
    (
        "is_xml: {requiredElements: [analysis.classification, analysis.color]}",
        "'<analysis><classification>T-shirt</classification></analysis>'",
        "is_xml at *: well-formed XML, but missing the element analysis.color (found: analysis, analysis.classification)",
    ),
    ("contains_xml", "'a < b and b > c'", "contains_xml at *: no well-formed XML element found in the output"),
    ("contains_xml", "'<a><b></a>' * 5000", "contains_xml at *: no well-formed XML element found in the output"),
    (
        "contains_xml:\n        required_elements: [root.child]",
        "'Text <wrapper><root><child>C</child></root></wrapper>'",
        "contains_xml at *: contains XML '<wrapper><root><child>C</child></root></wrapper>', but "
        "missing the element root.child (found: wrapper, wrapper.root, wrapper.root.child)",
    ),
    (
        "is_refusal",
        "'Sure! Here is the recipe.'",
        "is_refusal at *: not a refusal: no refusal phrase in 'Sure! Here is the recipe.'",
    ),
]


@pytest.mark.parametrize(("check", "output", "failure"), FAILING)
def test_check_fails_with_the_message_a_user_reads(project: Project, check: str, output: str, failure: str) -> None:
    checked, result = verdict(project, check, output)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([literal_brackets(f"*{failure}*")])
    assert "Traceback" not in result.stdout.str()
    assert checked["passed"] is False


def test_a_levenshtein_failure_still_scores_how_close_it_came(project: Project) -> None:
    checked, _ = verdict(project, "levenshtein: colour\n        max_distance: 0", "'color'")
    assert checked["message"] == "edit distance 1 to 'colour', more than max_distance 0"
    assert checked["score"] == pytest.approx(1 - 1 / 6)


def test_edit_distance_is_the_classic_dynamic_programme() -> None:
    def table(a: str, b: str) -> int:
        row = list(range(len(b) + 1))
        for i, x in enumerate(a, 1):
            previous, row[0] = row[0], i
            for j, y in enumerate(b, 1):
                previous, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, previous + (x != y))
        return row[-1]

    rng = random.Random(18)
    for _ in range(500):
        a = "".join(rng.choice("abc ") for _ in range(rng.randint(0, 40)))
        b = "".join(rng.choice("abcd") for _ in range(rng.randint(0, 40)))
        assert edit_distance(a, b) == table(a, b), (a, b)
    assert edit_distance("kitten", "sitting") == 3
    assert edit_distance("", "abc") == edit_distance("abc", "") == 3


BAD = [
    (
        "starts_with: Hi\n    ignorecase: true",
        "5:5: unknown option 'ignorecase' of check 'starts_with'; did you mean 'ignore_case'?",
    ),
    ("ends_with: 3", "4:16: 'ends_with' must be text, not a whole number"),
    ("word_count: -1", "4:17: 'word_count' must be at least 0, not -1"),
    ("word_count: 2.5", "4:17: 'word_count' must be a whole number, not a number"),
    ("word_count: {min: 5, max: 2}", "4:17: word_count: min 5 is more than max 2"),
    ("levenshtein: abc\n    max_distance: -1", "5:19: 'max_distance' must be at least 0, not -1"),
    ("levenshtein: abc\n    max_distance: two", "5:19: 'max_distance' must be a whole number, not text"),
    ("is_xml:\n    required_elements: ['root..child']", "4:12: is_xml: bad element path 'root..child'"),
    ("contains_xml: {requiredElements: ['a/b']}", "4:19: contains_xml: bad element path 'a/b'"),
    ("is_xml: {required: [a]}", "4:13: missing required key 'requiredElements' in 'is_xml'"),
    (
        "finish_reason: done",
        "4:20: 'finish_reason' must be one of stop, length, tool_calls, content_filter, not 'done'",
    ),
    ("max_output_tokens: 0", "4:24: 'max_output_tokens' must be at least 1, not 0"),
    ("is_refusal: maybe", "4:17: 'is_refusal' must be one of None, True, not 'maybe'"),
]


@pytest.mark.parametrize(("check", "message"), BAD)
def test_bad_check_values_are_file_line_errors_at_collection(project: Project, check: str, message: str) -> None:
    project.spec(
        "specs/bad.yaml",
        f"feature: x\ntarget: feature:echo\nexpect:\n  - {check}\ncases: [{{id: a, vars: {{text: x}}}}]\n",
    )
    result = project.run()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([literal_brackets(f"specs/bad.yaml:{message}")])
    assert "Traceback" not in result.stdout.str()


def test_a_bad_element_path_says_how_to_write_one(project: Project) -> None:
    project.spec(
        "specs/bad.yaml",
        "feature: x\ntarget: feature:echo\nexpect:\n  - is_xml: {requiredElements: [a b]}\ncases: [{id: a, vars: {text: x}}]\n",
    )
    result = project.run()
    result.stdout.fnmatch_lines(
        [
            "specs/bad.yaml:4:*: is_xml: bad element path 'a b'",
            "  hint: write element names joined by dots, from the root: response.answer.text",
        ]
    )


def test_levenshtein_refuses_a_reference_too_long_to_compare(project: Project) -> None:
    project.spec(
        "specs/bad.yaml",
        f"feature: x\ntarget: feature:echo\nexpect:\n  - levenshtein: {'a' * 20001}\ncases: [{{id: a, vars: {{text: x}}}}]\n",
    )
    result = project.run()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["specs/bad.yaml:4:*levenshtein: the reference text has 20001 characters*"])


def test_every_promptfoo_spelling_is_declared_on_its_check() -> None:
    checks = all_checks()
    spelled = {alias: name for name, check in checks.items() for alias in check.aliases}
    assert {k: v for k, v in spelled.items() if k in PROMPTFOO} == PROMPTFOO


PROMPTFOO = {
    "starts-with": "starts_with",
    "word-count": "word_count",
    "is-json": "is_json",
    "contains-json": "contains_json",
    "is-xml": "is_xml",
    "contains-xml": "contains_xml",
    "is-refusal": "is_refusal",
    "finish-reason": "finish_reason",
    "contains-all": "contains_all",
    "contains-any": "contains_any",
    "not-contains": "not_contains",
    "not-regex": "not_regex",
}

# --- finish_reason and max_output_tokens, from recordings -------------------------------------------------

GPT = {"provider": "openai", "model": "gpt-4o-mini"}
PYPROJECT = """
[tool.aitest]
specs = ["specs"]
default_model = "gpt"

[tool.aitest.models.gpt]
provider = "openai"
base_url = "http://127.0.0.1:9/v1"
model = "gpt-4o-mini"
"""


def recorded(project: Project, expect: str, calls: list[tuple[str, str | None, int | None]]) -> Any:
    """A prompt spec whose two cases (`short`, `long`) replay ``calls`` (prompt, finish reason, completion
    tokens); the pytest result."""
    project.pytester.makepyprojecttoml(PYPROJECT)
    project.spec(
        "specs/tri.yaml",
        "feature: tri\nprompt: 'Classify: {{ ticket }}'\ncases:\n  - id: short\n    vars: {ticket: short}\n"
        f"  - id: long\n    vars: {{ticket: long}}\nexpect:\n  - {expect}\n",
    )
    entries = {}
    for prompt, reason, tokens in calls:
        request = Request("complete", prompt=prompt, params={})
        key = entry_key(GPT, request, 0)
        entries[key] = Entry(key, GPT, request, 0, "billing", 100.0, 50, tokens, finish_reason=reason)
    path: Path = project.root / "specs" / "__recordings__" / "tri.yaml"
    write_atomic(path, fileformat.dump("tri", entries))
    return project.run("-v", "--aitest-report=report.json")


def messages(project: Project) -> dict[str, str]:
    """Each case's first check message, from the run's JSON report."""
    cases = json.loads((project.root / "report.json").read_text())["cases"]
    return {c["id"]: c["runs"][0]["checks"][0]["message"] for c in cases}


def test_finish_reason_passes_on_the_recorded_reason_and_fails_on_another(project: Project) -> None:
    result = recorded(project, "finish_reason: stop", [("Classify: short", "stop", 5), ("Classify: long", "length", 5)])
    result.assert_outcomes(passed=1, failed=1)
    assert messages(project)["short"] == "finished with stop"
    result.stdout.fnmatch_lines(["*finish_reason at specs/tri.yaml:9:5: expected finish reason stop, got length*"])


def test_finish_reason_of_a_recording_that_predates_it_says_how_to_re_record(project: Project) -> None:
    result = recorded(project, "finish_reason: stop", [("Classify: short", None, 5), ("Classify: long", "stop", 5)])
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*finish_reason at *: the model's finish reason is not known: the recording predates finish reasons "
            "(re-record with --aitest-record=all), or the provider reports none*"
        ]
    )


def test_max_output_tokens_counts_the_recorded_completion_tokens(project: Project) -> None:
    result = recorded(
        project, "max_output_tokens: 20", [("Classify: short", "stop", 12), ("Classify: long", "length", 95)]
    )
    result.assert_outcomes(passed=1, failed=1)
    assert messages(project)["short"] == "12 completion tokens <= 20"
    result.stdout.fnmatch_lines(
        ["*max_output_tokens at specs/tri.yaml:9:5: 95 completion tokens, more than the maximum 20*"]
    )


def test_max_output_tokens_without_recorded_counts_fails_saying_so(project: Project) -> None:
    result = recorded(
        project, "max_output_tokens: 20", [("Classify: short", "stop", None), ("Classify: long", "stop", 3)]
    )
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*max_output_tokens at *: the completion token counts are not known: the model calls of profile 'gpt' reported none*"
        ]
    )


def test_reply_checks_on_a_target_that_calls_no_model(project: Project) -> None:
    checked, result = verdict(project, "max_output_tokens: 5", "'hi'")
    result.assert_outcomes(passed=1)
    assert checked["message"] == "0 completion tokens (no model call) <= 5"
    checked, result = verdict(project, "finish_reason: stop", "'hi'")
    assert checked["passed"] is False
    assert "the model's finish reason is not known" in checked["message"]
