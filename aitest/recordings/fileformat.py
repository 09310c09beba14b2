"""The recording file: YAML, stably ordered, read strictly; a corrupt file is an error, never rewritten."""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from aitest.errors import Location, RecordingError, SpecError
from aitest.models.response import ToolCall
from aitest.recordings.entry import Entry, Request
from aitest.spec.yaml_loader import DocPath, Positions, load_yaml
from aitest.util.files import Unreadable, make_cache_dir, read_text, write_atomic
from aitest.util.text import type_word

FORMAT_VERSION = 1
MAX_RECORDING_BYTES = 512_000_000
_HEADER = (
    "# aitest recording of feature '{feature}': model calls and their responses.\n"
    "# Written by aitest (--aitest-record); review it like code. Format version {version}.\n"
)
_TOP = ("version", "feature", "entries", "entry_count")
_FIELDS = (
    "key", "model", "gguf_sha256", "run", "request", "response", "tool_calls", "finish_reason", "latency_ms", "tokens",
)  # fmt: skip
_CHAT_FIELDS = ("messages", "tools", "tool_choice")
_REQUIRED = ("key", "model", "run", "request", "response", "latency_ms")


class _Dumper(yaml.SafeDumper):
    """Multi-line text as YAML block scalars, so diffs of recorded outputs read line by line; no anchors."""

    def ignore_aliases(self, data: Any) -> bool:
        return True  # a recording holds plain copies: never `&id001` / `*id001`


_ODD_BREAKS = ("\r", "\x85", "\u2028", "\u2029")  # YAML reads these as line breaks: only "..." keeps them


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    odd = any(c in value for c in _ODD_BREAKS)
    block = len(value) > 40 and "\n" in value.strip() and not value.endswith((" ", "\t")) and not odd
    style = "|" if block else ('"' if "\n" in value or odd else None)
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str)


def _yaml(data: Any) -> str:
    return yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100)


readable_yaml = _yaml  # the same rendering for other files aitest writes (the cases `aitest import` adds)


def sort_key(entry: Entry) -> tuple[str, str, int, str]:
    return (entry.request.text(), entry.model["model"], entry.run, entry.key)


def dump(feature: str, entries: dict[str, Entry], texts: dict[str, str] | None = None) -> str:
    """The file's text. Each entry is rendered once and kept in ``texts`` (by key): a file that grows
    by a few entries is not rendered again whole (the pure-Python emitter is the slow part)."""
    texts = {} if texts is None else texts
    ordered = sorted(entries.values(), key=sort_key)
    items = []
    for entry in ordered:
        if entry.key not in texts:
            texts[entry.key] = _yaml([entry.to_yaml_dict()])  # as the same item renders inside `entries:`
        items.append(texts[entry.key])
    body = "entries:\n" + "".join(items) if items else "entries: []\n"
    head = _yaml({"version": FORMAT_VERSION, "feature": feature})
    return _HEADER.format(feature=feature, version=FORMAT_VERSION) + head + body + _yaml({"entry_count": len(ordered)})


@dataclass(frozen=True)
class Loaded:
    """A recording as read: its entries, and the sha256 of its bytes (what a later writer compares with)."""

    entries: dict[str, Entry]
    digest: str


