"""Safe YAML loading that remembers the line and column of every key and value.

Nodes are composed (never constructed by tag), so a tag such as ``!!python/object``
is reported as an error and never executed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import yaml

from aitest.errors import Location, SpecError
from aitest.spec.yaml_hints import syntax_problem
from aitest.util.text import shown

DocPath = tuple[str | int, ...]  # keys and list indices from the document root

_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_SAFE_SCALAR_TAGS = {
    "tag:yaml.org,2002:str",
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:null",
    "tag:yaml.org,2002:timestamp",
}
_MAP_TAG = "tag:yaml.org,2002:map"
_BOOL_TAG = "tag:yaml.org,2002:bool"
_YAML11_BOOLEANS = {"yes", "no", "on", "off"}  # what PyYAML's resolver turns into booleans, besides true/false
_SEQ_TAG = "tag:yaml.org,2002:seq"


@dataclass
class Positions:
    """Where each value (and each mapping key) of a document sits in its file."""

    file: str
    values: dict[DocPath, tuple[int, int]] = field(default_factory=dict)
    keys: dict[DocPath, tuple[int, int]] = field(default_factory=dict)
    # values written yes/no/on/off without quotes, which YAML 1.1 reads as true/false: path -> as written
    yaml11_booleans: dict[DocPath, str] = field(default_factory=dict)

    def of(self, path: DocPath, *, key: bool = False) -> Location:
        """The location of the value at ``path`` (or of its key), else its nearest parent."""
        table = self.keys if key else self.values
        probe = path
        while probe not in table and probe:
            probe = probe[:-1]
            table = self.values
        line, col = table.get(probe, (1, 1))
        return Location(self.file, line, col)


MAX_DEPTH = 100  # levels of nesting: far beyond any spec, well inside Python's recursion limit
MAX_ALIAS_VALUES = 100_000  # values that YAML aliases may add by repeating their anchors (and 10 per value written)
MAX_VALUES = 2_000_000  # values of one document


def load_yaml(text: str, file: str, *, what: str = "spec") -> tuple[Any, Positions]:
    """Parse one YAML document; returns plain Python data and its positions.

    Bounded whatever the input: nesting, and what aliases may add by expansion, are limited before
    anything is built (an "alias bomb" is an error at once, in bounded memory). ``what`` names the
    document in messages. Errors are SpecError with the file, line and column.
    """
    # brackets that may nest past libyaml's limit (or sit in quoted text), where libyaml has none: the
    # pure-Python parser, which stops at Python's recursion limit where that libyaml crashes the process
    deep = None if _LIBYAML_LIMITS_NESTING else _flow_too_deep(text)
    positions = Positions(file)
    loader: Any = None
    try:
        loader = _Loader(text) if deep is None else yaml.SafeLoader(text)  # the Python reader checks characters
        node = loader.get_single_node()
    except RecursionError:
        where = _location_of(text, deep or 0, file)
        raise SpecError(f"values are nested more than {MAX_DEPTH} levels deep", location=where) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = Location(file, mark.line + 1, mark.column + 1) if mark else Location(file)
        if "nesting depth" in str(exc.problem):  # libyaml's own limit (~1,000 levels), past ours
            raise SpecError(f"values are nested more than {MAX_DEPTH} levels deep", location=where) from None
        message, hint = syntax_problem(exc.problem or exc.context or "malformed YAML", text, where.line, where.col)
        raise SpecError(message, location=where, hint=hint) from None
    except yaml.YAMLError as exc:  # the reader: control characters, bad encodings (it knows the character's index)
        position = getattr(exc, "position", None)
        where = _location_of(text, position, file) if isinstance(position, int) else Location(file)
        reason = getattr(exc, "reason", None) or str(exc)
        raise SpecError(
            f"malformed YAML: {reason}", location=where, hint="remove the character, or write it escaped in quotes"
        ) from None
    finally:
        if loader is not None:
            loader.dispose()
    if node is None:
        raise SpecError(
            "the file is empty", location=Location(file, 1, 1), hint="a spec needs at least `feature` and `cases`"
        )
    builder = _Builder(loader, positions, what=what, merges="<<" in text)
    if "&" in text:  # anchors, so maybe aliases: size the expansion before building anything
        builder.measure(node, 0, set())
    return builder.build(node, (), 0), positions


FLOW_LIMIT = 1_000  # libyaml's own limit from PyYAML 6.0.4 on; before it, its parser recursed until the stack ended


def _limits_nesting() -> bool:
    """Whether the C parser in use stops at FLOW_LIMIT itself (PyYAML 6.0.4 and later)."""
    release = re.match(r"(\d+)\.(\d+)\.(\d+)", yaml.__version__)
    return _Loader is yaml.SafeLoader or (release is not None and tuple(map(int, release.groups())) >= (6, 0, 4))


_LIBYAML_LIMITS_NESTING = _limits_nesting()


def _flow_too_deep(text: str) -> int | None:
    """Where brackets (`[`, `{`) may nest past FLOW_LIMIT (counted also inside quoted text), or None:
    checked before libyaml parses, because PyYAML 6.0 to 6.0.3 crash the process (a segfault) on flow
    values nested some 20,000 deep."""
    if text.count("[") + text.count("{") <= FLOW_LIMIT:
        return None
    depth = 0
    for match in _BRACKET.finditer(text):
        depth = depth + 1 if match.group() in "[{" else max(depth - 1, 0)
        if depth > FLOW_LIMIT:
            return match.start()
    return None


_BRACKET = re.compile(r"[\[\]{}]")


def _location_of(text: str, index: int, file: str) -> Location:
    line = text.count("\n", 0, index) + 1
    return Location(file, line, index - (text.rfind("\n", 0, index) + 1) + 1)


class _Builder:
    def __init__(self, loader: Any, positions: Positions, *, what: str, merges: bool) -> None:
        self.loader = loader
        self.positions = positions
        self.what = what
        self.merges = merges  # the text has merge keys (`<<:`) to flatten
        self.sizes: dict[int, int] = {}  # node id -> values it expands to
        self.flattened: set[int] = set()
        self.repeated = 0  # values added by aliases

    def where(self, node: yaml.Node) -> Location:
        return Location(self.positions.file, node.start_mark.line + 1, node.start_mark.column + 1)

    def measure(self, node: Any, depth: int, ancestors: set[int]) -> int:
        """The number of values ``node`` expands to; refuses deep nesting, self-reference and alias bombs."""
        key = id(node)
        if key in ancestors:
            raise SpecError(
                "a YAML alias refers to itself (or to a value that contains it)",
                location=self.where(node),
                hint="an alias (*name) must refer to an anchor (&name) outside it",
            )
        if key in self.sizes:  # a node reached again: through an alias
            self.repeated += self.sizes[key]
            if self.repeated > MAX_ALIAS_VALUES + 10 * len(self.sizes):
                raise SpecError(
                    f"the {self.what} expands to more than {MAX_ALIAS_VALUES} values through YAML aliases",
                    location=self.where(node),
                    hint="an alias (*name) repeats its anchor's whole value; use fewer or smaller ones",
                )
            return self.sizes[key]
        if depth > MAX_DEPTH:
            raise self.too_deep(node)
        size = 1
        if node.id in ("mapping", "sequence"):
            ancestors.add(key)
            if node.id == "mapping":
                self.flatten(node)
            children = [part for pair in node.value for part in pair] if node.id == "mapping" else node.value
            size += sum(self.measure(child, depth + 1, ancestors) for child in children)
            ancestors.discard(key)
        self.sizes[key] = size
        if len(self.sizes) > MAX_VALUES:
            raise SpecError(f"the {self.what} holds more than {MAX_VALUES} values", location=self.where(node))
        return size

    def too_deep(self, node: Any) -> SpecError:
        return SpecError(f"values are nested more than {MAX_DEPTH} levels deep", location=self.where(node))

    def flatten(self, node: Any) -> None:
        """Merge keys (`<<: *defaults`) into the mapping, as YAML defines them (once per node)."""
        if not self.merges or id(node) in self.flattened:
            return
        self.flattened.add(id(node))
        try:
            yaml.SafeLoader.flatten_mapping(self.loader, node)
        except yaml.MarkedYAMLError as exc:
            raise SpecError(f"malformed YAML: {exc.problem}", location=self.where(node)) from None

    def build(self, node: Any, path: DocPath, depth: int) -> Any:
        # node.id, not isinstance: yaml's C composer keeps the node classes of its first import
        self.positions.values[path] = (node.start_mark.line + 1, node.start_mark.column + 1)
        if node.id == "mapping":
            if depth > MAX_DEPTH:
                raise self.too_deep(node)
            return self.mapping(node, path, depth)
        if node.id == "sequence":
            if depth > MAX_DEPTH:
                raise self.too_deep(node)
            if node.tag != _SEQ_TAG:
                raise self.bad_tag(node)
            return [self.build(item, (*path, i), depth + 1) for i, item in enumerate(node.value)]
        if node.tag not in _SAFE_SCALAR_TAGS:
            raise self.bad_tag(node)
        if node.tag == "tag:yaml.org,2002:timestamp":
            return node.value  # dates stay text: a spec compares strings, not datetimes
        if node.tag == _BOOL_TAG and not node.style and node.value.lower() in _YAML11_BOOLEANS:
            self.positions.yaml11_booleans[path] = node.value
        try:
            return yaml.SafeLoader.construct_object(self.loader, node)
        except (ValueError, KeyError, TypeError, OverflowError):  # e.g. `!!int abc`, `!!bool maybe`
            tag = str(node.tag).replace("tag:yaml.org,2002:", "!!")
            raise SpecError(
                f"{shown(node.value, 80)} is not a valid {shown(tag, quoted=False)}",
                location=self.where(node),
                hint="remove the tag, or write a value of its type",
            ) from None

    def mapping(self, node: Any, path: DocPath, depth: int) -> dict[str, Any]:
        if node.tag != _MAP_TAG:
            raise self.bad_tag(node)
        self.flatten(node)
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if key_node.id != "scalar" or key_node.tag not in _SAFE_SCALAR_TAGS:
                raise SpecError("a mapping key must be plain text", location=self.where(key_node))
            key = str(key_node.value)
            if key in result:
                raise SpecError(
                    f"duplicate key {shown(key, 80)}",
                    location=self.where(key_node),
                    hint="each key may appear once in a mapping; remove or rename one",
                )
            key_path = (*path, key)
            self.positions.keys[key_path] = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
            result[key] = self.build(value_node, key_path, depth + 1)
        return result

    def bad_tag(self, node: yaml.Node) -> SpecError:
        return SpecError(
            f"YAML tag {shown(str(node.tag).replace('tag:yaml.org,2002:', '!!'))} is not allowed",
            location=self.where(node),
            hint=f"{self.what}s are plain data: remove the tag (it is never executed)",
        )
