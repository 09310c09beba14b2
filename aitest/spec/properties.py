"""The `properties:` section of a spec -> typed Property objects, each problem a file:line:col error."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aitest.checks.path import PathSyntaxError, parse_path
from aitest.config import MAX_EXAMPLES
from aitest.errors import SpecError
from aitest.spec.model import Case, Expectation, Invariant, Property, Variation
from aitest.spec.yaml_loader import DocPath, Positions
from aitest.util.text import did_you_mean, shown, type_word

RANDOM_KINDS = ("case", "whitespace", "typos", "punctuation", "filler")  # drawn by Hypothesis
FIXED_KINDS = ("choices", "append", "prepend", "replace")  # applied to every example
KINDS = RANDOM_KINDS + FIXED_KINDS
CASE_MODES = ("lower", "upper", "title", "random")  # in the order shrinking prefers them
MAX_TYPOS = 10
_OPTION_EXAMPLES = {
    "case": "{case: upper}",
    "typos": "{typos: 2}",
    "choices": '{choices: ["Hi", "Hello"]}',
    "append": '{append: " This is urgent!"}',
    "prepend": '{prepend: "URGENT: "}',
    "replace": "{replace: {twice: two times}}",
}
_INVARIANT_WORDS = {"checks": "checks", "list": "a list of checks"}
KIND_HINT = "variations: " + ", ".join(KINDS) + " (see docs/properties.md)"

Report = Callable[[SpecError], None]


class PropertyBuilder:
    """Builds a spec's properties once its cases are known (a property varies the cases' vars).

    Each problem is handed to ``report`` and the building goes on where it can, so that a file's
    independent mistakes are all reported in one round.
    """

    def __init__(self, positions: Positions, cases: tuple[Case, ...], report: Report, *, unsure: bool = False) -> None:
        """``unsure``: some cases did not load (reported), so an id not found may be one of them."""
        self.pos = positions
        self.cases = {c.id: c for c in cases}
        self.report = report
        self.unsure = unsure
        self.seen: dict[str, int] = {}
        self.reported = 0

    def one(self, item: dict[str, Any], index: int, expect: tuple[Expectation, ...]) -> Property | None:
        """The property ``properties[index]``, with its list of checks already built (``expect``); None
        when it has a problem (reported)."""
        path: DocPath = ("properties", index)
        before = self.reported
        self.identity(item["id"], path)
        bases = self._try(self.bases, item, path)
        vary = self.vary(item["vary"], path, bases)
        invariant = self._try(self.invariant, item, path, expect)
        if self.reported > before or bases is None or invariant is None:
            return None
        return Property(
            id=item["id"],
            location=self.pos.of((*path, "id")),
            bases=bases,
            vary=vary,
            invariant=invariant,
            examples=item.get("examples", 20),
            description=item.get("description", ""),
            critical=bool(item.get("critical", False)),
        )

    def check_parts(self, item: dict[str, Any], index: int, broken: set[str]) -> None:
        """A property whose structure is broken somewhere (reported): check the parts that are intact."""
        path: DocPath = ("properties", index)
        if isinstance(item.get("id"), str) and "id" not in broken:
            self.identity(item["id"], path)
        bases = self._try(self.bases, item, path) if "from" not in broken else None
        if isinstance(item.get("vary"), dict) and "vary" not in broken:
            self.vary(item["vary"], path, bases)
        if "expect" in item and not {"expect", "path"} & broken:
            self._try(self.invariant, item, path, ())

    def vary(
        self, raw: dict[str, Any], path: DocPath, bases: tuple[str, ...] | None
    ) -> tuple[tuple[str, tuple[Variation, ...]], ...]:
        """Each var's variations (those that are valid), checked against the cases they vary."""
        vary = []
        for var, items in raw.items():
            variations = tuple(
                v for j, item in enumerate(items) if (v := self._try(self.variation, item, (*path, "vary", var, j)))
            )
            vary.append((var, variations))
            if bases is not None and len(variations) == len(items):
                self._try(self.check_var, var, variations, bases, (*path, "vary", var))
        return tuple(vary)

    def _try(self, step: Callable[..., Any], *args: Any) -> Any:
        try:
            return step(*args)
        except SpecError as error:
            self._report(error)
            return None

    def _report(self, error: SpecError) -> None:
        self.reported += 1
        self.report(error)

    def identity(self, pid: str, path: DocPath) -> None:
        where = self.pos.of((*path, "id"))
        if pid in self.cases:
            self._report(SpecError(
                f"property id {shown(pid)} is also the id of a case (line {self.cases[pid].location.line})",
                location=where,
                hint="ids are unique among cases and properties: each names a pytest item",
            ))  # fmt: skip
        elif pid in self.seen:
            self._report(
                SpecError(f"duplicate property id {shown(pid)} (first at line {self.seen[pid]})", location=where)
            )
        self.seen.setdefault(pid, where.line)

    def bases(self, item: dict[str, Any], path: DocPath) -> tuple[str, ...]:
        chosen = item.get("from")
        if chosen is None:  # every case that runs and is expected to pass
            runnable = tuple(c.id for c in self.cases.values() if not c.skip and not c.xfail)
            if not runnable and not self.unsure:
                raise SpecError(
                    "the property has no case to vary: every case is marked skip or xfail",
                    location=self.pos.of((*path, "id")),
                    hint="name the cases to vary with from: [...]",
                )
            return runnable
        ids = [chosen] if isinstance(chosen, str) else list(chosen)
        for j, case_id in enumerate(ids):
            where = self.pos.of((*path, "from", j) if isinstance(chosen, list) else (*path, "from"))
            if case_id not in self.cases and self.unsure:
                continue  # perhaps a case that did not load (reported): checked once the cases are fixed
            if case_id not in self.cases:
                raise SpecError(
                    f"from: no case {shown(case_id)} in this file{did_you_mean(case_id, list(self.cases))}",
                    location=where,
                    hint="from lists the ids of the cases whose vars the property varies",
                )
            if self.cases[case_id].skip:
                raise SpecError(
                    f"from: case {shown(case_id)} is skipped ({shown(self.cases[case_id].skip, 120, quoted=False)}), "
                    "so it cannot be varied",
                    location=where,
                    hint="leave it out of from, or remove its skip",
                )
        return tuple(dict.fromkeys(i for i in ids if i in self.cases))

    def variation(self, raw: Any, path: DocPath) -> Variation:
        where = self.pos.of(path)
        if isinstance(raw, str):
            if raw in RANDOM_KINDS:
                return Variation(raw, None, where)
            if raw in FIXED_KINDS:
                raise SpecError(
                    f"the variation '{raw}' needs a value", location=where, hint=f"e.g. - {_OPTION_EXAMPLES[raw]}"
                )
            raise SpecError(
                f"unknown variation {shown(raw)}{did_you_mean(raw, list(KINDS))}", location=where, hint=KIND_HINT
            )
        if not isinstance(raw, dict) or len(raw) != 1:
            raise SpecError(
                f"a variation is a name such as 'typos' or a mapping such as {_OPTION_EXAMPLES['append']}, "
                f"not {type_word(raw)}",
                location=where,
                hint=KIND_HINT,
            )
        ((kind, option),) = raw.items()
        if kind not in KINDS:
            where = self.pos.of((*path, kind), key=True)
            raise SpecError(
                f"unknown variation {shown(str(kind))}{did_you_mean(str(kind), list(KINDS))}",
                location=where,
                hint=KIND_HINT,
            )
        problem = _option_problem(kind, option)
        if problem:
            raise SpecError(
                f"{kind}: {problem}",
                location=self.pos.of((*path, kind)),
                hint=f"e.g. - {_OPTION_EXAMPLES.get(kind, kind)}",
            )
        return Variation(kind, option, self.pos.of((*path, kind), key=True))

    def check_var(self, var: str, variations: tuple[Variation, ...], bases: tuple[str, ...], path: DocPath) -> None:
        """Every varied case has the var, as text where a variation edits text; a replace finds its text."""
        where = self.pos.of(path, key=True)
        for case_id in bases:
            case = self.cases[case_id]
            if var not in case.vars:
                raise SpecError(
                    f"vary: case {shown(case_id)} has no var {shown(var)}{did_you_mean(var, list(case.vars))}",
                    location=where,
                    hint="vary names vars of the cases it varies "
                    f"(case {shown(case_id)} is at line {case.location.line}); choose the cases with from: [...]",
                )
            value = case.vars[var]
            edits_text = [v for v in variations if v.kind != "choices"]
            if edits_text and not isinstance(value, str):
                raise SpecError(
                    f"vary: {shown(var)} of case {shown(case_id)} is {type_word(value)}, "
                    f"but {edits_text[0].kind} edits text",
                    location=where,
                    hint="only choices replaces a var of any type",
                )
            for v in (v for v in variations if v.kind == "replace"):
                missing = [old for old in v.option if old not in value]
                if missing:
                    raise SpecError(
                        f"replace: {shown(missing[0])} is not in {shown(var)} of case {shown(case_id)}: "
                        "the edit would change nothing",
                        location=v.location,
                        hint="choose the cases that contain it with from: [...]",
                    )

    def invariant(self, item: dict[str, Any], path: DocPath, expect: tuple[Expectation, ...]) -> Invariant:
        raw = item["expect"]
        where = self.pos.of((*path, "expect"))
        json_path = None
        if "path" in item:
            try:
                json_path = parse_path(item["path"])
            except PathSyntaxError as exc:
                raise SpecError(str(exc), location=self.pos.of((*path, "path"))) from None
        if isinstance(raw, list):
            invariant = Invariant("list", where, expect=expect)
        elif isinstance(raw, dict):
            invariant = Invariant("similar", where, threshold=float(raw["similar"]), path=json_path)
        else:
            invariant = Invariant(raw, where, path=json_path)
        if json_path is not None and invariant.kind in ("list", "checks"):
            raise SpecError(
                f"path applies to 'same' and 'similar', not to {_INVARIANT_WORDS[invariant.kind]}",
                location=self.pos.of((*path, "path"), key=True),
                hint="give each check of a list its own path, e.g. {equals: billing, path: category}",
            )
        return invariant


