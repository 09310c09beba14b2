"""Spec file -> typed Spec: parse with positions, validate the structure, then the meaning."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aitest.checks.base import CheckSetup
from aitest.checks.path import PathSyntaxError, parse_path
from aitest.checks.registry import all_checks
from aitest.errors import Location, SpecError, SpecErrors
from aitest.spec.model import Case, Determinism, Expectation, Spec
from aitest.spec.target import check_vars, resolve_target
from aitest.spec.template import template_vars
from aitest.spec.validate import check_name, validate_structure
from aitest.spec.yaml_loader import DocPath, Positions, load_yaml
from aitest.util.files import Unreadable, read_text

MAX_SPEC_BYTES = 10_000_000  # a spec is written by people; data goes in files of cases


def display_path(path: Path, rootdir: Path) -> str:
    try:
        return str(path.resolve().relative_to(rootdir.resolve()))
    except ValueError:
        return str(path)


def load_spec(path: Path, *, rootdir: Path, target_packages: tuple[str, ...] = ()) -> Spec:
    """Load one spec file; raises SpecError / SpecErrors naming file:line:col for every problem.

    ``target_packages`` are packages outside ``rootdir`` that targets may name.
    """
    name = display_path(path, rootdir)
    try:
        text = read_text(path, limit=MAX_SPEC_BYTES)
    except Unreadable as why:
        raise SpecError(f"the file {why}", location=Location(name, 1, 1)) from None
    data, positions = load_yaml(text, name)
    normalize_promptfoo(data, positions)
    errors = validate_structure(data, positions)
    if errors:
        raise errors[0] if len(errors) == 1 else SpecErrors(errors)
    return _Builder(path, data, positions, rootdir, text.splitlines(), target_packages).spec()


def normalize_promptfoo(data: Any, positions: Positions) -> None:
    """Accept promptfoo's `{type: contains, value: x}` check form as `{contains: x}`."""
    if not isinstance(data, dict):
        return
    lists: list[tuple[DocPath, Any]] = [(("expect",), data.get("expect"))]
    if isinstance(data.get("cases"), list):
        lists += [(("cases", i, "expect"), c.get("expect")) for i, c in enumerate(data["cases"]) if isinstance(c, dict)]
    known = all_checks()
    for base, items in lists:
        for i, item in enumerate(items if isinstance(items, list) else []):
            kind = item.get("type") if isinstance(item, dict) else None
            if isinstance(kind, str) and kind in known and not any(k in known for k in item):
                del item["type"]
                item[kind] = item.pop("value", None)
                path = (*base, i)
                kind_path, type_path, value_path = (*path, kind), (*path, "type"), (*path, "value")
                positions.keys[kind_path] = positions.keys.get(type_path, (0, 0))
                positions.values[kind_path] = positions.values.get(value_path, positions.values[path])


def build_check(
    item: dict[str, Any],
    path: DocPath,
    positions: Positions,
    spec_dir: Path,
    *,
    rootdir: Path | None = None,
    target_packages: tuple[str, ...] = (),
) -> Expectation:
    """A validated check mapping -> a prepared Expectation (regexes compiled, schemas loaded, functions imported)."""
    name = check_name(item, path, positions)
    json_path = None
    if "path" in item:
        try:
            json_path = parse_path(item["path"])
        except PathSyntaxError as exc:
            raise SpecError(str(exc), location=positions.of((*path, "path"))) from None
    options = {k: v for k, v in item.items() if k not in (name, "path", "critical")}
    setup = CheckSetup(spec_dir, positions.of((*path, name)), rootdir, target_packages)
    check = all_checks()[name](item[name], options, setup)
    return Expectation(name, check, json_path, positions.of(path), bool(item.get("critical", False)))


