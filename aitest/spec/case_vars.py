"""Do the cases' vars fit what uses them: the prompt's {{ vars }}, the target's parameters?

Each mistake is reported once: a var the prompt uses is one error however many cases lack it, and
the rows of a data file that share a mistake (say, a column the target does not take) share one error.
"""

from __future__ import annotations

from collections.abc import Sequence

from aitest.errors import Location, SpecError
from aitest.spec.model import Case, Target
from aitest.spec.target import check_vars
from aitest.spec.template import template_vars
from aitest.util.text import plural, shown

SHOWN = 5  # case ids named in one message


def bare(name: str) -> str:
    """A var name as a message shows it without quotes (in {{ name }}), cut when it is long."""
    return shown(name, quoted=False)


def template_problems(template: str, first_line: int, cases: Sequence[Case], where: Location) -> list[SpecError]:
    """One error per {{ var }} of the prompt that some cases lack; ``first_line`` is the template's first line."""
    errors = []
    seen: set[str] = set()
    for name, offset in template_vars(template):
        if name in seen:
            continue
        seen.add(name)
        lacking = [case for case in cases if name not in case.vars]
        if not lacking:
            continue
        if len(lacking) == 1:
            message = (
                f"the prompt uses {{{{ {bare(name)} }}}}, but case {shown(lacking[0].id)} has no var {shown(name)}"
            )
            hint = _add_hint(name, lacking[0], where.file)
        else:
            ids = ", ".join(shown(c.id) for c in lacking[:SHOWN])
            more = f" and {len(lacking) - SHOWN} more" if len(lacking) > SHOWN else ""
            message = (
                f"the prompt uses {{{{ {bare(name)} }}}}, but {len(lacking)} cases have no var {shown(name)}: "
                f"{ids}{more}"
            )
            hint = f"{_add_hint(name, lacking[0], where.file)}, and to the others"
        errors.append(SpecError(message, location=Location(where.file, first_line + offset, 1), hint=hint))
    return errors


def _add_hint(name: str, case: Case, spec_file: str) -> str:
    if case.location.file == spec_file:
        return f"add {bare(name)} under the vars of case {shown(case.id)} (line {case.location.line})"
    return f"add a value for {bare(name)} to the row of case {shown(case.id)} ({case.location})"


def data_var_problems(target: Target, cases: Sequence[Case]) -> list[SpecError]:
    """The target's parameters against the vars of a data file's rows; rows with the same mistake, one error."""
    first: dict[str, SpecError] = {}
    repeats: dict[str, int] = {}
    for case in cases:
        try:
            check_vars(target, case.vars, case.location)
        except SpecError as error:
            if error.message in first:
                repeats[error.message] += 1
            else:
                first[error.message], repeats[error.message] = error, 0
    return [
        SpecError(f"{error.message} (and {plural(n, 'more row')})", location=error.location, hint=error.hint)
        if n
        else error
        for message, error in first.items()
        for n in [repeats[message]]
    ]