def _option_problem(kind: str, option: Any) -> str:
    """What is wrong with a variation's option, or ''."""
    if kind == "case":
        return "" if option in CASE_MODES else f"use one of {', '.join(CASE_MODES)}, not {shown(option)}"
    if kind == "typos":
        ok = isinstance(option, int) and not isinstance(option, bool) and 1 <= option <= MAX_TYPOS
        return "" if ok else f"the most typos per text, 1 to {MAX_TYPOS}, not {shown(option)}"
    if kind == "choices":
        if not isinstance(option, list):
            return f"a list of 1 to {MAX_EXAMPLES} values, not {type_word(option)}"
        size = "an empty list" if not option else f"{len(option)} values"
        return "" if 1 <= len(option) <= MAX_EXAMPLES else f"a list of 1 to {MAX_EXAMPLES} values, not {size}"
    if kind in ("append", "prepend"):
        if option == "":
            return "a text to add, not empty text"
        return "" if isinstance(option, str) else f"a text to add, not {type_word(option)}"
    if kind == "replace":
        pairs = isinstance(option, dict) and option and all(isinstance(k, str) and k for k in option)
        texts = pairs and all(isinstance(v, str) for v in option.values())
        return "" if texts else "a mapping of texts, OLD: NEW"
    return "takes no option; write it as a name, e.g. - " + kind
