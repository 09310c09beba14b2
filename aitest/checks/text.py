"""Text and value checks: equals, contains*, regex, one_of, lengths."""

from __future__ import annotations

import re
from typing import Any

from aitest.checks.base import CheckResult, CheckSetup, ValueCheck, as_text, show
from aitest.checks.registry import register
from aitest.errors import SpecError
from aitest.util.text import unified_diff

_IGNORE_CASE = {"ignore_case": {"type": "boolean", "description": "compare without regard to case"}}
_SCALAR = {"type": ["string", "number", "boolean", "null"]}
_STRINGS = {"type": "array", "items": {"type": "string"}, "minItems": 1}


def _fold(text: str, ignore_case: bool) -> str:
    return text.casefold() if ignore_case else text


def _same(actual: Any, expected: Any, ignore_case: bool) -> bool:
    """JSON values compare as values; when either side is text, compare stripped text."""
    if isinstance(actual, str) or isinstance(expected, str):
        return _fold(as_text(actual).strip(), ignore_case) == _fold(as_text(expected).strip(), ignore_case)
    if isinstance(actual, bool) or isinstance(expected, bool):
        return actual is expected
    return bool(actual == expected)


@register
class Equals(ValueCheck):
    name = "equals"
    description = "the (selected) output equals the value; text is stripped first"
    value_schema = {"description": "the expected value: text, number, boolean, list or mapping"}
    options = _IGNORE_CASE

    def judge(self, output: Any) -> CheckResult:
        ignore_case = bool(self.opts.get("ignore_case"))
        if _same(output, self.value, ignore_case):
            return CheckResult(True, f"equals {show(self.value)}")
        detail = ""
        if isinstance(output, str) and isinstance(self.value, str) and "\n" in (output.strip() + self.value.strip()):
            detail = "\n".join(unified_diff(self.value.strip(), output.strip(), labels=("expected", "actual")))
        return CheckResult(False, f"expected {show(self.value)}, got {show(output)}", detail=detail)


class _Substrings(ValueCheck):
    """Shared by the contains family: ``want`` says how many substrings must be present."""

    value_schema = {"type": "string", "minLength": 1}
    options = _IGNORE_CASE

    def present(self, output: Any) -> tuple[list[str], list[str]]:
        needles = self.value if isinstance(self.value, list) else [self.value]
        ignore_case = bool(self.opts.get("ignore_case"))
        hay = _fold(as_text(output), ignore_case)
        found = [n for n in needles if _fold(n, ignore_case) in hay]
        return found, [n for n in needles if n not in found]


@register
class Contains(_Substrings):
    name = "contains"
    description = "the output contains the text"

    def judge(self, output: Any) -> CheckResult:
        found, _ = self.present(output)
        if found:
            return CheckResult(True, f"contains {show(self.value)}")
        return CheckResult(False, f"{show(self.value)} not found in the output")


@register
class NotContains(_Substrings):
    name = "not_contains"
    description = "the output does not contain the text"

    def judge(self, output: Any) -> CheckResult:
        found, _ = self.present(output)
        if not found:
            return CheckResult(True, f"does not contain {show(self.value)}")
        text = as_text(output)
        flags = re.IGNORECASE if self.opts.get("ignore_case") else 0
        match = re.search(re.escape(self.value), text, flags)
        at = f" at character {match.start() + 1}" if match else ""
        return CheckResult(False, f"{show(self.value)} found in the output{at}, but must not be")


@register
class ContainsAll(_Substrings):
    name = "contains_all"
    description = "the output contains every text of the list"
    value_schema = _STRINGS

    def judge(self, output: Any) -> CheckResult:
        _, missing = self.present(output)
        if not missing:
            return CheckResult(True, f"contains all {len(self.value)}")
        return CheckResult(False, f"missing {len(missing)} of {len(self.value)}: {', '.join(map(show, missing))}")


@register
class ContainsAny(_Substrings):
    name = "contains_any"
    description = "the output contains at least one text of the list"
    value_schema = _STRINGS

    def judge(self, output: Any) -> CheckResult:
        found, _ = self.present(output)
        if found:
            return CheckResult(True, f"contains {show(found[0])}")
        return CheckResult(False, f"none of {', '.join(map(show, self.value))} found in the output")


class _Pattern(ValueCheck):
    value_schema = {"type": "string", "minLength": 1, "description": "a Python regular expression"}
    options = _IGNORE_CASE

    def __init__(self, value: Any, options: dict[str, Any], setup: CheckSetup) -> None:
        super().__init__(value, options, setup)
        try:
            self.pattern = re.compile(value, re.IGNORECASE if options.get("ignore_case") else 0)
        except re.error as exc:
            raise SpecError(
                f"{self.name}: the pattern {value!r} does not compile: {exc}",
                location=setup.location,
                hint="quote the pattern in single quotes in YAML and escape special characters with \\",
            ) from None


@register
class Regex(_Pattern):
    name = "regex"
    description = "Python re.search finds the pattern in the output"

    def judge(self, output: Any) -> CheckResult:
        match = self.pattern.search(as_text(output))
        if match:
            return CheckResult(True, f"matched {show(match.group(0))}")
        return CheckResult(False, f"no match for /{self.value}/ in the output")


@register
class NotRegex(_Pattern):
    name = "not_regex"
    description = "Python re.search does not find the pattern in the output"

    def judge(self, output: Any) -> CheckResult:
        match = self.pattern.search(as_text(output))
        if not match:
            return CheckResult(True, f"no match for /{self.value}/")
        return CheckResult(
            False, f"/{self.value}/ matched {show(match.group(0))} at character {match.start() + 1}, but must not"
        )


@register
class OneOf(ValueCheck):
    name = "one_of"
    description = "the (selected) value is one of the list"
    value_schema = {"type": "array", "minItems": 1}
    options = _IGNORE_CASE

    def judge(self, output: Any) -> CheckResult:
        ignore_case = bool(self.opts.get("ignore_case"))
        if any(_same(output, allowed, ignore_case) for allowed in self.value):
            return CheckResult(True, f"{show(output)} is allowed")
        allowed = ", ".join(show(v) for v in self.value)
        return CheckResult(False, f"got {show(output)}, expected one of [{allowed}]")


def length_of(value: Any) -> int:
    """Characters of text, items of a list, keys of a mapping, characters of other JSON."""
    if isinstance(value, (list, dict)):
        return len(value)
    return len(as_text(value))


def _unit(value: Any) -> str:
    unit = "item" if isinstance(value, list) else "key" if isinstance(value, dict) else "character"
    return unit if length_of(value) == 1 else unit + "s"


@register
class MinLength(ValueCheck):
    name = "min_length"
    description = "the output has at least N characters (items, for a list)"
    value_schema = {"type": "integer", "minimum": 0}

    def judge(self, output: Any) -> CheckResult:
        n = length_of(output)
        if n >= self.value:
            return CheckResult(True, f"{n} {_unit(output)} >= {self.value}")
        return CheckResult(False, f"{n} {_unit(output)}, fewer than the minimum {self.value}")


@register
class MaxLength(ValueCheck):
    name = "max_length"
    description = "the output has at most N characters (items, for a list)"
    value_schema = {"type": "integer", "minimum": 0}

    def judge(self, output: Any) -> CheckResult:
        n = length_of(output)
        if n <= self.value:
            return CheckResult(True, f"{n} {_unit(output)} <= {self.value}")
        return CheckResult(False, f"{n} {_unit(output)}, more than the maximum {self.value}")
