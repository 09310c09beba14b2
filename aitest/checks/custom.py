"""`python: module.path:function`: a function of the project's own code judges the output."""

from __future__ import annotations

from typing import Any

from aitest.checks.base import Check, CheckContext, CheckResult, CheckSetup
from aitest.checks.function import RETURNS, SIGNATURE_HINT, CheckFunction
from aitest.checks.registry import register
from aitest.errors import SpecError
from aitest.util.own_code import import_own_callable
from aitest.util.text import shown

FUNCTION_PATTERN = "^[A-Za-z_][\\w.]*:[A-Za-z_]\\w*$"


@register
class Python(Check):
    name = "python"
    example = "python: checks.tone:is_polite"
    description = f"a function of the project's code judges the output, module.path:function; it returns {RETURNS}"
    value_schema = {"type": "string", "pattern": FUNCTION_PATTERN}
    options = {"arg": {"description": "any value: passed to the function's parameter named arg"}}

    def __init__(self, value: Any, options: dict[str, Any], setup: CheckSetup) -> None:
        super().__init__(value, options, setup)
        self.location = setup.location
        if setup.rootdir is None:
            from aitest.config import find_rootdir

            rootdir = find_rootdir(setup.spec_dir)
        else:
            rootdir = setup.rootdir
        function = import_own_callable(value, setup.location, rootdir, setup.target_packages, what="python check")
        try:
            self.function = CheckFunction.of(function, value)
        except ValueError as exc:
            raise SpecError(
                f"python check {shown(value, 120, quoted=False)}: {exc}", location=setup.location, hint=SIGNATURE_HINT
            ) from None
        if "arg" in options and "arg" not in self.function.takes:
            raise SpecError(
                f"python check {shown(value, 120, quoted=False)}: the spec gives it 'arg', "
                "but the function has no parameter named arg",
                location=setup.location,
                hint="add a parameter arg to the function, or remove arg from the check",
            )

    def run(self, ctx: CheckContext) -> CheckResult:
        return self.function.call(ctx, self.opts.get("arg"), self.location)
