"""The other forms a spec file may take: promptfoo's check form and names, and bare check names (turned into
ours), and a list of tool definitions (a `tools:` file beside the specs, which is no spec).

promptfoo's names are accepted as they are, so that its asserts can be pasted into a spec: a check's declared
``aliases`` (`starts-with`), any name with `-` for `_`, the `i` prefix for ``ignore_case`` (`icontains-all`),
and the `not-` prefix for negation (`not-starts-with` is `not: {starts_with: ...}`). Each is rewritten to
aitest's spelling with its positions, and a warning names that spelling.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from aitest.checks.combinators import MAX_NESTING, Combinator
from aitest.checks.registry import all_checks
from aitest.errors import Location, SpecWarning
from aitest.spec.validate import check_lists
from aitest.spec.yaml_loader import DocPath, Positions

_GATING = ("weight", "critical")  # options of the check in its list: on `not`, not on the check it negates


def is_tools_list(data: Any) -> bool:
    """A YAML list of OpenAI function definitions: a `tools:` file kept beside the specs (`tools/orders.yaml`)."""
    return (
        isinstance(data, list)
        and bool(data)
        and all(isinstance(t, dict) and ("function" in t or {"name", "parameters"} <= set(t)) for t in data)
    )


@dataclass(frozen=True)
class Spelling:
    """What a written check name means: aitest's check ``name``, with ``ignore_case`` set, negated."""

    name: str
    ignore_case: bool = False
    negate: bool = False

    def aitest(self) -> str:
        """The same check as aitest writes it, for the warning."""
        folded = ", ignore_case: true" if self.ignore_case else ""
        if self.negate:
            return f"'not: {{{self.name}: ...{folded}}}'"
        return f"'{self.name}' with ignore_case: true" if self.ignore_case else f"'{self.name}'"


def spelling(kind: str) -> Spelling | None:
    """The check a name means, in aitest's or promptfoo's spelling; None when it names none."""
    known = all_checks()
    plain = _plain(kind)
    if plain is not None:
        return Spelling(plain)
    if kind.startswith("i"):
        folded = _plain(kind[1:])
        if folded is not None and "ignore_case" in known[folded].options:
            return Spelling(folded, ignore_case=True)
    if kind.startswith("not-"):
        inner = spelling(kind[4:])
        if inner is not None and not inner.negate:
            return Spelling(inner.name, inner.ignore_case, negate=True)
    return None


def _plain(kind: str) -> str | None:
    """A check's name, one of its aliases, or its name with `-` for `_`."""
    known = all_checks()
    if kind in known:
        return kind
    for name, check in known.items():
        if kind in check.aliases:
            return name
    underscored = kind.replace("-", "_")
    return underscored if underscored in known else None


def normalize_promptfoo(data: Any, positions: Positions) -> list[SpecWarning]:
    """Accept promptfoo's `{type: contains, value: x}` check form as `{contains: x}`, promptfoo's names for
    checks as aitest's, and a check with no value written as its bare name (`- no_tool_calls`) as
    `{no_tool_calls: null}`, in every list of checks (inside `not`, `any_of` and `all_of` too). Returns a
    warning for each promptfoo name, naming aitest's."""
    warnings: list[SpecWarning] = []
    if isinstance(data, dict):
        for base, items in check_lists(data):
            normalize_checks(items, base, positions, warnings)
    return warnings


def normalize_checks(
    items: list[Any], base: DocPath, positions: Positions, warnings: list[SpecWarning], depth: int = 0
) -> None:
    """Rewrite each item of a list of checks in place (see ``normalize_promptfoo``)."""
    for i, item in enumerate(items):
        items[i] = _normalize(item, (*base, i), positions, warnings, depth)


