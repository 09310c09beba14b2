"""Checks of the output's structure: is_json, contains_json, is_xml, contains_xml.

Every search of the output is bounded (a budget of characters scanned, a number of attempts), so that odd
output (huge, deeply nested, binary-looking) fails its case with a message in bounded time.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any
from xml.parsers import expat

from aitest.checks.base import Check, CheckContext, CheckResult, CheckSetup, as_text, show
from aitest.checks.json_schema import inline_validator, validate
from aitest.checks.registry import register
from aitest.errors import SpecError
from aitest.util.text import shown

MAX_SCAN = 10_000_000  # characters a search for embedded JSON or XML may read, over all its attempts
MAX_ATTEMPTS = 500  # places in the output a search tries to parse from

_SCHEMA_VALUE = {
    "oneOf": [
        {"enum": [None, True], "description": "any JSON value"},
        {"type": "object", "description": "an inline JSON Schema the JSON must be valid against"},
    ]
}


class _JsonCheck(Check):
    """Shared by is_json and contains_json: the value is an optional inline JSON Schema."""

    value_schema = _SCHEMA_VALUE

    def __init__(self, value: Any, options: dict[str, Any], setup: CheckSetup) -> None:
        super().__init__(value, options, setup)
        self.validator = inline_validator(value, setup) if isinstance(value, dict) else None

    def valid(self, instance: Any) -> CheckResult:
        if self.validator is None:
            return CheckResult(True, "")
        return validate(self.validator, instance)


@register
class IsJson(_JsonCheck):
    name = "is_json"
    example = "is_json"
    description = (
        "the output is JSON (a ```json fence around it is allowed); the value may be a JSON Schema it must be "
        "valid against"
    )
    aliases = ("is-json",)

    def run(self, ctx: CheckContext) -> CheckResult:
        try:
            instance = ctx.json()
        except ValueError as exc:
            return CheckResult(False, f"the output is not JSON: {exc}")
        except RecursionError:
            return CheckResult(False, "the output is not JSON that can be read: it is nested too deeply")
        verdict = self.valid(instance)
        if not verdict.passed:
            message = f"JSON, but not valid against the schema: {verdict.message}"
            return CheckResult(False, message, detail=verdict.detail)
        return CheckResult(True, "JSON valid against the schema" if self.validator else "the output is JSON")


@register
class ContainsJson(_JsonCheck):
    name = "contains_json"
    example = "contains_json: {type: object, required: [total]}"
    description = (
        "the output contains a JSON object or array (in a code fence or in prose); the value may be a JSON Schema "
        "that one of them must be valid against"
    )
    aliases = ("contains-json",)

    def run(self, ctx: CheckContext) -> CheckResult:
        if ctx.is_json and isinstance(ctx.value, (dict, list)):
            found = [ctx.value]
        else:
            found = list(embedded_json(as_text(ctx.value)))
        if not found:
            return CheckResult(False, "no JSON object or array found in the output")
        first_failure = None
        for instance in found:
            verdict = self.valid(instance)
            if verdict.passed:
                return CheckResult(True, f"contains JSON {show(as_text(instance))}")
            first_failure = first_failure or verdict
        assert first_failure is not None
        many = f"{len(found)} JSON values" if len(found) > 1 else "JSON"
        none = "none of them" if len(found) > 1 else "but it is not"
        message = f"contains {many}, {none} valid against the schema: {first_failure.message}"
        return CheckResult(False, message, detail=first_failure.detail)


_FENCE = re.compile(r"```[ \t]*[\w+-]*[ \t]*\n(.*?)```", re.DOTALL)


def embedded_json(text: str) -> Iterator[Any]:
    """The JSON objects and arrays in a text: first the contents of code fences, then any that begin at a `{` or
    `[` in the text (an embedded value is not found again inside the one that holds it)."""
    for fence in _FENCE.finditer(text):
        try:
            value = json.loads(fence.group(1))
        except (ValueError, RecursionError):
            continue
        if isinstance(value, (dict, list)):
            yield value
    decoder = json.JSONDecoder()
    scanned, attempts, start = 0, 0, 0
    while attempts < MAX_ATTEMPTS and scanned < MAX_SCAN:
        start = _next_open(text, start)
        if start < 0:
            return
        attempts += 1
        try:
            value, end = decoder.raw_decode(text, start)
        except json.JSONDecodeError as exc:
            scanned += max(exc.pos - start, 1)
            start += 1
            continue
        except (ValueError, RecursionError):
            scanned += 1
            start += 1
            continue
        scanned += end - start
        yield value
        start = end


def _next_open(text: str, start: int) -> int:
    brace, bracket = text.find("{", start), text.find("[", start)
    if brace < 0 or bracket < 0:
        return max(brace, bracket)
    return min(brace, bracket)


# --- XML ---------------------------------------------------------------------------------------------------

_NAME = r"[A-Za-z_][\w\-:]*"
_ELEMENT_PATH = re.compile(rf"{_NAME}(?:\.{_NAME})*")
_PATHS = {"type": "array", "items": {"type": "string", "minLength": 1}, "minItems": 1}
_OPEN_TAG = re.compile(rf"<({_NAME})[\s/>]")


class _Refused(Exception):
    """The document declares a DTD, which may define entities that expand without bound."""


class XmlDocument:
    """A well-formed XML text read by expat, DTDs refused: its root and every element's dotted path."""

    def __init__(self, text: str) -> None:
        self.paths: set[str] = set()
        self.root = ""
        stack: list[str] = []
        parser = expat.ParserCreate()

        def start(name: str, _attrs: Any) -> None:
            stack.append(f"{stack[-1]}.{name}" if stack else name)
            self.paths.add(stack[-1])
            self.root = self.root or name

        def refuse(*_args: Any) -> int:
            raise _Refused

        parser.StartElementHandler = start
        parser.EndElementHandler = lambda _name: stack.pop()
        parser.StartDoctypeDeclHandler = refuse
        parser.EntityDeclHandler = refuse
        parser.ExternalEntityRefHandler = refuse
        parser.Parse(text, True)


