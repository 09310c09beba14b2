"""Warnings for YAML that loads but likely does not say what its author meant.

`one_of: [yes, no]` is `[true, false]` to YAML 1.1 (which PyYAML follows): yes, no, on and off
without quotes are booleans. Where a value is plausibly text (a check's value, a case's vars),
that is a warning naming its line, and how to quote it.
"""

from __future__ import annotations

from aitest.errors import SpecWarning
from aitest.spec.schema import check_schemas
from aitest.spec.yaml_loader import DocPath, Positions


def boolean_warnings(positions: Positions) -> list[SpecWarning]:
    """One warning per unquoted yes/no/on/off where text was plausibly meant."""
    warnings = []
    for path, written in positions.yaml11_booleans.items():
        if not _text_plausible(path):
            continue
        value = "true" if written.lower() in ("yes", "on") else "false"
        warnings.append(
            SpecWarning(
                f"{written} without quotes is the boolean {value} in YAML, not the text '{written}'",
                location=positions.of(path),
                hint=f'write "{written}" in quotes for the text (or {value} for the boolean)',
            )
        )
    return warnings


def _text_plausible(path: DocPath) -> bool:
    """A value of a case's vars, or inside a check's own value (not its options, such as ignore_case)."""
    if path[:1] == ("cases",) and path[2:3] == ("vars",):
        return True
    checks = check_schemas()
    for i, part in enumerate(path[:-2]):
        if part == "expect" and isinstance(path[i + 1], int):
            return path[i + 2] in checks
    return False
