"""Files on disk: atomic writes and aitest's cache folders. The one home of each."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` through a temp file in the same folder, fsync, rename.

    A crash leaves the previous file intact. The temp file is created exclusively
    (``mkstemp``: O_EXCL), so a planted file or link of the same name is never followed.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.tmp-{os.getpid()}-")
    try:
        with open(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise
    remove_stale_temps(path)


def remove_stale_temps(path: Path) -> None:
    """Temp files left by killed writers (their process is gone) are removed."""
    for temp in path.parent.glob(f".{path.name}.tmp-*"):
        pid = temp.name.rsplit(".tmp-", 1)[-1].split("-", 1)[0]
        if pid.isdigit() and not _alive(int(pid)):
            temp.unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def make_cache_dir(folder: Path) -> None:
    """Create a folder under .aitest_cache, which ignores itself in git (as .pytest_cache does)."""
    folder.mkdir(parents=True, exist_ok=True)
    for parent in (folder, *folder.parents):
        if parent.name == ".aitest_cache":
            ignore = parent / ".gitignore"
            if not ignore.exists():
                ignore.write_text("# created by aitest: a cache, not for version control\n*\n")
            break
