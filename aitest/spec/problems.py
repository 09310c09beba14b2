"""Every problem of one spec file, collected so that a user sees them all in one round.

Each part of the loader records its errors here instead of raising, and marks the part of the
document it found broken; a later part that depends on a broken one asks ``blocked`` and skips
itself, so that one mistake is reported once, not again by everything built on it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from aitest.errors import AitestError, SpecError, SpecErrors, SpecWarning
from aitest.spec.yaml_loader import DocPath


@dataclass
class Problems:
    """The errors and warnings of the spec ``file`` (its display name), and the paths found broken."""

    file: str
    errors: list[SpecError] = field(default_factory=list)
    warnings: list[SpecWarning] = field(default_factory=list)
    broken: list[DocPath] = field(default_factory=list)

    def add(self, error: AitestError, path: DocPath | None = None) -> None:
        """Record ``error`` (each error of a SpecErrors); ``path`` is the part of the spec it breaks."""
        parts = error.errors if isinstance(error, SpecErrors) else [error]
        for part in parts:
            self.errors.append(
                part if isinstance(part, SpecError) else SpecError(part.message, location=part.location, hint=part.hint)
            )
        if path is not None:
            self.broken.append(path)

    def blocked(self, path: DocPath) -> bool:
        """Whether ``path`` holds a broken part, or lies inside one."""
        return any(b[: len(path)] == path or path[: len(b)] == b for b in self.broken)

    def inside_broken(self, path: DocPath) -> bool:
        """Whether ``path`` is a broken part or lies inside one (a broken part below it does not count)."""
        return any(path[: len(b)] == b for b in self.broken)

    @contextmanager
    def collecting(self, path: DocPath) -> Iterator[None]:
        """Run a step of the loader: an error it raises is recorded (and ``path`` marked broken)."""
        try:
            yield
        except AitestError as error:
            self.add(error, path)

    def warn(self, warning: SpecWarning) -> None:
        self.warnings.append(warning)

    def sorted_errors(self) -> list[SpecError]:
        """In file order: the spec's own lines first, then those of the files it names (data, schemas)."""

        def key(error: SpecError) -> tuple[bool, str, int, int]:
            where = error.location
            if where is None:
                return (False, "", 0, 0)
            return (where.file != self.file, where.file, where.line, where.col)

        return sorted(self.errors, key=key)

    def shown_warnings(self) -> tuple[SpecWarning, ...]:
        """The warnings, in file order, without those at the place of an error (the error says it all)."""
        taken = {(e.location.line, e.location.col) for e in self.errors if e.location and e.location.file == self.file}
        kept = [w for w in self.warnings if (w.location.line, w.location.col) not in taken]
        return tuple(sorted(kept, key=lambda w: (w.location.line, w.location.col)))

    def raise_if_any(self) -> None:
        if self.errors:
            raise SpecErrors(self.sorted_errors(), warnings=self.shown_warnings())
