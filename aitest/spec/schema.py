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
    "weight": {
        "type": "number",
        "minimum": 0,
        "description": "its share of the case's score when the case sets threshold: (default 1; 0: shown, not counted)",
    },
}
THRESHOLD = {
    "type": "number",
    "minimum": 0,
    "maximum": 1,
    "description": "the case passes when the weighted mean of its checks' scores is at least this (a check "
    "without a score counts 1 when it passes, 0 when it fails); critical checks must pass whatever it says",
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


def variation_schema() -> dict[str, Any]:
    """A variation of a var (see Properties in docs/specs.md): a name, or a mapping with its option."""
    from aitest.config import MAX_EXAMPLES
    from aitest.spec.properties import CASE_MODES, MAX_TYPOS, RANDOM_KINDS

    def one(key: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
        body = {**schema, "description": description}
        return {"type": "object", "properties": {key: body}, "required": [key], "additionalProperties": False}

    return {
        "anyOf": [
            {"enum": list(RANDOM_KINDS), "description": "a random variation drawn by Hypothesis"},
            one("case", {"enum": list(CASE_MODES)}, "one case mode only"),
            one("typos", {"type": "integer", "minimum": 1, "maximum": MAX_TYPOS}, "at most this many typos per text"),
            one("choices", {"type": "array", "minItems": 1, "maxItems": MAX_EXAMPLES}, "the var becomes one of these"),
            one("append", {"type": "string", "minLength": 1}, "add this text at the end"),
            one("prepend", {"type": "string", "minLength": 1}, "add this text at the start"),
            one(
                "replace",
                {"type": "object", "additionalProperties": {"type": "string"}, "minProperties": 1},
                "replace each OLD text by NEW",
            ),
        ]
    }


def property_schema(variation: dict[str, Any]) -> dict[str, Any]:
    from aitest.config import MAX_EXAMPLES

    return {
        "type": "object",
        "description": "a behavior that must survive generated variations of the input (Hypothesis)",
        "properties": {
            "id": {"type": "string", "pattern": "^[A-Za-z0-9_-]+$", "description": "unique among cases and properties"},
            "description": {"type": "string"},
            "from": {
                "anyOf": [
                    {"type": "string"},
                    {"type": "array", "items": {"type": "string"}, "minItems": 1},
                ],
                "description": "the cases whose vars are varied (default: all)",
            },
            "vary": {
                "type": "object",
                "description": "var -> the variations applied to it, e.g. ticket: [case, typos]",
                "additionalProperties": {"type": "array", "items": variation, "minItems": 1},
                "minProperties": 1,
            },
            "examples": {
                "type": "integer",
                "minimum": 1,
                "maximum": MAX_EXAMPLES,
                "description": "how many varied inputs Hypothesis tries (default 20)",
            },
            "expect": {
                "description": "the invariant: same, similar, {similar: T}, checks, or a list of checks",
                "anyOf": [
                    {"enum": ["same", "similar", "checks"]},
                    {
                        "type": "object",
                        "properties": {"similar": {"type": "number", "minimum": 0, "maximum": 1}},
                        "required": ["similar"],
                        "additionalProperties": False,
                    },
                    {"type": "array", "items": {"$ref": "#/$defs/check"}, "minItems": 1},
                ],
            },
            "path": COMMON_OPTIONS["path"],
            "critical": {"type": "boolean", "description": "aitest compare: a swap that breaks it is refused"},
        },
        "required": ["id", "vary", "expect"],
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


def _editor_checks() -> list[dict[str, Any]]:
    """The check schemas as an editor sees them: the inner checks of not / any_of / all_of are checks too
    (validation checks those one by one instead, with messages of their own)."""
    from aitest.checks.combinators import Combinator

    known = all_checks()
    out = []
    for name, schema in check_schemas().items():
        kind = known[name]
        if issubclass(kind, Combinator):
            ref = {"$ref": "#/$defs/check"}
            value = {"type": "array", "items": ref, "minItems": 1} if kind.many else ref
            schema = {
                **schema,
                "properties": {**schema["properties"], name: {**value, "description": kind.description}},
            }
        out.append(schema)
    return out


def _spellings(*, takes_value: bool = True) -> list[str]:
    """Every name a check may be written as: aitest's, its aliases, promptfoo's hyphens, and the `i` (ignore
    case) and `not-` prefixes (see aitest.spec.forms)."""
    from aitest.util.schema_quick import quick_valid

    plain: dict[str, str] = {}
    for name, check in sorted(all_checks().items()):
        if not takes_value and not (
            quick_valid(check.value_schema, None, {}) and not quick_valid(check.value_schema, "x", {})
        ):
            continue
        for spelled in (name, name.replace("_", "-"), *check.aliases):
            plain.setdefault(spelled, name)
    folded = {f"i{s}": n for s, n in plain.items() if "ignore_case" in all_checks()[n].options}
    every = {**plain, **folded}
    if takes_value:
        every.update({f"not-{s}": n for s, n in every.items()})
    return sorted(every)


def _promptfoo_form() -> dict[str, Any]:
    return {
        "type": "object",
        "description": "promptfoo form: {type: contains, value: x}",
        "properties": {"type": {"enum": _spellings()}, "value": {}},
        "required": ["type"],
    }


def _bare_names() -> dict[str, Any]:
    """A check that takes no value, written as its bare name: `- no_tool_calls`."""
    return {"enum": _spellings(takes_value=False), "description": "a check that needs no value, by its name alone"}


def _cases_from(expect: dict[str, Any]) -> dict[str, Any]:
    one = [
        {"type": "string", "minLength": 1},
        {
            "type": "object",
            "properties": {
                "file": {"type": "string", "minLength": 1, "description": "the .csv or .jsonl file"},
                "expect": {**expect, "description": "checks for every case of the file"},
            },
            "required": ["file"],
            "additionalProperties": False,
        },
    ]
    return {
        "description": "more cases, one per row of data files relative to this spec: .csv (with a header row) or "
        ".jsonl (one JSON object per line); the columns are the vars, an id column the id; a row's own checks "
        "in __expected (__expected1, __expected2, ...) as 'equals: refund', and expect.FIELD columns (equals on "
        "that path); __description and __threshold are the case's",
        "oneOf": [*one, {"type": "array", "items": {"oneOf": one}, "minItems": 1}],
    }


def turn_schema() -> dict[str, Any]:
    """One turn of a chat: `{role: content}` or the OpenAI form."""
    from aitest.spec.chat import ROLES

    short = [
        {"type": "object", "properties": {r: {"type": "string"}}, "required": [r], "additionalProperties": False}
        for r in ROLES
    ]
    openai_form = {
        "type": "object",
        "properties": {
            "role": {"enum": list(ROLES)},
            "content": {"type": ["string", "null"]},
            "tool_calls": {"type": "array", "items": {"type": "object"}},
            "tool_call_id": {"type": "string"},
            "name": {"type": "string"},
        },
        "required": ["role"],
        "additionalProperties": False,
    }
    return {"anyOf": [*short, openai_form], "description": "a turn: '- user: text' or {role, content, tool_calls}"}


def _chat_keys(turn: dict[str, Any]) -> dict[str, Any]:
    """The top-level keys of a chat spec: messages, tools and how they are used."""
    return {
        "messages": {
            "type": "array",
            "items": turn,
            "minItems": 1,
            "description": "a chat sent to the model; {{ name }} in any content is replaced by the case's vars",
        },
        "tools": {
            "description": "tools the model may call: a YAML or JSON file of OpenAI function definitions, or a list",
            "type": ["string", "array"],
            "minLength": 1,
            "items": {"type": "object"},
        },
        "tool_choice": {
            "type": "string",
            "minLength": 1,
            "description": "auto (default) | required | none | the name of a tool the model must call",
        },
        "tool_results": {
            "type": "object",
            "description": "tool name -> what it returns when called: a value, or {python: module:function} "
            "called with the call's arguments",
        },
        "max_steps": {
            "type": "integer",
            "minimum": 1,
            "maximum": 50,
            "description": "model turns per case: a tool call is answered, then the model again (default 4)",
        },
    }


def spec_schema(
    *,
    checks: dict[str, Any] | None = None,
    variations: dict[str, Any] | None = None,
    turns: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The whole spec format. ``checks``, ``variations`` and ``turns`` replace the schema of one check item,
    one variation and one turn (structural validation checks those one by one, with messages of their own)."""
    check = checks if checks is not None else {"anyOf": [*_editor_checks(), _promptfoo_form(), _bare_names()]}
    turn = turns if turns is not None else turn_schema()
    variation = variations if variations is not None else variation_schema()
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
            "xfail": {
                "type": "string",
                "minLength": 1,
                "description": "why the case is expected to fail; strict: if it passes, it fails",
            },
            "skip": {"type": "string", "minLength": 1, "description": "why the case is not run"},
            "threshold": THRESHOLD,
            "messages": {
                "type": "array",
                "items": turn,
                "minItems": 1,
                "description": "the conversation so far: replaces the spec's turns, keeps its system turn",
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
            **_chat_keys(turn),
            "output": {"enum": ["text", "json"], "description": "json: parse the output before checking"},
            "expect": expect,
            "determinism": DETERMINISM,
            "gate": GATE,
            "cases": {"type": "array", "items": {"$ref": "#/$defs/case"}, "minItems": 1},
            "properties": {
                "type": "array",
                "items": property_schema(variation),
                "description": "behaviors that must survive generated variations; see Properties in docs/specs.md",
            },
            "cases_from": _cases_from(expect),
        },
        "required": ["feature"],
        "anyOf": [{"required": ["cases"]}, {"required": ["cases_from"]}],
        "additionalProperties": False,
        "$defs": {"check": check, "case": case},
    }
