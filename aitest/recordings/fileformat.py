"""The recording file: YAML, stably ordered, read strictly; a corrupt file is an error, never rewritten.

Read strictly means more than well-formed: every entry's key is computed again from its model, request and
run, so an entry edited by hand (or made up) is an error, never a response replayed for another request;
two entries with one key, a wrong `version`, `feature` or `entry_count` are errors too, each naming its line
and the flag that records the file again. Only `--aitest-record=rewrite` may drop damaged entries (``repair``):
it records everything again and keeps only what it used, and it says what it dropped.
"""

from __future__ import annotations

import hashlib
import json
import math
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from aitest.errors import Location, RecordingError, SpecError
from aitest.models.response import ToolCall
from aitest.recordings.entry import Entry, Request, entry_key
from aitest.recordings.inputs import PropertyInputs, TriedInput, inputs_key
from aitest.spec.yaml_loader import DocPath, Positions, load_yaml
from aitest.util.files import Unreadable, make_cache_dir, read_text, write_atomic
from aitest.util.text import cut, type_word

FORMAT_VERSION = 2  # 2: property inputs (`properties:`); files of version 1 read as before
OLDEST_VERSION = 1
MAX_RECORDING_BYTES = 512_000_000
_HEADER = (
    "# aitest recording of feature '{feature}': model calls and their responses.\n"
    "# Written by aitest (--aitest-record); review it like code. Format version {version}.\n"
)
_TOP = ("version", "feature", "entries", "properties", "entry_count")
_FIELDS = (
    "key", "model", "gguf_sha256", "run", "request", "response", "tool_calls", "finish_reason", "latency_ms", "tokens",
)  # fmt: skip
_CHAT_FIELDS = ("messages", "tools", "tool_choice")
_REQUIRED = ("key", "model", "run", "request", "response", "latency_ms")
_INPUT_FIELDS = (
    "key", "property", "model", "budget", "definition", "hypothesis", "generated", "minimal", "shrink_cut", "examples",
)  # fmt: skip
_INPUT_REQUIRED = ("key", "property", "budget", "definition", "examples")
_EXAMPLE_FIELDS = ("base", "vars", "variations", "shrinking")
REPAIR = "--aitest-record=rewrite"  # records the feature again and keeps only what the run used


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


def dump(
    feature: str,
    entries: dict[str, Entry],
    texts: dict[str, tuple[Entry, str]] | None = None,
    inputs: dict[str, PropertyInputs] | None = None,
) -> str:
    """The file's text. Each entry is rendered once and kept in ``texts`` (by key, with the entry it
    renders): a file that grows by a few entries is not rendered again whole (the pure-Python emitter is
    the slow part), and an entry another worker changed since is rendered again."""
    texts = {} if texts is None else texts
    ordered = sorted(entries.values(), key=sort_key)
    items = []
    for entry in ordered:
        kept = texts.get(entry.key)
        if kept is None or (kept[0] is not entry and kept[0] != entry):
            kept = texts[entry.key] = (entry, _yaml([entry.to_yaml_dict()]))  # as it renders inside `entries:`
        items.append(kept[1])
    body = "entries:\n" + "".join(items) if items else "entries: []\n"
    if inputs:
        records = sorted(inputs.values(), key=lambda r: (r.property, json.dumps(r.model), r.budget, r.key))
        body += _yaml({"properties": [record.to_yaml_dict() for record in records]})
    head = _yaml({"version": FORMAT_VERSION, "feature": feature})
    return _HEADER.format(feature=feature, version=FORMAT_VERSION) + head + body + _yaml({"entry_count": len(ordered)})


@dataclass(frozen=True)
class Loaded:
    """A recording as read: its entries and property inputs, the sha256 of its bytes (what a later writer
    compares with), and, when read to be repaired, the damaged entries it dropped (each an error)."""

    entries: dict[str, Entry]
    digest: str
    inputs: dict[str, PropertyInputs] = field(default_factory=dict)
    dropped: tuple[RecordingError, ...] = ()


@dataclass(frozen=True)
class Parsed:
    entries: dict[str, Entry]
    inputs: dict[str, PropertyInputs]
    dropped: tuple[RecordingError, ...] = ()


