"""Content hashes of model files, computed once and cached by path, size and mtime."""

from __future__ import annotations

import json
import os
from pathlib import Path

from aitest.models.bundled import model_cache_dir, sha256_of


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
        cache_file.parent.mkdir(parents=True, exist_ok=True)
        temp = cache_file.with_name(f"{cache_file.name}.{os.getpid()}.tmp")
        temp.write_text(json.dumps(cache, indent=1, sort_keys=True))
        os.replace(temp, cache_file)
    return str(cache[key])
