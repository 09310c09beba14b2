"""The chat parts of a spec: `messages:` turns, `tools:`, `tool_choice`, `tool_results` and `max_steps`.

Turns are checked here with messages a product owner reads (the editor schema offers the forms);
a tools file is read with positions, so its errors name its own file and line.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from aitest.errors import AitestError, Location, SpecError
from aitest.spec.model import Case, Tools, ToolSource
from aitest.spec.problems import Problems
from aitest.spec.template import template_vars
from aitest.spec.yaml_loader import DocPath, Positions, load_yaml
from aitest.util.files import Unreadable, read_text
from aitest.util.schema_quick import plain_schema
from aitest.util.text import cut, did_you_mean, shown, type_word

ROLES = ("system", "user", "assistant", "tool")
_TURN_KEYS = ("role", "content", "tool_calls", "tool_call_id", "name")
_FUNCTION_KEYS = ("name", "description", "parameters", "strict")
MAX_TOOLS_BYTES = 5_000_000
DEFAULT_PARAMETERS: dict[str, Any] = {"type": "object", "properties": {}}
Add = Callable[[AitestError], None]


def turns(raw: Any, path: DocPath, positions: Positions, add: Add) -> tuple[dict[str, Any], ...] | None:
    """The turns of a `messages:` list in the OpenAI form; None (with the errors added) when one is broken."""
    if not isinstance(raw, list):
        return None  # reported by the structure's validation
    out, broken = [], False
    pending: list[str] = []  # the ids of the last assistant turn's calls that no tool turn answered yet
    for i, item in enumerate(raw):
        try:
            message = turn(item, (*path, i), positions)
            if message["role"] == "assistant":
                pending = [str(call["id"]) for call in message.get("tool_calls") or ()]
            elif message["role"] == "tool":
                message = _answering(message, pending, positions.of((*path, i)))
            out.append(message)
        except SpecError as error:
            add(error)
            broken = True
    return None if broken else tuple(out)


def _answering(message: dict[str, Any], pending: list[str], where: Location) -> dict[str, Any]:
    """A tool turn with the id of the call it answers: as written, or (`- tool: text`) the next call of the
    assistant turn before it that no tool turn answered yet."""
    given = message.get("tool_call_id")
    if isinstance(given, str):
        if given in pending:
            pending.remove(given)
        return message
    if not pending:
        raise SpecError(
            "a tool turn answers a call, but no call of the assistant turn before it is left to answer",
            location=where,
            hint="put it after an assistant turn with tool_calls: [{id: call_0, type: function, function: {...}}]",
        )
    return {**message, "tool_call_id": pending.pop(0)}


def turn(item: Any, at: DocPath, positions: Positions) -> dict[str, Any]:
    """One turn: `{role: content}` (system, user, assistant) or `{role: ..., content: ..., ...}`."""
    where = positions.of(at)
    example = "write it as '- user: text' (or system, assistant), or {role: user, content: text}"
    if not isinstance(item, dict) or not item:
        raise SpecError(
            f"a turn must be a mapping such as '- user: Hello', not {type_word(item)}", location=where, hint=example
        )
    item, at_content = _openai_form(item, at, positions, example)
    _check_calls(item, at, positions)
    content = item.get("content")
    if content is None and not item.get("tool_calls"):
        raise SpecError(
            f"the {item['role']} turn has no content",
            location=positions.of(at_content),
            hint="give its text, e.g. '- user: Where is my order?'",
        )
    if content is not None and not isinstance(content, str):
        raise SpecError(
            f"a turn's content must be text, not {type_word(content)}",
            location=positions.of(at_content),
            hint='quote it if YAML read it as something else, e.g. "1234"',
        )
    return {k: v for k, v in item.items() if v is not None}


def _openai_form(
    item: dict[str, Any], at: DocPath, positions: Positions, example: str
) -> tuple[dict[str, Any], DocPath]:
    """The turn in the OpenAI form, and where its content is written."""
    if "role" in item:
        unknown = [k for k in item if k not in _TURN_KEYS]
        if unknown:
            raise SpecError(
                f"unknown key {shown(str(unknown[0]))} in a turn{did_you_mean(str(unknown[0]), list(_TURN_KEYS))}",
                location=positions.of((*at, unknown[0]), key=True),
                hint=f"a turn's keys: {', '.join(_TURN_KEYS)}",
            )
        _known_role(item["role"], positions.of((*at, "role")))
        return item, (*at, "content")
    if len(item) != 1:
        where = positions.of(at)
        found = ", ".join(shown(str(k), quoted=False) for k in list(item)[:5]) + (", ..." if len(item) > 5 else "")
        raise SpecError(f"a turn has one role, found {found}", location=where, hint=example)
    role, content = next(iter(item.items()))
    _known_role(role, positions.of((*at, role), key=True))
    return {"role": role, "content": content}, (*at, role)


def _known_role(role: Any, where: Location) -> None:
    if role not in ROLES:
        raise SpecError(
            f"unknown role {shown(str(role))}{did_you_mean(str(role), list(ROLES))}",
            location=where,
            hint=f"roles: {', '.join(ROLES)}",
        )


def _check_calls(item: dict[str, Any], at: DocPath, positions: Positions) -> None:
    """An assistant turn's tool_calls: a list of calls in the OpenAI form."""
    calls = item.get("tool_calls")
    shape = '{id: call_0, type: function, function: {name: lookup_order, arguments: \'{"order_id": "77"}\'}}'
    if calls is not None and (item["role"] != "assistant" or not isinstance(calls, list)):
        raise SpecError(
            "tool_calls belong to an assistant turn, as a list of calls", location=positions.of((*at, "tool_calls"))
        )
    for i, call in enumerate(calls or ()):
        function = call.get("function") if isinstance(call, dict) else None
        if not isinstance(function, dict) or not isinstance(function.get("name"), str) or "id" not in call:
            raise SpecError(
                "a tool call needs an id and a function with a name", location=positions.of((*at, "tool_calls", i)),
                hint=f"e.g. {shape}",
            )  # fmt: skip


