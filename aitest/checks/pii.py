"""`no_pii`: detectors for personal data and secrets; a failure names the detector and masks the match."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from typing import Any

from aitest.checks.base import CheckResult, CheckSetup, ValueCheck, as_text
from aitest.checks.registry import register
from aitest.errors import SpecError
from aitest.util.text import did_you_mean, shown


def _luhn(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _cards(run: str) -> list[str]:
    """A run of digit groups is a card number when it has 13-19 digits and passes Luhn.

    A card written right next to another number ("4111 1111 1111 1111 12/26") reads as one
    longer number and is not found: a known limit, kept so that a broken number never passes
    for a card by dropping some of its digits.
    """
    digits = re.sub(r"\D", "", run)
    return [run] if 13 <= len(digits) <= 19 and _luhn(digits) else []


def _iban_valid(candidate: str) -> bool:
    text = re.sub(r"\s", "", candidate).upper()
    moved = text[4:] + text[:4]
    number = "".join(str(int(ch, 36)) for ch in moved)
    return 15 <= len(text) <= 34 and int(number) % 97 == 1


def _ibans(match: str) -> list[str]:
    """The IBAN in a candidate; a trailing currency code (' EUR') can look like its last group."""
    candidates = [match]
    if re.search(r" [A-Z]{3}$", match):
        candidates.append(match[:-4])  # a currency code after the IBAN, not its last group
    for candidate in candidates:
        if _iban_valid(candidate):
            return [candidate]
    return []


def _ip(match: str) -> bool:
    try:
        ipaddress.ip_address(match)
    except ValueError:
        return False
    return True


def _ssn(match: str) -> bool:
    area, group, serial = match.split("-")
    return area not in ("000", "666") and not area.startswith("9") and group != "00" and serial != "0000"


def _phone(match: str) -> bool:
    if re.match(r"\d{4}-\d{2}-\d{2}(?!\d)|\d{2}[./-]\d{2}[./-]\d{4}(?!\d)", match):
        return False  # a date (and maybe a time), not a phone number
    if re.fullmatch(r"(?:\d{1,3}\.){3}\d{1,3}", match):
        return False  # an IPv4 address
    return 8 <= len(re.sub(r"\D", "", match)) <= 15


def _only(valid: Callable[[str], bool] | None = None) -> Callable[[str], list[str]]:
    return lambda match: [match] if valid is None or valid(match) else []


# name -> (candidate pattern, candidate -> the findings in it)
DETECTORS: dict[str, tuple[re.Pattern[str], Callable[[str], list[str]]]] = {
    "email": (re.compile(r"\b[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}\b"), _only()),
    "phone": (
        re.compile(r"(?<![\w.])(?:\+?\d{1,3}[ .-]?)?(?:\(\d{1,4}\)[ .-]?)?\d{2,4}(?:[ .-]\d{2,4}){1,4}(?!\w|\.\d)"),
        _only(_phone),
    ),
    "credit_card": (re.compile(r"(?<!\d)\d+(?:[ -]\d+)*(?!\d)"), _cards),
    "iban": (re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?\b"), _ibans),
    "ip_address": (
        re.compile(
            r"(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?!\w|\.\d)"
            r"|(?<![\w.:])(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}(?![\w:]|\.\w)"
        ),
        _only(_ip),
    ),
    "ssn": (re.compile(r"\b\d{3}-\d{2}-\d{4}\b"), _only(_ssn)),
    "api_key": (
        re.compile(
            r"\b(?:sk-(?:proj-|ant-)?[A-Za-z0-9_-]{20,}|AKIA[0-9A-Z]{16}|gh[pousr]_[A-Za-z0-9]{36,}"
            r"|xox[abposr]-[A-Za-z0-9-]{10,}|AIza[0-9A-Za-z_-]{35}|glpat-[A-Za-z0-9_-]{20,})"
        ),
        _only(),
    ),
}


def find(detector: str, text: str) -> list[str]:
    """What one detector finds in ``text`` (validated: Luhn, IBAN checksum, real IP addresses...)."""
    pattern, extract = DETECTORS[detector]
    return [hit for m in pattern.finditer(text) for hit in extract(m.group(0))]


def mask(value: str) -> str:
    """Enough to recognise the match in the output, not enough to leak it."""
    if len(value) <= 6:
        return "*" * len(value)
    return f"{value[:2]}{'*' * (len(value) - 4)}{value[-2:]}"


@register
class NoPii(ValueCheck):
    name = "no_pii"
    example = "no_pii: [email, phone]"
    description = "none of the named detectors (email, phone, credit_card, iban, ip_address, ssn, api_key) fire"
    value_schema = {
        "oneOf": [
            {"type": "array", "items": {"type": "string"}, "minItems": 1},
            {"const": "all"},
        ]
    }

    def __init__(self, value: Any, options: dict[str, Any], setup: CheckSetup) -> None:
        super().__init__(value, options, setup)
        self.detectors = list(DETECTORS) if value == "all" else list(value)
        for name in self.detectors:
            if name not in DETECTORS:
                raise SpecError(
                    f"no_pii: unknown detector {shown(name)}{did_you_mean(name, list(DETECTORS))}",
                    location=setup.location,
                    hint=f"detectors: {', '.join(DETECTORS)} (or no_pii: all)",
                )

    def judge(self, output: Any) -> CheckResult:
        text = as_text(output)
        found = [(name, hit) for name in self.detectors for hit in find(name, text)]
        if not found:
            return CheckResult(True, f"no {', '.join(self.detectors)} found")
        shown = ", ".join(f"{name} {mask(hit)!r}" for name, hit in found[:5])
        more = f" and {len(found) - 5} more" if len(found) > 5 else ""
        return CheckResult(False, f"personal data found: {shown}{more}")
