"""Content hashes of model files, computed once and cached by path, size and mtime."""

from __future__ import annotations

import json
from pathlib import Path

from aitest.models.bundled import model_cache_dir, sha256_of
from aitest.util.files import write_atomic


def _cache_file() -> Path:
    return model_cache_dir() / "gguf-hashes.json"


def cached_sha256(path: Path) -> str:
    """sha256 of ``path``; rehashed only when its size or mtime changed."""
    st = path.stat()
    key = f"{path.resolve()}|{st.st_size}|{st.st_mtime_ns}"
    cache_file = _cache_file()
    try:
        cache = json.loads(cache_file.read_text())
    except (OSError, ValueError):
        cache = {}  # a cache, not a recording: rebuilt when unreadable
    if key not in cache:
        cache[key] = sha256_of(path)
        write_atomic(cache_file, json.dumps(cache, indent=1, sort_keys=True))
    return str(cache[key])
