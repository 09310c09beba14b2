"""Tool calls for any chat model: tools as prompt text, a call as grammar-bound JSON, the answer parsed back.

The conversation becomes plain system/user/assistant turns (tool results as user turns), so that the
model's own chat template renders it whatever it knows of tools; a GBNF grammar built from the tools'
parameter schemas makes the answer either one valid call ``{"name": ..., "arguments": {...}}`` or text.
"""

from __future__ import annotations

import contextlib
import copy
import json
from typing import Any

from aitest.errors import ModelError
from aitest.models.messages import content_text, forced_tool
from aitest.models.response import ToolCall
from aitest.util.text import shown

START = "(The conversation starts.)"  # the user turn a conversation needs when it opens with the assistant
CALL_SHAPE = '{"name": "<tool name>", "arguments": {<arguments as its parameters say>}}'


def offered_tools(tools: list[dict[str, Any]] | None, choice: Any) -> list[dict[str, Any]]:
    """The function definitions the model may call: none for ``none``, the named one for a named choice."""
    if not tools or choice == "none":
        return []
    functions = [dict(tool.get("function", tool)) for tool in tools]
    named = forced_tool(choice)
    if named is None:
        return functions
    chosen = [f for f in functions if f.get("name") == named]
    if not chosen:
        names = ", ".join(shown(str(f.get("name")), quoted=False) for f in functions[:20])
        raise ModelError(f"tool_choice names the tool {shown(named)}, which is not among the tools ({names})")
    return chosen[:1]


def must_call(choice: Any) -> bool:
    """Whether the answer has to be a call (``required`` or a named tool), not text."""
    return choice == "required" or forced_tool(choice) is not None


def tools_text(functions: list[dict[str, Any]], *, required: bool) -> str:
    """The tools and how to call them, compact: one line per tool with its JSON Schema."""
    lines = ["Tools:"]
    for function in functions:
        parameters = json.dumps(function.get("parameters") or {}, separators=(",", ":"), ensure_ascii=False)
        description = str(function.get("description") or "").strip()
        lines.append(f"- {function.get('name')}: {f'{description} ' if description else ''}Parameters: {parameters}")
    if required:
        lines.append(f"Call one tool: answer with only a JSON object {CALL_SHAPE}.")
    else:
        lines.append(f"To call a tool, answer with only a JSON object {CALL_SHAPE}. Otherwise answer in plain text.")
    return "\n".join(lines)


def render(
    messages: list[dict[str, Any]], functions: list[dict[str, Any]], *, required: bool, system_role: bool = True
) -> list[dict[str, str]]:
    """The conversation as plain turns: the tools in the system turn, calls and results as text, same-role
    turns merged, a user turn first. Without ``system_role`` the system text opens the first user turn
    (for chat formats that drop a system turn)."""
    leading = _leading_system(messages)
    system = [content_text(m.get("content")) for m in leading]
    if functions:
        system.append(tools_text(functions, required=required))
    turns = _turns(messages[len(leading) :])
    if not turns or turns[0][0] != "user":
        turns.insert(0, ("user", START))
    head = "\n\n".join(part for part in system if part)
    if head and not system_role:
        turns[0] = ("user", f"{head}\n\n{turns[0][1]}")
    out = [{"role": "system", "content": head}] if head and system_role else []
    return out + [{"role": role, "content": text} for role, text in turns]