class _Builder:
    """Semantic validation while building the typed Spec."""

    def __init__(
        self,
        file: Path,
        data: dict[str, Any],
        positions: Positions,
        rootdir: Path,
        lines: list[str] | None = None,
        target_packages: tuple[str, ...] = (),
    ) -> None:
        self.file, self.data, self.pos, self.rootdir = file, data, positions, rootdir
        self.target_packages = target_packages
        self.spec_dir = file.parent
        self.lines = lines or []

    def spec(self) -> Spec:
        d = self.data
        if ("prompt" in d) == ("target" in d):
            raise SpecError(
                "a spec needs exactly one of 'prompt' and 'target'" + (", not both" if "prompt" in d else ""),
                location=self.pos.of(("target",) if "target" in d else (), key=True),
                hint="prompt: a template sent to the model; target: module.path:function of your feature's code",
            )
        target = None
        if "target" in d:
            target = resolve_target(d["target"], self.pos.of(("target",)), self.rootdir, self.target_packages)
        expect = self.checks(("expect",))
        cases = self.cases(target)
        if "prompt" in d:
            self.check_template(d["prompt"], cases)
        return Spec(
            feature=d["feature"],
            file=self.file,
            location=self.pos.of(("feature",), key=True),
            cases=cases,
            expect=expect,
            output=d.get("output", "text"),
            description=d.get("description", ""),
            owner=d.get("owner", ""),
            model=d.get("model"),
            params=self.params(),
            prompt=d.get("prompt"),
            target=target,
            determinism=self.determinism(("determinism",)),
            model_location=self.pos.of(("model",)) if "model" in d else None,
            gate=dict(d.get("gate", {})),
        )

    def cases(self, target: Any) -> tuple[Case, ...]:
        seen: dict[str, Location] = {}
        cases = []
        for i, raw in enumerate(self.data["cases"]):
            location = self.pos.of(("cases", i, "id"))
            if raw["id"] in seen:
                raise SpecError(
                    f"duplicate case id '{raw['id']}' (first at line {seen[raw['id']].line})",
                    location=location,
                    hint="case ids must be unique in a file",
                )
            seen[raw["id"]] = location
            variables = dict(raw.get("vars", {}))
            if target is not None:
                check_vars(target, variables, self.pos.of(("cases", i, "vars") if "vars" in raw else ("cases", i)))
            cases.append(
                Case(
                    id=raw["id"],
                    vars=variables,
                    expect=self.checks(("cases", i, "expect")),
                    determinism=self.determinism(("cases", i, "determinism")),
                    location=location,
                    description=raw.get("description", ""),
                    critical=bool(raw.get("critical", False)),
                )
            )
        return tuple(cases)

    def check_template(self, template: str, cases: tuple[Case, ...]) -> None:
        """Every {{ var }} of the prompt must be given by every case."""
        where = self.pos.of(("prompt",))
        source = self.lines[where.line - 1] if 0 < where.line <= len(self.lines) else ""
        first = where.line + (1 if source[where.col - 1 : where.col] in ("|", ">") else 0)
        for name, offset in template_vars(template):
            for case in cases:
                if name not in case.vars:
                    raise SpecError(
                        f"the prompt uses {{{{ {name} }}}}, but case '{case.id}' has no var '{name}'",
                        location=Location(where.file, first + offset, 1),
                        hint=f"add {name} under the vars of case '{case.id}' (line {case.location.line})",
                    )

    def params(self) -> dict[str, Any]:
        """The model params; a json_schema given as a path is read (relative to the spec)."""
        params = dict(self.data.get("params", {}))
        schema = params.get("json_schema")
        if isinstance(schema, str):
            from aitest.checks.json_schema import load_schema_file

            params["json_schema"] = load_schema_file(self.spec_dir / schema, self.pos.of(("params", "json_schema")))
        if params.get("json_schema") is not None:
            from jsonschema import Draft202012Validator
            from jsonschema.exceptions import SchemaError

            try:
                Draft202012Validator.check_schema(params["json_schema"])
            except SchemaError as exc:
                raise SpecError(
                    f"params.json_schema is not a valid JSON Schema: {exc.message}",
                    location=self.pos.of(("params", "json_schema")),
                ) from None
        return params

    def _get(self, path: DocPath) -> Any:
        node: Any = self.data
        for part in path:
            try:
                node = node[part]
            except (KeyError, IndexError):
                return None
        return node

    def checks(self, path: DocPath) -> tuple[Expectation, ...]:
        items = self._get(path) or []
        return tuple(self.check((*path, i), item) for i, item in enumerate(items))

    def check(self, path: DocPath, item: dict[str, Any]) -> Expectation:
        return build_check(
            item, path, self.pos, self.spec_dir, rootdir=self.rootdir, target_packages=self.target_packages
        )

    def determinism(self, path: DocPath) -> Determinism | None:
        raw = self._get(path)
        if raw is None:
            return None
        result = Determinism(**raw)
        if result.min_pass is not None and result.min_pass > result.runs:
            raise SpecError(
                f"min_pass {result.min_pass} is more than runs {result.runs}",
                location=self.pos.of((*path, "min_pass")),
                hint="min_pass counts the runs that must pass, at most runs",
            )
        return result
