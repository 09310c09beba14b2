"""The model parameters a spec's `params:` and the client's calls accept: the one list of them."""

from __future__ import annotations

from typing import Any

# name -> JSON Schema of its value (the spec format's `params`)
PARAMS: dict[str, dict[str, Any]] = {
    "temperature": {"type": "number", "minimum": 0},
    "max_tokens": {"type": "integer", "minimum": 1},
    "seed": {"type": "integer"},
    "stop": {"type": ["string", "array"], "items": {"type": "string"}},
    "top_p": {"type": "number", "minimum": 0, "maximum": 1},
    "top_k": {"type": "integer", "minimum": 0},
    "json_schema": {"type": ["object", "string"], "description": "constrained decoding: inline schema or a file"},
}
SAMPLING = tuple(name for name in PARAMS if name != "json_schema")  # passed to providers as they are
