"""The recording file: YAML, stably ordered, written atomically; a corrupt file is an error, never rewritten."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import yaml

from aitest.errors import Location, RecordingError
from aitest.recordings.entry import Entry
from aitest.util.files import make_cache_dir, write_atomic

FORMAT_VERSION = 1
_HEADER = (
    "# aitest recording of feature '{feature}': model calls and their responses.\n"
    "# Written by aitest (--aitest-record); review it like code. Format version {version}.\n"
)


class _Dumper(yaml.SafeDumper):
    """Multi-line text as YAML block scalars, so diffs of recorded outputs read line by line."""


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    block = len(value) > 40 and "\n" in value.strip() and not value.endswith((" ", "\t")) and "\r" not in value
    style = "|" if block else ('"' if "\n" in value or "\r" in value else None)
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str)
_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def sort_key(entry: Entry) -> tuple[str, str, int, str]:
    return (entry.request.text(), entry.model["model"], entry.run, entry.key)


def dump(feature: str, entries: dict[str, Entry]) -> str:
    ordered = sorted(entries.values(), key=sort_key)
    body = {
        "version": FORMAT_VERSION,
        "feature": feature,
        "entries": [e.to_yaml_dict() for e in ordered],
        "entry_count": len(ordered),
    }
    text = yaml.dump(body, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100)
    return _HEADER.format(feature=feature, version=FORMAT_VERSION) + text


def read(path: Path, shown: str, *, cache_dir: Path | None = None) -> dict[str, Entry]:
    """Entries of a recording file; RecordingError naming the file for anything malformed.

    With ``cache_dir``, the parsed file is kept as JSON keyed by the file's sha256: YAML parsing
    is the slow part of a replay, and an unchanged file is then parsed once.
    """
    if cache_dir is None:
        return _parse(path, shown)
    raw = path.read_bytes()
    cached = cache_dir / f"{hashlib.sha256(raw).hexdigest()}.json"
    try:
        return {e["key"]: Entry.from_yaml_dict(e) for e in json.loads(cached.read_text(encoding="utf-8"))}
    except (OSError, ValueError, KeyError, TypeError):
        pass  # no cache yet, or a damaged one: parse the recording itself
    entries = _parse(path, shown)
    make_cache_dir(cache_dir)
    write_atomic(cached, json.dumps([e.to_yaml_dict() for e in entries.values()]))
    return entries


def _parse(path: Path, shown: str) -> dict[str, Entry]:
    hint = f"restore it from version control (git checkout -- {shown}), or delete it and record again"
    try:
        text = path.read_text(encoding="utf-8")
        data = yaml.load(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = Location(shown, mark.line + 1, mark.column + 1) if mark else Location(shown)
        raise RecordingError(f"corrupt recording: {exc.problem}", location=where, hint=hint) from None
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise RecordingError(f"unreadable recording: {exc}", location=Location(shown), hint=hint) from None
    if not isinstance(data, dict) or not isinstance(data.get("version"), int):
        raise RecordingError("corrupt recording: no format version", location=Location(shown, 1, 1), hint=hint)
    if data["version"] > FORMAT_VERSION:
        raise RecordingError(
            f"recording format version {data['version']} is newer than this aitest understands ({FORMAT_VERSION})",
            location=Location(shown, 1, 1),
            hint="upgrade aitest (pip install -U aitest)",
        )
    raw_entries = data.get("entries")
    if not isinstance(raw_entries, list) or data.get("entry_count") != len(raw_entries):
        raise RecordingError(
            "truncated recording: its entry_count does not match its entries",
            location=Location(shown),
            hint=hint,
        )
    entries: dict[str, Entry] = {}
    for i, raw in enumerate(raw_entries):
        try:
            entry = Entry.from_yaml_dict(raw)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise RecordingError(
                f"corrupt recording: entry {i + 1} is malformed ({exc})", location=Location(shown), hint=hint
            ) from None
        entries[entry.key] = entry
    return entries
