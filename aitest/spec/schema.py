"""The JSON Schema of the spec format: what `aitest schema` prints and what specs are validated against."""

from __future__ import annotations

from functools import cache
from typing import Any

from aitest.checks.registry import all_checks
from aitest.models.params import PARAMS as MODEL_PARAMS

COMMON_OPTIONS: dict[str, dict[str, Any]] = {
    "path": {
        "type": "string",
        "description": "select a field of JSON output first: dotted keys and [n], e.g. items[0].sku",
    },
    "critical": {
        "type": "boolean",
        "description": "aitest compare: a model swap that makes this check fail is refused, whatever the limits",
    },
}
GATE = {
    "type": "object",
    "description": "aitest compare: how a model swap is judged for this feature (the command line wins)",
    "properties": {
        "max_regressions": {"type": "integer", "minimum": 0, "description": "cases that may regress (default 0)"},
        "min_pass_rate": {"type": "number", "minimum": 0, "maximum": 1, "description": "the candidate's, at least"},
        "min_agreement": {"type": "number", "minimum": 0, "maximum": 1, "description": "outputs like the baseline's"},
        "allow_missing": {"type": "boolean", "description": "cases without evidence on a side do not fail the gate"},
        "margin": {
            "type": "number",
            "exclusiveMinimum": 0,
            "maximum": 1,
            "description": "a statistical verdict: pass when the pass rate is at most this much worse (95%)",
        },
        "allow_inconclusive": {"type": "boolean", "description": "with margin: an inconclusive verdict passes"},
    },
    "additionalProperties": False,
}
PARAMS = {
    "type": "object",
    "description": "passed to the model",
    "properties": dict(MODEL_PARAMS),
    "additionalProperties": False,
}
DETERMINISM = {
    "type": "object",
    "description": "run each case several times; see Determinism in docs/specs.md",
    "properties": {
        "runs": {"type": "integer", "minimum": 1, "maximum": 100},
        "agree": {"enum": ["exact", "json", "semantic"]},
        "threshold": {"type": "number", "minimum": 0, "maximum": 1},
        "min_pass": {"type": "integer", "minimum": 0},
    },
    "required": ["runs"],
    "additionalProperties": False,
}


@cache
def check_schemas() -> dict[str, dict[str, Any]]:
    """One JSON Schema per check name: the check's value plus its options."""
    out = {}
    for name, check in sorted(all_checks().items()):  # stable, whatever order the families were imported in
        properties = {name: {**check.value_schema, "description": check.description}}
        properties.update(COMMON_OPTIONS)
        properties.update(check.options)
        extra = bool(check.any_options)  # a plugin that failed to load: its use is reported, not its options
        out[name] = {"type": "object", "properties": properties, "required": [name], "additionalProperties": extra}
    return out


def _promptfoo_form() -> dict[str, Any]:
    return {
        "type": "object",
        "description": "promptfoo form: {type: contains, value: x}",
        "properties": {"type": {"enum": sorted(all_checks())}, "value": {}},
        "required": ["type"],
    }


def spec_schema(*, checks: dict[str, Any] | None = None) -> dict[str, Any]:
    """The whole spec format. ``checks`` replaces the schema of one check item (used for fast validation)."""
    check = checks if checks is not None else {"anyOf": [*check_schemas().values(), _promptfoo_form()]}
    expect = {"type": "array", "items": {"$ref": "#/$defs/check"}, "description": "checks that must hold of the output"}
    case = {
        "type": "object",
        "properties": {
            "id": {"type": "string", "pattern": "^[A-Za-z0-9_-]+$", "description": "unique in the file"},
            "description": {"type": "string"},
            "vars": {"type": "object", "description": "keyword arguments of the target / template variables"},
            "expect": expect,
            "determinism": DETERMINISM,
            "critical": {
                "type": "boolean",
                "description": "aitest compare: a model swap that makes this case fail is refused, whatever the limits",
            },
        },
        "required": ["id"],
        "additionalProperties": False,
    }
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "aitest behavior spec",
        "type": "object",
        "properties": {
            "feature": {"type": "string", "pattern": "^[a-z0-9_]+$", "description": "unique name of the AI feature"},
            "description": {"type": "string"},
            "owner": {"type": "string", "description": "team or person; shown in reports"},
            "model": {"type": "string", "description": "a model profile from [tool.aitest.models]"},
            "params": PARAMS,
            "prompt": {"type": "string", "description": "template; {{ name }} is replaced by the case's vars"},
            "target": {
                "type": "string",
                "pattern": "^[A-Za-z_][\\w.]*:[A-Za-z_]\\w*$",
                "description": "module.path:function",
            },
            "output": {"enum": ["text", "json"], "description": "json: parse the output before checking"},
            "expect": expect,
            "determinism": DETERMINISM,
            "gate": GATE,
            "cases": {"type": "array", "items": {"$ref": "#/$defs/case"}, "minItems": 1},
        },
        "required": ["feature", "cases"],
        "additionalProperties": False,
        "$defs": {"check": check, "case": case},
    }
