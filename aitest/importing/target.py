"""The spec the cases go into: an existing messages spec of the same feature, or a new one; which logged
requests it can take (the same system prompt and tools), and the cases they become."""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aitest.config import Config
from aitest.importing.logged import LoggedCall, Skipped
from aitest.importing.spec_text import NewCase, case_id
from aitest.models.messages import tool_choice_value, tool_definitions
from aitest.spec.model import Spec


class Refused(ValueError):
    """The spec cannot take imported cases at all (another feature, a prompt spec...): exit 2, one line."""


@dataclass
class Plan:
    """What the import adds: the new cases; what it leaves out and why; and what it shares with the spec."""

    system: tuple[dict[str, Any], ...]  # the spec's system turns (left out of each case's messages)
    first: LoggedCall | None  # whose params and tools a new spec takes
    cases: list[NewCase] = field(default_factory=list)
    present: list[NewCase] = field(default_factory=list)  # requests the spec has as cases already (an earlier import)
    skipped: list[Skipped] = field(default_factory=list)
    other_params: int = 0  # requests logged with other params than the spec's (recorded under the spec's)


def _tools_shape(tools: Any) -> str:
    """The tools as compared: each function's name and parameters (descriptions may be reworded)."""
    shape = {str(t["function"]["name"]): t["function"].get("parameters") for t in tool_definitions(list(tools or ()))}
    return json.dumps(shape, sort_keys=True)


def _choice(choice: Any) -> Any:
    value = tool_choice_value(choice)
    return None if value == "auto" else value


def check_existing(spec: Spec, feature: str, shown: str) -> None:
    if spec.feature != feature:
        raise Refused(
            f"{shown}: its feature is '{spec.feature}', not '{feature}': import into a spec of this feature "
            f"(--spec), or use --feature {spec.feature}"
        )
    if spec.messages is None:
        kind = "a target" if spec.target is not None else "a prompt"
        raise Refused(
            f"{shown}: the spec calls {kind}, and imported requests are chats (messages): import into a "
            "messages spec, or a new one (--spec NEW.yaml)"
        )
    runs = spec.determinism.runs if spec.determinism is not None else 1
    if runs > 1:
        raise Refused(
            f"{shown}: the spec checks determinism ({runs} runs per case), and a log holds one answer per request: "
            "import into a spec without determinism"
        )


def plan(calls: list[LoggedCall], spec: Spec | None) -> Plan:
    """The cases for ``calls``: each request that fits the spec (or the new spec made from the first one)."""
    if spec is not None:
        system = tuple(m for m in spec.messages or () if m.get("role") == "system")
        tools_shape = _tools_shape(spec.tools.definitions if spec.tools else ())
        choice = _choice(spec.tools.choice) if spec.tools and spec.tools.definitions else None
        params = dict(spec.params)
        present = {c.id for c in spec.cases}
        first = calls[0] if calls else None
        multi_step = spec.tools is not None and spec.tools.definitions and spec.max_steps > 1
    else:
        first = calls[0] if calls else None
        system = _shared_system(calls)
        tools_shape = _tools_shape(first.tools if first else ())
        choice = _choice(first.tool_choice) if first and first.tools else None
        params = dict(first.params) if first else {}
        present = set()
        multi_step = False
    out = Plan(system, first)
    for call in calls:
        if _tools_shape(call.tools) != tools_shape:
            what = "the spec's" if spec is not None else "the first request's"
            out.skipped.append(
                Skipped(call.where, f"its tools differ from {what}: import it into another feature", False)
            )
            continue
        if call.tools and _choice(call.tool_choice) != choice:
            out.skipped.append(Skipped(call.where, "its tool_choice differs from the spec's", False))
            continue
        if multi_step and call.tool_calls:
            out.skipped.append(Skipped(call.where, f"the spec runs up to {spec.max_steps if spec else 1} steps, and "
                                       "a logged answer that calls tools is one step (import into max_steps: 1)",
                                       False))  # fmt: skip
            continue
        turns = call.messages
        if system:
            if turns[: len(system)] != tuple({"role": "system", "content": m.get("content")} for m in system):
                out.skipped.append(Skipped(call.where, "its system prompt differs from the spec's", False))
                continue
            turns = turns[len(system) :]
        if not turns or turns[-1]["role"] not in ("user", "tool"):
            out.skipped.append(
                Skipped(call.where, "its last turn is not the user's or a tool's: nothing to answer", False)
            )
            continue
        identifier = case_id(call)
        if identifier in present:
            out.present.append(NewCase(identifier, call, turns))
            continue
        present.add(identifier)
        if call.params != params:
            out.other_params += 1
        out.cases.append(NewCase(identifier, call, turns))
    return out


def _shared_system(calls: list[LoggedCall]) -> tuple[dict[str, Any], ...]:
    """The leading system turn when every request has the same one (and no `{{` in it): it goes into the new
    spec once, and each case holds only the rest of its conversation."""
    firsts = Counter(
        c.messages[0]["content"] if c.messages and c.messages[0]["role"] == "system" else None for c in calls
    )
    if len(firsts) != 1:
        return ()
    content = next(iter(firsts))
    if content is None or "{{" in content or any(len(c.messages) < 2 for c in calls):
        return ()
    return ({"role": "system", "content": content},)


def spec_path(given: str | None, feature: str, config: Config) -> Path:
    """``--spec`` (a .yaml or .yml file), else the spec of ``feature`` in the spec folders, else a new
    FEATURE.yaml in the first of them."""
    if given:
        path = Path(given)
        if path.suffix not in (".yaml", ".yml"):
            raise Refused(f"--spec {given[:80]}: a spec file ends in .yaml or .yml")
        return path if path.is_absolute() else (Path.cwd() / path).resolve()
    declares = re.compile(rf"^feature:\s*['\"]?{re.escape(feature)}['\"]?\s*(#.*)?$", re.MULTILINE)
    for folder in config.specs:
        for path in sorted(folder.rglob("*.y*ml")) if folder.is_dir() else ():
            if path.suffix in (".yaml", ".yml") and config.is_spec_file(path) and path.is_file():
                with path.open("rb") as handle:
                    head = handle.read(65536).decode("utf-8", errors="replace")
                if declares.search(head):
                    return path
    folder = config.specs[0] if config.specs else config.rootdir / "specs"
    return folder / f"{feature}.yaml"
