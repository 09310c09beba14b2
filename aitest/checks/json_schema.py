"""The `schema` check: JSON Schema draft 2020-12, `$ref` to local files only."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import urldefrag, urljoin, urlsplit
from urllib.request import url2pathname

from aitest.checks.base import Check, CheckContext, CheckResult, CheckSetup, not_json
from aitest.checks.registry import register
from aitest.errors import Location, SpecError
from aitest.util.files import Unreadable, read_text
from aitest.util.text import cut, shown

MAX_SCHEMA_BYTES = 10_000_000

_VALIDATORS: dict[str, Any] = {}  # compiled once per schema (file path + mtime, or inline text)


def _shown(path: Path) -> str:
    """A schema file as messages name it: relative to the current folder when inside it (as pytest does)."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def load_schema_file(path: Path, location: Location) -> Any:
    """Read a JSON (or YAML) schema file; errors point into that file, and name the spec line (``location``)
    that reads it. Nesting is bounded as in a spec: a file nested too deep is an error at its line, never a
    RecursionError."""
    try:
        text = read_text(path, limit=MAX_SCHEMA_BYTES)
    except Unreadable as why:
        reason = "not found" if str(why) == "is not found" else str(why)
        raise SpecError(
            f"schema file {shown(_shown(path), 120)} {reason}",
            location=location,
            hint="schema paths are relative to the spec file",
        ) from None
    from aitest.spec.yaml_loader import load_yaml

    where = _shown(path)
    try:
        if not text.strip():
            raise SpecError("the schema file is empty", location=Location(where, 1, 1))
        if path.suffix in (".yaml", ".yml"):
            return load_yaml(text, where, what="schema file")[0]
        check_json_depth(text, where)
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise SpecError(
                f"invalid JSON in schema file: {exc.msg}", location=Location(where, exc.lineno, exc.colno)
            ) from None
        except (ValueError, RecursionError) as exc:  # a number of too many digits; deep nesting is refused above
            raise SpecError(
                f"invalid JSON in schema file: {cut(str(exc), 120)}", location=Location(where, 1, 1)
            ) from None
    except SpecError as error:
        raise SpecError(error.message, location=error.location, hint=_read_by(location, error.hint)) from None


def _read_by(location: Location, hint: str) -> str:
    """A hint for an error inside a schema file: the spec line that reads it comes first."""
    return f"the schema file of {location}" + (f"; {hint}" if hint else "")


# a JSON string (its closing quote optional: json.loads reports an unclosed one), or a bracket
_JSON_TOKEN = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"?|[\[\]{}]')


def check_json_depth(text: str, file: str) -> None:
    """SpecError at the first bracket of a JSON text nested deeper than a spec may be (strings skipped):
    measured on the text, so that no parse recurses past the limit first."""
    from aitest.spec.yaml_loader import MAX_DEPTH

    index = _too_deep(text, MAX_DEPTH)
    if index is not None:
        line_start = text.rfind("\n", 0, index) + 1
        where = Location(file, text.count("\n", 0, index) + 1, index - line_start + 1)
        raise SpecError(f"values are nested more than {MAX_DEPTH} levels deep", location=where)


def _too_deep(text: str, most: int) -> int | None:
    """The index of the first bracket nested deeper than ``most`` levels, or None."""
    if text.count("[") + text.count("{") <= most:
        return None
    depth = 0
    for match in _JSON_TOKEN.finditer(text):
        char = text[match.start()]
        if char in "[{":
            depth += 1
            if depth > most:
                return match.start()
        elif char in "]}":
            depth -= 1
    return None


def _mtime(path: Path) -> int:
    try:
        return path.stat().st_mtime_ns
    except OSError:  # missing, or a name the filesystem refuses: load_schema_file says which
        return 0


def _file_uri(path: Path) -> str:
    return path.resolve().as_uri()


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return found + [r for v in node.values() for r in _refs(v)]
    if isinstance(node, list):
        return [r for v in node for r in _refs(v)]
    return []


