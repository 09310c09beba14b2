"""The typed Spec: what a YAML behavior spec means once loaded and validated."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from aitest.checks.base import Check
from aitest.checks.combinators import Combinator
from aitest.checks.path import JsonPath
from aitest.errors import Location, SpecWarning
from aitest.util.text import shown


@dataclass(frozen=True)
class Expectation:
    """One item of an `expect:` list: a prepared check, its `path`, and where it was written."""

    name: str
    check: Check
    path: JsonPath | None
    location: Location
    critical: bool = False  # aitest compare refuses a swap that makes it fail
    implicit: bool = False  # added by aitest (valid_tool_calls of a spec with tools), not written in the spec
    weight: float = 1.0  # its share of a case's score, when the case sets a threshold

    @property
    def names(self) -> tuple[str, ...]:
        """Its name, and those of the checks inside it (`not`, `any_of`, `all_of`)."""
        return (self.name, *(self.check.names() if isinstance(self.check, Combinator) else ()))


@dataclass(frozen=True)
class Determinism:
    runs: int = 1
    agree: str | None = None
    threshold: float = 0.8
    min_pass: int | None = None

    @property
    def required(self) -> int:
        return self.runs if self.min_pass is None else min(self.min_pass, self.runs)

    def with_runs(self, runs: int) -> Determinism:
        """The same determinism with another number of runs (--aitest-runs)."""
        return Determinism(runs, self.agree, self.threshold, self.min_pass)


@dataclass(frozen=True)
class Target:
    text: str
    function: Callable[..., Any]
    wants_model: bool
    location: Location
    wants_openai: bool = False  # it takes an OpenAI-SDK-shaped client as `openai`


@dataclass(frozen=True)
class ToolSource:
    """What a tool returns when the model calls it in a prompt or messages spec (`tool_results:`): a fixed
    value, or a function of the call's arguments (``function``, written as ``text``)."""

    name: str
    location: Location
    value: Any = None
    function: Callable[..., Any] | None = None
    text: str = ""


@dataclass(frozen=True)
class Tools:
    """A spec's tools: the OpenAI function definitions, how the model may choose, what calls return, and
    how many model turns a case may take."""

    definitions: tuple[dict[str, Any], ...] = ()
    choice: Any = None  # None (the provider's default: auto) | auto | required | none | a tool's name
    results: dict[str, ToolSource] = field(default_factory=dict)
    max_steps: int = 4
    max_steps_location: Location | None = None

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(str(t["function"]["name"]) for t in self.definitions)

    def parameters(self, name: str) -> dict[str, Any]:
        """The JSON Schema of a declared tool's arguments."""
        function = next(t["function"] for t in self.definitions if t["function"]["name"] == name)
        return dict(function.get("parameters") or {"type": "object"})


@dataclass(frozen=True)
class Case:
    id: str
    vars: dict[str, Any]
    expect: tuple[Expectation, ...]
    determinism: Determinism | None
    location: Location
    description: str = ""
    critical: bool = False  # aitest compare refuses a swap that makes it fail
    xfail: str = ""  # the reason the case is expected to fail (strict: passing fails it); "" when not
    skip: str = ""  # the reason the case is not run; "" when it runs
    messages: tuple[dict[str, Any], ...] | None = None  # the conversation so far, replacing the spec's turns
    threshold: float | None = None  # the case passes when its weighted score is at least this (promptfoo's)


@dataclass(frozen=True)
class Variation:
    """One way to vary a var (see aitest.properties.variations): a kind and its option, where it was written."""

    kind: str  # case, whitespace, typos, punctuation, filler, choices, append, prepend, replace
    option: Any  # the kind's option: a case mode, a typo count, the choices, the text, the replacements
    location: Location

    @property
    def fixed(self) -> bool:
        """Applied to every example (a directional edit or a replacement), not drawn at random."""
        return self.kind in ("append", "prepend", "replace", "choices")


