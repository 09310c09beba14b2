"""Spec file -> typed Spec: parse with positions, validate the structure, then the meaning.

Every independent problem of a file is reported in one round: only a YAML syntax error stops the
file. After parsing, each section of the spec records its errors on a ``Problems`` collector and
skips only what depends on a part found broken (see ``_Builder.spec``).
"""

from __future__ import annotations

import contextlib
import gc
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from aitest.checks.base import CheckSetup
from aitest.checks.combinators import Combinator, Inner, NestedSetup
from aitest.checks.path import PathSyntaxError, parse_path
from aitest.checks.registry import all_checks
from aitest.errors import Location, NotASpec, SpecError, SpecWarning
from aitest.spec.cache import cache_key, current_dir, known_valid, parse_spec_yaml, remember_valid
from aitest.spec.case_vars import data_var_problems, template_problems
from aitest.spec.chat import ToolsBuilder, own_turn_problems, turn_var_problems, turns
from aitest.spec.datafile import DataRow, read_cases
from aitest.spec.forms import is_tools_list, normalize_checks, normalize_promptfoo
from aitest.spec.model import Case, Determinism, Expectation, Property, Spec, Target, Tools
from aitest.spec.pitfalls import boolean_warnings
from aitest.spec.problems import Problems
from aitest.spec.properties import PropertyBuilder
from aitest.spec.target import check_vars, resolve_target
from aitest.spec.validate import check_lists, check_name, validate_check_item, validate_structure
from aitest.spec.yaml_loader import DocPath, Positions
from aitest.util.files import Unreadable, read_text
from aitest.util.text import cut, shown

MAX_SPEC_BYTES = 10_000_000  # a spec is written by people; data goes in files of cases
CRITICAL_CHECKS = ("valid_tool_calls",)  # critical in comparisons unless a spec says `critical: false`

# A check the session adds: the spec's model profile exists, its feature name is free. Raises AitestError.
ModelCheck = Callable[[str | None, Location], None]
FeatureCheck = Callable[[str, Location], None]


def display_path(path: Path, rootdir: Path) -> str:
    try:
        return str(path.resolve().relative_to(rootdir.resolve()))
    except ValueError:
        return str(path.resolve())


def load_spec(
    path: Path,
    *,
    rootdir: Path,
    target_packages: tuple[str, ...] = (),
    check_model: ModelCheck | None = None,
    check_feature: FeatureCheck | None = None,
    text: str | None = None,
    cache_dir: Path | None = None,
) -> Spec:
    """Load one spec file (or ``text`` as if it were that file's: what a writer checks before it writes);
    raises SpecError (bad YAML) or SpecErrors naming file:line:col for every problem.

    ``target_packages`` are packages outside ``rootdir`` that targets may name. ``check_model`` and
    ``check_feature`` are the session's checks of the spec's model profile and feature name. With
    ``cache_dir`` (by default the folder of ``aitest.spec.cache.kept_in``, if any), the YAML parse is kept
    there, keyed by the text.
    """
    with gc_paused():
        cache_dir = cache_dir if cache_dir is not None else current_dir()
        return _load(path, rootdir, target_packages, check_model, check_feature, text, cache_dir)


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """No cyclic GC inside: for building many objects that live on (a spec loads in about half the time
    without the collector's passes, which would find nothing to collect)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _load(
    path: Path,
    rootdir: Path,
    target_packages: tuple[str, ...],
    check_model: ModelCheck | None,
    check_feature: FeatureCheck | None,
    text: str | None,
    cache_dir: Path | None,
) -> Spec:
    name = display_path(path, rootdir)
    if text is None:
        try:
            text = read_text(path, limit=MAX_SPEC_BYTES)
        except Unreadable as why:
            raise SpecError(f"the file {why}", location=Location(name, 1, 1)) from None
    key = cache_key(text) if cache_dir is not None else ""
    data, positions = parse_spec_yaml(text, name, cache_dir=cache_dir, key=key)
    if is_tools_list(data):
        raise NotASpec(f"{name} is a list of tool definitions, not a spec", location=Location(name, 1, 1))
    spellings = normalize_promptfoo(data, positions)
    problems = Problems(name)
    for warning in spellings:
        problems.warn(warning)
    valid = cache_dir is not None and known_valid(cache_dir, key)
    structure = [] if valid else validate_structure(data, positions)
    for broken, error in structure:
        problems.add(error, broken)
    if cache_dir is not None and not valid and not structure:
        remember_valid(cache_dir, key)
    if not isinstance(data, dict):
        problems.raise_if_any()
        raise AssertionError("validate_structure reports a document that is not a mapping")
    for warning in boolean_warnings(positions):
        problems.warn(warning)
    builder = _Builder(
        path,
        data,
        positions,
        problems,
        rootdir=rootdir,
        lines=text.splitlines(),
        target_packages=target_packages,
        check_model=check_model,
        check_feature=check_feature,
    )
    spec = builder.spec()
    problems.raise_if_any()
    assert spec is not None  # no problems: every section was built
    return spec


def build_check(
    item: dict[str, Any],
    path: DocPath,
    positions: Positions,
    spec_dir: Path,
    *,
    rootdir: Path | None = None,
    target_packages: tuple[str, ...] = (),
    tools: Tools | None = None,
) -> Expectation:
    """A validated check mapping -> a prepared Expectation (regexes compiled, schemas loaded, functions imported).

    ``tools`` are the spec's: tool checks must name declared tools."""
    name = check_name(item, path, positions)
    json_path = None
    if "path" in item:
        try:
            json_path = parse_path(item["path"])
        except PathSyntaxError as exc:
            raise SpecError(str(exc), location=positions.of((*path, "path"))) from None
    options = {k: v for k, v in item.items() if k not in (name, "path", "critical", "weight")}
    declared = {t["function"]["name"]: t for t in tools.definitions} if tools and tools.definitions else None
    where = positions.of((*path, name))
    kind = all_checks()[name]
    if issubclass(kind, Combinator):

        def build(sub: tuple[int, ...]) -> Inner:
            inner = _inner(item[name], sub)
            built = build_check(
                inner, (*path, name, *sub), positions, spec_dir,
                rootdir=rootdir, target_packages=target_packages, tools=tools,
            )  # fmt: skip
            return Inner(built.name, built.check, built.path, built.location)

        setup: CheckSetup = NestedSetup(spec_dir, where, rootdir, target_packages, declared, build=build)
    else:
        setup = CheckSetup(spec_dir, where, rootdir, target_packages, declared)
    check = kind(item[name], options, setup)
    critical = bool(item.get("critical", name in CRITICAL_CHECKS))
    weight = float(item.get("weight", 1.0))
    return Expectation(name, check, json_path, positions.of(path), critical, weight=weight)


