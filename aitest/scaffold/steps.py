"""One file of `aitest init`: written, added to, or left alone, and what the user is told about it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from aitest.util.files import write_atomic

CHANGED = ("created", "added", "updated")


@dataclass(frozen=True)
class Step:
    """What init did with one file: created, added (to an existing file), updated, kept or skipped."""

    path: str  # relative to the project root, as shown
    action: str
    note: str = ""  # what the file is for, or why it was kept or skipped
    manual: str = ""  # when skipped: what to add by hand

    @property
    def changed(self) -> bool:
        return self.action in CHANGED

    def lines(self) -> list[str]:
        head = f"  {self.action:<8} {self.path}" + (f": {self.note}" if self.note else "")
        return [head, *(f"             {line}" for line in self.manual.splitlines())]


def shown(path: Path, root: Path) -> str:
    """``path`` relative to the project root, with forward slashes, as in the docs."""
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return str(path)


def write_file(root: Path, path: Path, text: str, *, what: str, force: bool = False, regenerate: bool = False) -> Step:
    """Create ``path`` with ``text``; an existing file is kept unless ``force`` (or ``regenerate``: a file
    aitest generates, such as the schema, is brought up to date)."""
    name = shown(path, root)
    if path.is_symlink() or (path.exists() and not path.is_file()):
        return Step(name, "skipped", "exists and is not a regular file; left as it is")
    if path.is_file():
        try:
            same = path.read_text(encoding="utf-8") == text
        except (OSError, UnicodeDecodeError):
            same = False
        if same:
            return Step(name, "kept", "already up to date")
        if not (force or regenerate):
            return Step(name, "kept", "exists and differs from what init writes; left as it is (--force replaces it)")
        write_atomic(path, text)
        return Step(name, "updated", what)
    write_atomic(path, text)
    return Step(name, "created", what)
