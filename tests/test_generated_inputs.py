"""Hypothesis on aitest itself: generated spec documents only ever load or give our own error, and
recordings round-trip any text a model may answer (unicode, newlines, very long outputs)."""

from __future__ import annotations

import copy
import os
from pathlib import Path
from typing import Any

import pytest
import yaml
from fuzz_inputs import load_spec_text
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

THOROUGH = (os.environ.get("HYPOTHESIS_PROFILE") or ("thorough" if os.environ.get("CI") else "quick")) == "thorough"
SPEC_EXAMPLES = 10_000 if THOROUGH else 300

WORDS = ["case", "whitespace", "typos", "punctuation", "filler", "choices", "append", "prepend", "replace",
         "same", "similar", "checks", "equals", "contains", "one_of", "regex", "schema", "path", "threshold",
         "ticket", "n", "a", "b", "gen_feature:echo", "os:system", "json", "gemma-270m", "{{ ticket }}", "{{ nope }}",
         "x" * 80, "typo", "sme", "", " ", "\t", "é", "\U0001f600", "[0]", "a.b[1]", "[", "yes", "no", "vray",
         "exampels", "from", "vary", "examples", "expect", "properties", "cases", "vars", "id"]  # fmt: skip
BASES = [
    {
        "feature": "fuzz",
        "target": "gen_feature:pair",
        "output": "json",
        "determinism": {"runs": 2, "agree": "json"},
        "expect": [{"contains": "a", "ignore_case": True}],
        "cases": [
            {"id": "a", "vars": {"ticket": "I was charged twice", "n": 1}, "expect": [{"equals": "x", "path": "k"}]},
            {"id": "b", "vars": {"ticket": "reset my password", "n": 2}},
        ],
        "properties": [
            {"id": "p", "from": ["a"], "vary": {"ticket": ["case", "typos", {"typos": 2}, {"case": "upper"}]},
             "examples": 5, "expect": "same", "path": "category"},
            {"id": "q", "vary": {"ticket": [{"append": "!"}, {"replace": {"I": "we"}}], "n": [{"choices": [1, 2]}]},
             "expect": [{"one_of": ["a", "b"], "path": "priority"}], "from": "a"},
            {"id": "r", "vary": {"ticket": ["filler", "whitespace", "punctuation", {"prepend": "Hi "}]},
             "expect": {"similar": 0.7}},
        ],
    },
    {
        "feature": "fuzz_prompt",
        "prompt": "Classify: {{ ticket }}",
        "params": {"temperature": 0, "max_tokens": 8},
        "cases": [{"id": "a", "vars": {"ticket": "hello"}, "expect": [{"regex": "\\w+"}]}],
        "properties": [{"id": "p", "vary": {"ticket": ["case"]}, "expect": "checks", "examples": 1000}],
    },
]  # fmt: skip
small_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 2000),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(WORDS),
    st.text(max_size=8),
    st.lists(st.sampled_from(WORDS), max_size=3),
    st.dictionaries(st.sampled_from(WORDS), st.sampled_from(WORDS) | st.integers(-1, 5), max_size=2),
)


def _slots(node: Any) -> list[tuple[Any, Any]]:
    """Every (container, key) of a document, depth first."""
    items = list(node.items()) if isinstance(node, dict) else list(enumerate(node)) if isinstance(node, list) else []
    out = []
    for key, value in items:
        out.append((node, key))
        out.extend(_slots(value))
    return out


@st.composite
def documents(draw: st.DrawFn) -> dict[str, Any]:
    """A valid spec with properties, after one to four structural edits: near-valid, so that every part
    of the loader (properties included) meets broken input, not only its first check."""
    doc = copy.deepcopy(draw(st.sampled_from(BASES)))
    for _ in range(draw(st.integers(1, 4))):
        slots = _slots(doc)
        parent, key = slots[draw(st.integers(0, len(slots) - 1))]
        op = draw(st.sampled_from(["set", "delete", "rename", "wrap", "copy"]))
        if op == "set":
            parent[key] = draw(small_values)
        elif op == "delete":
            del parent[key]
        elif op == "rename" and isinstance(parent, dict):
            parent[draw(st.sampled_from(WORDS))] = parent.pop(key)
        elif op == "wrap":
            parent[key] = [parent[key]] if draw(st.booleans()) else {draw(st.sampled_from(WORDS)): parent[key]}
        elif op == "copy" and isinstance(parent, list):
            parent.append(copy.deepcopy(parent[key]))
    return doc


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("generated")
    (folder / "gen_feature.py").write_text(
        "def echo(ticket):\n    return ticket\n\ndef pair(ticket, n):\n    return ticket\n"
    )
    return folder


def _dump(document: dict[str, Any]) -> str:
    return yaml.safe_dump(document, allow_unicode=True, sort_keys=False)


@pytest.mark.slow
@settings(max_examples=SPEC_EXAMPLES, suppress_health_check=list(HealthCheck), deadline=None)
@given(document=documents())
def test_a_generated_spec_loads_or_is_refused_with_our_error(root: Path, document: dict[str, Any]) -> None:
    assert load_spec_text(_dump(document), root) in ("ok", "error")


def test_generated_specs_reach_the_properties_section(root: Path) -> None:
    """The generator is not all noise: a near-valid document with properties loads."""
    document = {
        "feature": "fuzz",
        "target": "gen_feature:pair",
        "cases": [{"id": "a", "vars": {"ticket": "hello", "n": 1}}],
        "properties": [{"id": "p", "vary": {"ticket": ["case", {"append": "!"}]}, "expect": "same"}],
    }
    assert load_spec_text(_dump(document), root) == "ok"
    document["properties"][0]["vary"] = {"n": ["typos"]}
    assert load_spec_text(_dump(document), root) == "error"


model_text = st.text(st.characters(exclude_categories=("Cs",)), max_size=200) | st.text(
    st.sampled_from("ab \n\t\r\u2028\x85\ufeff\x00\x1b'\":#-|>é\U0001f600"), max_size=50
)
long_text = st.integers(10_000, 60_000).map(lambda n: ("line of output\n" * (n // 15 + 1))[:n])


@given(
    prompt=model_text,
    response=model_text | long_text,
    params=st.fixed_dictionaries(
        {}, optional={"max_tokens": st.integers(1, 4096), "stop": st.lists(model_text, max_size=2)}
    ),
)
@settings(suppress_health_check=list(HealthCheck), deadline=None)
def test_recordings_round_trip_any_text(tmp_path_factory: pytest.TempPathFactory, prompt: str, response: str,
                                        params: dict[str, Any]) -> None:  # fmt: skip
    from aitest.recordings import fileformat
    from aitest.recordings.entry import Entry, Request, entry_key
    from aitest.util.files import write_atomic

    model = {"provider": "llama_cpp", "model": "bundled:gemma-3-270m"}
    request = Request("complete", prompt=prompt, params=params)
    entry = Entry(entry_key(model, request, 0), model, request, 0, response, 12.5, 3, 4)
    path = tmp_path_factory.mktemp("rec") / "feature.yaml"
    write_atomic(path, fileformat.dump("feature", {entry.key: entry}))
    (back,) = fileformat.read(path, "feature.yaml").values()
    assert back == entry
    assert entry_key(back.model, back.request, back.run) == entry.key
