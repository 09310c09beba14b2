"""The miss message: the nearest recorded request, how it differs, and the flag that records it."""

from __future__ import annotations

import difflib
import json
from typing import Any

from aitest.recordings.entry import Entry, Request
from aitest.util.text import unified_diff


def _params_diff(recorded: dict[str, Any], now: dict[str, Any]) -> list[str]:
    out = []
    for key in sorted(set(recorded) | set(now)):
        if recorded.get(key) != now.get(key):
            was = json.dumps(recorded[key]) if key in recorded else "(absent)"
            new = json.dumps(now[key]) if key in now else "(absent)"
            out.append(f"{key}: recorded {was}, now {new}")
    return out


def _closeness(entry: Entry, model: dict[str, str], request: Request, run: int) -> tuple[int, float, int]:
    """Same model first, then the most similar request, then the same run index."""
    same_model = int(entry.model == model)
    same_run = int(entry.run == run)
    text = difflib.SequenceMatcher(None, entry.request.text(), request.text(), autojunk=False)
    return same_model, text.quick_ratio() and text.ratio(), same_run


def describe_miss(
    entries: dict[str, Entry], *, shown: str, exists: bool, model: dict[str, str], request: Request, run: int
) -> tuple[str, str]:
    """(message, hint) for a model call that has no recorded entry."""
    flag = "record it with --aitest-record=new (or AITEST_RECORD=new)"
    now_model = f"{model['provider']} {model['model']}"
    if not exists:
        return (
            f"no recording for this feature: {shown} does not exist (model {now_model})",
            "record it with --aitest-record=once (or AITEST_RECORD=once)",
        )
    if not entries:
        return f"no recorded response for this model call: {shown} has no entries", flag
    nearest = max(entries.values(), key=lambda e: _closeness(e, model, request, run))
    lines = [f"no recorded response for this model call ({shown}, {len(entries)} entries; model {now_model})"]
    lines.append(f"  nearest recorded request (run {nearest.run}):")
    if nearest.model != model:
        lines.append(
            f"    model differs: recorded {nearest.model['provider']} {nearest.model['model']}, now {now_model}"
        )
        others = sum(1 for e in entries.values() if e.model == model)
        lines.append(f"    ({others} of {len(entries)} entries were recorded with {now_model})")
    if nearest.run != run:
        lines.append(f"    run differs: recorded run {nearest.run}, now run {run}")
    lines.extend(
        f"    params differ: {d}"
        for d in _params_diff(nearest.request.as_dict()["params"], request.as_dict()["params"])
    )
    if nearest.request.kind != request.kind:
        lines.append(f"    call differs: recorded {nearest.request.kind}(), now {request.kind}()")
    elif nearest.request.text() != request.text():
        lines.append("    prompt differs:")
        lines.extend(
            "      " + line
            for line in unified_diff(nearest.request.text(), request.text(), labels=("recorded", "now"), limit=10)
        )
    return "\n".join(lines), flag
