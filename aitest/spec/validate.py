"""Structural validation against the spec format's JSON Schema, with messages a product owner reads."""

from __future__ import annotations

from functools import cache
from typing import Any

from aitest.checks.combinators import MAX_NESTING, Combinator
from aitest.checks.registry import all_checks
from aitest.errors import SpecError
from aitest.spec.schema import check_schemas, spec_schema
from aitest.spec.yaml_loader import DocPath, Positions
from aitest.util.schema_quick import ecma_pattern, quick_valid
from aitest.util.text import cut, did_you_mean, shown, type_word

_TYPE_WORDS = {
    "array": "a list",
    "object": "a mapping",
    "string": "text",
    "integer": "a whole number",
    "number": "a number",
    "boolean": "true or false",
    "null": "empty",
}
_KEY_HINTS = {
    "xfail": "give the reason the case is expected to fail, e.g. xfail: the model still misroutes refunds",
    "skip": "give the reason the case is not run, e.g. skip: waiting for the new refund policy",
    "cases_from": "a .csv or .jsonl file relative to this spec, or {file: FILE, expect: [checks]}, or a list of them",
    "weight": "a check's share of its case's score under threshold:, 0 or more (default 1; 0 counts nothing)",
}
_REQUIRED_HINTS = {"cases": "give the cases as a list under cases:, or read them from a file with cases_from: FILE"}
_PATTERN_HINTS = {
    "feature": "use lowercase letters, digits and _, e.g. ticket_triage",
    "id": "use letters, digits, _ and -, e.g. double_charge",
    "target": "write module.path:function, e.g. myapp.triage:classify",
    "python": "write module.path:function, e.g. myapp.checks:is_polite",
}


@cache
def _structure_schema() -> dict[str, Any]:
    """The spec format with each check item only required to be a mapping (checks are validated one by one)."""
    return spec_schema(checks={"type": "object"}, variations={}, turns={})


@cache
def _validator_class() -> Any:
    """Draft 2020-12 as YAML authors expect it: 2.0 is not a whole number, and `$` ends the text
    (Python's `$` would also match before a final newline, letting "evil\\n" pass as a name)."""
    import re

    from jsonschema import Draft202012Validator, validators
    from jsonschema.exceptions import ValidationError

    def whole_number(_checker: Any, instance: Any) -> bool:
        return isinstance(instance, int) and not isinstance(instance, bool)

    def pattern(validator: Any, rule: str, instance: Any, schema: Any) -> Any:
        if validator.is_type(instance, "string") and not re.search(ecma_pattern(rule), instance):
            yield ValidationError(f"{shown(instance, 80)} does not match {rule!r}")

    checker = Draft202012Validator.TYPE_CHECKER.redefine("integer", whole_number)
    return validators.extend(  # type: ignore[no-untyped-call]
        Draft202012Validator, validators={"pattern": pattern}, type_checker=checker
    )


@cache
def _structure_validator() -> Any:
    return _validator_class()(_structure_schema())


@cache
def _check_validator(name: str) -> Any:
    return _validator_class()(check_schemas()[name])


_LIST_ITEMS = ("from", "one_of", "contains_all", "contains_any", "stop", "choices")


def _label(path: DocPath) -> str:
    keys = [p for p in path if isinstance(p, str)]
    if len(path) >= 2 and isinstance(path[-1], int) and isinstance(path[-2], str) and path[-2] in _LIST_ITEMS:
        return f"item {path[-1] + 1} of {shown(path[-2])}"  # a value of a list of values, e.g. from: [a, 7]
    return shown(keys[-1]) if keys else "the spec"


def _fits(branch: Any, value: Any) -> bool:
    """Whether a branch of anyOf/oneOf is for values of this type (an enum: of its values' types)."""
    from aitest.util.schema_quick import _is_type

    if not isinstance(branch, dict):
        return False
    if "type" in branch:
        kinds = branch["type"] if isinstance(branch["type"], list) else [branch["type"]]
        return any(_is_type(value, k) for k in kinds)
    if "enum" in branch:
        return any(type(value) is type(e) for e in branch["enum"])
    return True


