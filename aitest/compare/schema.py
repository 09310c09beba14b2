"""The JSON Schema of compare.json (docs/compare.schema.json), the document `aitest compare --report-dir` writes."""

from __future__ import annotations

from typing import Any

from aitest.compare.engine import VERDICTS

COMPARE_VERSION = 1


def _selection_schema() -> dict[str, Any]:
    number = {"type": ["number", "null"]}
    columns: dict[str, Any] = {
        "name": {"type": "string"},
        "baseline": {"type": "boolean"},
        "meets_gate": {"type": "boolean", "description": "the baseline is the reference: always true"},
        "clears_bar": {"type": "boolean", "description": "meets the gate and its pass rate reaches the bar"},
        "pass_rate": number,
        "latency_p50_ms": number,
        "latency_p95_ms": number,
        "tokens_per_s": number,
        "bytes": {"type": ["integer", "null"], "description": "the GGUF's size, where known"},
        "hosted": {"type": "boolean", "description": "a server or recordings alone: no file, no size"},
        "cost_per_1000": {**number, "description": "USD per 1,000 cases; null when a price is not known"},
        "gate_reasons": {"type": "array", "items": {"type": "string"}},
        "agreement": {**number, "description": "with the baseline's outputs; null for the baseline"},
    }
    row = {
        "type": "object",
        "description": "one model of the feature's ranking: those that meet the gate first, then by pass rate, size",
        "properties": columns,
        "required": list(columns),
        "additionalProperties": False,
    }
    return {
        "type": "object",
        "description": "per feature: the model that keeps its behavior (the smallest candidate that meets the gate "
        "and whose pass rate reaches the bar), or null, and why in words",
        "additionalProperties": {
            "type": "object",
            "properties": {
                "model": {"type": ["string", "null"]},
                "reason": {"type": "string"},
                "bar": {"type": "number", "minimum": 0, "maximum": 1, "description": "min_pass_rate, else 0.8"},
                "ranking": {"type": "array", "items": row},
            },
            "required": ["model", "reason", "bar", "ranking"],
            "additionalProperties": False,
        },
    }


def compare_schema() -> dict[str, Any]:
    """The JSON Schema of compare.json (docs/compare.schema.json)."""
    number = {"type": ["number", "null"]}
    side_case = {
        "type": "object",
        "properties": {
            "name": {"type": "string", "description": "the profile or report this side came from"},
            "outcome": {"type": "string", "description": "a run-report outcome, or absent"},
            "output": {"description": "the first run's output (a property: see output_of)"},
            "output_of": {
                "type": "string",
                "description": "a property's: which input the output is of (its smallest failing input, or, when "
                "it held, the first one tried)",
            },
            "latency_ms": number,
            "reason": {"type": "string", "description": "this side's own: why it did not pass, or has no evidence"},
            "tool_calls": {
                "type": "array",
                "description": "the first run's tool calls, in order (a conversation only)",
                "items": {
                    "type": "object",
                    "properties": {"name": {"type": "string"}, "arguments": {"type": "object"}},
                    "required": ["name", "arguments"],
                    "additionalProperties": False,
                },
            },
        },
        "required": ["name", "outcome", "output", "latency_ms", "reason"],
        "additionalProperties": False,
    }
    gate = {
        "type": "object",
        "properties": {"passed": {"type": "boolean"}, "reasons": {"type": "array", "items": {"type": "string"}}},
        "required": ["passed", "reasons"],
        "additionalProperties": False,
    }
    stats = {
        "type": "object",
        "properties": {
            "cases": {"type": "integer"},
            "passed": {"type": "integer"},
            "pass_rate": number,
            "low": {"type": "number"},
            "high": {"type": "number"},
            "p50": number,
            "p95": number,
            "tokens_per_s": number,
            "cost_per_1000": {**number, "description": "USD per 1,000 cases; null when a price is not known"},
        },
        "required": ["cases", "passed", "pass_rate", "low", "high", "p50", "p95", "tokens_per_s", "cost_per_1000"],
    }
    side = {
        "type": "object",
        "properties": {
            "name": {"type": "string"},
            "source": {"enum": ["profile", "report"]},
            "models": {},
            "gate": gate,
        },
        "required": ["name", "source", "models"],
    }
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "aitest compare report",
        "type": "object",
        "properties": {
            "aitest_compare": {"const": COMPARE_VERSION},
            "created": {"type": "string", "format": "date-time"},
            "gate": gate,
            "notes": {"type": "array", "items": {"type": "string"}},
            "baseline": side,
            "candidates": {"type": "array", "items": side, "minItems": 1},
            "features": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "feature": {"type": "string"},
                        "candidate": {"type": "string"},
                        "counts": {
                            "type": "object",
                            "properties": {v: {"type": "integer", "minimum": 0} for v in VERDICTS},
                            "required": list(VERDICTS),
                        },
                        "baseline": stats,
                        "candidate_stats": stats,
                        "p_value": {"type": "number", "minimum": 0, "maximum": 1},
                        "p_adjusted": {"type": "number", "minimum": 0, "maximum": 1},
                        "difference": {"type": "object", "required": ["value", "low", "high"]},
                        "statistical": {"type": ["object", "null"]},
                        "agreement": number,
                        "limits": {"type": "object"},
                        "gate": gate,
                    },
                    "required": [
                        "feature",
                        "candidate",
                        "counts",
                        "baseline",
                        "candidate_stats",
                        "p_value",
                        "p_adjusted",
                        "difference",
                        "statistical",
                        "agreement",
                        "limits",
                        "gate",
                    ],
                },
            },
            "selection": _selection_schema(),
            "cases": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "feature": {"type": "string"},
                        "id": {"type": "string"},
                        "verdict": {"enum": list(VERDICTS)},
                        "critical": {"type": "boolean"},
                        "broken_critical": {"type": "array", "items": {"type": "string"}},
                        "agreement": number,
                        "calls_changed": {
                            "type": "boolean",
                            "description": "the first runs made different tool calls (a changed call regresses)",
                        },
                        "calls_reason": {"type": "string", "description": "how the tool calls changed, one line"},
                        "baseline": side_case,
                        "candidate": side_case,
                    },
                    "required": [
                        "feature",
                        "id",
                        "verdict",
                        "critical",
                        "broken_critical",
                        "agreement",
                        "calls_changed",
                        "calls_reason",
                        "baseline",
                        "candidate",
                    ],
                    "additionalProperties": False,
                },
            },
        },
        "required": [
            "aitest_compare",
            "created",
            "gate",
            "notes",
            "baseline",
            "candidates",
            "features",
            "selection",
            "cases",
        ],
        "additionalProperties": False,
    }
