"""Map the spec files to the spec format's schema in .vscode/settings.json (Red Hat's YAML extension),
merged into the settings already there."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from aitest.scaffold.steps import Step
from aitest.util.files import write_atomic

SETTINGS = ".vscode/settings.json"
WHAT = "yaml.schemas maps the spec files to the schema (VS Code's YAML extension)"


def map_schema(root: Path, schema: str, globs: list[str], *, force: bool = False) -> Step:
    """Add ``"yaml.schemas": {schema: globs}`` to the settings; a file that is not plain JSON (VS Code
    allows comments) is left alone, and the step says what to add to it."""
    path = root / SETTINGS
    wanted = {"yaml.schemas": {schema: globs}}
    manual = "add to it:\n" + json.dumps(wanted, indent=4)
    if not path.exists():
        write_atomic(path, json.dumps(wanted, indent=4) + "\n")
        return Step(SETTINGS, "created", WHAT)
    try:
        text = path.read_text(encoding="utf-8")
        settings = json.loads(text) if text.strip() else {}
    except (OSError, UnicodeDecodeError, ValueError):
        return Step(SETTINGS, "skipped", "not plain JSON (comments?), so left as it is", manual)
    schemas = settings.get("yaml.schemas", {}) if isinstance(settings, dict) else None
    if not isinstance(schemas, dict):
        return Step(SETTINGS, "skipped", "its yaml.schemas is not a mapping, so left as it is", manual)
    if schemas.get(schema) == globs or (schema in schemas and not force):
        return Step(SETTINGS, "kept", f"yaml.schemas maps {schema} already")
    action = "updated" if schema in schemas else "added"
    settings["yaml.schemas"] = {**schemas, schema: globs}
    write_atomic(path, json.dumps(settings, indent=_indent(text), ensure_ascii=False) + "\n")
    return Step(SETTINGS, action, WHAT)


def _indent(text: str) -> Any:
    """The file's own indentation (VS Code writes 4 spaces; some use tabs)."""
    match = re.search(r"^([ \t]+)\S", text, re.M)
    return match[1] if match else 4
