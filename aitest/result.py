"""The result of a case as plain data: what the engine decided, what pytest shows, what reports keep.

It outlives pytest: it crosses from xdist workers to the controller and is written to run reports,
so it holds only JSON-able values (``to_dict`` / ``from_dict``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from aitest.errors import Location
from aitest.trajectory import Trajectory, trajectory_from_dicts
from aitest.util.text import shown

# passed/failed: the checks' verdict; error: the case could not run (target raised, model or recording
# error); missing: replay had no recording for a model call; skipped/xfailed/xpassed: as pytest says.
Outcome = Literal["passed", "failed", "error", "missing", "skipped", "xfailed", "xpassed"]
OUTCOMES: tuple[str, ...] = ("passed", "failed", "error", "missing", "skipped", "xfailed", "xpassed")


@dataclass(frozen=True)
class CheckVerdict:
    """What one check said of one run's output."""

    name: str
    passed: bool
    message: str
    location: Location
    path: str | None = None
    score: float | None = None
    detail: str = ""
    critical: bool = False

    @property
    def label(self) -> str:
        """The check as a reader finds it in the spec: its name, and its path if it has one."""
        return f"{self.name} [path {shown(self.path, quoted=False)}]" if self.path else self.name

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "path": self.path,
            "passed": self.passed,
            "score": self.score,
            "message": self.message,
            "detail": self.detail,
            "file": self.location.file,
            "line": self.location.line,
            "col": self.location.col,
            "critical": self.critical,
        }

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> CheckVerdict:
        location = Location(raw["file"], raw["line"], raw["col"])
        return cls(
            raw["name"], raw["passed"], raw["message"], location, raw["path"], raw["score"], raw["detail"],
            bool(raw.get("critical", False)),
        )  # fmt: skip


@dataclass(frozen=True)
class RunResult:
    """One run of a case: its output, the model's time and tokens, and each check's verdict."""

    index: int  # 0-based, as recordings number runs
    output: Any
    latency_ms: float  # the model's time when a model was called (recorded time on replay), else the feature's
    checks: tuple[CheckVerdict, ...] = ()
    problem: str = ""  # the output could not be checked at all (e.g. not JSON)
    model_calls: int = 0
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    trajectory: Trajectory = ()  # a conversation's steps: tool calls and the results fed back

    @property
    def passed(self) -> bool:
        return not self.problem and all(v.passed for v in self.checks)

    @property
    def failures(self) -> list[CheckVerdict]:
        return [v for v in self.checks if not v.passed]

    def to_dict(self) -> dict[str, Any]:
        return {
            "run": self.index,
            "passed": self.passed,
            "output": jsonable(self.output),
            "latency_ms": round(self.latency_ms, 3),
            "model_calls": self.model_calls,
            "tokens": {"prompt": self.prompt_tokens, "completion": self.completion_tokens},
            "problem": self.problem,
            "checks": [v.to_dict() for v in self.checks],
            **({"trajectory": [s.to_dict() for s in self.trajectory]} if self.trajectory else {}),
        }

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> RunResult:
        tokens = raw["tokens"]
        checks = tuple(CheckVerdict.from_dict(v) for v in raw["checks"])
        return cls(
            raw["run"],
            raw["output"],
            raw["latency_ms"],
            checks,
            raw["problem"],
            raw["model_calls"],
            tokens["prompt"],
            tokens["completion"],
            trajectory_from_dicts(raw.get("trajectory")),
        )


@dataclass(frozen=True)
class CaseResult:
    """A case (or a property) as it ended: outcome, model, runs, and why it failed."""

    feature: str
    id: str
    outcome: Outcome
    location: Location
    runs: tuple[RunResult, ...] = ()
    kind: str = "case"
    nodeid: str = ""
    owner: str = ""
    profile: str | None = None  # the model profile, when the feature calls a model
    model: dict[str, str] | None = None  # its identity: provider and model
    agree: str | None = None  # the determinism agreement asked for
    planned_runs: int = 1
    required: int = 1  # runs that must pass
    summary: str = ""  # the determinism verdict, when there were several runs
    error: str = ""  # why the case could not run (the whole message, hint included)
    traceback: str = ""  # the user's frames, when the feature's own code raised
    reason: str = ""  # one line: why it did not pass (pytest's short summary, JUnit, reports)
    reason_location: Location | None = None  # where that reason is written in the spec
    critical: bool = False  # aitest compare refuses a swap that makes it fail
    extra: dict[str, Any] = field(default_factory=dict)  # what later kinds of result add (e.g. properties)

    @property
    def passed(self) -> bool:
        return self.outcome == "passed"

    def with_outcome(self, outcome: Outcome, reason: str = "") -> CaseResult:
        return replace(self, outcome=outcome, reason=reason or self.reason)

    def latencies(self) -> list[float]:
        """The model time of each run that called a model."""
        return [r.latency_ms for r in self.runs if r.model_calls]

    def to_dict(self) -> dict[str, Any]:
        return {
            "nodeid": self.nodeid,
            "feature": self.feature,
            "id": self.id,
            "kind": self.kind,
            "file": self.location.file,
            "line": self.location.line,
            "outcome": self.outcome,
            "reason": self.reason,
            "reason_at": _location_dict(self.reason_location) if self.reason_location else None,
            "owner": self.owner,
            "critical": self.critical,
            "profile": self.profile,
            "model": self.model,
            "determinism": {"runs": self.planned_runs, "required": self.required, "agree": self.agree},
            "summary": self.summary,
            "error": self.error,
            "traceback": self.traceback,
            "runs": [r.to_dict() for r in self.runs],
            **({"extra": self.extra} if self.extra else {}),
        }

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> CaseResult:
        at = raw["reason_at"]
        return cls(
            feature=raw["feature"],
            id=raw["id"],
            outcome=raw["outcome"],
            location=Location(raw["file"], raw["line"]),
            runs=tuple(RunResult.from_dict(r) for r in raw["runs"]),
            kind=raw["kind"],
            nodeid=raw["nodeid"],
            owner=raw["owner"],
            critical=bool(raw.get("critical", False)),
            profile=raw["profile"],
            model=raw["model"],
            agree=raw["determinism"]["agree"],
            planned_runs=raw["determinism"]["runs"],
            required=raw["determinism"]["required"],
            summary=raw["summary"],
            error=raw["error"],
            traceback=raw["traceback"],
            reason=raw["reason"],
            reason_location=Location(at["file"], at["line"], at["col"]) if at else None,
            extra=raw.get("extra", {}),
        )


def _location_dict(location: Location) -> dict[str, Any]:
    return {"file": location.file, "line": location.line, "col": location.col}


def jsonable(value: Any) -> Any:
    """``value`` as plain JSON data (a target may return anything; reports and xdist need JSON)."""
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return json.loads(json.dumps(value, ensure_ascii=False, default=repr))