def _leading_system(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    count = 0
    while count < len(messages) and messages[count].get("role") in ("system", "developer"):
        count += 1
    return messages[:count]


def _turns(messages: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """User and assistant turns, alternating: a call is assistant text, a result a user turn."""
    names: dict[str, str] = {}
    turns: list[tuple[str, str]] = []
    for message in messages:
        role, text = str(message.get("role")), content_text(message.get("content"))
        if role == "assistant":
            calls = [_call_text(call, names) for call in message.get("tool_calls") or ()]
            text = "\n".join(part for part in (text, *calls) if part)
        elif role in ("tool", "function"):
            call = str(message.get("tool_call_id") or "")
            name = names.get(call) or str(message.get("name") or "a tool")
            text = f"Result of {name} ({call}): {text}" if call else f"Result of {name}: {text}"
            role = "user"
        else:
            role = "user"  # user, and a system turn in the middle of a conversation
        if turns and turns[-1][0] == role:
            turns[-1] = (role, f"{turns[-1][1]}\n\n{text}")
        else:
            turns.append((role, text))
    return turns


def _call_text(call: dict[str, Any], names: dict[str, str]) -> str:
    function = call.get("function") or {}
    name = str(function.get("name", ""))
    names[str(call.get("id", ""))] = name
    arguments = function.get("arguments", {})
    if isinstance(arguments, str):
        with contextlib.suppress(ValueError):  # not JSON: shown as the text it is
            arguments = json.loads(arguments)
    return json.dumps({"name": name, "arguments": arguments}, ensure_ascii=False)


def call_grammar(functions: list[dict[str, Any]], *, required: bool) -> str:
    """GBNF: ``root ::= call | text`` (``call`` alone when required); one alternative of ``call`` per tool,
    its arguments bound to the tool's parameters by llama-cpp-python's JSON Schema converter."""
    from llama_cpp import llama_grammar

    untyped: Any = llama_grammar.SchemaConverter
    converter = untyped(prop_order={}, allow_fetch=False, dotall=False, raw_pattern=False)
    alternatives = [_call_rule(converter, function, f"call-{i}") for i, function in enumerate(functions)]
    rules = [
        "root ::= call" if required else "root ::= call | text",
        f"call ::= {' | '.join(alternatives)}",
        r"text ::= [^{ \t\r\n] .*",  # free text that cannot be (the start of) a call
    ]
    return "\n".join([*rules, str(converter.format_grammar())]) + "\n"


def _call_rule(converter: Any, function: dict[str, Any], prefix: str) -> str:
    name = str(function.get("name", ""))
    parameters = function.get("parameters")
    if parameters is None:
        parameters = {"type": "object", "properties": {}}
    try:
        arguments = converter.resolve_refs(_scoped_defs(parameters, prefix), prefix)
        schema = {
            "type": "object",
            "properties": {"name": {"const": name}, "arguments": arguments},
            "required": ["name", "arguments"],
        }
        return str(converter.visit(schema, prefix))
    except Exception as exc:  # the converter asserts and raises ValueError/KeyError/re.error on what it lacks
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ModelError(
            f"tool {shown(name)}: its parameters schema cannot be turned into a llama.cpp grammar "
            f"({shown(reason, 200, quoted=False)})",
            hint="simplify the schema (llama.cpp supports types, enum, const, properties, items, anyOf, local $ref)",
        ) from None


def _scoped_defs(schema: Any, prefix: str) -> Any:
    """A copy whose ``$defs``/``definitions`` carry the tool's prefix: the converter names a rule after a
    definition's last path segment, so two tools' ``Item`` (or a definition named ``string``) would clash."""
    if not isinstance(schema, dict):
        return copy.deepcopy(schema)
    renames = {f"#/{group}/{key}": f"#/{group}/{prefix}-{key}" for group in ("$defs", "definitions")
               for key in schema.get(group) or {}}  # fmt: skip

    def visit(node: Any) -> Any:
        if isinstance(node, list):
            return [visit(item) for item in node]
        if not isinstance(node, dict):
            return node
        out = {k: visit(v) for k, v in node.items()}
        ref = out.get("$ref")
        if isinstance(ref, str):
            head = next((old for old in renames if ref == old or ref.startswith(old + "/")), None)
            out["$ref"] = renames[head] + ref[len(head) :] if head else ref
        return out

    scoped = visit(schema)
    for group in ("$defs", "definitions"):
        if isinstance(scoped.get(group), dict):
            scoped[group] = {f"{prefix}-{key}": value for key, value in scoped[group].items()}
    return scoped


def starts_call(text: str) -> bool:
    """Whether a free answer begins a call: a JSON object, bare or in a code fence."""
    stripped = text.lstrip()
    if stripped.startswith("```"):
        stripped = stripped[3:].lstrip().removeprefix("json").lstrip()
    return stripped.startswith("{")


def parse_call(text: str, functions: list[dict[str, Any]]) -> ToolCall | None:
    """The call an answer holds, when it is one complete ``{"name", "arguments"}`` object of an offered tool."""
    stripped = text.strip()
    if not stripped.startswith("{"):
        return None
    try:
        value = json.loads(stripped)
    except ValueError:
        return None  # cut short (max_tokens) in the middle of the call
    names = {str(f.get("name")) for f in functions}
    if not isinstance(value, dict) or value.get("name") not in names or not isinstance(value.get("arguments"), dict):
        return None
    return ToolCall("call_0", str(value["name"]), value["arguments"])