def _check_refs(schema: Any, base_uri: str, location: Location, seen: set[str]) -> None:
    """Every `$ref` must point into this schema or to an existing local file (checked recursively)."""
    for ref in _refs(schema):
        target, _ = urldefrag(urljoin(base_uri, ref))
        if not target or target == base_uri:
            continue
        if urlsplit(target).scheme != "file":
            raise SpecError(
                f"schema $ref '{ref}' is remote; aitest never fetches schemas",
                location=location,
                hint="download the referenced schema next to the spec and refer to it by relative path",
            )
        if target in seen:
            continue
        seen.add(target)
        path = Path(url2pathname(urlsplit(target).path))
        _check_refs(load_schema_file(path, location), target, location, seen)


def compile_schema(schema: Any, *, base_uri: str, location: Location, origin: str) -> Any:
    """A Draft 2020-12 validator for ``schema``, refs resolved against local files only."""
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import SchemaError
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT202012

    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        pointer = "/" + "/".join(str(p) for p in exc.absolute_path)
        raise SpecError(
            f"invalid JSON Schema ({origin}) at {shown(pointer, quoted=False)}: {cut(exc.message, 200)}",
            location=location,
            hint="see https://json-schema.org/draft/2020-12 for the keywords",
        ) from None
    except RecursionError:  # bounded files and specs stay well inside; a schema built in Python may not
        raise SpecError(f"the JSON Schema ({origin}) is nested too deeply to check", location=location) from None
    _check_refs(schema, base_uri, location, set())

    def retrieve(uri: str) -> Resource[Any]:
        path = Path(url2pathname(urlsplit(uri).path))
        return DRAFT202012.create_resource(load_schema_file(path, location))

    if isinstance(schema, dict) and "$id" not in schema:
        schema = {"$id": base_uri, **schema}
    registry: Registry[Any] = Registry(retrieve=retrieve)  # type: ignore[call-arg]
    return Draft202012Validator(schema, registry=registry, format_checker=Draft202012Validator.FORMAT_CHECKER)


@register
class Schema(Check):
    name = "schema"
    example = "schema: schemas/invoice.json"
    description = "the output is JSON valid against the JSON Schema (a file next to the spec, or inline)"
    value_schema = {
        "oneOf": [
            {"type": "string", "description": "path of a .json schema file, relative to the spec"},
            {"type": "object", "description": "an inline JSON Schema"},
            {"type": "boolean"},
        ]
    }

    def __init__(self, value: Any, options: dict[str, Any], setup: CheckSetup) -> None:
        super().__init__(value, options, setup)
        if isinstance(value, str):
            path = (setup.spec_dir / value).resolve()
            key = f"{path}:{_mtime(path)}"
            if key not in _VALIDATORS:
                schema = load_schema_file(path, setup.location)
                _VALIDATORS[key] = compile_schema(
                    schema, base_uri=_file_uri(path), location=setup.location, origin=value
                )
            self.validator = _VALIDATORS[key]
        else:
            self.validator = inline_validator(value, setup)

    def run(self, ctx: CheckContext) -> CheckResult:
        try:
            instance = ctx.json()
        except ValueError as exc:
            return not_json(f"'{self.name}'", exc)
        return validate(self.validator, instance)


def inline_validator(schema: Any, setup: CheckSetup) -> Any:
    """The validator of a schema written in the spec (compiled once per spec folder and schema)."""
    key = f"{setup.spec_dir}:{json.dumps(schema, sort_keys=True)}"
    if key not in _VALIDATORS:
        base = _file_uri(setup.spec_dir / "__inline_schema__.json")
        _VALIDATORS[key] = compile_schema(schema, base_uri=base, location=setup.location, origin="inline")
    return _VALIDATORS[key]


def validate(validator: Any, instance: Any) -> CheckResult:
    """The verdict of a compiled schema on a JSON value: the first error, and up to five in the detail."""
    try:
        errors = sorted(validator.iter_errors(instance), key=lambda e: list(map(str, e.absolute_path)))
    except RecursionError:
        return CheckResult(False, "the JSON is nested too deeply to validate against the schema")
    if not errors:
        return CheckResult(True, "valid against the schema")
    lines = [f"at {_pointer(e)}: {e.message}" for e in errors[:5]]
    if len(errors) > 5:
        lines.append(f"... and {len(errors) - 5} more schema errors")
    first = lines[0] if len(errors) == 1 else f"{len(errors)} schema errors"
    return CheckResult(False, first, detail="\n".join(lines) if len(errors) > 1 else "")


def _pointer(error: Any) -> str:
    return "/" + "/".join(str(p).replace("~", "~0").replace("/", "~1") for p in error.absolute_path)
