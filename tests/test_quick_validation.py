"""The fast pre-check never calls an invalid spec valid: it agrees with jsonschema wherever it says yes."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from aitest.spec.schema import check_schemas, spec_schema
from aitest.util.schema_quick import quick_valid

KEYS = [
    "contains",
    "regex",
    "equals",
    "one_of",
    "max_length",
    "schema",
    "similar",
    "no_pii",
    "max_latency_ms",
    "path",
    "ignore_case",
    "threshold",
    "type",
    "value",
    "contains_all",
    "nope",
]
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 3),
    st.floats(-1, 2, allow_nan=False),
    st.text(max_size=4),
    st.sampled_from(["all", "email", "x", "[", "a.b[0]", ""]),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(KEYS), inner, max_size=3),
    max_leaves=6,
)
ITEMS = st.dictionaries(st.sampled_from(KEYS), VALUES, min_size=1, max_size=3)
CASES = st.fixed_dictionaries(
    {"id": st.sampled_from(["a", "b-1", "bad id", ""])},
    optional={"vars": VALUES, "expect": st.lists(ITEMS, max_size=2), "determinism": VALUES, "extra": VALUES},
)
SPECS = st.fixed_dictionaries(
    {"feature": st.sampled_from(["ok", "Bad Name", ""]), "cases": st.lists(CASES, max_size=2)},
    optional={
        "target": st.sampled_from(["m:f", "m.f", 3]),
        "output": st.sampled_from(["text", "json", "jsn"]),
        "params": VALUES,
        "expect": st.lists(ITEMS, max_size=2),
        "determinism": VALUES,
    },
)


def agrees(schema: dict[str, Any], value: Any) -> bool:
    return not quick_valid(schema, value, schema) or Draft202012Validator(schema).is_valid(value)


@given(ITEMS)
@settings(max_examples=400, deadline=None)
def test_quick_valid_is_sound_for_check_items(item: dict[str, Any]) -> None:
    for schema in check_schemas().values():
        assert agrees(schema, item), (schema, item)


@given(SPECS)
@settings(max_examples=300, deadline=None)
def test_quick_valid_is_sound_for_whole_specs(spec: dict[str, Any]) -> None:
    assert agrees(spec_schema(), spec)


def test_quick_valid_accepts_typical_valid_specs() -> None:
    spec = {
        "feature": "ok",
        "target": "m:f",
        "output": "json",
        "determinism": {"runs": 3, "agree": "json"},
        "expect": [{"schema": {"type": "object"}}, {"no_pii": "all"}],
        "cases": [
            {
                "id": "a",
                "vars": {"x": 1},
                "expect": [{"similar": ["x", "y"], "threshold": 0.7}, {"max_length": 3, "path": "a.b"}],
            }
        ],
    }
    schema = spec_schema()
    assert quick_valid(schema, spec, schema)
