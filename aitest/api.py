"""The Python API behind ``aitest.check``: the same checks and messages as specs."""

from __future__ import annotations

import sys
from functools import cache
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from aitest.checks.base import CaseInfo, ModelCaller, ModelLookup
from aitest.errors import AitestError, ModelError, SpecErrors
from aitest.failure import describe_run
from aitest.run import evaluate
from aitest.spec.forms import normalize_promptfoo
from aitest.spec.loader import build_check
from aitest.spec.validate import validate_check_item
from aitest.spec.yaml_loader import Positions
from aitest.util.text import plural

if TYPE_CHECKING:
    from aitest.config import Config
    from aitest.embeddings import Embedder
    from aitest.spec.model import Expectation


@cache
def _config(folder: Path) -> Config:
    """The project's configuration, found from the working folder as pytest finds its root."""
    from aitest.config import find_rootdir, load_config

    return load_config(find_rootdir(folder))


@cache
def _embedder(folder: Path, record: bool) -> Embedder:
    """The project's embedding model and caches (the committed one included); ``record``: while recording,
    the texts embedded here go to the committed cache too, as a spec's do."""
    from aitest.embeddings import Embedder

    return Embedder.for_config(_config(folder), write_committed=record)


def check(
    output: Any,
    checks: list[dict[str, Any]],
    *,
    output_kind: str = "text",
    latency_ms: float = 0.0,
    vars: dict[str, Any] | None = None,
    model: ModelCaller | None = None,
    _depth: int = 1,
) -> None:
    """Run spec-style checks on ``output``; AssertionError listing every failed check.

    A malformed check raises SpecError naming the calling line; schema paths are relative to the
    calling file. ``vars`` are the input (a rubric's judge sees them, a `python:` function gets them
    as ``case.vars``); ``model`` is the client a rubric's judge answers through (e.g. the
    ``aitest_model`` fixture's). `similar` reads the committed embedding cache first.
    """
    __tracebackhide__ = True
    caller = sys._getframe(_depth)
    try:
        from aitest.options import current_mode

        expectations = _prepare(checks, caller.f_code.co_filename, caller.f_lineno)
        embedder = _embedder(Path.cwd(), current_mode().records)
        case = CaseInfo("", "", MappingProxyType(dict(vars or {})))
        run = evaluate(
            output,
            expectations,
            output_kind=output_kind,
            latency_ms=latency_ms,
            embedder=embedder,
            case=case,
            models=_models(model),
        )
        embedder.save()  # no session end to wait for: keep what was embedded now
    except AitestError as error:  # a bad check, no embedding model: one line, not aitest's frames
        raise error.with_traceback(None) from None
    if not run.passed:
        count = len(run.failures)
        raise AssertionError("\n".join([f"{count} of {plural(len(run.checks), 'check')} failed:", *describe_run(run)]))


def _prepare(checks: list[dict[str, Any]], filename: str, line: int) -> list[Expectation]:
    """The checks, validated and prepared as a spec's are, located at the calling line."""
    positions = Positions(filename)
    positions.values[()] = (line, 1)
    data = {"expect": [dict(item) if isinstance(item, dict) else item for item in checks]}
    normalize_promptfoo(data, positions)
    items = data["expect"]
    errors = [e for i, item in enumerate(items) for e in validate_check_item(item, ("expect", i), positions)]
    if errors:
        raise SpecErrors(errors) if len(errors) > 1 else errors[0]
    config = _config(Path.cwd())
    spec_dir = Path(filename).parent
    return [
        build_check(
            item, ("expect", i), positions, spec_dir, rootdir=config.rootdir, target_packages=config.target_packages
        )
        for i, item in enumerate(items)
    ]


def _models(model: ModelCaller | None) -> ModelLookup:
    """A rubric's judge in aitest.check: the client passed as ``model``."""
    known = getattr(getattr(model, "profile", None), "name", None)  # a ModelClient knows its profile

    def lookup(judge: str | None) -> tuple[str, ModelCaller]:
        if model is None:
            raise ModelError(
                "rubric needs a model to judge: pass one to aitest.check as model=",
                hint="e.g. check(reply, [{'rubric': 'Is it polite?'}], model=aitest_model)",
            )
        if judge is not None and known is not None and judge != known:
            raise ModelError(
                f"rubric asks for the judge '{judge}', but aitest.check was given the model of profile '{known}'",
                hint="remove judge: from the check, or pass that profile's client as model=",
            )
        return str(known or judge or "the model passed to aitest.check"), model

    return lookup
