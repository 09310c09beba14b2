"""The log files of one import, each read by its format (named, or recognised by content)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from aitest.importing import openai_batch, openai_pairs, otel, pairs
from aitest.importing.detect import detect
from aitest.importing.logged import LoggedCall, Skipped

_BY_FORMAT = {"openai": openai_pairs.read, "pairs": pairs.read_jsonl, "pairs-csv": pairs.read_csv, "otel": otel.read}


def kind_of(path: Path, shown: str, given: str) -> str:
    """The reader for one file: as ``--format`` names it (``pairs`` is CSV for a .csv file), else detected;
    a batch file is told apart as input or output. UnknownFormat when auto finds none."""
    if given == "auto":
        return detect(path, shown)
    if given == "pairs" and path.suffix.lower() == ".csv":
        return "pairs-csv"
    if given == "openai-batch":  # which half: told by the first line's keys, without needing it to be whole
        with path.open("rb") as handle:
            head = handle.read(1 << 16)
        return "openai-batch-input" if b'"method"' in head or b'"url"' in head else "openai-batch-output"
    return given


def read_all(files: list[tuple[Path, str, str]]) -> Iterator[LoggedCall | Skipped]:
    """Every call and skipped line of ``(path, shown, kind)`` files, batch files joined. BatchError when a
    batch file comes without its other half."""
    inputs = [(p, s) for p, s, k in files if k == "openai-batch-input"]
    outputs = [(p, s) for p, s, k in files if k == "openai-batch-output"]
    for path, shown, kind in files:
        if kind in _BY_FORMAT:
            yield from _BY_FORMAT[kind](path, shown)
    if inputs or outputs:
        yield from openai_batch.read(inputs, outputs)
