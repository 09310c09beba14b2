"""Recordings that refuse to lie: every entry's key is computed again on load, and a damaged file is an error
naming its line and the flag that records it again, in every record mode; `rewrite` repairs and says so."""

from __future__ import annotations

import re

import pytest
from recorded import ECHO

from conftest import Project

RECORDING = "specs/__recordings__/echo.yaml"
MODES = ("none", "once", "new", "all", "rewrite")


def echo_project(project: Project, *, prop: bool = False) -> None:
    project.pytester.makepyprojecttoml(
        '[tool.aitest]\nspecs = ["specs"]\n\n[tool.aitest.models.echo]\nprovider = "echo"\nmodel = "e1"\n'
    )
    project.file("conftest.py", ECHO)
    properties = (
        "properties:\n"
        "  - id: any_case\n"
        "    vary: {q: [case, whitespace]}\n"
        "    examples: 5\n"
        "    expect:\n"
        "      - contains: 'echo:'\n"
        if prop
        else ""
    )
    project.spec(
        "specs/echo.yaml",
        "feature: echo\nmodel: echo\nprompt: 'Question: {{ q }}'\ncases:\n"
        "  - id: first\n    vars: {q: one}\n    expect: [{contains: one}]\n"
        "  - id: second\n    vars: {q: two}\n    expect: [{contains: two}]\n" + properties,
    )


def recorded(project: Project, *, prop: bool = False) -> str:
    echo_project(project, prop=prop)
    project.run("--aitest-record=once").assert_outcomes(passed=3 if prop else 2)
    return (project.root / RECORDING).read_text()


def entry_blocks(text: str) -> tuple[str, list[str], str]:
    """The file's head, its entries as text blocks, and what follows them."""
    head, rest = text.split("entries:\n", 1)
    tail_at = re.search(r"^(properties:|entry_count:)", rest, re.M)
    assert tail_at is not None
    body, tail = rest[: tail_at.start()], rest[tail_at.start() :]
    blocks = re.split(r"(?m)^(?=- key: )", body)
    return head + "entries:\n", [b for b in blocks if b], tail


def duplicate_key(text: str) -> str:
    """The first entry twice, with two different responses (two answers for one request)."""
    head, blocks, tail = entry_blocks(text)
    twin = blocks[0].replace("response: 'echo: Question: one'", "response: 'echo: something else'")
    assert twin != blocks[0]
    count = len(blocks) + 1
    return head + blocks[0] + twin + "".join(blocks[1:]) + re.sub(r"entry_count: \d+", f"entry_count: {count}", tail)


def edited_prompt(text: str) -> str:
    """A prompt changed by hand, its key kept: the response would replay as the answer to another question."""
    return text.replace("Question: one", "Question: uno", 1)


def made_up_entry(text: str) -> str:
    """A hand-made entry with a key that matches nothing."""
    head, blocks, tail = entry_blocks(text)
    fake = re.sub(r"^- key: \w+", "- key: 0123456789abcdef0123", blocks[0]).replace("Question: one", "Question: six")
    count = len(blocks) + 1
    return head + "".join(blocks) + fake + re.sub(r"entry_count: \d+", f"entry_count: {count}", tail)


