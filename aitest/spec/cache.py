"""Parsed specs kept on disk: a spec's YAML parse (its data and the position of every node) as JSON in
.aitest_cache/specs, keyed by the sha256 of the text and of everything the parse depends on.

Only the parse is cached, and beside it the fact that the parse passed the structure's validation under
a given set of check schemas; never what the loader builds from it: the checks, the target, and the files
a spec names (tools, schemas, `cases_from`) are read and validated on every load, so a changed file
beside the spec can never be answered from the cache. A file whose YAML or structure is broken is never
marked (its errors are found again, every time, as before). A missing, damaged or foreign cache file is
ignored and rewritten.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections.abc import Iterator
from contextvars import ContextVar
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from aitest.spec import yaml_loader
from aitest.spec.yaml_loader import DocPath, Positions, load_yaml
from aitest.util.files import make_cache_dir, write_atomic

FORMAT = 1  # of the cache files; bump when Positions or the layout below changes
_CURRENT: ContextVar[Path | None] = ContextVar("aitest_spec_cache", default=None)


@contextlib.contextmanager
def kept_in(cache_dir: Path) -> Iterator[None]:
    """Specs loaded inside use ``cache_dir`` (what pytest's collection does; a command that only checks a
    spec, such as `aitest validate` or `aitest import`, writes nothing)."""
    token = _CURRENT.set(cache_dir)
    try:
        yield
    finally:
        _CURRENT.reset(token)


def current_dir() -> Path | None:
    """The cache folder of the specs loaded now (see ``kept_in``), if any."""
    return _CURRENT.get()


def cache_key(text: str) -> str:
    """The sha256 of the text and of the parser that reads it."""
    return hashlib.sha256(_parser_digest().encode() + text.encode("utf-8")).hexdigest()


@cache
def _parser_digest() -> str:
    """The parser's code (this module's and the YAML loader's, so an edited checkout never reads a parse of
    older code), the cache's format and PyYAML's version and loader."""
    sources = b"".join(Path(module).read_bytes() for module in (__file__, yaml_loader.__file__))
    parser = f"{FORMAT} PyYAML {yaml.__version__} {yaml_loader._Loader.__name__}\n".encode()
    return hashlib.sha256(parser + sources).hexdigest()


def parse_spec_yaml(text: str, file: str, *, cache_dir: Path | None, key: str = "") -> tuple[Any, Positions]:
    """``load_yaml(text, file)``, answered from ``cache_dir`` when it holds this text's parse
    (``key``: the text's ``cache_key``, when the caller has it)."""
    if cache_dir is None:
        return load_yaml(text, file)
    key = key or cache_key(text)
    cached = cache_dir / f"{key}.json"
    with contextlib.suppress(OSError, ValueError, KeyError, TypeError, IndexError, StopIteration):
        return _decode(cached.read_text("utf-8"), key, file)
    data, positions = load_yaml(text, file)  # a SpecError here leaves no cache file
    with contextlib.suppress(OSError):  # a read-only project still runs, parsing each time
        make_cache_dir(cache_dir)
        write_atomic(cached, _encode(key, data, positions))
    return data, positions


def known_valid(cache_dir: Path, key: str) -> bool:
    """True when the parse of the text of ``key`` passed the structure's validation under today's checks."""
    return _valid_mark(cache_dir, key).is_file()


def remember_valid(cache_dir: Path, key: str) -> None:
    """Mark the parse of the text of ``key`` as structurally valid under today's checks."""
    with contextlib.suppress(OSError):
        write_atomic(_valid_mark(cache_dir, key), "")


def _valid_mark(cache_dir: Path, key: str) -> Path:
    return cache_dir / f"{key}.valid-{_schemas_digest()[:32]}"


_DIGESTS: list[tuple[Any, Any, tuple[str, ...], str]] = []  # the schemas and checks of the last digest, and it


def _schemas_digest() -> str:
    """What the structure's validation depends on besides the data: its code, the spec's schema, every
    check's schema (plugins' checks included) and which checks nest others; computed again whenever
    those schemas are rebuilt or a check is registered."""
    from aitest.checks.combinators import MAX_NESTING, Combinator
    from aitest.checks.registry import all_checks
    from aitest.spec import validate
    from aitest.spec.schema import check_schemas
    from aitest.util import schema_quick

    structure, schemas, checks = validate._structure_schema(), check_schemas(), all_checks()
    names = tuple(checks)
    for seen_structure, seen_schemas, seen_names, digest in _DIGESTS:
        if seen_structure is structure and seen_schemas is schemas and seen_names == names:
            return digest
    nesting = sorted((name, getattr(kind, "many", None)) for name, kind in checks.items()
                     if issubclass(kind, Combinator))  # fmt: skip
    code = [Path(module).read_text("utf-8") for module in (validate.__file__, schema_quick.__file__)]
    parts = [structure, schemas, nesting, MAX_NESTING, code]
    digest = hashlib.sha256(json.dumps(parts, sort_keys=True, default=repr).encode()).hexdigest()
    _DIGESTS[:] = [(structure, schemas, names, digest)]
    return digest


def _encode(key: str, data: Any, positions: Positions) -> str:
    """The data, then the positions as flat lists of numbers in the order of a walk of the data (values
    and keys), which a walk of the decoded data gives back without storing a single path."""
    values: list[int] = []
    keys: list[int] = []

    def visit(node: Any, path: DocPath) -> None:
        values.extend(positions.values[path])
        if type(node) is dict:
            for name, child in node.items():
                here = (*path, name)
                keys.extend(positions.keys[here])
                visit(child, here)
        elif type(node) is list:
            for index, child in enumerate(node):
                visit(child, (*path, index))

    visit(data, ())
    booleans = [[list(path), written] for path, written in positions.yaml11_booleans.items()]
    return json.dumps({"key": key, "data": data, "values": values, "keys": keys, "booleans": booleans})


def _decode(text: str, key: str, file: str) -> tuple[Any, Positions]:
    """The cached parse; raises (ValueError, KeyError, TypeError, StopIteration, ...) when it is damaged."""
    stored = json.loads(text)
    if stored["key"] != key:
        raise ValueError("a cache file of another text")
    data, flat_values, flat_keys = stored["data"], stored["values"], stored["keys"]
    if not all(type(n) is int for n in flat_values) or not all(type(n) is int for n in flat_keys):
        raise TypeError("a position is not a number")
    positions = Positions(file)
    value_at, key_at = positions.values, positions.keys
    numbers = iter(flat_values)
    pairs = zip(numbers, numbers, strict=False)  # (line, col), in the order _encode wrote them
    key_numbers = iter(flat_keys)
    key_pairs = zip(key_numbers, key_numbers, strict=False)

    def visit(node: Any, path: DocPath) -> None:
        value_at[path] = next(pairs)
        if type(node) is dict:
            for name, child in node.items():
                here = (*path, name)
                key_at[here] = next(key_pairs)
                visit(child, here)
        elif type(node) is list:
            for index, child in enumerate(node):
                visit(child, (*path, index))

    visit(data, ())
    if next(pairs, None) is not None or next(key_pairs, None) is not None:
        raise ValueError("more positions than values")
    for path, written in stored["booleans"]:
        positions.yaml11_booleans[tuple(path)] = str(written)
    return data, positions
