"""Files on disk: atomic writes and aitest's cache folders. The one home of each."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from aitest.errors import AitestError

_UMASK = os.umask(0)
os.umask(_UMASK)


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` through a temp file in the same folder, fsync, rename.

    A crash leaves the previous file intact. The temp file is created exclusively
    (``mkstemp``: O_EXCL), so a planted file or link of the same name is never followed.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.tmp-{os.getpid()}-")
    try:
        os.fchmod(fd, 0o666 & ~_UMASK)  # as open() would create it (mkstemp makes it private)
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


def check_lock(lock_path: Path) -> None:
    """A lock file must not be a link: opening it to lock would write wherever the link points."""
    if lock_path.is_symlink():
        raise AitestError(
            f"{lock_path} is a symbolic link; aitest does not write through links",
            hint=f"remove it (it only serves as a lock): rm {lock_path}",
        )


@contextlib.contextmanager
def locked(lock_path: Path) -> Iterator[None]:
    """Hold an exclusive lock (a file beside the others in .aitest_cache/locks) across processes."""
    from filelock import FileLock

    make_cache_dir(lock_path.parent)
    check_lock(lock_path)
    with FileLock(str(lock_path)):
        yield


class Unreadable(Exception):
    """A file aitest was given cannot be read as text. ``str()`` says why as a predicate:
    "is not a regular file", "is not found", "is not UTF-8 text (...)", "cannot be read: ...".
    ``line`` and ``col``: where a byte that is not UTF-8 sits (0 for the other reasons)."""

    def __init__(self, why: str, line: int = 0, col: int = 0) -> None:
        super().__init__(why)
        self.line, self.col = line, col


def read_text(path: Path, *, limit: int) -> str:
    """A user's text file, refused unless it is a regular file of at most ``limit`` bytes of UTF-8.

    A folder, a FIFO or a device (a hang, or endless bytes) is never opened for reading.
    """
    try:
        if not path.is_file():
            raise Unreadable("is not a regular file" if path.exists() else "is not found")
        size = path.stat().st_size
        if size > limit:
            raise Unreadable(f"is {size / 1e6:.0f} MB, more than the {limit / 1e6:.0f} MB aitest reads")
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        before = exc.object[: exc.start]
        line, col = before.count(b"\n") + 1, exc.start - (before.rfind(b"\n") + 1) + 1
        raise Unreadable(f"is not UTF-8 text ({exc.reason} at byte {exc.start})", line, col) from None
    except OSError as exc:
        raise Unreadable(f"cannot be read: {exc.strerror or exc}") from None