def _normalize(item: Any, path: DocPath, positions: Positions, warnings: list[SpecWarning], depth: int) -> Any:
    known = all_checks()
    if isinstance(item, str):
        spelled = spelling(item)
        if spelled is not None:
            at = positions.values.get(path, (0, 0))
            item = _rewrite(spelled, item, None, None, {}, path, at, positions, warnings)
    elif isinstance(item, dict) and not any(k in known for k in item):
        kind = item.get("type")
        typed = spelling(kind) if isinstance(kind, str) else None
        if typed is not None:
            rest = {k: v for k, v in item.items() if k not in ("type", "value")}
            at = positions.values.get((*path, "type"), (0, 0))
            value_at = (*path, "value") if "value" in item else None
            item = _rewrite(typed, str(kind), item.get("value"), value_at, rest, path, at, positions, warnings)
        else:
            named = [k for k in item if isinstance(k, str) and spelling(k) is not None]
            if len(named) == 1:  # promptfoo's name as the key: {not-contains: x}
                kind = named[0]
                rest = {k: v for k, v in item.items() if k != kind}
                at = positions.keys.get((*path, kind), (0, 0))
                spelled = spelling(kind)
                assert spelled is not None
                item = _rewrite(spelled, kind, item[kind], (*path, kind), rest, path, at, positions, warnings)
    if isinstance(item, dict) and depth < MAX_NESTING:
        _normalize_inner(item, path, positions, warnings, depth)
    return item


def _normalize_inner(
    item: dict[str, Any], path: DocPath, positions: Positions, warnings: list[SpecWarning], depth: int
) -> None:
    """The inner checks of a combinator, normalized as the checks of a list."""
    known = all_checks()
    names = [k for k in item if k in known]
    if len(names) != 1 or not issubclass(known[names[0]], Combinator):
        return
    name = names[0]
    if known[name].many:  # type: ignore[attr-defined]
        if isinstance(item[name], list):
            normalize_checks(item[name], (*path, name), positions, warnings, depth + 1)
    else:
        item[name] = _normalize(item[name], (*path, name), positions, warnings, depth + 1)


_THRESHOLD_IS_VALUE = ("max_latency_ms", "max_cost")


def _rewrite(
    spelled: Spelling,
    written: str,
    value: Any,
    value_at: DocPath | None,
    rest: dict[str, Any],
    path: DocPath,
    at: tuple[int, int],
    positions: Positions,
    warnings: list[SpecWarning],
) -> dict[str, Any]:
    """The check in aitest's form, its positions where the written one's were."""
    if spelled.name in _THRESHOLD_IS_VALUE and value is None and "threshold" in rest:
        value, value_at = rest["threshold"], (*path, "threshold")  # promptfoo's latency and cost: the limit
        rest = {k: v for k, v in rest.items() if k != "threshold"}
    where = (*path, "not") if spelled.negate else path
    check: dict[str, Any] = {spelled.name: value}
    named, folded = (*where, spelled.name), (*where, "ignore_case")
    positions.keys[named] = at
    if value_at is not None:
        _move(positions, value_at, named, value)
    else:
        positions.values[named] = at
    if spelled.ignore_case:
        check["ignore_case"] = True
        positions.keys[folded] = positions.values[folded] = at
    outer = {k: v for k, v in rest.items() if spelled.negate and k in _GATING}
    for key, option in rest.items():
        if key not in outer:
            # promptfoo's levenshtein `threshold` is the largest distance: aitest's max_distance
            renamed = "max_distance" if spelled.name == "levenshtein" and key == "threshold" else key
            check[renamed] = option
            if (where, renamed) != (path, key):
                _move(positions, (*path, key), (*where, renamed), option)
    if written != spelled.name:
        message = f"'{written}' is promptfoo's name: aitest calls it {spelled.aitest()}"
        warnings.append(SpecWarning(message, location=Location(positions.file, *at) if at[0] else positions.of(path)))
    if not spelled.negate:
        return check
    negation = (*path, "not")
    positions.keys[negation] = positions.values[negation] = at
    return {"not": check, **outer}


def _move(positions: Positions, old: DocPath, new: DocPath, value: Any) -> None:
    """The positions of ``value`` (and everything in it), written at ``old``, as those of ``new``."""
    for sub in _subpaths(value):
        before, after = (*old, *sub), (*new, *sub)
        for table in (positions.values, positions.keys):
            if before in table:
                table[after] = table[before]
        if before in positions.yaml11_booleans:
            positions.yaml11_booleans[after] = positions.yaml11_booleans.pop(before)


def _subpaths(value: Any, base: DocPath = ()) -> Iterator[DocPath]:
    yield base
    if isinstance(value, dict):
        for key, inner in value.items():
            yield from _subpaths(inner, (*base, key))
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            yield from _subpaths(inner, (*base, index))