def turn_var_problems(spec_turns: Sequence[tuple[dict[str, Any], Location]], cases: Sequence[Case]) -> list[SpecError]:
    """Every {{ var }} of the spec's turns that a case using that turn lacks: one error per var and turn."""
    errors = []
    for message, where in spec_turns:
        content = message.get("content")
        if not isinstance(content, str):
            continue
        users = [c for c in cases if message.get("role") == "system" or c.messages is None]
        for name in dict.fromkeys(n for n, _ in template_vars(content)):
            lacking = [c.id for c in users if name not in c.vars]
            if lacking:
                ids = ", ".join(shown(i) for i in lacking[:5]) + (
                    f" and {len(lacking) - 5} more" if len(lacking) > 5 else ""
                )
                errors.append(
                    SpecError(
                        f"the {message['role']} turn uses {{{{ {shown(name, quoted=False)} }}}}, "
                        f"but case(s) {ids} have no var {shown(name)}",
                        location=where,
                        hint=f"add {shown(name, quoted=False)} under the vars of those cases",
                    )
                )
    return errors


def own_turn_problems(
    messages: tuple[dict[str, Any], ...] | None, at: DocPath, positions: Positions, variables: dict[str, Any]
) -> list[SpecError]:
    """Every {{ var }} of a case's own turns that the case does not give."""
    errors = []
    for i, message in enumerate(messages or ()):
        content = message.get("content")
        for name in dict.fromkeys(n for n, _ in template_vars(content if isinstance(content, str) else "")):
            if name not in variables:
                errors.append(
                    SpecError(
                        f"the {message['role']} turn uses {{{{ {shown(name, quoted=False)} }}}}, "
                        f"but the case has no var {shown(name)}",
                        location=positions.of((*at, i)),
                        hint=f"add {shown(name, quoted=False)} under the case's vars, or write the text itself",
                    )
                )
    return errors


