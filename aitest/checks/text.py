"""Text and value checks: equals, contains*, regex, one_of, starts/ends_with, lengths, word_count, levenshtein."""

from __future__ import annotations

import re
from typing import Any

from aitest.checks.base import CheckResult, CheckSetup, TextCheck, ValueCheck, as_text, show, verdict, within
from aitest.checks.registry import register
from aitest.errors import SpecError
from aitest.util.text import shown, unified_diff

_STRINGS = {"type": "array", "items": {"type": "string"}, "minItems": 1}
MAX_EDIT_TEXT = 20_000  # characters of each side that levenshtein compares; longer texts fail with a message


def _same(check: TextCheck, actual: Any, expected: Any) -> bool:
    """JSON values compare as values; when either side is text, compare stripped text."""
    if isinstance(actual, str) or isinstance(expected, str):
        return check.fold(as_text(actual).strip()) == check.fold(as_text(expected).strip())
    if isinstance(actual, bool) or isinstance(expected, bool):
        return actual is expected
    return bool(actual == expected)


@register
class Equals(TextCheck):
    name = "equals"
    example = "equals: billing"
    description = "the (selected) output equals the value; text is stripped first"
    value_schema = {"description": "the expected value: text, number, boolean, list or mapping"}

    def judge(self, output: Any) -> CheckResult:
        if _same(self, output, self.value):
            return CheckResult(True, f"equals {show(self.value)}")
        detail = ""
        if isinstance(output, str) and isinstance(self.value, str) and "\n" in (output.strip() + self.value.strip()):
            detail = "\n".join(unified_diff(self.value.strip(), output.strip(), labels=("expected", "actual")))
        return CheckResult(False, f"expected {show(self.value)}, got {show(output)}", detail=detail)


class _Substrings(TextCheck):
    """Shared by the contains family: which of the value's texts the output holds, and which it does not."""

    value_schema = {"type": "string", "minLength": 1}

    def present(self, output: Any) -> tuple[list[str], list[str]]:
        needles = self.value if isinstance(self.value, list) else [self.value]
        hay = self.text(output)
        found = [n for n in needles if self.fold(n) in hay]
        return found, [n for n in needles if n not in found]


@register
class Contains(_Substrings):
    name = "contains"
    example = "contains: refund"
    description = "the output contains the text"

    def judge(self, output: Any) -> CheckResult:
        found, _ = self.present(output)
        return verdict(bool(found), f"contains {show(self.value)}", f"{show(self.value)} not found in the output")


@register
class NotContains(_Substrings):
    name = "not_contains"
    example = "not_contains: guarantee"
    description = "the output does not contain the text"
    aliases = ("not-contains",)

    def judge(self, output: Any) -> CheckResult:
        found, _ = self.present(output)
        if not found:
            return CheckResult(True, f"does not contain {show(self.value)}")
        flags = re.IGNORECASE if self.ignore_case else 0
        match = re.search(re.escape(self.value), as_text(output), flags)
        at = f" at character {match.start() + 1}" if match else ""
        return CheckResult(False, f"{show(self.value)} found in the output{at}, but must not be")


@register
class ContainsAll(_Substrings):
    name = "contains_all"
    example = "contains_all: [order, refund]"
    description = "the output contains every text of the list"
    aliases = ("contains-all",)
    value_schema = _STRINGS

    def judge(self, output: Any) -> CheckResult:
        _, missing = self.present(output)
        failing = f"missing {len(missing)} of {len(self.value)}: {', '.join(map(show, missing))}"
        return verdict(not missing, f"contains all {len(self.value)}", failing)


@register
class ContainsAny(_Substrings):
    name = "contains_any"
    example = "contains_any: [sorry, apologise]"
    description = "the output contains at least one text of the list"
    aliases = ("contains-any",)
    value_schema = _STRINGS

    def judge(self, output: Any) -> CheckResult:
        found, _ = self.present(output)
        if found:
            return CheckResult(True, f"contains {show(found[0])}")
        return CheckResult(False, f"none of {', '.join(map(show, self.value))} found in the output")