def digest_of(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


def read(path: Path, shown: str, *, cache_dir: Path | None = None) -> dict[str, Entry]:
    """Entries of a recording file; RecordingError naming the file (and line) for anything malformed."""
    return load(path, shown, cache_dir=cache_dir).entries


def load(path: Path, shown: str, *, cache_dir: Path | None = None) -> Loaded:
    """Read and check a recording. With ``cache_dir``, the parsed file is kept as JSON keyed by the
    sha256 of its bytes: YAML parsing is the slow part of a replay, and an unchanged file is parsed once."""
    try:
        text = read_text(path, limit=MAX_RECORDING_BYTES)
    except Unreadable as why:
        raise RecordingError(
            f"unreadable recording: the file {why}", location=Location(shown), hint=_hint(shown)
        ) from None
    digest = digest_of(text.encode("utf-8"))
    cached = cache_dir / f"{digest}.json" if cache_dir is not None else None
    if cached is not None:
        try:
            return Loaded({e["key"]: Entry.from_yaml_dict(e) for e in json.loads(cached.read_text("utf-8"))}, digest)
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            pass  # no cache yet, or a damaged one: parse the recording itself
    entries = parse(text, shown)
    if cached is not None:
        make_cache_dir(cached.parent)
        write_atomic(cached, json.dumps([e.to_yaml_dict() for e in entries.values()]))
    return Loaded(entries, digest)


def _hint(shown: str) -> str:
    return f"restore it from version control (git checkout -- {shown}), or delete it and record again"


def parse(text: str, shown: str) -> dict[str, Entry]:
    """The entries of a recording's text, every field checked: a wrong type is an error with its line,
    never a value replayed as its Python repr."""
    try:
        data, positions = load_yaml(text, shown, what="recording")
    except SpecError as error:
        raise RecordingError(
            f"corrupt recording: {error.message}", location=error.location, hint=_hint(shown)
        ) from None
    version = data.get("version") if isinstance(data, dict) else None
    if not isinstance(version, int) or isinstance(version, bool):
        raise RecordingError("corrupt recording: no format version", location=Location(shown, 1, 1), hint=_hint(shown))
    if version > FORMAT_VERSION:
        raise RecordingError(
            f"recording format version {version} is newer than this aitest understands ({FORMAT_VERSION})",
            location=Location(shown, 1, 1),
            hint="upgrade aitest (pip install -U aitest)",
        )
    assert isinstance(data, dict)
    unknown = [key for key in data if key not in _TOP]
    if unknown:
        raise RecordingError(
            f"corrupt recording: unknown key '{unknown[0]}'", location=positions.of((unknown[0],), key=True),
            hint=_hint(shown),
        )  # fmt: skip
    raw_entries = data.get("entries")
    count = data.get("entry_count")
    if not isinstance(raw_entries, list) or isinstance(count, bool) or count != len(raw_entries):
        raise RecordingError(
            "truncated recording: its entry_count does not match its entries",
            location=Location(shown),
            hint=_hint(shown),
        )
    entries: dict[str, Entry] = {}
    for i, raw in enumerate(raw_entries):
        entry = _Fields(raw, ("entries", i), positions, shown).entry()
        entries[entry.key] = entry
    return entries


class _Fields:
    """One entry of a recording, checked field by field."""

    def __init__(self, raw: Any, at: DocPath, positions: Positions, shown: str) -> None:
        self.raw, self.at, self.positions, self.shown = raw, at, positions, shown

    def fail(self, message: str, *path: str | int, key: bool = False) -> RecordingError:
        where = self.positions.of((*self.at, *path), key=key)
        return RecordingError(f"corrupt recording: entry {int(self.at[-1]) + 1}: {message}", location=where,
                              hint=_hint(self.shown))  # fmt: skip

    def entry(self) -> Entry:
        raw = self.raw
        if not isinstance(raw, dict):
            raise self.fail(f"an entry must be a mapping, not {type_word(raw)}")
        for name in raw:
            if name not in _FIELDS:
                raise self.fail(f"unknown field '{name}' (written by a newer aitest?)", name, key=True)
        for name in _REQUIRED:
            if name not in raw:
                raise self.fail(f"missing field '{name}'")
        model = raw["model"]
        if (
            not isinstance(model, dict)
            or set(model) != {"provider", "model"}
            or not all(isinstance(v, str) for v in model.values())
        ):
            raise self.fail("'model' must be a mapping of provider and model, both text", "model")
        tokens = raw.get("tokens") or {}
        if not isinstance(tokens, dict) or not set(tokens) <= {"prompt", "completion"}:
            raise self.fail("'tokens' must be a mapping of prompt and completion", "tokens")
        for name in ("prompt", "completion"):
            value = tokens.get(name)
            if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 0):
                raise self.fail(f"'tokens.{name}' must be a whole number or empty, not {type_word(value)}", "tokens")
        sha = raw.get("gguf_sha256")
        if sha is not None and not isinstance(sha, str):
            raise self.fail(f"'gguf_sha256' must be text, not {type_word(sha)}", "gguf_sha256")
        return Entry(
            key=self.text("key"),
            model=dict(model),
            request=self.request(),
            run=self.count("run"),
            response=self.text("response"),
            latency_ms=self.milliseconds(),
            prompt_tokens=tokens.get("prompt"),
            completion_tokens=tokens.get("completion"),
            gguf_sha256=sha,
            tool_calls=self.tool_calls(),
            finish_reason=self.finish_reason(),
        )

    def tool_calls(self) -> tuple[ToolCall, ...]:
        raw = self.raw.get("tool_calls") or []
        shape = "a list of {id, name, arguments} with text id and name and a mapping of arguments"
        if not isinstance(raw, list):
            raise self.fail(f"'tool_calls' must be {shape}", "tool_calls")
        calls = []
        for call in raw:
            ok = isinstance(call, dict) and set(call) <= {"id", "name", "arguments"}
            if not ok or not all(isinstance(call.get(k), str) for k in ("id", "name")):
                raise self.fail(f"'tool_calls' must be {shape}", "tool_calls")
            if not isinstance(call.get("arguments", {}), dict):
                raise self.fail(f"'tool_calls' must be {shape}", "tool_calls")
            calls.append(ToolCall.from_dict(call))
        return tuple(calls)

    def finish_reason(self) -> str | None:
        value = self.raw.get("finish_reason")
        if value is not None and not isinstance(value, str):
            raise self.fail(f"'finish_reason' must be text, not {type_word(value)}", "finish_reason")
        return value

    def text(self, name: str) -> str:
        value = self.raw[name]
        if not isinstance(value, str):
            raise self.fail(f"'{name}' must be text, not {type_word(value)}", name)
        return value

    def count(self, name: str) -> int:
        value = self.raw[name]
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise self.fail(f"'{name}' must be a whole number from 0, not {type_word(value)}", name)
        return value

    def milliseconds(self) -> float:
        value = self.raw["latency_ms"]
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
            shown = "nan" if isinstance(value, float) and math.isnan(value) else type_word(value)
            raise self.fail(f"'latency_ms' must be a number of milliseconds, not {shown}", "latency_ms")
        return float(value)

    def request(self) -> Request:
        req = self.raw["request"]
        if not isinstance(req, dict) or req.get("kind") not in ("complete", "chat"):
            raise self.fail("'request' must be a mapping with kind complete or chat", "request")
        allowed = {"kind", "params", *(("prompt",) if req["kind"] == "complete" else _CHAT_FIELDS)}
        extra = [k for k in req if k not in allowed]
        if extra:
            raise self.fail(f"unknown field 'request.{extra[0]}'", "request", extra[0], key=True)
        params = req.get("params") or {}
        if not isinstance(params, dict):
            raise self.fail("'request.params' must be a mapping", "request", "params")
        if req["kind"] == "complete":
            if not isinstance(req.get("prompt"), str):
                raise self.fail(f"'request.prompt' must be text, not {type_word(req.get('prompt'))}", "request")
            return Request("complete", prompt=req["prompt"], params=dict(params))
        messages = req.get("messages")
        if not isinstance(messages, list) or not all(isinstance(m, dict) for m in messages):
            raise self.fail("'request.messages' must be a list of messages", "request")
        tools = req.get("tools")
        names = tools.get("names") if isinstance(tools, dict) else None
        sound = isinstance(names, list) and all(isinstance(n, str) for n in names)
        if tools is not None and (
            not sound or set(tools) != {"names", "sha256"} or not isinstance(tools["sha256"], str)
        ):
            raise self.fail("'request.tools' must be a mapping of names (a list) and sha256", "request", "tools")
        choice = req.get("tool_choice")
        messages = [dict(m) for m in messages]
        return Request("chat", messages=messages, params=dict(params), tool_choice=choice, tool_set=tools)
