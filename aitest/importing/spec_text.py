"""The spec `aitest import` writes: a new one, or cases added at the end of an existing spec's `cases:`
as text, so that every byte already there (comments, order, quoting) stays as it was."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from aitest.importing.logged import LoggedCall
from aitest.recordings.fileformat import readable_yaml
from aitest.spec.template import TEMPLATE_VAR as _VAR

GATE = {"min_agreement": 0.8}
_TOP_KEY = re.compile(r"^([A-Za-z_][A-Za-z0-9_-]*)\s*:")


class CannotAppend(ValueError):
    """The spec's `cases:` is not a block list that text can be added to."""


@dataclass(frozen=True)
class NewCase:
    id: str
    call: LoggedCall
    turns: tuple[dict[str, Any], ...]  # what the case's messages hold (the spec's system turns left out)

    def as_data(self) -> dict[str, Any]:
        """The case as YAML data: short turns (`- user: text`) where they can be, the OpenAI form where not;
        a `{{ name }}` in logged text is kept literal through a var of its own."""
        variables: dict[str, str] = {}
        turns = [_turn(t, variables) for t in self.turns]
        data: dict[str, Any] = {"id": self.id}
        if variables:
            data["vars"] = variables
        data["messages"] = turns
        return data


def _literal(text: str, variables: dict[str, str]) -> str:
    def keep(match: re.Match[str]) -> str:
        name = next((k for k, v in variables.items() if v == match.group(0)), None)
        if name is None:
            name = f"literal_{len(variables) + 1}"
            variables[name] = match.group(0)
        return "{{ " + name + " }}"

    return _VAR.sub(keep, text)


def _turn(turn: dict[str, Any], variables: dict[str, str]) -> dict[str, Any]:
    content = turn.get("content")
    content = _literal(content, variables) if isinstance(content, str) else content
    if turn["role"] in ("system", "user") or (turn["role"] == "assistant" and not turn.get("tool_calls")):
        return {turn["role"]: content or ""}
    out: dict[str, Any] = {"role": turn["role"], "content": content}
    if turn.get("tool_calls"):
        out["tool_calls"] = turn["tool_calls"]
    if turn.get("tool_call_id"):
        out["tool_call_id"] = turn["tool_call_id"]
    return out


def case_id(call: LoggedCall) -> str:
    """Stable across imports: a few words of the last user turn, then 12 hex digits of the request's digest
    (48 bits: among a million distinct requests, two share them with odds of about 1 in 500)."""
    user = next((m.get("content") or "" for m in reversed(call.messages) if m["role"] == "user"), "")
    words = re.findall(r"[a-z0-9]+", str(user).lower())[:6]
    slug = "-".join(words)[:48].strip("-") or "request"
    return f"{slug}-{call.identity()[:12]}"


def cases_text(cases: list[NewCase], indent: int) -> str:
    """The cases as block-list items at ``indent`` spaces."""
    body = readable_yaml([c.as_data() for c in cases])
    pad = " " * indent
    return "".join(pad + line if line else line for line in body.splitlines(keepends=True))


def new_spec(
    feature: str, sources: str, model: str | None, system: tuple[dict[str, Any], ...], first: LoggedCall,
    cases: list[NewCase],
) -> str:  # fmt: skip
    """A new messages spec: the shared system turn, a user turn for cases written by hand, the params and
    tools of the logged requests, the agreement gate, and the cases."""
    sources, model = _one_line(sources), _one_line(model) if model else None
    head = (
        f"# Imported by `aitest import` from {sources}.\n"
        f"# The logged answers of {model or 'the logged model'} are the baseline (its recordings), compared by\n"
        "# agreement (gate:). Add checks under expect: as the feature needs; importing again adds new requests only.\n"
    )
    data: dict[str, Any] = {
        "feature": feature,
        "description": f"Imported from the logs of {model or 'a hosted model'} ({sources}).",
    }
    if first.params:
        data["params"] = dict(first.params)
    if first.tools:
        data["tools"] = [dict(t) for t in first.tools]
        if first.tool_choice not in (None, "auto"):
            data["tool_choice"] = first.tool_choice
        data["max_steps"] = 1
    data["messages"] = [{m["role"]: m.get("content") or ""} for m in system] + [{"user": "{{ message }}"}]
    data["gate"] = dict(GATE)
    return head + readable_yaml(data) + "cases:\n" + cases_text(cases, 2)


def _one_line(text: str) -> str:
    """Text for a comment: control characters (a newline in a file name) shown as spaces."""
    return "".join(c if c.isprintable() else " " for c in text)


def append(text: str, cases_line: int | None, cases: list[NewCase]) -> str:
    """``text`` with ``cases`` added after the last item of its `cases:` block (at ``cases_line``, 1-based,
    the line of the `cases:` key), or under a new `cases:` at the end when it has none."""
    lines = text.splitlines(keepends=True)
    newline = "\r\n" if lines and lines[0].endswith("\r\n") else "\n"
    if cases_line is None:
        tail = "" if not text or text.endswith(("\n", "\r")) else newline
        return text + tail + "cases:" + newline + _eol(cases_text(cases, 2), newline)
    key = lines[cases_line - 1]
    column = len(key) - len(key.lstrip(" "))
    after = key.split(":", 1)[1].split("#", 1)[0].strip()
    if after:
        raise CannotAppend(f"its cases: is written inline ({after[:20]}): write it as a block list (- id: ...)")
    end = cases_line  # index just past the last content line of the block
    indent = None
    for i in range(cases_line, len(lines)):
        line = lines[i]
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        width = len(line) - len(line.lstrip(" "))
        if width > column or (width == column and stripped.startswith("- ")):
            if indent is None and stripped.startswith("- "):
                indent = width
            end = i + 1
            continue
        break
    added = _eol(cases_text(cases, column + 2 if indent is None else indent), newline)
    before = "".join(lines[:end])
    if before and not before.endswith(("\n", "\r")):
        before += newline
    return before + added + "".join(lines[end:])


def _eol(text: str, newline: str) -> str:
    return text.replace("\n", newline) if newline != "\n" else text