class _Pattern(TextCheck):
    value_schema = {"type": "string", "minLength": 1, "description": "a Python regular expression"}

    def __init__(self, value: Any, options: dict[str, Any], setup: CheckSetup) -> None:
        super().__init__(value, options, setup)
        try:
            self.pattern = re.compile(value, re.IGNORECASE if self.ignore_case else 0)
        except re.error as exc:
            raise SpecError(
                f"{self.name}: the pattern {shown(value, 80)} does not compile: {exc}",
                location=setup.location,
                hint="quote the pattern in single quotes in YAML and escape special characters with \\",
            ) from None
        except (RecursionError, OverflowError, MemoryError):  # `((((...` thousands deep: Python's parser gives up
            raise SpecError(
                f"{self.name}: the pattern {shown(value, 80)} is nested too deeply to compile",
                location=setup.location,
                hint="write a simpler pattern, or split it over several checks",
            ) from None


@register
class Regex(_Pattern):
    name = "regex"
    example = "regex: '^ORD-\\d+$'"
    description = "Python re.search finds the pattern in the output"

    def judge(self, output: Any) -> CheckResult:
        match = self.pattern.search(as_text(output))
        if match:
            return CheckResult(True, f"matched {show(match.group(0))}")
        return CheckResult(False, f"no match for /{shown(self.value, 80, quoted=False)}/ in the output")


@register
class NotRegex(_Pattern):
    name = "not_regex"
    example = "not_regex: '\\d{16}'"
    description = "Python re.search does not find the pattern in the output"
    aliases = ("not-regex",)

    def judge(self, output: Any) -> CheckResult:
        match = self.pattern.search(as_text(output))
        if not match:
            return CheckResult(True, f"no match for /{shown(self.value, 80, quoted=False)}/")
        return CheckResult(
            False,
            f"/{shown(self.value, 80, quoted=False)}/ matched {show(match.group(0))} "
            f"at character {match.start() + 1}, but must not",
        )


@register
class OneOf(TextCheck):
    name = "one_of"
    example = "one_of: [billing, shipping, account]"
    description = "the (selected) value is one of the list"
    value_schema = {"type": "array", "minItems": 1}

    def judge(self, output: Any) -> CheckResult:
        if any(_same(self, output, allowed) for allowed in self.value):
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
    example = "min_length: 20"
    description = "the output has at least N characters (items, for a list)"
    value_schema = {"type": "integer", "minimum": 0}

    def judge(self, output: Any) -> CheckResult:
        return within(length_of(output), _unit(output), low=self.value)


@register
class MaxLength(ValueCheck):
    name = "max_length"
    example = "max_length: 280"
    description = "the output has at most N characters (items, for a list)"
    value_schema = {"type": "integer", "minimum": 0}

    def judge(self, output: Any) -> CheckResult:
        return within(length_of(output), _unit(output), high=self.value)


class _Affix(TextCheck):
    """Shared by starts_with and ends_with: the output, stripped of surrounding whitespace, begins or ends so."""

    value_schema = {"type": "string", "minLength": 1}
    at: str  # "start" or "end"

    def judge(self, output: Any) -> CheckResult:
        text = as_text(output).strip()
        want = self.fold(self.value)
        folded = self.fold(text)
        if folded.startswith(want) if self.at == "start" else folded.endswith(want):
            return CheckResult(True, f"{self.at}s with {show(self.value)}")
        span = len(self.value) + 20
        seen = text[:span] if self.at == "start" else text[-span:]
        ending = f"it {self.at}s with {show(seen)}" if text else "the output is empty"
        return CheckResult(False, f"does not {self.at} with {show(self.value)}: {ending}")


@register
class StartsWith(_Affix):
    name = "starts_with"
    example = "starts_with: Dear"
    description = "the output, stripped of surrounding whitespace, starts with the text"
    aliases = ("starts-with",)
    at = "start"


@register
class EndsWith(_Affix):
    name = "ends_with"
    example = "ends_with: Kind regards"
    description = "the output, stripped of surrounding whitespace, ends with the text"
    at = "end"


_COUNT = {"type": "integer", "minimum": 0}


