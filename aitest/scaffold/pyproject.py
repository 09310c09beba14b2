"""Add the `[tool.aitest]` table to pyproject.toml: appended as text, so every byte already there stays."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aitest.config import parse_toml
from aitest.errors import ConfigError, Location
from aitest.scaffold.steps import Step
from aitest.util.files import write_atomic

WHAT = "[tool.aitest]: where the specs and the recordings live"


def add_table(root: Path, table: str) -> Step:
    """Create pyproject.toml with ``table``, or append ``table`` to it when it has no [tool.aitest];
    ConfigError (with its line) when the file is not valid TOML, since nothing could read it."""
    path = root / "pyproject.toml"
    if not path.exists():
        write_atomic(path, table)
        return Step("pyproject.toml", "created", WHAT)
    if not path.is_file():
        raise ConfigError("pyproject.toml is not a file", location=Location(str(path)), hint="remove or rename it")
    data = path.read_bytes()
    try:
        text = data.decode("utf-8")
        document = _parse(text, path)
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"not UTF-8 text (byte {exc.start})", location=Location(str(path)), hint="TOML files are UTF-8"
        ) from None
    tool = document.get("tool")
    if isinstance(tool, dict) and "aitest" in tool:
        return Step("pyproject.toml", "kept", "has a [tool.aitest] table already; left as it is")
    newline = "\r\n" if "\r\n" in text else "\n"
    addition = table.replace("\n", newline)
    if text and not text.endswith("\n"):
        addition = newline + addition
    if text.strip():
        addition = newline + addition
    try:
        _parse(text + addition, path)
    except ConfigError:  # e.g. `tool = {...}` as an inline table, which a [tool.aitest] header cannot extend
        return Step(
            "pyproject.toml",
            "skipped",
            "a [tool.aitest] table cannot be added to it as it is",
            "add by hand:\n" + table,
        )
    write_atomic(path, text + addition)
    return Step("pyproject.toml", "added", WHAT)


def _parse(text: str, path: Path) -> dict[str, Any]:
    return parse_toml(text, path, hint="fix pyproject.toml, then run aitest init again")