class ToolsBuilder:
    """`tools:` (a file or an inline list), then `tool_choice`, `tool_results` and `max_steps` against them."""

    def __init__(
        self, data: dict[str, Any], positions: Positions, spec_dir: Path, rootdir: Path, shown: Callable[[Path], str]
    ) -> None:
        self.data, self.pos, self.spec_dir, self.rootdir, self.shown = data, positions, spec_dir, rootdir, shown

    def definitions(self) -> tuple[dict[str, Any], ...]:
        """The tools as `{type: function, function: {name, description, parameters}}`; SpecError naming the
        file and line of the first broken one."""
        raw = self.data["tools"]
        if isinstance(raw, str):
            path = self.spec_dir / raw
            display = self.shown(path)
            try:
                text = read_text(path, limit=MAX_TOOLS_BYTES)
            except Unreadable as why:
                raise SpecError(
                    f"tools file {shown(raw, 120, quoted=False)}: the file {why}",
                    location=self.pos.of(("tools",)),
                    hint="give a YAML or JSON file of OpenAI function definitions, relative to this spec",
                ) from None
            if path.suffix == ".json":  # bounded on the text, as a schema file is: an error at the line
                from aitest.checks.json_schema import check_json_depth

                check_json_depth(text, display)
            items, positions = load_yaml(text, display, what="tools file")
            base: DocPath = ()
        else:
            items, positions, base = raw, self.pos, ("tools",)
        if not isinstance(items, list) or not items:
            raise SpecError(
                f"tools must be a list of function definitions, not {type_word(items)}",
                location=positions.of(base),
                hint="e.g. - {type: function, function: {name: lookup_order, parameters: {...}}}",
            )
        out: list[dict[str, Any]] = []
        for i, item in enumerate(items):
            definition = _definition(item, (*base, i), positions)
            name = definition["function"]["name"]
            if name in [d["function"]["name"] for d in out]:
                raise SpecError(f"tool '{name}' is declared twice", location=positions.of((*base, i)))
            out.append(definition)
        return tuple(out)

    def section(self, problems: Problems, target_packages: tuple[str, ...], *, is_target: bool) -> Tools | None:
        """The spec's tools and what goes with them; a Tools of no definitions (max_steps only) when it declares
        none; None when `tools:` is broken (its errors are on ``problems``)."""
        if "tools" not in self.data:
            for key in ("tool_choice", "tool_results"):
                if key in self.data:
                    problems.add(
                        SpecError(
                            f"{key} needs tools: declare the tools the model may call",
                            location=self.pos.of((key,), key=True),
                            hint="tools: a file of OpenAI function definitions, or an inline list",
                        )
                    )
            at = self.pos.of(("max_steps",))
            return Tools(max_steps=self.data.get("max_steps", Tools().max_steps), max_steps_location=at)
        if problems.blocked(("tools",)):
            return None
        with problems.collecting(("tools",)):
            return self.tools(self.definitions(), target_packages, is_target=is_target, add=problems.add)
        return None

    def tools(
        self, definitions: tuple[dict[str, Any], ...], target_packages: tuple[str, ...], *, is_target: bool, add: Add
    ) -> Tools:
        names = [d["function"]["name"] for d in definitions]
        choice = self.data.get("tool_choice")
        if isinstance(choice, str) and choice not in ("auto", "required", "none") and choice not in names:
            add(
                SpecError(
                    f"tool_choice {shown(choice)} is neither auto, required, none nor a declared tool"
                    f"{did_you_mean(choice, [*names, 'auto', 'required', 'none'])}",
                    location=self.pos.of(("tool_choice",)),
                    hint=f"declared tools: {', '.join(names)}",
                )
            )
        results: dict[str, ToolSource] = {}
        raw_results = self.data.get("tool_results") or {}
        for key in ("tool_choice", "max_steps"):
            if key in self.data and is_target:
                add(
                    SpecError(
                        f"{key} is for prompt and messages specs: a target chooses its own",
                        location=self.pos.of((key,), key=True),
                        hint="remove it; check the target's behavior with the max_steps check or tool_calls",
                    )
                )
        if raw_results and is_target:
            add(
                SpecError(
                    "tool_results are for prompt and messages specs: a target runs its own tools",
                    location=self.pos.of(("tool_results",), key=True),
                    hint="remove tool_results, or drop the target",
                )
            )
        for name, value in raw_results.items() if isinstance(raw_results, dict) else ():
            where = self.pos.of(("tool_results", name), key=True)
            if name not in names:
                add(
                    SpecError(
                        f"tool_results names tool {shown(str(name))}, which is not declared"
                        + did_you_mean(str(name), names),
                        location=where,
                        hint=f"declared tools: {', '.join(names)}",
                    )
                )
                continue
            try:
                results[name] = self.source(name, value, target_packages)
            except SpecError as error:
                add(error)
        steps = self.data.get("max_steps", Tools().max_steps)
        at = self.pos.of(("max_steps",)) if "max_steps" in self.data else None
        return Tools(definitions, choice, results, steps, at)

    def source(self, name: str, value: Any, target_packages: tuple[str, ...]) -> ToolSource:
        where = self.pos.of(("tool_results", name))
        if isinstance(value, dict) and set(value) == {"python"}:
            from aitest.util.own_code import import_own_callable

            text = value["python"]
            at = self.pos.of(("tool_results", name, "python"))
            if not isinstance(text, str) or ":" not in text:
                raise SpecError(
                    "tool_results: python must be module.path:function",
                    location=at,
                    hint="e.g. python: shop.fakes:cancel (called with the call's arguments)",
                )
            function = import_own_callable(text, at, self.rootdir, target_packages, what="tool result function")
            return ToolSource(name, where, function=function, text=text)
        return ToolSource(name, where, value=value)