@register
class WordCount(ValueCheck):
    name = "word_count"
    example = "word_count: {max: 80}"
    description = "the output has exactly N words, or a number within {min, max} (words: runs of non-space)"
    aliases = ("word-count",)
    value_schema = {
        "oneOf": [
            {**_COUNT, "description": "the exact number of words"},
            {
                "type": "object",
                "properties": {"min": _COUNT, "max": _COUNT},
                "minProperties": 1,
                "additionalProperties": False,
                "description": "bounds (inclusive); either may be left out",
            },
        ]
    }

    def __init__(self, value: Any, options: dict[str, Any], setup: CheckSetup) -> None:
        super().__init__(value, options, setup)
        bounds = value if isinstance(value, dict) else {"min": value, "max": value}
        self.low, self.high = bounds.get("min"), bounds.get("max")
        if self.low is not None and self.high is not None and self.low > self.high:
            raise SpecError(
                f"word_count: min {self.low} is more than max {self.high}",
                location=setup.location,
                hint=f"swap them: word_count: {{min: {self.high}, max: {self.low}}}",
            )

    def judge(self, output: Any) -> CheckResult:
        words = len(as_text(output).split())
        return within(words, "word" if words == 1 else "words", low=self.low, high=self.high)


@register
class Levenshtein(TextCheck):
    name = "levenshtein"
    example = "levenshtein: Your order has shipped."
    description = (
        "the edit distance (character insertions, deletions and substitutions) between the output and the text "
        f"is at most max_distance; score 1 - distance / the longer length; texts over {MAX_EDIT_TEXT} characters "
        "are not compared"
    )
    value_schema = {"type": "string", "description": "the reference text"}
    options = {
        **TextCheck.options,
        "max_distance": {"type": "integer", "minimum": 0, "description": "the largest passing distance (default 5)"},
    }

    def __init__(self, value: Any, options: dict[str, Any], setup: CheckSetup) -> None:
        super().__init__(value, options, setup)
        self.max_distance = int(options.get("max_distance", 5))
        if len(value) > MAX_EDIT_TEXT:
            raise SpecError(
                f"levenshtein: the reference text has {len(value)} characters, more than the {MAX_EDIT_TEXT} "
                "that an edit distance is computed for",
                location=setup.location,
                hint="compare a shorter passage, or use similar: for long texts",
            )

    def judge(self, output: Any) -> CheckResult:
        text, reference = self.text(output), self.fold(self.value)
        if len(text) > MAX_EDIT_TEXT:
            return CheckResult(
                False, f"the output has {len(text)} characters, too long for an edit distance (at most {MAX_EDIT_TEXT})"
            )
        distance = edit_distance(text, reference)
        score = 1.0 - distance / max(len(text), len(reference), 1)
        measured, limit = f"edit distance {distance} to {show(self.value)}", f"max_distance {self.max_distance}"
        return verdict(
            distance <= self.max_distance, f"{measured} <= {limit}", f"{measured}, more than {limit}", score=score
        )


def edit_distance(a: str, b: str) -> int:
    """The Levenshtein distance of two texts, by Hyyrö's bit-parallel form of the classic dynamic programme: one
    column of the DP table is one integer of len(a) bits, so a step costs a few big-integer operations."""
    if not a or not b:
        return len(a) + len(b)
    masks: dict[str, int] = {}
    for i, char in enumerate(a):
        masks[char] = masks.get(char, 0) | (1 << i)
    every = (1 << len(a)) - 1
    last = 1 << (len(a) - 1)
    plus, minus, distance = every, 0, len(a)  # vertical deltas of +1 and -1 in the current column
    for char in b:
        eq = masks.get(char, 0)
        xv = eq | minus
        xh = ((((eq & plus) + plus) & every) ^ plus) | eq
        h_plus = (minus | ~(xh | plus)) & every
        h_minus = plus & xh
        if h_plus & last:
            distance += 1
        elif h_minus & last:
            distance -= 1
        h_plus = ((h_plus << 1) | 1) & every
        h_minus = (h_minus << 1) & every
        plus = (h_minus | ~(xv | h_plus)) & every
        minus = h_plus & xv
    return distance
