"""What every check is: a small unit, prepared once from the spec, run on one output with its context."""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from aitest.errors import Location, ModelError

if TYPE_CHECKING:
    from aitest.embeddings import Embedder
    from aitest.models.profile import Price
    from aitest.trajectory import Trajectory


@dataclass(frozen=True)
class CheckResult:
    """The verdict of one check on one output: never a bare bool."""

    passed: bool
    message: str
    score: float | None = None
    detail: str = ""


@dataclass(frozen=True)
class CheckSetup:
    """What a check may need while it is prepared: where the spec is, where the check is."""

    spec_dir: Path
    location: Location
    rootdir: Path | None = None  # the project root: `python:` checks import the project's own code
    target_packages: tuple[str, ...] = ()  # and the packages of [tool.aitest] target_packages
    # the spec's `tools:` (OpenAI function definitions), by name; None when the spec declares none
    tools: Mapping[str, dict[str, Any]] | None = None


@dataclass(frozen=True)
class CaseInfo:
    """The case whose output a check judges: what `python:` functions get as ``case``, the judge as input."""

    feature: str
    id: str
    vars: Mapping[str, Any]


class ModelCaller(Protocol):
    """What a check may call a model through: the model client a target gets (recorded and replayed)."""

    def complete(self, prompt: str, **params: Any) -> str: ...

    def chat(self, messages: list[dict[str, Any]], **params: Any) -> str: ...


# a model client by profile name (None: the profile the spec runs on) -> (the profile's name, its client)
ModelLookup = Callable[[str | None], tuple[str, ModelCaller]]


def parse_json(text: str) -> Any:
    """Parse JSON output, tolerating a surrounding ```json code fence (models love them)."""
    stripped = text.strip()
    if stripped.startswith("```") and stripped.endswith("```"):
        stripped = stripped[3:-3]
        stripped = stripped[stripped.find("\n") + 1 :] if "\n" in stripped else stripped
    return json.loads(stripped)


@dataclass(frozen=True)
class Usage:
    """What one run's model calls took, as a check may count or price it.

    ``calls`` counts the run's model calls (every step of a conversation; a rubric's judge is not the
    feature's); the tokens are summed over them, None when no call reported any. ``profile`` names the
    model profile they ran on, ``price`` is its USD per million tokens: None when the profile gives
    none and is hosted, zero for a local model that gives none.
    """

    calls: int = 0
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    profile: str | None = None
    price: Price | None = None


@dataclass(frozen=True)
class CheckContext:
    """What a check judges, and what it may compare with.

    ``value`` is the output, or the part of it that the check's ``path`` selects (JSON parsed
    first); ``output`` the whole output of this run; ``runs`` every run's output of the case;
    ``reference`` the output a property compares against (the unvaried case's); ``embedder``
    the session's embedding model behind its cache. ``is_json`` says the value is parsed JSON
    already (JSON output, or a field selected by ``path``), so text in it is a JSON string.
    ``case`` is the case being judged (None in ``aitest.check``); ``models`` gives a check that
    calls a model (``rubric``) a client for a profile, recorded and replayed like the feature's.
    ``trajectory`` holds the run's model steps with their tool calls and the results fed back
    (empty when the feature made no ``respond`` call); ``finish_reason`` is the last answer's.
    ``usage`` is what the run's model calls took (None in ``aitest.check``, which sees no model call).
    """

    value: Any
    is_json: bool = False
    output: Any = None
    latency_ms: float = 0.0
    runs: tuple[Any, ...] = ()
    reference: Any = None
    embedder: Embedder | None = None
    case: CaseInfo | None = None
    models: ModelLookup | None = None
    trajectory: Trajectory = ()
    finish_reason: str | None = None
    usage: Usage | None = None

    def json(self) -> Any:
        """The value as JSON: text is parsed (ValueError when it is not JSON), anything else is already JSON."""
        return parse_json(self.value) if isinstance(self.value, str) and not self.is_json else self.value

    def embeddings(self) -> Embedder:
        if self.embedder is None:
            raise ModelError("this check compares meanings, but no embedding model is configured here")
        return self.embedder

    def model(self, profile: str | None, *, who: str) -> tuple[str, ModelCaller]:
        """The client of model profile ``profile`` (None: the spec's own) and the profile's name."""
        if self.models is None:
            raise ModelError(f"{who} calls a model, but no model client is available here")
        return self.models(profile)