def _translate(error: Any, base: DocPath, positions: Positions, *, owner: str = "") -> tuple[DocPath, SpecError]:
    """A jsonschema error -> the path of the broken part, and the message a product owner reads."""
    if error.validator in ("oneOf", "anyOf") and error.context:
        from jsonschema.exceptions import best_match

        # the errors of the branches whose type fits the value say most ({similar: 1.5} is a mapping: what
        # is wrong inside it, not that it is no text); among those, "should be non-empty" beats "must be text"
        branches = error.schema[error.validator]
        fits = {i for i, branch in enumerate(branches) if _fits(branch, error.instance)}
        pool = [e for e in error.context if e.relative_schema_path and e.relative_schema_path[0] in fits]
        pool = pool or list(error.context)
        fitting = [e for e in pool if e.validator not in ("type", "const") or e.path] or pool
        return _translate(best_match(fitting), base, positions, owner=owner)
    path: DocPath = (*base, *error.absolute_path)
    validator, instance, schema = error.validator, error.instance, error.schema
    where = positions.of(path)
    if validator == "additionalProperties":
        allowed = sorted(schema.get("properties", {}))
        unknown = [k for k in instance if k not in allowed]
        key = unknown[0]
        what = f"option {shown(key)} of check '{owner}'" if owner else f"key {shown(key)}"
        return (*path, key), SpecError(
            f"unknown {what}{did_you_mean(key, allowed)}",
            location=positions.of((*path, key), key=True),
            hint=f"allowed here: {', '.join(a for a in allowed if a != owner)}",
        )
    if validator == "required":
        missing = next(k for k in schema["required"] if k not in instance)
        hint = _REQUIRED_HINTS.get(missing, "") if path == () else ""
        return (*path, missing), SpecError(
            f"missing required key {shown(missing)} in {_label(path)}", location=where, hint=hint
        )
    if validator == "type":
        wanted = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        words = " or ".join(_TYPE_WORDS[w] for w in wanted)
        return path, SpecError(
            f"{_label(path)} must be {words}, not {type_word(instance)}",
            location=where,
            hint=boolean_hint(positions, path) or _key_hint(path),
        )
    return path, _message(error, path, positions)


def _key_hint(path: DocPath) -> str:
    key = next((p for p in reversed(path) if isinstance(p, str)), "")
    if path[:1] == ("cases",) and path[2:] == ("threshold",):
        return "the weighted share of the case's checks that must pass, from 0 to 1, e.g. threshold: 0.75"
    return _KEY_HINTS.get(key, "")


def _message(error: Any, path: DocPath, positions: Positions) -> SpecError:
    validator, instance, schema = error.validator, error.instance, error.schema
    where = positions.of(path)
    if validator == "enum":
        options = [str(o) for o in schema["enum"]]
        guess = did_you_mean(str(instance), options)
        return SpecError(
            f"{_label(path)} must be one of {', '.join(options)}, not {shown(instance, 80)}{guess}", location=where
        )
    if validator == "pattern":
        key = next((p for p in reversed(path) if isinstance(p, str)), "")
        return SpecError(
            f"{_label(path)} {shown(instance, 80)} is not allowed", location=where, hint=_PATTERN_HINTS.get(key, "")
        )
    if validator in ("minimum", "maximum"):
        word = "at least" if validator == "minimum" else "at most"
        return SpecError(
            f"{_label(path)} must be {word} {schema[validator]}, not {shown(instance, 40)}",
            location=where,
            hint=_key_hint(path),
        )
    return SpecError(f"{_label(path)}: {cut(error.message)}", location=where, hint=_key_hint(path))


def boolean_hint(positions: Positions, path: DocPath) -> str:
    """For a value written yes/no/on/off without quotes: it is a boolean, quote it for the text."""
    written = positions.yaml11_booleans.get(path)
    if written is None:
        return ""
    value = "true" if written.lower() in ("yes", "on") else "false"
    return f'YAML reads {written} without quotes as {value}: write "{written}" in quotes for the text'


def validate_structure(data: Any, positions: Positions) -> list[tuple[DocPath, SpecError]]:
    """Every structural problem of a spec document, checks included, in file order: each with the
    path of the part it breaks (what depends on that part is not checked further)."""
    if not isinstance(data, dict):
        return [
            (
                (),
                SpecError(
                    f"a spec must be a mapping of keys (feature, cases, ...), not {type_word(data)}",
                    location=positions.of(()),
                ),
            )
        ]
    structure = _structure_schema()
    errors = []
    if not quick_valid(structure, data, structure):  # valid specs skip jsonschema's slower walk
        errors = [_translate(e, (), positions) for e in _structure_validator().iter_errors(data)]
    for base, items in check_lists(data):
        for i, item in enumerate(items):
            previous = items[i - 1] if i else None
            errors.extend(((*base, i), e) for e in validate_check_item(item, (*base, i), positions, previous=previous))
    return sorted(errors, key=lambda pe: (pe[1].location.line, pe[1].location.col) if pe[1].location else (0, 0))


def check_lists(data: dict[str, Any]) -> list[tuple[DocPath, list[Any]]]:
    """Every list of checks in a spec document (a new section with checks adds its lists here)."""
    lists: list[tuple[DocPath, Any]] = [(("expect",), data.get("expect"))]
    for section in ("cases", "properties"):
        items = data.get(section)
        if isinstance(items, list):
            lists += [((section, i, "expect"), c.get("expect")) for i, c in enumerate(items) if isinstance(c, dict)]
    source = data.get("cases_from")
    if isinstance(source, dict):
        lists.append((("cases_from", "expect"), source.get("expect")))
    elif isinstance(source, list):
        lists += [(("cases_from", i, "expect"), s.get("expect")) for i, s in enumerate(source) if isinstance(s, dict)]
    return [(path, items) for path, items in lists if isinstance(items, list)]