DAMAGE = {
    "duplicate_key": (
        duplicate_key,
        "*echo.yaml:*:*: entry 2: the same key * as entry 1 (line *): one request recorded twice",
    ),
    "edited_prompt": (
        edited_prompt,
        "*echo.yaml:*:*: entry *: its key does not match its request: it was changed after it was recorded, or written by hand*",
    ),
    "made_up_entry": (made_up_entry, "*echo.yaml:*:*: entry 3: its key does not match its request*"),
    "version_0": (
        lambda t: t.replace("version: 2", "version: 0"),
        "*echo.yaml:3:10: corrupt recording: version 0 is not a format version aitest writes (1 to 2)*",
    ),
    "other_feature": (
        lambda t: t.replace("feature: echo", "feature: other"),
        "*echo.yaml:4:10: recording of the wrong feature: the file says feature 'other', but it is the recording of 'echo'*",
    ),
    "float_count": (
        lambda t: t.replace("entry_count: 2", "entry_count: 2.0"),
        "*echo.yaml:*:14: truncated or edited recording: its entry_count is 2.0, not a whole number (2 entries)*",
    ),
    "wrong_count": (
        lambda t: t.replace("entry_count: 2", "entry_count: 3"),
        "*echo.yaml:*:14: truncated or edited recording: its entry_count is 3, but it holds 2 entries*",
    ),
}
REPAIRABLE = {"duplicate_key", "edited_prompt", "made_up_entry"}  # entries: rewrite records them again


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("damage", sorted(DAMAGE))
def test_a_damaged_recording_is_an_error_in_every_mode(project: Project, damage: str, mode: str) -> None:
    text = recorded(project)
    change, message = DAMAGE[damage]
    damaged = change(text)
    assert damaged != text
    path = project.root / RECORDING
    path.write_text(damaged)
    result = project.run(f"--aitest-record={mode}", "-p", "no:randomly")
    out = result.stdout.str()
    assert "Traceback" not in out
    if mode == "rewrite" and damage in REPAIRABLE:
        result.assert_outcomes(passed=2)  # rewrite records the feature again and keeps only what it used
        result.stdout.fnmatch_lines(["*aitest warning: *echo.yaml:*:*: dropped (--aitest-record=rewrite): entry *"])
        repaired = path.read_text()
        assert repaired.count("- key: ") == 2 and "uno" not in repaired and "0123456789abcdef0123" not in repaired
        project.run("--aitest-record=none").assert_outcomes(passed=2)  # and the repaired file replays
        return
    result.assert_outcomes(failed=2)  # never a silent replay: each case of the feature fails with the reason
    result.stdout.fnmatch_lines([message])
    hint = "*hint: *--aitest-record=rewrite*" if damage in REPAIRABLE else "*hint: *"
    result.stdout.fnmatch_lines([hint])
    assert path.read_text() == damaged  # a damaged file is never rewritten (but by rewrite, above)


def test_off_neither_reads_nor_writes_a_damaged_recording(project: Project) -> None:
    text = recorded(project)
    path = project.root / RECORDING
    path.write_text(duplicate_key(text))
    project.run("--aitest-record=off").assert_outcomes(passed=2)
    assert path.read_text() == duplicate_key(text)


def test_the_clean_recording_replays_and_keys_round_trip(project: Project) -> None:
    text = recorded(project)
    assert "version: 2" in text and "entry_count: 2" in text
    project.run("--aitest-record=none").assert_outcomes(passed=2)


def test_a_recording_of_format_version_1_still_replays(project: Project) -> None:
    text = recorded(project)
    (project.root / RECORDING).write_text(text.replace("version: 2", "version: 1"))
    project.run("--aitest-record=none").assert_outcomes(passed=2)


def test_damaged_property_inputs_are_errors_too(project: Project) -> None:
    text = recorded(project, prop=True)
    assert "properties:\n- key: " in text
    path = project.root / RECORDING
    edited = text.replace("  budget: 5", "  budget: 4", 1)  # the inputs of another budget, key kept
    path.write_text(edited)
    result = project.run("--aitest-record=none")
    result.assert_outcomes(failed=3)
    result.stdout.fnmatch_lines(
        ["*echo.yaml:*:*: property inputs 1: its key does not match its inputs: it was changed*"]
    )
    assert path.read_text() == edited


def test_a_miss_shows_what_differs_where_the_prompt_text_does_not() -> None:
    """A request differing only where its text does not show it: the miss names the field, never a miss
    that shows no difference at all."""
    from aitest.recordings.entry import Entry, Request, entry_key
    from aitest.recordings.miss import describe_miss

    model = {"provider": "echo", "model": "e1"}
    was = Request("chat", messages=[{"role": "user", "content": "hi", "name": "anna"}])
    now = Request("chat", messages=[{"role": "user", "content": "hi", "name": "bob"}])
    assert was.text() == now.text()
    entry = Entry(entry_key(model, was, 0), model, was, 0, "hello", 1.0)
    message, hint = describe_miss({entry.key: entry}, shown="r.yaml", exists=True, model=model, request=now, run=0)
    assert 'request.messages[0].name differs: recorded "anna", now "bob"' in message
    assert "--aitest-record=new" in hint
    stale = Entry("0123456789abcdef0123", model, now, 0, "hello", 1.0)  # a key its request does not give
    message, _ = describe_miss({stale.key: stale}, shown="r.yaml", exists=True, model=model, request=now, run=0)
    assert "its key is stale: the entry was changed by hand after it was recorded" in message
