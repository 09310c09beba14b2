"""Recording files of a session: loaded on first use, new entries merged in under a lock, in batches."""

from __future__ import annotations

import gc
import time
from dataclasses import dataclass, field
from pathlib import Path

from aitest.errors import RecordingError
from aitest.recordings import fileformat
from aitest.recordings.entry import Entry
from aitest.recordings.inputs import PropertyInputs
from aitest.util.files import check_lock, locked, write_atomic

BATCH = 64  # entries; a flush also waits for half as many new entries as the file holds, so writes stay O(N)
FLUSH_SECONDS = 5.0  # but no entry waits longer than this to be written (a killed run loses at most these)


@dataclass
class FeatureRecording:
    """The recording file of one feature, as this process sees it."""

    feature: str
    path: Path
    shown: str  # the path as printed in messages
    lock_path: Path
    existed_at_start: bool
    repair: bool = False  # `rewrite`: damaged entries are dropped (and reported), not an error
    pending: dict[str, Entry] = field(default_factory=dict)
    pending_inputs: dict[str, PropertyInputs] = field(default_factory=dict)
    used: set[str] = field(default_factory=set)  # keys of the entries and property inputs this process used
    dropped: tuple[RecordingError, ...] = ()  # damaged entries left out when reading it to repair it
    _entries: dict[str, Entry] | None = None
    _inputs: dict[str, PropertyInputs] = field(default_factory=dict)
    _error: RecordingError | None = None
    _digest: str | None = None  # sha256 of the file's bytes as last read or written by this process
    _texts: dict[str, tuple[Entry, str]] = field(default_factory=dict)  # each entry as rendered YAML, by key
    _last_flush: float = field(default_factory=time.monotonic)

    def entries(self) -> dict[str, Entry]:
        """Entries on disk (plus this process's new ones); raises RecordingError for a corrupt file."""
        if self._error is not None:
            raise self._error
        if self._entries is None:
            try:
                if self.path.exists() or self.path.is_symlink():
                    loaded = fileformat.load(
                        self.path, self.shown, cache_dir=self.parsed_dir, feature=self.feature, repair=self.repair
                    )
                    self._entries, self._digest, self._inputs = loaded.entries, loaded.digest, loaded.inputs
                    if loaded.dropped:
                        self.dropped = loaded.dropped
                    gc.freeze()  # the entries live as long as the session: keep them out of every later GC pass
                else:
                    self._entries, self._digest, self._inputs = {}, None, {}
            except RecordingError as error:
                self._error = error
                raise
        return self._entries

    @property
    def parsed_dir(self) -> Path:
        """Where parsed copies of recordings are kept (.aitest_cache/recordings)."""
        return self.lock_path.parent.parent / "recordings"

    def refresh(self) -> None:
        """Forget what was read if the file changed since (another worker wrote to it)."""
        if self._entries is not None and self._current_digest() != self._digest:
            self._entries = None

    def _current_digest(self) -> str | None:
        try:
            return fileformat.digest_of(self.path.read_bytes()) if self.path.is_file() else None
        except OSError:
            return None

    def get(self, key: str) -> Entry | None:
        return self.pending.get(key) or self.entries().get(key)

    def inputs(self) -> dict[str, PropertyInputs]:
        """The property inputs on disk; raises RecordingError for a corrupt file, as ``entries`` does."""
        self.entries()
        return self._inputs

    def get_inputs(self, key: str) -> PropertyInputs | None:
        return self.pending_inputs.get(key) or self.inputs().get(key)

    def put_inputs(self, record: PropertyInputs) -> None:
        """Keep a property's inputs for the next write (after the property: see ``put``)."""
        if not self.pending and not self.pending_inputs:
            check_lock(self.lock_path)
            self.entries()
        self.pending_inputs[record.key] = record

    def put(self, entry: Entry) -> None:
        """Keep a new entry for the next write. The file it will go into must be sound now: a corrupt file
        or a planted lock link fails the case that records, not the end of the run."""
        if not self.pending and not self.pending_inputs:
            check_lock(self.lock_path)
            self.entries()
        self.pending[entry.key] = entry
        self._texts.pop(entry.key, None)  # re-recorded: render it again

    def due(self) -> bool:
        """Enough new entries (or waiting long enough) for a write that keeps recording O(N) overall."""
        if self.pending_inputs:
            return True  # a property's inputs come after its model calls, once per property
        if not self.pending:
            return False
        on_disk = len(self._entries or {})
        return len(self.pending) >= max(BATCH, on_disk // 2) or time.monotonic() - self._last_flush >= FLUSH_SECONDS

    def flush(self, *, force: bool = False) -> int:
        """Merge pending entries into the file: locked, re-read if another process wrote, atomic.

        A corrupt file is left alone. Without ``force``, only when ``due``. Returns how many entries were written.
        """
        if not (self.pending or self.pending_inputs) or not (force or self.due()):
            return 0
        with locked(self.lock_path):
            if self._entries is not None and self._error is None and self._current_digest() == self._digest:
                current = dict(self._entries)  # nobody wrote since we read or wrote: no need to parse it again
            else:
                self._entries, self._error = None, None
                current = dict(self.entries())
            current.update(self.pending)
            inputs = {**self._inputs, **self.pending_inputs}
            text = fileformat.dump(self.feature, current, self._texts, inputs)
            write_atomic(self.path, text)
            self._entries, self._inputs = current, inputs
            self._digest = fileformat.digest_of(text.encode("utf-8"))
        written = len(self.pending)
        self.pending.clear()
        self.pending_inputs.clear()
        self._last_flush = time.monotonic()
        return written

    def prune(self, keep: set[str]) -> int:
        """Keep only ``keep`` (the entries and property inputs `rewrite` used), and the entries of replay-only
        profiles (`provider = "recorded"`: imported from logs, nothing could record them again); returns
        how many entries were removed. Damaged entries (see fileformat) are removed too: rewrite repairs."""
        if not self.path.exists():
            return 0
        with locked(self.lock_path):
            loaded = fileformat.load(self.path, self.shown, feature=self.feature, repair=True)
            current = loaded.entries
            kept = {k: e for k, e in current.items() if k in keep or e.model.get("provider") == "recorded"}
            inputs = {k: r for k, r in loaded.inputs.items() if k in keep}
            if len(kept) != len(current) or len(inputs) != len(loaded.inputs) or loaded.dropped:
                write_atomic(self.path, fileformat.dump(self.feature, kept, self._texts, inputs))
        return len(current) - len(kept) + len(loaded.dropped)


@dataclass
class RecordingStore:
    """All recording files of the session, under one folder."""

    folder: Path
    rootdir: Path
    lock_dir: Path
    existing_at_start: frozenset[str]
    files: dict[str, FeatureRecording] = field(default_factory=dict)
    repair: bool = False  # `rewrite`: read damaged files to repair them (see FeatureRecording.repair)

    @staticmethod
    def existing(folder: Path) -> frozenset[str]:
        """Recordings that have a file now (decides what `once` records): each feature's, and in sub-folders
        those of ordinary tests (`aitest_model`), named by their path in the folder without `.yaml`."""
        if not folder.is_dir():
            return frozenset()
        found = (p.relative_to(folder).with_suffix("").as_posix() for p in folder.rglob("*.yaml"))
        return frozenset(name for name in found if not name.startswith("__embeddings__/"))

    def path_for(self, feature: str) -> Path:
        return self.folder / f"{feature}.yaml"

    @staticmethod
    def lock_name(feature: str) -> str:
        """One flat lock file per recording, also for a test's recording in a sub-folder (`a/b` -> `a~b.lock`)."""
        return feature.replace("/", "~") + ".lock"

    def feature(self, feature: str) -> FeatureRecording:
        if feature not in self.files:
            path = self.path_for(feature)
            try:
                shown = str(path.relative_to(self.rootdir))
            except ValueError:
                shown = str(path)
            self.files[feature] = FeatureRecording(
                feature, path, shown, self.lock_dir / self.lock_name(feature), feature in self.existing_at_start,
                repair=self.repair,
            )  # fmt: skip
        return self.files[feature]

    def flush(self, *, force: bool = False) -> int:
        return sum(recording.flush(force=force) for recording in self.files.values())