def read_xml(text: str) -> XmlDocument | str:
    """The document, or why the text is not one (expat's words: `mismatched tag: line 1, column 20`)."""
    try:
        return XmlDocument(text)
    except _Refused:
        return "it declares a DTD (<!DOCTYPE ...>), which aitest does not read: its entities could expand without bound"
    except expat.ExpatError as exc:
        return str(exc)
    except (ValueError, RecursionError) as exc:
        return f"it cannot be read ({exc})"


class _XmlCheck(Check):
    """Shared by is_xml and contains_xml: `required_elements`, dotted element paths from the root."""

    value_schema = {
        "oneOf": [
            {"enum": [None, True], "description": "any well-formed XML"},
            {
                "type": "object",
                "properties": {"requiredElements": {**_PATHS, "description": "promptfoo's required_elements"}},
                "required": ["requiredElements"],
                "additionalProperties": False,
            },
        ]
    }
    options = {
        "required_elements": {
            **_PATHS,
            "description": "elements that must be present, as dotted paths from the root: root.child.leaf",
        }
    }

    def __init__(self, value: Any, options: dict[str, Any], setup: CheckSetup) -> None:
        super().__init__(value, options, setup)
        given = value.get("requiredElements", []) if isinstance(value, dict) else []
        self.required: list[str] = list(given) + list(options.get("required_elements", []))
        for path in self.required:
            if not _ELEMENT_PATH.fullmatch(path):
                raise SpecError(
                    f"{self.name}: bad element path {shown(path)}",
                    location=setup.location,
                    hint="write element names joined by dots, from the root: response.answer.text",
                )

    def missing(self, document: XmlDocument) -> list[str]:
        return [path for path in self.required if path not in document.paths]

    def judged(self, document: XmlDocument, what: str) -> CheckResult:
        missing = self.missing(document)
        if not missing:
            return CheckResult(True, f"{what} with root <{document.root}>")
        found = ", ".join(sorted(document.paths, key=len)[:8])
        element = "elements" if len(missing) > 1 else "element"
        return CheckResult(False, f"{what}, but missing the {element} {', '.join(missing)} (found: {found})")


@register
class IsXml(_XmlCheck):
    name = "is_xml"
    example = "is_xml"
    description = "the whole output is one well-formed XML document (no DTD); option required_elements"
    aliases = ("is-xml",)

    def run(self, ctx: CheckContext) -> CheckResult:
        text = as_text(ctx.value).strip()
        if not text:
            return CheckResult(False, "not well-formed XML: the output is empty")
        document = read_xml(text)
        if isinstance(document, str):
            return CheckResult(False, f"not well-formed XML: {document}")
        return self.judged(document, "well-formed XML")


@register
class ContainsXml(_XmlCheck):
    name = "contains_xml"
    example = "{contains_xml: true, required_elements: [invoice.total]}"
    description = "the output contains a well-formed XML element (no DTD); option required_elements, from its root"
    aliases = ("contains-xml",)

    def run(self, ctx: CheckContext) -> CheckResult:
        text = as_text(ctx.value)
        first: CheckResult | None = None
        for fragment, document in embedded_xml(text):
            verdict = self.judged(document, f"contains XML {show(fragment, 60)}")
            if verdict.passed:
                return verdict
            first = first or verdict
        return first or CheckResult(False, "no well-formed XML element found in the output")


def embedded_xml(text: str) -> Iterator[tuple[str, XmlDocument]]:
    """The well-formed XML elements in a text, each from an opening tag to the farthest of its closing tags
    that makes a well-formed fragment (or the tag alone, when it closes itself)."""
    scanned, attempts, position = 0, 0, 0
    while attempts < MAX_ATTEMPTS and scanned < MAX_SCAN:
        tag = _OPEN_TAG.search(text, position)
        if tag is None:
            return
        start = tag.start()
        closing = re.compile(rf"</{re.escape(tag.group(1))}\s*>")
        ends = [m.end() for m in closing.finditer(text, start)]
        scanned += len(text) - start
        first = text.find(">", start)
        if first > 0 and text[first - 1] == "/":
            ends.append(first + 1)
        position = start + 1
        for end in sorted(ends, reverse=True)[:10]:
            attempts += 1
            scanned += end - start
            document = read_xml(text[start:end])
            if isinstance(document, XmlDocument):
                yield text[start:end], document
                position = end
                break