@dataclass(frozen=True)
class Invariant:
    """What must hold of every varied output: `same`, `similar` (threshold), `checks`, or a list of checks."""

    kind: str  # same | similar | checks | list
    location: Location
    threshold: float = 0.8
    path: JsonPath | None = None  # same / similar: compare only this field of JSON output
    expect: tuple[Expectation, ...] = ()  # list: the checks every varied output must pass

    @property
    def label(self) -> str:
        """The invariant as a reader finds it in the spec."""
        if self.kind == "list":
            return ", ".join(
                f"{e.name} [path {shown(e.path.text, quoted=False)}]" if e.path else e.name for e in self.expect
            )
        if self.kind == "checks":
            return "the case's own checks"
        name = f"similar >= {self.threshold}" if self.kind == "similar" else self.kind
        return f"{name} [path {shown(self.path.text, quoted=False)}]" if self.path is not None else name


@dataclass(frozen=True)
class Property:
    """A behavior that must survive generated variations of the input (`properties:` in a spec)."""

    id: str
    location: Location
    bases: tuple[str, ...]  # the ids of the cases whose vars are varied
    vary: tuple[tuple[str, tuple[Variation, ...]], ...]  # var -> its variations, in the spec's order
    invariant: Invariant
    examples: int = 20
    description: str = ""
    critical: bool = False


@dataclass(frozen=True)
class Spec:
    feature: str
    file: Path
    location: Location
    cases: tuple[Case, ...]
    expect: tuple[Expectation, ...] = ()
    output: str = "text"
    description: str = ""
    owner: str = ""
    model: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    prompt: str | None = None
    target: Target | None = None
    determinism: Determinism | None = None
    model_location: Location | None = None
    gate: dict[str, Any] = field(default_factory=dict)  # aitest compare's limits for this feature
    properties: tuple[Property, ...] = ()
    warnings: tuple[SpecWarning, ...] = ()  # what loads, but likely is not what the author meant
    messages: tuple[dict[str, Any], ...] | None = None  # a chat (OpenAI form, {{ vars }} in contents)
    tools: Tools | None = None  # `tools:` and what goes with them; None when the spec declares none

    @cached_property
    def check_names(self) -> frozenset[str]:
        """Every check name used by the feature, any of its cases or any of its properties."""
        every = self.expect + tuple(c for k in self.cases for c in k.expect)
        every += tuple(c for p in self.properties for c in p.invariant.expect)
        return frozenset(n for c in every for n in c.names)

    @property
    def needs_model(self) -> bool:
        """A prompt or messages spec, or a target that takes the model client (or the OpenAI-shaped one)."""
        if self.target is not None:
            return self.target.wants_model or self.target.wants_openai
        return True

    @property
    def is_chat(self) -> bool:
        """A messages spec, or a prompt spec with tools: run as a conversation (aitest.conversation)."""
        if self.target is not None:
            return False
        return self.messages is not None or bool(self.tools is not None and self.tools.definitions)

    @property
    def max_steps(self) -> int:
        return self.tools.max_steps if self.tools is not None else Tools().max_steps

    def turns_for(self, case: Case) -> tuple[dict[str, Any], ...]:
        """The conversation a case starts from: the spec's turns, or the spec's system turns followed by the
        case's own messages; a prompt spec with tools sends its prompt as the one user turn."""
        if self.messages is None:
            return ({"role": "user", "content": self.prompt or ""},)
        if case.messages is None:
            return self.messages
        return tuple(m for m in self.messages if m.get("role") == "system") + case.messages

    @cached_property
    def reference_texts(self) -> frozenset[str]:
        """Texts the feature's checks compare outputs with (embedded in one batch)."""
        every = self.expect + tuple(e for case in self.cases for e in case.expect)
        every += tuple(e for p in self.properties for e in p.invariant.expect)
        return frozenset(text for e in every for text in e.check.reference_texts())

    def uses_embeddings(self, determinism: Determinism) -> bool:
        """Whether a case compares meanings (a `similar` check or `agree: semantic`)."""
        return determinism.agree == "semantic" or "similar" in self.check_names

    def case(self, case_id: str) -> Case:
        return next(c for c in self.cases if c.id == case_id)

    def checks_for(self, case: Case) -> tuple[Expectation, ...]:
        """The feature's checks, then the case's; a check aitest added is left out where the case writes it."""
        written = {e.name for e in case.expect}
        return tuple(e for e in self.expect if not (e.implicit and e.name in written)) + case.expect

    def determinism_for(self, case: Case) -> Determinism:
        return case.determinism or self.determinism or Determinism()
