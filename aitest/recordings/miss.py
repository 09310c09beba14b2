"""The miss message: the nearest recorded request, how it differs, and the flag that records it."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from aitest.recordings.entry import Entry, Request, entry_key
from aitest.util.text import cut, unified_diff


def _params_diff(recorded: dict[str, Any], now: dict[str, Any]) -> list[str]:
    out = []
    for key in sorted(set(recorded) | set(now)):
        if recorded.get(key) != now.get(key):
            was = json.dumps(recorded[key]) if key in recorded else "(absent)"
            new = json.dumps(now[key]) if key in now else "(absent)"
            out.append(f"{key}: recorded {was}, now {new}")
    return out


def _extent(same: Callable[[int], bool], limit: int) -> int:
    """The largest k <= limit for which same(k) holds, same() being true up to a point (binary search)."""
    low, high = 0, limit
    while low < high:
        middle = (low + high + 1) // 2
        if same(middle):
            low = middle
        else:
            high = middle - 1
    return low


def _shared(a: str, b: str) -> tuple[int, int]:
    """How many characters two texts share at their start, and then at their end."""
    prefix = _extent(lambda k: a[:k] == b[:k], min(len(a), len(b)))
    suffix = _extent(lambda k: a[len(a) - k :] == b[len(b) - k :], min(len(a), len(b)) - prefix)
    return prefix, suffix


def _similarity(a: str, b: str) -> float:
    """The share of the longer text that both have at their start and end: right for prompts made from one
    template, and cheap whatever their length (a few slice comparisons, where a full diff is quadratic)."""
    if a == b:
        return 1.0
    prefix, suffix = _shared(a, b)
    return (prefix + suffix) / max(len(a), len(b))


def _closeness(entry: Entry, model: dict[str, str], request: Request, run: int) -> tuple[int, float, int, int]:
    """Same model first, then the most similar request, then the same run index, then the closest length."""
    text, now = entry.request.text(), request.text()
    return int(entry.model == model), _similarity(text, now), int(entry.run == run), -abs(len(text) - len(now))


def _around_difference(recorded: str, now: str, context: int = 120) -> tuple[str, str, str]:
    """Long texts cut to where they differ, with a note of what was left out as the same."""
    if max(len(recorded), len(now)) <= 2000:
        return recorded, now, ""
    prefix, suffix = _shared(recorded, now)
    start = max(0, prefix - context)
    tail = max(0, suffix - context)
    note = f"(the first {start} and the last {tail} characters are the same, and not shown)" if start or tail else ""
    return recorded[start : len(recorded) - tail], now[start : len(now) - tail], note


def conversation_step(request: Request) -> int | None:
    """Which model turn of a tool conversation a request is (1 for the first), or None for other calls:
    one more than the assistant turns since the last user turn."""
    messages = request.messages or []
    if not request.tools and not any(m.get("role") == "tool" for m in messages):
        return None
    since_user = 0
    for message in messages:
        if message.get("role") == "user":
            since_user = 0
        elif message.get("role") == "assistant":
            since_user += 1
    return since_user + 1


def model_text(model: dict[str, str]) -> str:
    """A model identity as messages name it: ``provider model``."""
    return f"{model['provider']} {model['model']}"


def no_file(shown: str, model: dict[str, str], subject: str = "feature") -> tuple[str, str]:
    """(message, hint) when the recording a call or a property would replay from does not exist."""
    return (
        f"no recording for this {subject}: {shown} does not exist (model {model_text(model)})",
        "record it with --aitest-record=once (or AITEST_RECORD=once)",
    )


def describe_miss(
    entries: dict[str, Entry],
    *,
    shown: str,
    exists: bool,
    model: dict[str, str],
    request: Request,
    run: int,
    subject: str = "feature",
) -> tuple[str, str]:
    """(message, hint) for a model call that has no recorded entry (``subject``: whose recording it is)."""
    flag = "record it with --aitest-record=new (or AITEST_RECORD=new)"
    now_model = model_text(model)
    if not exists:
        return no_file(shown, model, subject)
    if not entries:
        return f"no recorded response for this model call: {shown} has no entries", flag
    nearest = max(entries.values(), key=lambda e: _closeness(e, model, request, run))
    step = conversation_step(request)
    call = f"step {step} of this conversation" if step else "this model call"
    lines = [f"no recorded response for {call} ({shown}, {len(entries)} entries; model {now_model})"]
    # runs count from 1 in messages; the file's `run:` is the 0-based index that the key holds
    lines.append(f"  nearest recorded request (run {nearest.run + 1}; run: {nearest.run} in the file):")
    if nearest.model != model:
        lines.append(f"    model differs: recorded {model_text(nearest.model)}, now {now_model}")
        others = sum(1 for e in entries.values() if e.model == model)
        lines.append(f"    ({others} of {len(entries)} entries were recorded with {now_model})")
    if nearest.run != run:
        lines.append(
            f"    run differs: recorded run {nearest.run + 1} (run: {nearest.run}), now run {run + 1} (run: {run})"
        )
    lines.extend(
        f"    params differ: {d}"
        for d in _params_diff(nearest.request.as_dict()["params"], request.as_dict()["params"])
    )
    shown_so_far = len(lines)
    if nearest.request.kind != request.kind:
        lines.append(f"    call differs: recorded {nearest.request.kind}(), now {request.kind}()")
    elif nearest.request.text() != request.text():
        recorded, now, note = _around_difference(nearest.request.text(), request.text())
        lines.append(f"    prompt differs: {note}" if note else "    prompt differs:")
        lines.extend("      " + line for line in unified_diff(recorded, now, labels=("recorded", "now"), limit=10))
    if len(lines) == shown_so_far:  # nothing above differs: a field the text leaves out, or a stale key
        lines.extend(f"    {d}" for d in _hidden_differences(nearest, model, request, run))
    return "\n".join(lines), flag


def _hidden_differences(nearest: Entry, model: dict[str, str], request: Request, run: int) -> list[str]:
    """What differs where the text of a request does not show it (a message's other fields, the tools'
    definitions, tool_choice); or, when nothing does, that the entry's key is stale."""
    found: list[str] = []
    _walk(nearest.request.as_dict(), request.as_dict(), "request", found)
    if found:
        return found[:5]
    if entry_key(nearest.model, nearest.request, nearest.run) != nearest.key:
        return [
            f"its key is stale: the entry was changed by hand after it was recorded (key {cut(nearest.key, 40)}); "
            "record the feature again with --aitest-record=rewrite"
        ]
    return [f"the key differs: recorded {cut(nearest.key, 40)}, now {entry_key(model, request, run)}"]


def _walk(recorded: Any, now: Any, path: str, found: list[str]) -> None:
    if len(found) >= 5 or recorded == now:
        return
    if isinstance(recorded, dict) and isinstance(now, dict):
        for key in sorted(set(recorded) | set(now), key=str):
            _walk(recorded.get(key, _ABSENT), now.get(key, _ABSENT), f"{path}.{key}", found)
    elif isinstance(recorded, list) and isinstance(now, list) and len(recorded) == len(now):
        for index, (a, b) in enumerate(zip(recorded, now, strict=True)):
            _walk(a, b, f"{path}[{index}]", found)
    else:
        found.append(f"{cut(path, 80)} differs: recorded {_value(recorded)}, now {_value(now)}")


class _Absent:
    def __repr__(self) -> str:
        return "(absent)"


_ABSENT = _Absent()


def _value(value: Any) -> str:
    if value is _ABSENT:
        return "(absent)"
    return cut(json.dumps(value, ensure_ascii=False, default=str), 80)
