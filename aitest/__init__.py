"""aitest: behavior regression tests for AI features, as a pytest plugin."""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"
__all__ = ["__version__", "check"]


def check(output: Any, checks: list[dict[str, Any]], *, output_kind: str = "text", latency_ms: float = 0.0) -> None:
    """Run spec-style checks on an output inside an ordinary test; AssertionError on failure.

    ``latency_ms`` is what a `max_latency_ms` check judges (time your call and pass it).
    """
    __tracebackhide__ = True
    from aitest.api import check as _check

    _check(output, checks, output_kind=output_kind, latency_ms=latency_ms, _depth=2)