class Check(ABC):
    """Base of every check type.

    ``value_schema`` and ``options`` (JSON Schemas) feed the spec format's schema;
    ``__init__`` prepares (compiles, loads files) and raises SpecError on bad values;
    ``run`` judges one output in its context.
    """

    name: ClassVar[str]
    value_schema: ClassVar[dict[str, Any]]
    options: ClassVar[dict[str, dict[str, Any]]] = {}
    description: ClassVar[str] = ""
    any_options: ClassVar[bool] = False  # the editor schema lets any option through (a plugin that failed to load)
    example: ClassVar[str] = ""  # one check as a spec writes it, for the docs (`contains: refund`)
    score_is_share: ClassVar[bool] = True  # its score is a share, 0..1, that a case's weighted score may count
    aliases: ClassVar[tuple[str, ...]] = ()  # other spellings a spec may use (promptfoo's: `starts-with`)

    def __init__(self, value: Any, options: dict[str, Any], setup: CheckSetup) -> None:
        self.value = value
        self.opts = options

    @abstractmethod
    def run(self, ctx: CheckContext) -> CheckResult:
        """Judge one output."""

    def reference_texts(self) -> tuple[str, ...]:
        """Texts this check will embed, so that the engine can embed them in one batch with the rest."""
        return ()

    def model_profiles(self) -> tuple[str | None, ...]:
        """Model profiles this check calls (None: the spec's own), so that a spec naming an unknown one fails
        when it loads."""
        return ()


class ValueCheck(Check):
    """A check that needs nothing but the (selected) value."""

    def run(self, ctx: CheckContext) -> CheckResult:
        return self.judge(ctx.value)

    @abstractmethod
    def judge(self, value: Any) -> CheckResult:
        """Judge one (path-selected) output value."""


IGNORE_CASE: dict[str, dict[str, Any]] = {
    "ignore_case": {"type": "boolean", "description": "compare without regard to case"}
}


class TextCheck(ValueCheck):
    """A check on the text of the (selected) value, with the `ignore_case` option declared and applied here once.

    ``text`` is the value as text (JSON for anything but text) and ``fold`` puts text into the case the
    comparison uses, so a subclass compares ``self.text(value)`` with ``self.fold(expected)``.
    """

    options = IGNORE_CASE

    def __init__(self, value: Any, options: dict[str, Any], setup: CheckSetup) -> None:
        super().__init__(value, options, setup)
        self.ignore_case = bool(options.get("ignore_case"))

    def fold(self, text: str) -> str:
        return text.casefold() if self.ignore_case else text

    def text(self, value: Any) -> str:
        """The value as the text this check compares: folded when `ignore_case` is set."""
        return self.fold(as_text(value))


def verdict(passed: bool, passing: str, failing: str, *, score: float | None = None) -> CheckResult:
    """Pass with the message ``passing`` or fail with ``failing``: the last step of most checks."""
    return CheckResult(passed, passing if passed else failing, score)


def within(count: int, unit: str, *, low: int | None = None, high: int | None = None, note: str = "") -> CheckResult:
    """The verdict on a count that must lie within bounds (either may be None; equal bounds ask for an exact
    count), in the words every counting check uses: `3 characters, fewer than the minimum 5`."""
    counted = f"{count} {unit}"
    if low is not None and low == high:
        passed = count == low
        return CheckResult(passed, f"{counted}{note}, {'exactly' if passed else 'expected exactly'} {low}")
    if low is not None and count < low:
        return CheckResult(False, f"{counted}{note}, fewer than the minimum {low}")
    if high is not None and count > high:
        return CheckResult(False, f"{counted}{note}, more than the maximum {high}")
    if low is not None and high is not None:
        return CheckResult(True, f"{counted}{note}, within {low}..{high}")
    return CheckResult(True, f"{counted}{note} >= {low}" if high is None else f"{counted}{note} <= {high}")


def not_json(what: str, exc: ValueError) -> CheckResult:
    """The failure of a check that needs JSON, on output that is not JSON."""
    return CheckResult(False, f"{what} needs JSON output, but the output is not JSON ({exc})")


def as_text(value: Any) -> str:
    """Text of an output value: strings as they are, bytes decoded (UTF-8, undecodable bytes as U+FFFD),
    anything else as compact JSON (a value JSON cannot hold, such as a date, as its str)."""
    if isinstance(value, str):
        return value
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).decode("utf-8", errors="replace")
    return json.dumps(value, ensure_ascii=False, default=_plain)


def _plain(value: Any) -> Any:
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).decode("utf-8", errors="replace")
    return str(value)


def show(value: Any, limit: int = 80) -> str:
    """A short one-line rendering of a value for messages."""
    text = repr(value) if isinstance(value, str) else as_text(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