def check_name(item: dict[str, Any], path: DocPath, positions: Positions, *, previous: Any = None) -> str:
    """The one known check name of a check mapping; SpecError when there is none or several.

    ``previous`` is the item above in the list: an option written as an item of its own
    (`- threshold: 0.7` under `- similar: ...`) is explained as such.
    """
    known = check_schemas()
    names = [k for k in item if k in known]
    if len(names) == 1:
        return names[0]
    if names:
        raise SpecError(
            f"one check per list item, found {' and '.join(names)}",
            location=positions.of(path),
            hint="split them into separate '- ' items",
        )
    if "type" in item and isinstance(item["type"], str):
        kind = item["type"]
        raise SpecError(
            f"unknown check type {shown(kind)}{did_you_mean(kind, sorted(known))}",
            location=positions.of((*path, "type")),
            hint="checks: " + ", ".join(sorted(known)),
        )
    stray = _option_of_previous(item, path, positions, previous)
    if stray is not None:
        raise stray
    unknown = [k for k in item if k != "path"]
    if not unknown:
        raise SpecError("a check needs a name, e.g. '- contains: text'", location=positions.of(path))
    raise SpecError(
        f"unknown check {shown(unknown[0])}{did_you_mean(unknown[0], sorted(known))}",
        location=positions.of((*path, unknown[0]), key=True),
        hint="checks: " + ", ".join(sorted(known)),
    )


def _option_of_previous(item: dict[str, Any], path: DocPath, positions: Positions, previous: Any) -> SpecError | None:
    """`- threshold: 0.7` right under `- similar: ...`: an option of the check above, written with a dash."""
    known = check_schemas()
    names = [k for k in previous if k in known] if isinstance(previous, dict) else []
    if len(names) != 1 or not item or not isinstance(path[-1], int):
        return None
    name = names[0]
    options = set(known[name]["properties"]) - {name}
    if not all(k in options for k in item):
        return None
    key = next(iter(item))
    above = positions.of((*path[:-1], path[-1] - 1, name), key=True)
    return SpecError(
        f"{shown(key)} is an option of the check '{name}' above (line {above.line}), not a check of its own",
        location=positions.of((*path, key), key=True),
        hint=f"remove the '- ' before {key}, so that it lines up under {name} as part of that check",
    )


def validate_check_item(
    item: Any, path: DocPath, positions: Positions, *, previous: Any = None, depth: int = 0
) -> list[SpecError]:
    """The problems of one check mapping (``depth``: inside that many combinators), its inner checks included."""
    if depth and isinstance(item, str):  # not a check name (those are mappings by now): a misspelt one?
        known = sorted(check_schemas())
        return [
            SpecError(
                f"unknown check {shown(item)}{did_you_mean(item, known)}",
                location=positions.of(path),
                hint="checks: " + ", ".join(known),
            )
        ]
    if not isinstance(item, dict):
        return [
            SpecError(
                f"a check must be a mapping such as '- contains: text', not {type_word(item)}",
                location=positions.of(path),
            )
        ]
    try:
        name = check_name(item, path, positions, previous=previous)
    except SpecError as error:
        return [error]
    if depth:
        gating = [k for k in ("weight", "critical") if k in item]
        if gating:
            return [_gating_inside(gating[0], name, path, positions)]
    check = all_checks()[name]
    if issubclass(check, Combinator):
        empty = _empty_combinator(item, name, path, positions, many=check.many)
        if empty is not None:
            return [empty]
    schema = check_schemas()[name]
    if not quick_valid(schema, item, schema):
        return [_translate(e, path, positions, owner=name)[1] for e in _check_validator(name).iter_errors(item)]
    if not issubclass(check, Combinator):
        return []
    if depth + 1 >= MAX_NESTING:
        return [
            SpecError(
                f"checks are nested more than {MAX_NESTING} levels deep",
                location=positions.of((*path, name), key=True),
                hint="split the condition into separate checks of the list (they must all pass)",
            )
        ]
    inner = item[name]
    if not check.many:
        return validate_check_item(inner, (*path, name), positions, depth=depth + 1)
    errors = []
    for j, sub in enumerate(inner):
        errors += validate_check_item(sub, (*path, name, j), positions, depth=depth + 1)
    return errors


def _empty_combinator(
    item: dict[str, Any], name: str, path: DocPath, positions: Positions, *, many: bool
) -> SpecError | None:
    """`not:` or `any_of: []` with nothing inside: an error that shows how to write it."""
    inner = item[name]
    if inner not in (None, {}, [], ""):
        return None
    where = positions.of((*path, name), key=True)
    if many:
        example = f"{name}: [{{contains: sorry}}, {{contains: apolog}}]"
        return SpecError(f"'{name}' lists no checks", location=where, hint=f"list the checks under it, e.g. {example}")
    return SpecError(
        f"'{name}' wraps no check",
        location=where,
        hint="write the check to negate under it, e.g. not: {contains: sorry}",
    )


def _gating_inside(key: str, name: str, path: DocPath, positions: Positions) -> SpecError:
    """`weight` or `critical` on a check inside not / any_of / all_of, where it means nothing."""
    return SpecError(
        f"'{key}' of the check '{name}' inside a combinator means nothing",
        location=positions.of((*path, key), key=True),
        hint=f"put {key}: on the not / any_of / all_of check itself, in the case's list",
    )
