"""Outputs in failure messages: different outputs never read the same, empty says so, JSON cut off by max_tokens says so."""

from __future__ import annotations

from pathlib import Path

import pytest
from recorded import Call, write_recording

from aitest.util.text import cut_apart, unified_diff
from conftest import Project

BASE = "Your refund of the second charge was approved. " * 10  # 480 characters the same, then the ending differs
LONGS = f"""
import itertools
_n = itertools.count()

def answer():
    return {BASE!r} + ("It arrives on Monday." if next(_n) % 2 == 0 else "It arrives on Friday.")

def echo(text):
    return text
"""


def test_long_outputs_that_differ_at_the_end_show_where_they_differ(project: Project) -> None:
    project.module("longs", LONGS)
    project.spec(
        "specs/longs.yaml",
        "feature: longs\ntarget: longs:answer\ndeterminism: {runs: 2, agree: exact}\n"
        "cases:\n  - id: a\n    expect: [{contains: refund}]\n",
    )
    result = project.run()
    result.assert_outcomes(failed=1)
    tail = "charge was approved. Your refund of the second charge was approved. It arrives on"
    result.stdout.fnmatch_lines(
        [
            "  2 distinct outputs:",
            f"    1x (393 characters before) ...he second {tail} Monday.' (run 1)",
            f"    1x (393 characters before) ...he second {tail} Friday.' (run 2)",
            "    --- first output",
            "    +++ second output",
            "    @@ -1 +1 @@",
            f"    -(191 characters before) ...r refund of the second *{tail} Monday.",
            f"    +(191 characters before) ...r refund of the second *{tail} Friday.",
        ]
    )


@pytest.mark.parametrize(
    ("text", "shown"), [("''", "    (empty)"), ('"  \\n"', "    (only whitespace: '  \\n')"), ('"ok"', "    ok")]
)
def test_an_empty_output_says_so(project: Project, text: str, shown: str) -> None:
    project.module("longs", LONGS)
    project.spec(
        "specs/e.yaml",
        f"feature: e\ntarget: longs:echo\ncases:\n  - id: a\n    vars: {{text: {text}}}\n    expect: [{{min_length: 5}}]\n",
    )
    result = project.run()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["  output:", shown, "=*short test summary info*"])


JSON_SPEC = """
feature: triage
prompt: "Classify: {{ ticket }}"
params: {max_tokens: 16}
output: json
cases:
  - id: cut
    vars: {ticket: charged twice}
    expect: [{equals: billing, path: category}]
"""


@pytest.mark.parametrize(
    ("tokens", "message"),
    [
        (16, "  output is not valid JSON: it was cut off at max_tokens=16 (raise params.max_tokens)"),
        (9, "  output is not valid JSON (Unterminated string starting at: line 1 column 14 (char 13))"),
    ],
)
def test_json_cut_off_at_max_tokens_says_so(project: Project, tokens: int, message: str) -> None:
    project.spec("specs/triage.yaml", JSON_SPEC)
    call = Call("Classify: charged twice", '{"category": "bill', params={"max_tokens": 16}, completion_tokens=tokens)
    write_recording(project.root, "triage", [call])
    result = project.run()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        ["triage::cut failed (specs/triage.yaml:6:9)", message, "  output:", '    {"category": "bill']
    )


def test_a_target_whose_model_answer_was_cut_off_says_so_for_a_path(project: Project) -> None:
    project.module("bot", "def ask(ticket, model):\n    return model.complete(ticket, max_tokens=8)\n")
    project.spec(
        "specs/bot.yaml",
        "feature: bot\ntarget: bot:ask\ncases:\n  - id: a\n    vars: {ticket: hi}\n"
        "    expect: [{equals: billing, path: category}]\n",
    )
    call = Call("hi", '{"category": "bi', params={"max_tokens": 8}, completion_tokens=8)
    write_recording(project.root, "bot", [call])
    result = project.run()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "  equals [path category] at specs/bot.yaml:6:14: path 'category' needs JSON output, "
            "but the output is not JSON: it was cut off at max_tokens=8 (raise params.max_tokens)"
        ]
    )


def test_cut_apart_keeps_different_texts_different() -> None:
    texts = ["a" * 500 + "x", "a" * 500 + "y", "short"]
    shown = cut_apart(texts, 100)
    assert len(set(shown)) == 3
    assert shown[2] == "short"
    assert shown[0].endswith("ax") and shown[1].endswith("ay")
    assert cut_apart(["same start, different", "other"], 100) == ["same start, different", "other"]


def test_a_diff_of_two_long_lines_shows_where_they_differ() -> None:
    before, after = "x" * 1000 + " Monday " + "z" * 1000, "x" * 1000 + " Friday " + "z" * 1000
    lines = unified_diff(before, after, labels=("a", "b"))
    removed, added = (line for line in lines if line[:1] in "-+" and line[:3] not in ("---", "+++"))
    assert "Monday" in removed and "Friday" in added
    assert removed[1:].replace("Monday", "Friday") == added[1:]


@pytest.mark.slow
def test_json_cut_off_by_the_real_model_says_so(project: Project, gemma: Path) -> None:
    project.spec(
        "specs/triage.yaml",
        """
        feature: triage
        prompt: |
          Classify the support ticket. Answer as JSON with the keys category and priority.
          Ticket: {{ ticket }}
        params: {max_tokens: 5, temperature: 0}
        output: json
        cases:
          - id: cut
            vars: {ticket: I was charged twice this month}
            expect: [{equals: billing, path: category}]
        """,
    )
    result = project.run("--aitest-record=once")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        ["  output is not valid JSON: it was cut off at max_tokens=5 (raise params.max_tokens)"]
    )
    project.run().stdout.fnmatch_lines(["  output is not valid JSON: it was cut off at max_tokens=5 (*"])  # replayed
