"""The replay-only profile in pyproject.toml: `[tool.aitest.models.NAME]` with `provider = "recorded"`,
appended as text (every byte already there stays), when the project has no profile of that name."""

from __future__ import annotations

import json
from pathlib import Path

from aitest.config import parse_toml
from aitest.errors import ConfigError, Location
from aitest.util.files import write_atomic


def table(name: str, model: str | None, sources: str) -> str:
    lines = [
        f"[tool.aitest.models.{name}]",
        'provider = "recorded"   # replay-only: the logged answers (aitest import)',
    ]
    if model:
        lines.append(f"model = {_toml_string(model)}")
    lines.append(f"imported_from = {_toml_string(sources)}")
    return "\n".join(lines) + "\n"


def _toml_string(value: str) -> str:
    """A TOML basic string: JSON's escapes are TOML's, and other characters are kept as they are."""
    return json.dumps(value.encode("utf-8", errors="replace").decode("utf-8"), ensure_ascii=False)


def added_text(path: Path, addition: str) -> str:
    """pyproject.toml's text with ``addition`` at its end; ConfigError when the result would not be valid
    TOML (a `models` written as an inline table, say), so that nothing is written."""
    text = path.read_bytes().decode("utf-8") if path.is_file() else ""  # its line endings, as they are
    newline = "\r\n" if "\r\n" in text else "\n"
    addition = addition.replace("\n", newline)
    if text and not text.endswith("\n"):
        addition = newline + addition
    if text.strip():
        addition = newline + addition
    try:
        parse_toml(text + addition, path)
    except ConfigError:
        raise ConfigError(
            "pyproject.toml: the profile table cannot be appended to it as it is: nothing was imported",
            location=Location(str(path)),
            hint="add it by hand, then import again:\n" + addition.strip(),
        ) from None
    return text + addition


def write(path: Path, text: str) -> None:
    write_atomic(path, text)
