"""Keys and files: each imported case's first request built as a run of the written spec builds it (so the
recording answers it), the entries, and the writes: checked first, then recordings, spec and pyproject.toml,
each atomic; nothing is written when any of them could not be."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from aitest.config import Config
from aitest.conversation import first_step
from aitest.errors import AitestError
from aitest.importing.spec_text import NewCase
from aitest.models.client import chat_request
from aitest.models.messages import calls_so_far, normalize, renumber, tool_definitions
from aitest.models.profile import Profile
from aitest.recordings.entry import Entry, entry_key, tool_summary
from aitest.recordings.store import RecordingStore
from aitest.spec.model import Spec


class Unwritable(AitestError):
    """A file the import must write cannot be: nothing is written."""


class Changed(ValueError):
    """A case of the spec no longer sends the request it was imported from (edited since)."""


def entries(spec: Spec, cases: list[NewCase], profile: Profile) -> list[Entry]:
    """One entry per case: its first step's request, keyed for ``profile``, answered as the log says. Changed
    (naming the case) when the spec's case sends another conversation than the logged one: its answer would
    then be recorded for a request the model never saw."""
    identity = profile.identity()
    out = []
    by_id = {c.id: c for c in spec.cases}
    for new in cases:
        case = by_id[new.id]
        history, definitions, choice = first_step(spec.turns_for(case), spec.tools, case.vars)
        if normalize(history) != normalize(list(new.call.messages)):
            raise Changed(new.id)
        tools = tool_definitions(list(definitions)) if definitions else None
        request = chat_request(history, tools, tool_summary(tools) if tools else None, choice, dict(spec.params))
        call = new.call
        calls = renumber(call.tool_calls, calls_so_far(request.messages or []))
        key = entry_key(identity, request, 0)
        latency = call.latency_ms or 0.0  # a log without times (a batch) records 0 ms
        out.append(Entry(key, identity, request, 0, call.text, latency, call.prompt_tokens, call.completion_tokens,
                         None, calls, call.finish_reason))  # fmt: skip
    return out


@dataclass(frozen=True)
class Written:
    recording: str  # the recording file as shown
    added: int  # entries new to it


def check_writable(*paths: Path) -> None:
    """Each file can be written (its folder exists or can be made, and lets us create files in it)."""
    for path in paths:
        folder = path.parent
        while not folder.exists() and folder != folder.parent:
            folder = folder.parent
        if not folder.is_dir():
            raise Unwritable(f"{path}: cannot be written ({folder.name} is a file, not a folder): nothing was imported",
                             hint=f"move {folder} away, or configure another folder")  # fmt: skip
        if (path.exists() and not os.access(path, os.W_OK)) or not os.access(folder, os.W_OK | os.X_OK):
            raise Unwritable(f"{path}: cannot be written (permissions): nothing was imported",
                             hint="make the folder writable, or import into another spec (--spec)")  # fmt: skip
        if path.exists() and not path.is_file():
            raise Unwritable(f"{path}: is not a file: nothing was imported", hint="remove or rename it")


def write_recording(config: Config, feature: str, new: list[Entry]) -> Written:
    """Merge ``new`` into the feature's recording: locked against parallel writers, atomic, the file as
    every other recording (an entry already there with the same key is left as it is)."""
    store = RecordingStore(
        config.recordings, config.rootdir, config.cache_dir / "locks", RecordingStore.existing(config.recordings)
    )
    recording = store.feature(feature)
    have = recording.entries()  # RecordingError for a corrupt file: named, never overwritten
    added = list({e.key: e for e in new if e.key not in have}.values())
    for entry in added:
        recording.put(entry)
    recording.flush(force=True)  # nothing new: nothing written
    return Written(recording.shown, len(added))


def missing(config: Config, feature: str, new: list[Entry]) -> int:
    """How many of ``new`` the feature's recording lacks (RecordingError for a corrupt file)."""
    path = config.recordings / f"{feature}.yaml"
    if not path.exists():
        return len({e.key for e in new})
    from aitest.recordings.fileformat import read

    have = read(path, str(path))
    return len({e.key for e in new if e.key not in have})
