"""A fast, sound pre-check for the JSON Schema subset the spec format uses.

``quick_valid`` returns True only when the instance is valid; on False (or any keyword it does
not know) the caller runs jsonschema for the full error messages. Valid specs, the common case,
then skip jsonschema's slower general machinery.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

_IGNORED = {"description", "title", "$schema", "$defs", "$id", "format"}  # format: an annotation in 2020-12


def ecma_pattern(pattern: str) -> str:
    """A JSON Schema (ECMA-262) pattern for Python's `re`: a final `$` ends the text, as it does in ECMA."""
    if pattern.endswith("$") and not pattern.endswith("\\$"):
        return pattern[:-1] + r"\Z"
    return pattern


@cache
def _pattern(text: str) -> re.Pattern[str]:
    return re.compile(ecma_pattern(text))


def _is_type(value: Any, kind: str) -> bool:
    if kind == "object":
        return isinstance(value, dict)
    if kind == "array":
        return isinstance(value, list)
    if kind == "string":
        return isinstance(value, str)
    if kind == "boolean":
        return isinstance(value, bool)
    if kind == "null":
        return value is None
    if isinstance(value, bool):
        return False
    if kind == "integer":
        return isinstance(value, int)  # 2.0 is not a whole number to a YAML author, whatever JSON Schema says
    return kind == "number" and isinstance(value, (int, float))


def quick_valid(schema: Any, value: Any, root: dict[str, Any]) -> bool:
    """True only if ``value`` is valid against ``schema``; False when unsure."""
    if schema is True or schema == {}:
        return True
    if not isinstance(schema, dict):
        return False
    for key, rule in schema.items():
        if key in _IGNORED:
            continue
        if key == "$ref":
            if not rule.startswith("#/$defs/") or not quick_valid(root["$defs"][rule[8:]], value, root):
                return False
        elif key == "type":
            kinds = rule if isinstance(rule, list) else [rule]
            if not any(_is_type(value, k) for k in kinds):
                return False
        elif key == "enum":
            if not any(value == e and type(value) is type(e) for e in rule):
                return False
        elif key == "const":
            if not (value == rule and type(value) is type(rule)):
                return False
        elif key in ("minLength", "pattern") and isinstance(value, str):
            if key == "minLength" and len(value) < rule:
                return False
            if key == "pattern" and not _pattern(rule).search(value):
                return False
        elif key in ("minimum", "maximum", "exclusiveMinimum") and _is_type(value, "number"):
            if (key == "minimum" and value < rule) or (key == "maximum" and value > rule):
                return False
            if key == "exclusiveMinimum" and value <= rule:
                return False
        elif key in ("minItems", "items") and isinstance(value, list):
            if key == "minItems" and len(value) < rule:
                return False
            if key == "items" and not all(quick_valid(rule, v, root) for v in value):
                return False
        elif key in ("properties", "required", "additionalProperties") and isinstance(value, dict):
            if not _object_valid(key, rule, schema, value, root):
                return False
        elif key in ("oneOf", "anyOf"):
            hits = sum(1 for branch in rule if quick_valid(branch, value, root))
            if hits == 0 or (key == "oneOf" and hits != 1):
                return False
        elif key not in (
            "minLength",
            "pattern",
            "minimum",
            "maximum",
            "exclusiveMinimum",
            "minItems",
            "items",
            "properties",
            "required",
            "additionalProperties",
        ):
            return False  # a keyword this pre-check does not know: let jsonschema decide
    return True


def _object_valid(key: str, rule: Any, schema: dict[str, Any], value: dict[str, Any], root: dict[str, Any]) -> bool:
    if key == "properties":
        return all(quick_valid(rule[k], v, root) for k, v in value.items() if k in rule)
    if key == "required":
        return all(k in value for k in rule)
    if rule is False:
        return all(k in schema.get("properties", {}) for k in value)
    if isinstance(rule, dict):  # a schema for the keys not in `properties`
        known = schema.get("properties", {})
        return all(quick_valid(rule, v, root) for k, v in value.items() if k not in known)
    return rule is True


_TYPES = {"object", "string", "integer", "number", "boolean", "array", "null"}
_TEXT_KEYS = {"description", "title", "format"}


def plain_schema(schema: Any, depth: int = 0) -> bool:
    """True for a schema made only of the keywords tool definitions use, each with a value of the right
    kind (so that it is a valid JSON Schema); False means "not sure": jsonschema then checks it."""
    if not isinstance(schema, dict) or depth > 20:
        return False
    for key, value in schema.items():
        if key == "type":
            ok = value in _TYPES or (isinstance(value, list) and bool(value) and all(v in _TYPES for v in value))
        elif key in _TEXT_KEYS:
            ok = isinstance(value, str)
        elif key == "properties":
            ok = isinstance(value, dict) and all(plain_schema(v, depth + 1) for v in value.values())
        elif key in ("items", "additionalProperties"):
            ok = isinstance(value, bool) or plain_schema(value, depth + 1)
        elif key == "required":
            ok = isinstance(value, list) and all(isinstance(v, str) for v in value) and len(set(value)) == len(value)
        elif key == "enum":
            ok = isinstance(value, list) and bool(value)
        elif key in ("minimum", "maximum"):
            ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        elif key in ("minLength", "maxLength", "minItems", "maxItems"):
            ok = isinstance(value, int) and not isinstance(value, bool) and value >= 0
        else:
            ok = False
        if not ok:
            return False
    return True