def digest_of(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


def read(path: Path, shown: str, *, cache_dir: Path | None = None, feature: str | None = None) -> dict[str, Entry]:
    """Entries of a recording file; RecordingError naming the file (and line) for anything malformed."""
    return load(path, shown, cache_dir=cache_dir, feature=feature).entries


_CACHE_FORMAT = 2  # the parse cache's own layout: a cache of another layout is parsed again


def load(
    path: Path, shown: str, *, cache_dir: Path | None = None, feature: str | None = None, repair: bool = False
) -> Loaded:
    """Read and check a recording. With ``cache_dir``, the parsed file is kept as JSON keyed by the
    sha256 of its bytes: YAML parsing is the slow part of a replay, and an unchanged file is parsed once
    (only a sound file is kept, and only one whose `feature` was checked). ``feature``: the feature the
    file must be of. ``repair``: damaged entries are dropped and returned, not raised (see the module)."""
    try:
        text = read_text(path, limit=MAX_RECORDING_BYTES)
    except Unreadable as why:
        raise RecordingError(
            f"unreadable recording: the file {why}", location=Location(shown, why.line, why.col), hint=_hint(shown)
        ) from None
    digest = digest_of(text.encode("utf-8"))
    cached = cache_dir / f"{digest}.json" if cache_dir is not None and feature is not None else None
    if cached is not None:
        try:
            data = json.loads(cached.read_text("utf-8"))
            if data["format"] == _CACHE_FORMAT and data["feature"] == feature:
                entries = {e["key"]: Entry.from_yaml_dict(e) for e in data["entries"]}
                inputs = {r["key"]: PropertyInputs.from_yaml_dict(r) for r in data["properties"]}
                return Loaded(entries, digest, inputs)
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            pass  # no cache yet, or a damaged one: parse the recording itself
    parsed = parse(text, shown, feature=feature, repair=repair)
    if cached is not None and not parsed.dropped:
        make_cache_dir(cached.parent)
        document = {
            "format": _CACHE_FORMAT,
            "feature": feature,
            "entries": [e.to_yaml_dict() for e in parsed.entries.values()],
            "properties": [r.to_yaml_dict() for r in parsed.inputs.values()],
        }
        write_atomic(cached, json.dumps(document))
    return Loaded(parsed.entries, digest, parsed.inputs, parsed.dropped)


def _hint(shown: str) -> str:
    return f"restore it from version control (git checkout -- {shown}), or delete it and record again"


def _rerecord(shown: str) -> str:
    return (
        f"record the feature again with {REPAIR} (it drops what it does not use), "
        f"or restore the file from version control (git checkout -- {shown})"
    )


def parse(text: str, shown: str, *, feature: str | None = None, repair: bool = False) -> Parsed:
    """The entries and property inputs of a recording's text, every field checked: a wrong type is an
    error with its line, never a value replayed as its Python repr; see the module for the other checks."""
    try:
        data, positions = load_yaml(text, shown, what="recording")
    except SpecError as error:
        raise RecordingError(
            f"corrupt recording: {error.message}", location=error.location, hint=_hint(shown)
        ) from None
    if not isinstance(data, dict) or "version" not in data:
        raise RecordingError("corrupt recording: no format version", location=Location(shown, 1, 1), hint=_hint(shown))
    version = data["version"]
    at_version = positions.of(("version",))
    if not isinstance(version, int) or isinstance(version, bool) or version < OLDEST_VERSION:
        raise RecordingError(
            f"corrupt recording: version {cut(repr(version), 40)} is not a format version aitest writes "
            f"({OLDEST_VERSION} to {FORMAT_VERSION})",
            location=at_version,
            hint=_hint(shown),
        )
    if version > FORMAT_VERSION:
        raise RecordingError(
            f"recording format version {version} is newer than this aitest understands ({FORMAT_VERSION})",
            location=at_version,
            hint="upgrade aitest (pip install -U aitest)",
        )
    unknown = [key for key in data if key not in _TOP or (key == "properties" and version < 2)]
    if unknown:
        raise RecordingError(
            f"corrupt recording: unknown key '{cut(str(unknown[0]), 60)}'",
            location=positions.of((unknown[0],), key=True), hint=_hint(shown),
        )  # fmt: skip
    named = data.get("feature")
    if not isinstance(named, str) or (feature is not None and named != feature):
        now = f"'{cut(named, 60)}'" if isinstance(named, str) else type_word(named)
        raise RecordingError(
            f"recording of the wrong feature: the file says feature {now}, but it is the recording of "
            f"'{cut(feature or '?', 60)}'" if feature is not None and isinstance(named, str)
            else f"corrupt recording: 'feature' must be the feature's name, not {now}",
            location=positions.of(("feature",)) if "feature" in data else Location(shown, 1, 1),
            hint=f"a recording is found by its file name: rename or move it, or {_rerecord(shown)}",
        )  # fmt: skip
    raw_entries = data.get("entries")
    count = data.get("entry_count")
    end = Location(shown, text.count("\n") + (not text.endswith("\n")), 1)  # where a missing last key would be
    at_count = positions.of(("entry_count",)) if "entry_count" in data else end
    if not isinstance(raw_entries, list):
        raise RecordingError(
            f"corrupt recording: 'entries' must be a list, not {type_word(raw_entries)}",
            location=positions.of(("entries",)) if "entries" in data else end, hint=_hint(shown),
        )  # fmt: skip
    if not isinstance(count, int) or isinstance(count, bool):
        what = "missing" if "entry_count" not in data else f"{cut(repr(count), 40)}, not a whole number"
        raise RecordingError(
            f"truncated or edited recording: its entry_count is {what} ({len(raw_entries)} entries)",
            location=at_count, hint=_hint(shown),
        )  # fmt: skip
    if count != len(raw_entries):
        raise RecordingError(
            f"truncated or edited recording: its entry_count is {count}, but it holds {len(raw_entries)} entries",
            location=at_count,
            hint=_hint(shown),
        )
    dropped: list[RecordingError] = []
    entries: dict[str, Entry] = _sound(raw_entries, "entries", _Fields, positions, shown, repair, dropped)
    inputs: dict[str, PropertyInputs] = {}
    if "properties" in data:
        if not isinstance(data["properties"], list):
            raise RecordingError(
                f"corrupt recording: 'properties' must be a list, not {type_word(data['properties'])}",
                location=positions.of(("properties",)), hint=_hint(shown),
            )  # fmt: skip
        inputs = _sound(data["properties"], "properties", _InputFields, positions, shown, repair, dropped)
    return Parsed(entries, inputs, tuple(dropped))


def _sound(
    items: list[Any],
    section: str,
    checked: type[_Checked],
    positions: Positions,
    shown: str,
    repair: bool,
    dropped: list[RecordingError],
) -> dict[str, Any]:
    """The items of a section by key, each checked field by field and then against the others: a damaged
    one is raised, or with ``repair`` left out and added to ``dropped``."""
    kept: dict[str, Any] = {}
    first_at: dict[str, int] = {}
    for i, raw in enumerate(items):
        fields = checked(raw, (section, i), positions, shown)
        item = fields.build()
        problem = fields.integrity(
            item.key, fields.computed_key(item), first_at, lambda n: positions.of((section, n)).line
        )
        if problem is not None:
            if not repair:
                raise problem
            dropped.append(problem)
            continue
        first_at[item.key] = i
        kept[item.key] = item
    return kept


class _Checked(ABC):
    """One item of a recording (an entry, or a property's inputs), checked field by field."""

    what = "entry"

    def __init__(self, raw: Any, at: DocPath, positions: Positions, shown: str) -> None:
        self.raw, self.at, self.positions, self.shown = raw, at, positions, shown

    @abstractmethod
    def build(self) -> Any:
        """The item, every field checked (RecordingError at the field's line otherwise)."""

    @abstractmethod
    def computed_key(self, item: Any) -> str:
        """The key the item's content gives (what its `key:` must be)."""

    def fail(self, message: str, *path: str | int, key: bool = False) -> RecordingError:
        where = self.positions.of((*self.at, *path), key=key)
        return RecordingError(f"corrupt recording: {self.what} {int(self.at[-1]) + 1}: {message}", location=where,
                              hint=_hint(self.shown))  # fmt: skip

    def text(self, name: str) -> str:
        value = self.raw[name]
        if not isinstance(value, str):
            raise self.fail(f"'{name}' must be text, not {type_word(value)}", name)
        return value

    def count(self, name: str, *, least: int = 0) -> int:
        value = self.raw[name]
        if not isinstance(value, int) or isinstance(value, bool) or value < least:
            raise self.fail(f"'{name}' must be a whole number from {least}, not {type_word(value)}", name)
        return value

    def model(self) -> dict[str, str]:
        model = self.raw["model"]
        if (
            not isinstance(model, dict)
            or set(model) != {"provider", "model"}
            or not all(isinstance(v, str) for v in model.values())
        ):
            raise self.fail("'model' must be a mapping of provider and model, both text", "model")
        return dict(model)

    def integrity(self, key: str, computed: str, first_at: dict[str, int], line_of: Any) -> RecordingError | None:
        """The key must be the one its content gives, and be the only one of its kind in the file."""
        number = int(self.at[-1]) + 1
        where = self.positions.of((*self.at, "key"))
        if key != computed:
            return RecordingError(
                f"{self.what} {number}: its key does not match its {self.content}: it was changed after it was "
                f"recorded, or written by hand (key {cut(key, 40)}, its {self.content} gives {computed})",
                location=where,
                hint=_rerecord(self.shown),
            )
        if key in first_at:
            other = first_at[key]
            return RecordingError(
                f"{self.what} {number}: the same key {cut(key, 40)} as {self.what} {other + 1} "
                f"(line {line_of(other)}): one {self.content} recorded twice",
                location=where,
                hint=_rerecord(self.shown),
            )
        return None

    content = "request"


class _Fields(_Checked):
    """One entry of a recording, checked field by field."""

    def build(self) -> Entry:
        return self.entry()

    def computed_key(self, item: Entry) -> str:
        return entry_key(item.model, item.request, item.run)

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
        model = self.model()
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
            model=model,
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


class _InputFields(_Checked):
    """The recorded inputs of one property (an item of `properties:`), checked field by field."""

    what = "property inputs"
    content = "inputs"

    def build(self) -> PropertyInputs:
        return self.record()

    def computed_key(self, item: PropertyInputs) -> str:
        return inputs_key(item.property, item.model, item.budget, item.definition)

    def record(self) -> PropertyInputs:
        raw = self.raw
        if not isinstance(raw, dict):
            raise self.fail(f"must be a mapping, not {type_word(raw)}")
        for name in raw:
            if name not in _INPUT_FIELDS:
                raise self.fail(f"unknown field '{cut(str(name), 60)}' (written by a newer aitest?)", name, key=True)
        for name in _INPUT_REQUIRED:
            if name not in raw:
                raise self.fail(f"missing field '{name}'")
        examples = raw["examples"]
        if not isinstance(examples, list):
            raise self.fail(f"'examples' must be a list, not {type_word(examples)}", "examples")
        tried = tuple(self.example(i, e) for i, e in enumerate(examples))
        minimal = raw.get("minimal")
        if minimal is not None and (
            not isinstance(minimal, int) or isinstance(minimal, bool) or not 0 <= minimal < len(tried)
        ):
            raise self.fail(
                f"'minimal' must be the index of one of its {len(tried)} examples (from 0) or empty, "
                f"not {cut(repr(minimal), 40)}",
                "minimal",
            )
        shrink_cut = raw.get("shrink_cut", False)
        if not isinstance(shrink_cut, bool):
            raise self.fail(f"'shrink_cut' must be true or false, not {type_word(shrink_cut)}", "shrink_cut")
        hypothesis = raw.get("hypothesis") or ""
        if not isinstance(hypothesis, str):
            raise self.fail(f"'hypothesis' must be text, not {type_word(hypothesis)}", "hypothesis")
        return PropertyInputs(
            key=self.text("key"),
            property=self.text("property"),
            model=self.model() if raw.get("model") is not None else None,
            budget=self.count("budget", least=1),
            definition=self.text("definition"),
            examples=tried,
            minimal=minimal,
            generated=self.count("generated") if "generated" in raw else 0,
            shrink_cut=shrink_cut,
            hypothesis=hypothesis,
        )

    def example(self, index: int, raw: Any) -> TriedInput:
        shape = "a mapping of base (text), vars (a mapping), variations (a list of text) and shrinking (true/false)"
        ok = isinstance(raw, dict) and set(raw) == set(_EXAMPLE_FIELDS)
        if ok:
            variations = raw["variations"]
            ok = (
                isinstance(raw["base"], str)
                and isinstance(raw["vars"], dict)
                and all(isinstance(k, str) for k in raw["vars"])
                and isinstance(variations, list)
                and all(isinstance(v, str) for v in variations)
                and isinstance(raw["shrinking"], bool)
            )
        if not ok:
            raise self.fail(f"example {index + 1} must be {shape}", "examples", index)
        return TriedInput(raw["base"], dict(raw["vars"]), tuple(raw["variations"]), raw["shrinking"])
