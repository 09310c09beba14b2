"""The Python API behind ``aitest.check``: the same checks and messages as specs."""

from __future__ import annotations

import sys
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aitest.errors import AitestError, SpecErrors
from aitest.failure import describe_run
from aitest.run import evaluate
from aitest.spec.loader import build_check, normalize_promptfoo
from aitest.spec.validate import validate_check_item
from aitest.spec.yaml_loader import Positions
from aitest.util.text import plural

if TYPE_CHECKING:
    from aitest.embeddings import Embedder


@cache
def _embedder(rootdir: Path) -> Embedder:
    """The project's embedding model and caches (the committed one included), found from the working folder."""
    from aitest.config import find_rootdir, load_config
    from aitest.embeddings import Embedder

    return Embedder.for_config(load_config(find_rootdir(rootdir)))


def check(
    output: Any, checks: list[dict[str, Any]], *, output_kind: str = "text", latency_ms: float = 0.0, _depth: int = 1
) -> None:
    """Run spec-style checks on ``output``; AssertionError listing every failed check.

    A malformed check raises SpecError naming the calling line; schema paths are relative
    to the calling file.
    """
    __tracebackhide__ = True
    caller = sys._getframe(_depth)
    positions = Positions(caller.f_code.co_filename)
    positions.values[()] = (caller.f_lineno, 1)
    data = {"expect": [dict(item) if isinstance(item, dict) else item for item in checks]}
    normalize_promptfoo(data, positions)
    items = data["expect"]
    try:
        errors = [e for i, item in enumerate(items) for e in validate_check_item(item, ("expect", i), positions)]
        if errors:
            raise SpecErrors(errors) if len(errors) > 1 else errors[0]
        spec_dir = Path(caller.f_code.co_filename).parent
        expectations = [build_check(item, ("expect", i), positions, spec_dir) for i, item in enumerate(items)]
    except AitestError as error:
        raise error.with_traceback(None) from None
    embedder = _embedder(Path.cwd())
    try:
        run = evaluate(output, expectations, output_kind=output_kind, latency_ms=latency_ms, embedder=embedder)
        embedder.save()  # no session end to wait for: keep what was embedded now
    except AitestError as error:  # e.g. no embedding model: one line, not aitest's frames
        raise error.with_traceback(None) from None
    if not run.passed:
        count = len(run.failures)
        raise AssertionError("\n".join([f"{count} of {plural(len(run.checks), 'check')} failed:", *describe_run(run)]))