def _definition(item: Any, at: DocPath, positions: Positions) -> dict[str, Any]:
    """One OpenAI function definition (or its bare `{name, description, parameters}` form), checked."""
    where = positions.of(at)
    if not isinstance(item, dict):
        raise SpecError(f"a tool must be a function definition (a mapping), not {type_word(item)}", location=where)
    function, fat = item, at
    if "function" in item or "type" in item:
        if item.get("type", "function") != "function" or not isinstance(item.get("function"), dict):
            raise SpecError(
                "a tool must be {type: function, function: {name, description, parameters}}", location=where
            )
        extra = [k for k in item if k not in ("type", "function")]
        if extra:
            raise SpecError(
                f"unknown key {shown(str(extra[0]))} in a tool", location=positions.of((*at, extra[0]), key=True)
            )
        function, fat = item["function"], (*at, "function")
    unknown = [k for k in function if k not in _FUNCTION_KEYS]
    if unknown:
        raise SpecError(
            f"unknown key {shown(str(unknown[0]))} in a function definition"
            + did_you_mean(str(unknown[0]), list(_FUNCTION_KEYS)),
            location=positions.of((*fat, unknown[0]), key=True),
            hint=f"its keys: {', '.join(_FUNCTION_KEYS)}",
        )
    name = function.get("name")

    if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", name):
        raise SpecError(
            f"a tool needs a name of letters, digits, _ and - (at most 64), not {shown(name)}",
            location=positions.of((*fat, "name") if "name" in function else fat),
        )
    description = function.get("description", "")
    if not isinstance(description, str):
        raise SpecError(f"the description of tool '{name}' must be text", location=positions.of((*fat, "description")))
    parameters = function.get("parameters", DEFAULT_PARAMETERS)
    _check_parameters(name, parameters, positions.of((*fat, "parameters")))
    body = {"name": name, "description": description, "parameters": parameters}
    if "strict" in function:
        body["strict"] = function["strict"]
    return {"type": "function", "function": body}


def _check_parameters(name: str, schema: Any, where: Location) -> None:
    if not isinstance(schema, dict) or schema.get("type", "object") != "object":
        raise SpecError(
            f"the parameters of tool '{name}' must be a JSON Schema of an object",
            location=where,
            hint="e.g. parameters: {type: object, properties: {order_id: {type: string}}, required: [order_id]}",
        )
    if plain_schema(schema):
        return  # the common shapes, valid by construction: importing jsonschema and meta-validating cost ~0.3 s
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import SchemaError

    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        raise SpecError(
            f"the parameters of tool '{name}' are not a valid JSON Schema: {cut(exc.message, 200)}", location=where
        ) from None
    except RecursionError:
        raise SpecError(f"the parameters of tool '{name}' are nested too deeply", location=where) from None
