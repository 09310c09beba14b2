"""Recording files of a session: loaded on first use, new entries merged in under a lock after each case."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from aitest.errors import RecordingError
from aitest.recordings import fileformat
from aitest.recordings.entry import Entry
from aitest.util.files import make_cache_dir, write_atomic


def _stamp(path: Path) -> tuple[int, int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return st.st_mtime_ns, st.st_size


@dataclass
class FeatureRecording:
    """The recording file of one feature, as this process sees it."""

    feature: str
    path: Path
    shown: str  # the path as printed in messages
    lock_path: Path
    existed_at_start: bool
    pending: dict[str, Entry] = field(default_factory=dict)
    used: set[str] = field(default_factory=set)
    _entries: dict[str, Entry] | None = None
    _error: RecordingError | None = None
    _stamp: tuple[int, int] | None = None  # (mtime_ns, size) of the file as read

    def entries(self) -> dict[str, Entry]:
        """Entries on disk (plus this process's new ones); raises RecordingError for a corrupt file."""
        if self._error is not None:
            raise self._error
        if self._entries is None:
            try:
                self._stamp = _stamp(self.path)
                exists = self.path.exists()
                self._entries = fileformat.read(self.path, self.shown, cache_dir=self.parsed_dir) if exists else {}
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
        if self._entries is not None and _stamp(self.path) != self._stamp:
            self._entries = None

    def get(self, key: str) -> Entry | None:
        return self.pending.get(key) or self.entries().get(key)

    def put(self, entry: Entry) -> None:
        self.pending[entry.key] = entry

    def flush(self) -> int:
        """Merge pending entries into the file: locked, re-read, atomic. A corrupt file is left alone.

        Returns how many entries were written.
        """
        if not self.pending:
            return 0
        from filelock import FileLock

        make_cache_dir(self.lock_path.parent)
        with FileLock(str(self.lock_path)):
            if self._entries is not None and self._error is None and _stamp(self.path) == self._stamp:
                current = dict(self._entries)  # nobody wrote since we read or wrote: skip parsing it again
            else:
                current = fileformat.read(self.path, self.shown) if self.path.exists() else {}
            current.update(self.pending)
            write_atomic(self.path, fileformat.dump(self.feature, current))
            self._entries, self._stamp = current, _stamp(self.path)
        written = len(self.pending)
        self.pending.clear()
        return written

    def prune(self, keep: set[str]) -> int:
        """Keep only ``keep`` (what `rewrite` ran); returns how many entries were removed."""
        if not self.path.exists():
            return 0
        from filelock import FileLock

        with FileLock(str(self.lock_path)):
            current = fileformat.read(self.path, self.shown)
            kept = {k: e for k, e in current.items() if k in keep}
            if len(kept) != len(current):
                write_atomic(self.path, fileformat.dump(self.feature, kept))
        return len(current) - len(kept)


@dataclass
class RecordingStore:
    """All recording files of the session, under one folder."""

    folder: Path
    rootdir: Path
    lock_dir: Path
    existing_at_start: frozenset[str]
    files: dict[str, FeatureRecording] = field(default_factory=dict)

    @staticmethod
    def existing(folder: Path) -> frozenset[str]:
        """Features that have a recording file now (decides what `once` records)."""
        return frozenset(p.stem for p in folder.glob("*.yaml")) if folder.is_dir() else frozenset()

    def path_for(self, feature: str) -> Path:
        return self.folder / f"{feature}.yaml"

    def feature(self, feature: str) -> FeatureRecording:
        if feature not in self.files:
            path = self.path_for(feature)
            try:
                shown = str(path.relative_to(self.rootdir))
            except ValueError:
                shown = str(path)
            self.files[feature] = FeatureRecording(
                feature, path, shown, self.lock_dir / f"{feature}.lock", feature in self.existing_at_start
            )
        return self.files[feature]

    def flush(self) -> int:
        return sum(recording.flush() for recording in self.files.values())