def _inner(value: Any, sub: tuple[int, ...]) -> dict[str, Any]:
    """The inner check of a combinator's value at ``sub`` (``()``: the value itself)."""
    for index in sub:
        value = value[index]
    assert isinstance(value, dict)  # validated: every inner check is a mapping
    return value


class _Builder:
    """The meaning of a structurally checked spec, section by section, each recording its own problems.

    A section skips itself when a part it depends on is broken (``problems.blocked``), so that one
    mistake is reported once. A new top-level section is one more method, called from ``spec``.
    """

    def __init__(
        self,
        file: Path,
        data: dict[str, Any],
        positions: Positions,
        problems: Problems,
        *,
        rootdir: Path,
        lines: list[str],
        target_packages: tuple[str, ...],
        check_model: ModelCheck | None,
        check_feature: FeatureCheck | None,
    ) -> None:
        self.file, self.data, self.pos, self.problems = file, data, positions, problems
        self.rootdir, self.lines, self.target_packages = rootdir, lines, target_packages
        self.check_model, self.check_feature = check_model, check_feature
        self.spec_dir = file.parent
        self.tools: Tools | None = None

    def spec(self) -> Spec | None:
        """Every section in turn; the Spec when none of them found a problem."""
        d = self.data
        self.feature()
        target = self.target()
        messages = turns(d.get("messages"), ("messages",), self.pos, self.problems.add)
        self.tools = self.tool_section(target)
        expect = self.checks(("expect",)) + self.implicit_checks()
        cases = self.cases(target)
        self.template(cases)
        if messages is not None:
            at = [(m, self.pos.of(("messages", i))) for i, m in enumerate(messages)]
            for error in turn_var_problems(at, cases):
                self.problems.add(error)
        params = self.params()
        determinism = self.determinism(("determinism",))
        self.model(target)
        properties = self.properties(cases)
        self.idle_weights(cases)
        if self.problems.errors:
            return None
        return Spec(
            feature=d["feature"],
            file=self.file,
            location=self.pos.of(("feature",), key=True),
            cases=tuple(cases),
            expect=expect,
            output=d.get("output", "text"),
            description=d.get("description", ""),
            owner=d.get("owner", ""),
            model=d.get("model"),
            params=params,
            prompt=d.get("prompt"),
            target=target,
            determinism=determinism,
            model_location=self.pos.of(("model",)) if "model" in d else None,
            gate=dict(d.get("gate", {})),
            properties=properties,
            warnings=self.problems.shown_warnings(),
            messages=messages,
            tools=self.tools,
        )

    def tool_section(self, target: Target | None) -> Tools | None:
        """`tools:` with `tool_choice`, `tool_results` and `max_steps`; None when they are broken."""
        shown = lambda p: display_path(p, self.rootdir)  # noqa: E731
        builder = ToolsBuilder(self.data, self.pos, self.spec_dir, self.rootdir, shown)
        return builder.section(self.problems, self.target_packages, is_target=target is not None)

    def implicit_checks(self) -> tuple[Expectation, ...]:
        """`valid_tool_calls`, added to every spec with tools (critical in comparisons) unless it lists it."""
        if self.tools is None or not self.tools.definitions or "valid_tool_calls" in _names(self.data.get("expect")):
            return ()
        where = self.pos.of(("tools",), key=True)
        declared = {t["function"]["name"]: t for t in self.tools.definitions}
        check = all_checks()["valid_tool_calls"](None, {}, CheckSetup(self.spec_dir, where, self.rootdir, (), declared))
        return (Expectation("valid_tool_calls", check, None, where, critical=True, implicit=True),)

    def feature(self) -> None:
        if self.check_feature is not None and not self.problems.blocked(("feature",)):
            with self.problems.collecting(("feature",)):
                self.check_feature(self.data["feature"], self.pos.of(("feature",), key=True))

    def target(self) -> Target | None:
        """The imported target; None for a prompt spec, or when it cannot be imported (the error is recorded)."""
        d = self.data
        given = [k for k in ("prompt", "messages", "target") if k in d]
        if len(given) != 1:
            both = f", not {' and '.join(given)} together" if given else ""
            self.problems.add(
                SpecError(
                    f"a spec needs exactly one of 'prompt', 'messages' and 'target'{both}",
                    location=self.pos.of((given[-1],) if given else (), key=True),
                    hint="prompt: a template sent to the model; messages: a chat; "
                    "target: module.path:function of your feature's code",
                ),
                ("prompt",),
            )
            return None
        if "target" not in d or self.problems.blocked(("target",)):
            return None
        with self.problems.collecting(("target",)):
            return resolve_target(d["target"], self.pos.of(("target",)), self.rootdir, self.target_packages)
        return None

    def cases(self, target: Target | None) -> list[Case]:
        """The cases written in the spec, then those of `cases_from`; ids unique among all of them."""
        cases = []
        raw_cases = self.data.get("cases")
        for i, raw in enumerate(raw_cases if isinstance(raw_cases, list) else []):
            case = self.case(("cases", i), raw, target)
            if case is not None:
                cases.append(case)
        cases += self.data_cases(target)
        self.unique_ids(cases)
        return cases

    def case(self, base: DocPath, raw: Any, target: Target | None) -> Case | None:
        """One case of `cases:`; None when its id or vars are broken (nothing else can use it then)."""
        if not isinstance(raw, dict):
            return None
        expect = self.checks((*base, "expect"))
        determinism = self.determinism((*base, "determinism"))
        messages = turns(raw.get("messages"), (*base, "messages"), self.pos, self.problems.add)
        if "messages" in raw and "messages" not in self.data:
            self.problems.add(
                SpecError(
                    "a case's messages replace the user turns of the spec's messages:, and this spec has none",
                    location=self.pos.of((*base, "messages"), key=True),
                    hint="write the chat under messages: at the top of the spec (its system turn, then the user's)",
                )
            )
        if self.problems.blocked((*base, "id")) or self.problems.blocked((*base, "vars")):
            return None
        for error in own_turn_problems(messages, (*base, "messages"), self.pos, raw.get("vars") or {}):
            self.problems.add(error)
        variables = dict(raw.get("vars", {}))
        if target is not None:
            with self.problems.collecting((*base, "vars")):
                check_vars(target, variables, self.pos.of((*base, "vars") if "vars" in raw else base))
        return Case(
            id=raw["id"],
            vars=variables,
            expect=expect,
            determinism=determinism,
            location=self.pos.of((*base, "id")),
            description=raw.get("description", ""),
            critical=bool(raw.get("critical", False)),
            xfail=raw.get("xfail", "") if isinstance(raw.get("xfail"), str) else "",
            skip=raw.get("skip", "") if isinstance(raw.get("skip"), str) else "",
            messages=messages,
            threshold=raw.get("threshold"),
        )

    def data_cases(self, target: Target | None) -> list[Case]:
        """`cases_from: FILE` (or `{file: FILE, expect: [...]}`, or a list of either): one case per row of a .csv
        or .jsonl file, with the checks of its `__expected` and `expect.FIELD` columns."""
        source = self.data.get("cases_from")
        if source is None:
            return []
        sources: list[tuple[DocPath, Any]] = [(("cases_from",), source)]
        if isinstance(source, list):
            sources = [(("cases_from", i), s) for i, s in enumerate(source)]
        cases = []
        for base, one in sources:
            cases += self.data_file(base, one, several=len(sources) > 1)
        for error in data_var_problems(target, cases) if target is not None else []:
            self.problems.add(error)
        return cases

    def data_file(self, base: DocPath, source: Any, *, several: bool) -> list[Case]:
        """The cases of one data file of `cases_from`."""
        as_mapping = isinstance(source, dict)
        where: DocPath = (*base, "file") if as_mapping else base
        expect = self.checks((*base, "expect")) if as_mapping else ()
        if self.problems.inside_broken(where) or not isinstance(source, (str, dict)):
            return []
        path = self.spec_dir / str(source["file"] if isinstance(source, dict) else source)
        prefix = re.sub(r"[^A-Za-z0-9_-]", "_", path.stem) + "_" if several else ""
        with self.problems.collecting(where):
            rows = read_cases(path, display_path(path, self.rootdir), self.pos.of(where), prefix=prefix)
            for error in rows.errors:
                self.problems.add(error)
            positions = Positions(rows.file)
            return [self.data_case(r, i, expect, positions) for i, r in enumerate(rows.rows)]
        return []

    def data_case(self, row: DataRow, index: int, expect: tuple[Expectation, ...], positions: Positions) -> Case:
        """A row as a case: the file's checks, then the row's own (a check with a problem is recorded, left out)."""
        base: DocPath = ("rows", index)
        items = [c.item for c in row.checks]
        for k, check in enumerate(row.checks):
            cell: DocPath = (*base, k)
            positions.values[cell] = (check.location.line, check.location.col)
        spellings: list[SpecWarning] = []
        normalize_checks(items, base, positions, spellings)
        for warning in spellings:
            self.problems.warn(warning)
        own = []
        for k, item in enumerate(items):
            problems = validate_check_item(item, (*base, k), positions)
            for error in problems:
                self.problems.add(error)
            if problems:
                continue
            with self.problems.collecting((*base, k)):
                own.append(
                    build_check(
                        item, (*base, k), positions, self.spec_dir, rootdir=self.rootdir,
                        target_packages=self.target_packages, tools=self.tools,
                    )
                )  # fmt: skip
        return Case(
            id=row.id,
            vars=row.vars,
            expect=expect + tuple(own),
            determinism=None,
            location=row.location,
            description=row.description,
            threshold=row.threshold,
        )

    def idle_weights(self, cases: list[Case]) -> None:
        """A `weight` in a spec none of whose cases sets a `threshold`: it counts for nothing (a warning)."""
        if any(c.threshold is not None for c in cases):
            return
        for base, items in check_lists(self.data):
            for i, item in enumerate(items):
                if isinstance(item, dict) and "weight" in item:
                    self.problems.warn(
                        SpecWarning(
                            "'weight' counts only in a case that sets threshold:, and no case here does",
                            location=self.pos.of((*base, i, "weight"), key=True),
                            hint="add threshold: 0.75 (say) to the case, or remove weight:",
                        )
                    )

    def unique_ids(self, cases: list[Case]) -> None:
        seen: dict[str, Location] = {}
        for case in cases:
            first = seen.setdefault(case.id, case.location)
            if first is case.location:
                continue
            same_file = first.file == case.location.file
            self.problems.add(
                SpecError(
                    f"duplicate case id {shown(case.id)} (first at {f'line {first.line}' if same_file else first})",
                    location=case.location,
                    hint="case ids must be unique in a file"
                    + ("" if same_file and first.file == self.problems.file else ", rows of cases_from included"),
                )
            )

    def template(self, cases: list[Case]) -> None:
        """Every {{ var }} of the prompt must be given by every case (data rows included)."""
        if "prompt" not in self.data or self.problems.blocked(("prompt",)):
            return
        where = self.pos.of(("prompt",))
        source = self.lines[where.line - 1] if 0 < where.line <= len(self.lines) else ""
        first = where.line + (1 if source[where.col - 1 : where.col] in ("|", ">") else 0)
        for error in template_problems(self.data["prompt"], first, cases, where):
            self.problems.add(error)

    def properties(self, cases: list[Case]) -> tuple[Property, ...]:
        """`properties:`, built once the cases are (a property varies their vars). Every part of a property
        that is intact is checked, so that its problems come in the same round as the rest; a case that
        did not load is not reported again as missing from `from` or `vary`."""
        raw = self.data.get("properties")
        if not isinstance(raw, list):
            return ()
        lists = [self.checks(("properties", i, "expect")) for i in range(len(raw))]
        raw_cases = self.data.get("cases")
        loaded = {c.id for c in cases}
        written = raw_cases if isinstance(raw_cases, list) else []
        dropped = any(not isinstance(c, dict) or not isinstance(c.get("id"), str) or c["id"] not in loaded
                      for c in written)  # fmt: skip
        unsure = dropped or self.problems.blocked(("cases_from",))  # some cases may be missing from `cases`
        builder = PropertyBuilder(self.pos, tuple(cases), self.problems.add, unsure=unsure)
        built = []
        for i, item in enumerate(raw):
            if not isinstance(item, dict):
                continue  # reported by the structure's validation
            here = [b for b in self.problems.broken if b[:2] == ("properties", i)]
            broken = {str(b[2]) if len(b) > 2 else "" for b in here}
            in_a_check = isinstance(item.get("expect"), list)  # a broken check of the list: the rest holds
            if (not in_a_check and "expect" in broken) or broken - {"expect"}:
                builder.check_parts(item, i, broken)
                continue
            prop = builder.one(item, i, lists[i])
            if prop is not None:
                built.append(prop)
        return tuple(built)

    def params(self) -> dict[str, Any]:
        """The model params; a json_schema given as a path is read (relative to the spec)."""
        if self.problems.blocked(("params",)):
            return {}
        params = dict(self.data.get("params", {}))
        if params.get("json_schema") is not None:
            with self.problems.collecting(("params", "json_schema")):
                params["json_schema"] = self.json_schema(params["json_schema"])
        return params

    def json_schema(self, schema: Any) -> Any:
        where = self.pos.of(("params", "json_schema"))
        if isinstance(schema, str):
            from aitest.checks.json_schema import load_schema_file

            schema = load_schema_file(self.spec_dir / schema, where)
        from jsonschema import Draft202012Validator
        from jsonschema.exceptions import SchemaError

        try:
            Draft202012Validator.check_schema(schema)
        except SchemaError as exc:
            raise SpecError(
                f"params.json_schema is not a valid JSON Schema: {cut(exc.message, 200)}", location=where
            ) from None
        return schema

    def checks(self, path: DocPath) -> tuple[Expectation, ...]:
        """The prepared checks of a list; a check with a problem is recorded and left out."""
        items = self._get(path)
        built = []
        for i, item in enumerate(items if isinstance(items, list) else []):
            if self.problems.blocked((*path, i)):
                continue
            with self.problems.collecting((*path, i)):
                built.append(
                    build_check(
                        item, (*path, i), self.pos, self.spec_dir, rootdir=self.rootdir,
                        target_packages=self.target_packages, tools=self.tools,
                    )
                )  # fmt: skip
        return tuple(built)

    def determinism(self, path: DocPath) -> Determinism | None:
        raw = self._get(path)
        if raw is None or self.problems.blocked(path):
            return None
        result = Determinism(**raw)
        if result.min_pass is not None and result.min_pass > result.runs:
            self.problems.add(
                SpecError(
                    f"min_pass {result.min_pass} is more than runs {result.runs}",
                    location=self.pos.of((*path, "min_pass")),
                    hint="min_pass counts the runs that must pass, at most runs",
                ),
                path,
            )
        return result

    def model(self, target: Target | None) -> None:
        """The model profile of a spec that calls a model (a prompt, or a target taking `model`)."""
        if self.check_model is None or self.problems.blocked(("model",)):
            return
        if "target" not in self.data or (target is not None and (target.wants_model or target.wants_openai)):
            given = self.data.get("model")
            with self.problems.collecting(("model",)):
                self.check_model(
                    given, self.pos.of(("model",) if given is not None else ("feature",), key=given is None)
                )

    def _get(self, path: DocPath) -> Any:
        node: Any = self.data
        for part in path:
            try:
                node = node[part]
            except (KeyError, IndexError, TypeError):
                return None
        return node


def _names(items: Any) -> set[str]:
    """The keys of the mappings of a check list (the check names it uses, among other keys)."""
    return {k for item in items if isinstance(item, dict) for k in item} if isinstance(items, list) else set()
