"""`--format auto`: which log format a file is, from its first line (or, for CSV, its header)."""

from __future__ import annotations

import json
from pathlib import Path

from aitest.importing.jsonl import MAX_LINE_BYTES

FORMATS = ("openai", "openai-batch", "pairs", "otel")
_PEEK = 1 << 16


class UnknownFormat(ValueError):
    """No format recognised: the message says what was looked for."""


def detect(path: Path, shown: str) -> str:
    """``openai``, ``openai-batch-input``, ``openai-batch-output``, ``pairs``, ``pairs-csv`` or ``otel``."""
    with path.open("rb") as handle:
        head = handle.read(_PEEK)
        if not head.strip():
            raise UnknownFormat(f"{shown}: the file is empty: nothing to import")
        handle.seek(len(head) - len(head.lstrip()))  # past leading blank lines
        line = handle.readline(MAX_LINE_BYTES)  # the first line whole, however long (a RAG prompt), within bounds
    text = head.decode("utf-8", errors="replace").lstrip("\ufeff").lstrip()
    first = line.decode("utf-8", errors="replace").lstrip("\ufeff").strip()
    try:
        value = json.loads(first)
    except (ValueError, RecursionError):
        value = None
    if isinstance(value, dict):
        if "request" in value and "response" in value:
            return "openai"
        if "custom_id" in value and "body" in value:
            return "openai-batch-input"
        if "custom_id" in value and ("response" in value or "error" in value):
            return "openai-batch-output"
        if "resourceSpans" in value:
            return "otel"
        if "input" in value and "output" in value:
            return "pairs"
    elif text.startswith("{") and '"resourceSpans"' in text:
        return "otel"  # a pretty-printed OTLP export
    elif value is None and "," in first and {"input", "output"} <= {c.strip().strip('"') for c in first.split(",")}:
        return "pairs-csv"
    raise UnknownFormat(
        f"{shown}:1: not a log format aitest reads (looked for OpenAI request/response pairs, Batch API input or "
        "output lines, input/output pairs in JSONL or CSV, OTLP JSON spans); name one with --format"
    )
