"""The run report (`--aitest-report=PATH`): every case's result as one JSON document, and its schema."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from aitest.recordings.mode import MODES
from aitest.result import OUTCOMES, CaseResult
from aitest.util.files import write_atomic

REPORT_VERSION = 1


def build_report(
    results: Iterable[CaseResult],
    *,
    record_mode: str,
    model_override: str | None,
    gates: dict[str, dict[str, Any]] | None = None,
    models: dict[str, dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """The report document: metadata, the count of each outcome, each feature's gate, each model's
    identity, size and price, and the cases in spec order."""
    from aitest import __version__

    ordered = sorted(results, key=lambda r: (r.location.file, r.location.line, r.id))
    counts: Counter[str] = Counter(r.outcome for r in ordered)
    return {
        "aitest_report": REPORT_VERSION,
        "aitest_version": __version__,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z"),
        "record_mode": record_mode,
        "model_override": model_override,
        "totals": {outcome: counts.get(outcome, 0) for outcome in OUTCOMES},
        "features": {name: {"gate": gate} for name, gate in sorted((gates or {}).items())},
        "models": dict(sorted((models or {}).items())),
        "cases": [r.to_dict() for r in ordered],
    }


def checks_passed(case: dict[str, Any]) -> bool:
    """Whether a reported case passed its checks, whatever pytest made of it: a case marked `xfail` whose checks
    pass is failed by strict xfail (outcome `failed`), yet its runs passed as the spec asks (enough of them, and
    no disagreement among them, which the determinism summary would add after a `;`)."""
    if case.get("outcome") in ("passed", "xpassed"):
        return True
    runs = case.get("runs") or []
    if case.get("outcome") != "failed" or case.get("kind", "case") != "case" or not runs or case.get("error"):
        return False
    required = (case.get("determinism") or {}).get("required", len(runs))
    summary = case.get("summary") or ""
    scored = case.get("extra") or {}
    if "runs_passed" in scored:  # under a threshold, a run may pass with a check failed: its verdict is counted
        return bool(scored["runs_passed"] >= required) and "; " not in summary
    return sum(1 for r in runs if r["passed"]) >= required and "; " not in summary


def write_report(path: Path, document: dict[str, Any]) -> None:
    """Written atomically: a reader never sees half a report."""
    write_atomic(path, json.dumps(document, indent=1, ensure_ascii=False, default=repr) + "\n")


def _location() -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {"file": {"type": "string"}, "line": {"type": "integer"}, "col": {"type": "integer"}},
        "required": ["file", "line", "col"],
        "additionalProperties": False,
    }


_EXAMPLE = {
    "type": "object",
    "description": "one distinct varied input a property tried, in the order tried",
    "properties": {
        "base": {"type": "string", "description": "the case whose vars were varied"},
        "vars": {"type": "object", "description": "the varied vars"},
        "variations": {"type": "array", "items": {"type": "string"}, "description": "what made them"},
        "output": {},
        "passed": {"type": "boolean"},
        "latency_ms": {"type": "number"},
        "shrinking": {"type": "boolean", "description": "tried while shrinking a failure"},
    },
    "required": ["base", "vars", "variations", "output", "passed", "latency_ms", "shrinking"],
    "additionalProperties": False,
}
PROPERTY = {
    "type": "object",
    "description": "a property (kind property): its invariant, budget and every input tried",
    "properties": {
        "invariant": {"type": "string"},
        "inputs": {
            "enum": ["recorded", "drawn", "none"],
            "description": "replayed from the recording, drawn by Hypothesis in this run, or none (not recorded)",
        },
        "hypothesis": {"type": "string", "description": "the Hypothesis version that drew the inputs"},
        "vary": {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}}},
        "bases": {"type": "array", "items": {"type": "string"}},
        "examples_asked": {"type": "integer", "description": "the spec's examples"},
        "budget": {"type": "integer", "description": "examples allowed this run (the session's cap may cut it)"},
        "cut_short": {"type": "boolean"},
        "tried": {"type": "integer", "description": "distinct inputs tried, shrinking included"},
        "shrink_steps": {"type": "integer"},
        "shrink_cut": {"type": "boolean", "description": "shrinking stopped at its budget of new inputs"},
        "examples": {"type": "array", "items": _EXAMPLE},
        "minimal": {
            "type": "object",
            "description": "a broken property: the smallest input that breaks it",
            "properties": {
                "base": {"type": "string"},
                "base_at": {"type": "string"},
                "base_vars": {"type": "object"},
                "vars": {"type": "object"},
                "variations": {"type": "array", "items": {"type": "string"}},
                "unvaried_output": {},
                "unvaried_passes": {"type": ["boolean", "null"]},
            },
            "required": ["base", "vars", "variations"],
        },
    },
    "required": ["invariant", "vary", "bases", "examples_asked", "budget", "cut_short", "tried", "examples"],
    "additionalProperties": False,
}


_CALL = {
    "type": "object",
    "properties": {"id": {"type": "string"}, "name": {"type": "string"}, "arguments": {"type": "object"}},
    "required": ["id", "name", "arguments"],
    "additionalProperties": False,
}
_STEP = {
    "type": "object",
    "description": "one model turn: its reply, the tool calls it made and the results fed back to them",
    "properties": {
        "text": {"type": "string"},
        "calls": {"type": "array", "items": _CALL},
        "results": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "call_id": {"type": "string"},
                    "name": {"type": "string"},
                    "content": {"type": "string"},
                },
                "required": ["call_id", "name", "content"],
                "additionalProperties": False,
            },
        },
        "finish_reason": {"type": ["string", "null"], "description": "stop, length or tool_calls, where recorded"},
    },
    "required": ["text", "calls", "results", "finish_reason"],
    "additionalProperties": False,
}


def report_schema() -> dict[str, Any]:
    """The JSON Schema of the run report (docs/report.schema.json)."""
    nullable_int = {"type": ["integer", "null"], "minimum": 0}
    check = {
        "type": "object",
        "description": "what one check said of one run's output",
        "properties": {
            "name": {"type": "string", "description": "the check's name, e.g. equals"},
            "path": {"type": ["string", "null"], "description": "the field it judged, if it has a path"},
            "passed": {"type": "boolean"},
            "score": {"type": ["number", "null"], "description": "e.g. the similarity of a `similar` check"},
            "message": {"type": "string"},
            "detail": {"type": "string", "description": "a diff or the other schema errors, when there are"},
            "file": {"type": "string"},
            "line": {"type": "integer"},
            "col": {"type": "integer"},
            "critical": {"type": "boolean", "description": "aitest compare refuses a swap that makes it fail"},
        },
        "required": ["name", "path", "passed", "score", "message", "detail", "file", "line", "col"],
        "additionalProperties": False,
    }
    run = {
        "type": "object",
        "description": "one run of a case (several under `determinism`)",
        "properties": {
            "run": {"type": "integer", "minimum": 0, "description": "0-based, as in recordings"},
            "passed": {"type": "boolean"},
            "output": {"description": "the feature's output: text, or JSON when the target returned data"},
            "latency_ms": {
                "type": "number",
                "minimum": 0,
                "description": "the model's time when a model was called (recorded on replay), else the feature's",
            },
            "model_calls": {"type": "integer", "minimum": 0},
            "tokens": {
                "type": "object",
                "properties": {"prompt": nullable_int, "completion": nullable_int},
                "required": ["prompt", "completion"],
                "additionalProperties": False,
            },
            "problem": {"type": "string", "description": "why no check could run (e.g. not JSON)"},
            "checks": {"type": "array", "items": check},
            "trajectory": {"type": "array", "items": _STEP, "description": "a conversation's model steps"},
        },
        "required": ["run", "passed", "output", "latency_ms", "model_calls", "tokens", "problem", "checks"],
        "additionalProperties": False,
    }
    case = {
        "type": "object",
        "properties": {
            "nodeid": {"type": "string", "description": "the pytest node id"},
            "feature": {"type": "string"},
            "id": {"type": "string"},
            "kind": {"enum": ["case", "property", "spec"], "description": "spec: a spec file that did not load"},
            "file": {"type": "string"},
            "line": {"type": "integer"},
            "outcome": {"enum": list(OUTCOMES)},
            "reason": {"type": "string", "description": "one line: why it did not pass"},
            "reason_at": {"oneOf": [{"type": "null"}, _location()]},
            "owner": {"type": "string"},
            "critical": {"type": "boolean", "description": "aitest compare refuses a swap that makes it fail"},
            "profile": {"type": ["string", "null"], "description": "the model profile; null when no model is called"},
            "model": {
                "oneOf": [
                    {"type": "null"},
                    {
                        "type": "object",
                        "properties": {"provider": {"type": "string"}, "model": {"type": "string"}},
                        "required": ["provider", "model"],
                        "additionalProperties": False,
                    },
                ]
            },
            "determinism": {
                "type": "object",
                "properties": {
                    "runs": {"type": "integer", "minimum": 1},
                    "required": {"type": "integer", "minimum": 0},
                    "agree": {"enum": [None, "exact", "json", "semantic"]},
                },
                "required": ["runs", "required", "agree"],
                "additionalProperties": False,
            },
            "summary": {"type": "string"},
            "error": {"type": "string", "description": "why the case could not run, hint included"},
            "traceback": {"type": "string", "description": "the feature's own frames, when its code raised"},
            "runs": {"type": "array", "items": run},
            "extra": {
                "type": "object",
                "description": "what a kind of result adds; a property: its examples; a case with a threshold: "
                "its score",
                "properties": {
                    "property": PROPERTY,
                    "score": {
                        "type": "number",
                        "description": "the weighted mean of the checks' scores (over the runs), for `threshold`",
                    },
                    "threshold": {"type": "number", "minimum": 0, "maximum": 1, "description": "the case's"},
                    "runs_passed": {
                        "type": "integer",
                        "minimum": 0,
                        "description": "runs that passed under the threshold (a check may have failed in them)",
                    },
                },
            },
        },
        "required": [
            "nodeid",
            "feature",
            "id",
            "kind",
            "file",
            "line",
            "outcome",
            "reason",
            "reason_at",
            "owner",
            "profile",
            "model",
            "determinism",
            "summary",
            "error",
            "traceback",
            "runs",
        ],
        "additionalProperties": False,
    }
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "aitest run report",
        "type": "object",
        "properties": {
            "aitest_report": {"const": REPORT_VERSION, "description": "the format version"},
            "aitest_version": {"type": "string"},
            "created": {"type": "string", "format": "date-time"},
            "record_mode": {"enum": list(MODES)},
            "model_override": {"type": ["string", "null"], "description": "--aitest-model, when given"},
            "totals": {
                "type": "object",
                "properties": {o: {"type": "integer", "minimum": 0} for o in OUTCOMES},
                "required": list(OUTCOMES),
                "additionalProperties": False,
            },
            "features": {
                "type": "object",
                "description": "each feature's `gate:` from its spec, for aitest compare",
                "additionalProperties": {
                    "type": "object",
                    "properties": {"gate": {"type": "object"}},
                    "required": ["gate"],
                    "additionalProperties": False,
                },
            },
            "models": {
                "type": "object",
                "description": "each model profile the cases ran on: its identity, file size and price",
                "additionalProperties": {
                    "type": "object",
                    "properties": {
                        "provider": {"type": "string"},
                        "model": {"type": "string"},
                        "bytes": {"type": ["integer", "null"], "minimum": 0, "description": "the GGUF's size"},
                        "price": {
                            "description": "the profile's `price`, USD per million tokens; null when not given "
                            "(reports written before aitest kept prices have no key)",
                            "oneOf": [
                                {"type": "null"},
                                {
                                    "type": "object",
                                    "properties": {
                                        "input": {"type": "number", "minimum": 0},
                                        "output": {"type": "number", "minimum": 0},
                                    },
                                    "required": ["input", "output"],
                                    "additionalProperties": False,
                                },
                            ],
                        },
                    },
                    "required": ["provider", "model", "bytes"],
                    "additionalProperties": False,
                },
            },
            "cases": {"type": "array", "items": case},
        },
        "required": ["aitest_report", "aitest_version", "created", "record_mode", "model_override", "totals", "cases"],
        "additionalProperties": False,
    }
