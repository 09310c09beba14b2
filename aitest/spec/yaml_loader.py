"""Safe YAML loading that remembers the line and column of every key and value.

Nodes are composed (never constructed by tag), so a tag such as ``!!python/object``
is reported as an error and never executed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

from aitest.errors import Location, SpecError

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
_SEQ_TAG = "tag:yaml.org,2002:seq"


@dataclass
class Positions:
    """Where each value (and each mapping key) of a document sits in its file."""

    file: str
    values: dict[DocPath, tuple[int, int]] = field(default_factory=dict)
    keys: dict[DocPath, tuple[int, int]] = field(default_factory=dict)

    def of(self, path: DocPath, *, key: bool = False) -> Location:
        """The location of the value at ``path`` (or of its key), else its nearest parent."""
        table = self.keys if key else self.values
        probe = path
        while probe not in table and probe:
            probe = probe[:-1]
            table = self.values
        line, col = table.get(probe, (1, 1))
        return Location(self.file, line, col)


def load_yaml(text: str, file: str) -> tuple[Any, Positions]:
    """Parse one YAML document; returns plain Python data and its positions."""
    positions = Positions(file)
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = Location(file, mark.line + 1, mark.column + 1) if mark else Location(file)
        problem = exc.problem or exc.context or "malformed YAML"
        raise SpecError(f"malformed YAML: {problem}", location=where, hint="check indentation and quoting") from None
    except yaml.YAMLError as exc:
        raise SpecError(f"malformed YAML: {exc}", location=Location(file)) from None
    finally:
        loader.dispose()
    if node is None:
        raise SpecError(
            "the file is empty", location=Location(file, 1, 1), hint="a spec needs at least `feature` and `cases`"
        )
    return _Builder(loader, positions).build(node, ()), positions


class _Builder:
    def __init__(self, loader: Any, positions: Positions) -> None:
        self.loader = loader
        self.positions = positions

    def where(self, node: yaml.Node) -> Location:
        return Location(self.positions.file, node.start_mark.line + 1, node.start_mark.column + 1)

    def build(self, node: Any, path: DocPath) -> Any:
        # node.id, not isinstance: yaml's C composer keeps the node classes of its first import
        self.positions.values[path] = (node.start_mark.line + 1, node.start_mark.column + 1)
        if node.id == "mapping":
            return self.mapping(node, path)
        if node.id == "sequence":
            if node.tag != _SEQ_TAG:
                raise self.bad_tag(node)
            return [self.build(item, (*path, i)) for i, item in enumerate(node.value)]
        if node.tag not in _SAFE_SCALAR_TAGS:
            raise self.bad_tag(node)
        value = yaml.SafeLoader.construct_object(self.loader, node)
        if node.tag == "tag:yaml.org,2002:timestamp":
            return node.value  # dates stay text: a spec compares strings, not datetimes
        return value

    def mapping(self, node: Any, path: DocPath) -> dict[str, Any]:
        if node.tag != _MAP_TAG:
            raise self.bad_tag(node)
        yaml.SafeLoader.flatten_mapping(self.loader, node)
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if key_node.id != "scalar" or key_node.tag not in _SAFE_SCALAR_TAGS:
                raise SpecError("a mapping key must be plain text", location=self.where(key_node))
            key = str(key_node.value)
            if key in result:
                raise SpecError(
                    f"duplicate key '{key}'",
                    location=self.where(key_node),
                    hint="each key may appear once in a mapping; remove or rename one",
                )
            key_path = (*path, key)
            self.positions.keys[key_path] = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
            result[key] = self.build(value_node, key_path)
        return result

    def bad_tag(self, node: yaml.Node) -> SpecError:
        return SpecError(
            f"YAML tag '{str(node.tag).replace('tag:yaml.org,2002:', '!!')}' is not allowed",
            location=self.where(node),
            hint="specs are plain data: remove the tag (it is never executed)",
        )
