"""Checks of checks: not, any_of, all_of.

The inner checks are whole check mappings, prepared by the same machinery as a spec's own (the loader hands
a combinator a ``NestedSetup`` that builds them), each with its own `path`, selected from the value the
combinator sees.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, ClassVar

from aitest.checks.base import Check, CheckContext, CheckResult, CheckSetup
from aitest.checks.path import JsonPath, PathMissing
from aitest.checks.registry import register
from aitest.errors import Location, SpecError
from aitest.util.text import cut, plural, shown

MAX_NESTING = 8  # combinators inside combinators: deeper is a spec nobody can read


@dataclass(frozen=True)
class Inner:
    """A prepared inner check: its name, the check, its own `path`, where it is written."""

    name: str
    check: Check
    path: JsonPath | None
    location: Location

    @property
    def label(self) -> str:
        return f"{self.name} [path {shown(self.path.text, quoted=False)}]" if self.path is not None else self.name

    def judge(self, ctx: CheckContext) -> CheckResult:
        """Run the inner check on the combinator's value, its own `path` selected first."""
        if self.path is None:
            return self.check.run(ctx)
        try:
            data = ctx.json()
        except ValueError as exc:
            return CheckResult(
                False, f"path {shown(self.path.text)} needs JSON output, but the output is not JSON ({exc})"
            )
        try:
            selected = self.path.select(data)
        except PathMissing as exc:
            return CheckResult(False, f"path {shown(self.path.text)} not found: {exc}")
        return self.check.run(replace(ctx, value=selected, is_json=True))


@dataclass(frozen=True)
class NestedSetup(CheckSetup):
    """The setup of a combinator: ``build(sub)`` prepares the inner check written at ``sub`` below its name
    (``()`` for `not`, ``(j,)`` for the j-th item of `any_of`); raises SpecError."""

    build: Callable[[tuple[int, ...]], Inner] | None = None


class Combinator(Check):
    """Base of not / any_of / all_of: prepares the inner checks, and passes on what they need."""

    many: ClassVar[bool] = True  # a list of checks (any_of, all_of), else one (not)

    def __init__(self, value: Any, options: dict[str, Any], setup: CheckSetup) -> None:
        super().__init__(value, options, setup)
        if not isinstance(setup, NestedSetup) or setup.build is None:
            raise SpecError(
                f"'{self.name}' needs its inner checks prepared by the spec loader", location=setup.location
            )
        subs = [(j,) for j in range(len(value))] if self.many else [()]
        self.inner = tuple(setup.build(sub) for sub in subs)

    def reference_texts(self) -> tuple[str, ...]:
        return tuple(t for inner in self.inner for t in inner.check.reference_texts())

    def model_profiles(self) -> tuple[str | None, ...]:
        return tuple(p for inner in self.inner for p in inner.check.model_profiles())

    def names(self) -> tuple[str, ...]:
        """Every check name inside, nested ones included (what a spec uses: `similar` needs embeddings)."""
        return tuple(
            n for i in self.inner for n in (i.name, *(i.check.names() if isinstance(i.check, Combinator) else ()))
        )

    def judged(self, ctx: CheckContext) -> list[tuple[Inner, CheckResult]]:
        return [(inner, inner.judge(ctx)) for inner in self.inner]


def _said(inner: Inner, result: CheckResult) -> str:
    return f"{inner.label}: {cut(result.message, 160)}"


def _detail(results: list[tuple[Inner, CheckResult]]) -> str:
    return "\n".join(f"{inner.label}: {line}" for inner, r in results for line in r.detail.splitlines())


# each inner check is validated on its own, with messages of its own (aitest.spec.validate)
_CHECK = {"type": ["object", "string"], "description": "a check, e.g. {contains: sorry}"}
_CHECKS = {"type": "array", "minItems": 1, "description": "checks, e.g. [{contains: sorry}, {contains: apolog}]"}


@register
class Not(Combinator):
    name = "not"
    example = "not: {contains: As an AI}"
    description = "the inner check fails"
    value_schema = _CHECK
    many = False

    def run(self, ctx: CheckContext) -> CheckResult:
        [(inner, result)] = self.judged(ctx)
        score = None if result.score is None else 1.0 - result.score
        if result.passed:
            message = f"{inner.label} passed, but must not: {cut(result.message, 200)}"
            return CheckResult(False, message, score, result.detail)
        return CheckResult(True, f"{inner.label} failed, as required: {cut(result.message, 200)}", score)


@register
class AnyOf(Combinator):
    name = "any_of"
    example = "any_of: [{contains: refund}, {contains: credit}]"
    description = "at least one of the inner checks passes"
    value_schema = _CHECKS

    def run(self, ctx: CheckContext) -> CheckResult:
        results = self.judged(ctx)
        scores = [r.score for _, r in results if r.score is not None]
        score = max(scores) if scores else None
        passing = [(i, r) for i, r in results if r.passed]
        if passing:
            inner, result = passing[0]
            return CheckResult(True, f"{len(passing)} of {len(results)} passed; first {_said(inner, result)}", score)
        said = "; ".join(_said(i, r) for i, r in results)
        return CheckResult(False, f"none of {plural(len(results), 'check')} passed: {said}", score, _detail(results))


@register
class AllOf(Combinator):
    name = "all_of"
    example = "all_of: [{starts_with: Dear}, {max_length: 600}]"
    description = "every inner check passes"
    value_schema = _CHECKS

    def run(self, ctx: CheckContext) -> CheckResult:
        results = self.judged(ctx)
        scores = [r.score for _, r in results if r.score is not None]
        score = min(scores) if scores else None
        failing = [(i, r) for i, r in results if not r.passed]
        if not failing:
            return CheckResult(True, f"all {plural(len(results), 'check')} passed", score)
        said = "; ".join(_said(i, r) for i, r in failing)
        message = f"{len(failing)} of {plural(len(results), 'check')} failed: {said}"
        return CheckResult(False, message, score, _detail(failing))
