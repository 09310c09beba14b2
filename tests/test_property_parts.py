"""The parts of a property, in process: the edits of each variation, the runner's shrinking bound."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aitest.properties import runner as runner_module
from aitest.properties.failure import format_property_failure
from aitest.properties.variations import (
    add_filler,
    add_typos,
    add_whitespace,
    change_case,
    change_punctuation,
    replace_all,
    small_index,
)
from aitest.session import AitestSession

TEXT = "I was charged twice this month"


def test_each_edit_says_what_it_did() -> None:
    assert add_typos(TEXT, (("swap", 20),)).note == "typos: 'charged' -> 'cahrged'"
    assert add_typos(TEXT, (("drop", 0), ("double", 99))).value == " was charged twice this monthh"
    assert add_whitespace(TEXT, (("newline", 0),)).value == "I\nwas charged twice this month"
    assert add_whitespace(TEXT, (("edges", 0),)).note == "whitespace: spaces and a newline around the text"
    assert change_case(TEXT, "upper").value == TEXT.upper()
    assert change_case(TEXT, "random", (0,)).value == "i was charged twice this month"
    assert change_punctuation("Where is it?", (("remove", 0),)).value == "Where is it"
    assert change_punctuation("Where is it", (("!", 0), (",", 0))).value == "Where, is it!"
    assert add_filler("text", 0, 0).value == "Hi,\ntext\n\nThanks, Anna"
    assert replace_all(TEXT, {"twice": "two times"}).note == "replace: 'twice' -> 'two times'"
    assert replace_all("I was charged wtice", {"twice": "thrice"}).note == "replace: 'twice' not found (unchanged)"


def test_an_edit_keeps_its_place_when_another_is_dropped() -> None:
    """Shrinking drops edits one by one: the others must still land where they did."""
    both = add_typos(TEXT, (("swap", 20), ("drop", 90))).value
    one = add_typos(TEXT, (("drop", 90),)).value
    assert both.endswith(one[-10:]) and "moth" in both


@given(size=st.integers(1, 100_000), data=st.data())
def test_small_index_stays_in_range(size: int, data: st.DataObject) -> None:
    assert 0 <= data.draw(small_index(size)) < size


SPEC = """
feature: parts
target: parts_app:fragile
output: json
cases:
  - id: a
    vars: {ticket: "I was charged twice this month"}
properties:
  - id: p
    vary: {ticket: [{typos: 10}, case, whitespace]}
    examples: 50
    expect: same
"""


@pytest.fixture
def session(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[AitestSession]:
    (tmp_path / "specs").mkdir()
    (tmp_path / "specs" / "parts.yaml").write_text(SPEC)
    (tmp_path / "parts_app.py").write_text(
        "def fragile(ticket):\n    t = ticket.lower()\n"
        "    return {'category': 'billing' if 'charged' in t or 'twice' in t else 'account'}\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.chdir(tmp_path)
    yield AitestSession.for_rootdir(tmp_path)
    sys.modules.pop("parts_app", None)  # other tests' projects have modules of their own


def test_shrinking_is_bounded_by_a_count_not_by_time(session: AitestSession, monkeypatch: pytest.MonkeyPatch) -> None:
    from hypothesis.internal.conjecture import engine

    before = engine.MAX_SHRINKING_SECONDS
    spec = session.load(session.config.rootdir / "specs" / "parts.yaml")
    prop = spec.properties[0]
    whole = runner_module.PropertyRunner(spec, prop, session.runtime, budget=50).run()
    assert whole.outcome == "failed" and not whole.extra["property"]["shrink_cut"]
    assert whole.extra["property"]["shrink_steps"] > 2
    monkeypatch.setattr(runner_module, "SHRINK_BUDGET", 2)
    cut = runner_module.PropertyRunner(spec, prop, session.runtime, budget=50).run()
    info = cut.extra["property"]
    assert cut.outcome == "failed" and info["shrink_cut"] and info["shrink_steps"] == 2
    assert "; shrinking stopped at its budget, a smaller one may exist" in format_property_failure(cut)
    again = runner_module.PropertyRunner(spec, prop, session.runtime, budget=50).run()
    assert [(e["vars"], e["variations"]) for e in again.extra["property"]["examples"]] == [
        (e["vars"], e["variations"]) for e in info["examples"]
    ]
    assert before == engine.MAX_SHRINKING_SECONDS  # Hypothesis's own limit is back for the user's tests
