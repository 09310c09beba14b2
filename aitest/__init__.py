"""aitest: behavior regression tests for AI features, as a pytest plugin."""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"
__all__ = ["__version__", "check"]


def check(
    output: Any,
    checks: list[dict[str, Any]],
    *,
    output_kind: str = "text",
    latency_ms: float = 0.0,
    vars: dict[str, Any] | None = None,
    model: Any = None,
) -> None:
    """Run spec-style checks on an output inside an ordinary test; AssertionError on failure.

    ``latency_ms`` is what a `max_latency_ms` check judges (time your call and pass it); ``vars``
    the input, for a `rubric`'s judge and a `python:` check's ``case``; ``model`` the client a
    `rubric`'s judge answers through (e.g. the ``aitest_model`` fixture).
    """
    __tracebackhide__ = True
    from aitest.api import check as _check

    _check(output, checks, output_kind=output_kind, latency_ms=latency_ms, vars=vars, model=model, _depth=2)
