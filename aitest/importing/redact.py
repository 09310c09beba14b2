"""Personal data out of logged calls before anything is written: the `no_pii` detectors find it, each
distinct value becomes a placeholder (``<email-1>``) that is the same for the same value within a request
(its turns, its answer and its tool calls), and every replacement is counted per detector."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

from aitest.checks.pii import DETECTORS, find
from aitest.importing.logged import LoggedCall
from aitest.models.response import ToolCall
from aitest.util.text import did_you_mean, shown

# the order they run in: the more specific first, so that a phone pattern never takes part of a card number
ORDER = ("api_key", "email", "iban", "credit_card", "ssn", "ip_address", "phone")
assert set(ORDER) == set(DETECTORS)


class UnknownDetector(ValueError):
    pass


def detectors(given: str) -> tuple[str, ...]:
    """``--redact email,phone`` (or ``all``) as detector names, checked."""
    names = [n.strip() for n in given.split(",") if n.strip()]
    if "all" in names:
        return ORDER
    for name in names:
        if name not in DETECTORS:
            raise UnknownDetector(
                f"--redact: unknown detector {shown(name)}{did_you_mean(name, list(DETECTORS))} "
                f"(detectors: {', '.join(DETECTORS)}, or all)"
            )
    if not names:
        raise UnknownDetector(f"--redact needs detector names ({', '.join(DETECTORS)}, or all)")
    return tuple(n for n in ORDER if n in names)


class Redactor:
    """Replaces (or, with ``replace=False``, only counts) what the detectors find."""

    def __init__(self, names: tuple[str, ...], *, replace: bool = True) -> None:
        self.names, self.replace = names, replace
        self.counts: Counter[str] = Counter()  # replacements (or findings) per detector, in every call seen
        self.found: dict[str, Counter[str]] = {}  # per call (by its file:line), where something was found

    def call(self, call: LoggedCall) -> LoggedCall:
        seen: dict[str, str] = {}  # value -> placeholder, within this request
        numbers: Counter[str] = Counter()
        before = Counter(self.counts)

        def text(value: str) -> str:
            return self._text(value, seen, numbers)

        messages = tuple(_message(m, text) for m in call.messages)
        answer = text(call.text)
        calls = tuple(ToolCall(c.id, c.name, _deep(c.arguments, text)) for c in call.tool_calls)
        tools = tuple(_deep(t, text) for t in call.tools)  # descriptions, enums and defaults may hold some too
        params = _deep(call.params, text)
        if self.counts != before:
            self.found[call.where] = self.counts - before
        if not self.replace:
            return call
        return call.with_texts(messages=messages, text=answer, tool_calls=calls, tools=tools, params=params)

    def tally(self, calls: list[LoggedCall]) -> tuple[Counter[str], int]:
        """What was found in ``calls`` (those written): the count per detector, and in how many requests."""
        total: Counter[str] = Counter()
        hit = [self.found[c.where] for c in calls if c.where in self.found]
        for counts in hit:
            total += counts
        return total, len(hit)

    def _text(self, value: str, seen: dict[str, str], numbers: Counter[str]) -> str:
        for name in self.names:
            hits = find(name, value)
            for hit in dict.fromkeys(hits):
                self.counts[name] += value.count(hit)
                if hit not in seen:
                    numbers[name] += 1
                    seen[hit] = f"<{name}-{numbers[name]}>"
            for hit in sorted(dict.fromkeys(hits), key=len, reverse=True):
                value = value.replace(hit, seen[hit])
        return value


def _message(message: dict[str, Any], text: Callable[[str], str]) -> dict[str, Any]:
    out = dict(message)
    if isinstance(out.get("content"), str):
        out["content"] = text(out["content"])
    if out.get("tool_calls"):
        out["tool_calls"] = [
            {**c, "function": {**c["function"], "arguments": text(c["function"]["arguments"])}}
            for c in out["tool_calls"]
        ]
    return out


def _deep(value: Any, text: Callable[[str], str]) -> Any:
    if isinstance(value, str):
        return text(value)
    if isinstance(value, dict):
        return {(text(k) if isinstance(k, str) else k): _deep(v, text) for k, v in value.items()}
    if isinstance(value, list):
        return [_deep(v, text) for v in value]
    return value
