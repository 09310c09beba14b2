"""What every check is: a small unit, prepared once from the spec, run on one output."""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from aitest.errors import Location


@dataclass(frozen=True)
class CheckResult:
    """The verdict of one check on one output: never a bare bool."""

    passed: bool
    message: str
    score: float | None = None
    detail: str = ""


@dataclass(frozen=True)
class CheckContext:
    """What a check may need while it is prepared: where the spec is, where the check is."""

    spec_dir: Path
    location: Location


class Check(ABC):
    """Base of every check type.

    ``value_schema`` and ``options`` (JSON Schemas) feed the spec format's schema;
    ``__init__`` prepares (compiles, loads files) and raises SpecError on bad values;
    ``run`` judges one (path-selected) output value.
    """

    name: ClassVar[str]
    value_schema: ClassVar[dict[str, Any]]
    options: ClassVar[dict[str, dict[str, Any]]] = {}
    description: ClassVar[str] = ""
    needs_json: ClassVar[bool] = False
    needs_latency: ClassVar[bool] = False  # judges the case's model time instead of its output

    def __init__(self, value: Any, options: dict[str, Any], ctx: CheckContext) -> None:
        self.value = value
        self.opts = options

    @abstractmethod
    def run(self, output: Any) -> CheckResult:
        """Judge one output value."""


def as_text(value: Any) -> str:
    """Text of an output value: strings as they are, anything else as compact JSON."""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


def show(value: Any, limit: int = 80) -> str:
    """A short one-line rendering of a value for messages."""
    text = repr(value) if isinstance(value, str) else as_text(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
