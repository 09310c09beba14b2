"""The `aitest` command: set a project up, validate specs, print the spec schema, run the suite through
pytest, compare models. Every command finds the project root from any folder inside it, as pytest does."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path

from aitest import __version__
from aitest.config import Config, find_rootdir
from aitest.errors import AitestError, NotASpec, SpecErrors

# folders no spec is looked for in, as pytest's default norecursedirs (and hidden folders: .git, .venv, ...)
_SKIP_DIRS = {"venv", "node_modules", "site-packages", "__pycache__", "build", "dist", "CVS", "_darcs", "{arch}"}


def _yaml_files(folder: Path, config: Config, above: frozenset[str] = frozenset()) -> Iterator[Path]:
    """The YAML files under ``folder``, in name order, walked as pytest walks it: links to folders followed
    (never round a loop); hidden and tool folders, and the folders aitest writes (recordings, .aitest_cache),
    left out."""
    real = os.path.realpath(folder)
    if real in above or config.written_by_aitest(folder):
        return
    try:
        entries = sorted(os.scandir(folder), key=lambda entry: entry.name)
    except OSError:
        return
    for entry in entries:
        path = Path(entry.path)
        try:
            is_dir = entry.is_dir()
        except OSError:
            continue
        if not is_dir:
            if path.suffix in (".yaml", ".yml"):
                yield path
        elif not (entry.name.startswith(".") or entry.name in _SKIP_DIRS or entry.name.endswith(".egg")):
            yield from _yaml_files(path, config, above | {real})


def _spec_files(paths: list[str], config: Config) -> tuple[list[Path], list[str]]:
    """The spec files to check (by the rule of pytest's collection), and the paths given that do not exist.

    A file given is checked whatever its name; in a folder given, every YAML file but a JSON Schema
    (*.schema.yaml) and what aitest writes; without paths, the spec folders and every *.aitest.yaml.
    """
    files: dict[Path, None] = {}  # in order, once each
    missing: list[str] = []
    for given in paths:
        root = Path(given).resolve()
        if root.is_file():
            files[root] = None
        elif root.is_dir():
            files.update((p, None) for p in _yaml_files(root, config) if config.is_spec_file(p, anywhere=True))
        else:
            missing.append(given)
    if not paths:
        for folder in config.specs:
            files.update((p, None) for p in _yaml_files(folder, config) if config.is_spec_file(p))
        named = (p for p in _yaml_files(config.rootdir, config) if p.name.endswith((".aitest.yaml", ".aitest.yml")))
        files.update((p, None) for p in named if config.is_spec_file(p))
    return list(files), missing


def validate(paths: list[str]) -> int:
    """Load every spec. Its findings go to stdout, `file:line:col: message` per problem or warning; the
    root, each good file and the closing count go to stderr. Exit status 1 if there is a problem, else 0
    (warnings alone do not fail), as with ruff and mypy; a usage error is argparse's 2."""
    from aitest.session import AitestSession
    from aitest.util.text import plural, shown

    rootdir = find_rootdir(Path.cwd(), paths)
    if rootdir != Path.cwd().resolve():  # paths below are relative to the root, as pytest's node ids are
        print(f"rootdir: {shown(str(rootdir), 200, quoted=False)}", file=sys.stderr)
    try:
        session = AitestSession.for_rootdir(rootdir)
    except AitestError as error:  # [tool.aitest] itself is broken: a finding, in pyproject.toml
        print(error)
        return 1
    files, missing = _spec_files(paths, session.config)
    for given in missing:
        print(f"{shown(str(given), 200, quoted=False)}: no such file or folder")
    problems, warnings = len(missing), 0
    for file in files:
        try:
            spec = session.load(file)
        except NotASpec as skipped:
            where = skipped.location.file if skipped.location else str(file)
            print(f"{shown(where, 200, quoted=False)}: skipped (tool definitions)", file=sys.stderr)
            continue
        except SpecErrors as errors:
            problems += len(errors.errors)
            warnings += len(errors.warnings)
            print(errors)
        except AitestError as error:
            problems += 1
            print(error)
        else:
            warnings += len(spec.warnings)
            for warning in spec.warnings:
                print(warning)
            count = plural(len(spec.cases), "case")
            if spec.properties:
                count += ", " + plural(len(spec.properties), "property", "properties")
            print(f"{spec.location.file}: ok ({spec.feature}, {count})", file=sys.stderr)
    if not files:
        looked = ", ".join(paths) if paths else ", ".join(str(p) for p in session.config.specs)
        print(f"no spec files found (looked in: {looked})")
        return 1
    status = f"{plural(len(files), 'spec file')}, {plural(problems, 'problem')}"
    status += f", {plural(warnings, 'warning')}" if warnings else ""
    print(status, file=sys.stderr)
    return 1 if problems else 0


def print_schema(*, report: bool = False) -> int:
    if report:
        from aitest.reports.run_report import report_schema

        print(json.dumps(report_schema(), indent=2))
        return 0
    from aitest.spec.schema import spec_schema

    print(json.dumps(spec_schema(), indent=2))
    return 0


def run_pytest(args: list[str]) -> int:
    """`aitest run ARGS`: pytest -m aitest ARGS, in a fresh process so pytest sees aitest unimported."""
    import subprocess

    return subprocess.call([sys.executable, "-m", "pytest", "-m", "aitest", *_rooted(args), *args])


def _rooted(args: list[str]) -> list[str]:
    """`--rootdir` for a pytest before 8.1, which roots a run at a pyproject.toml only when it has a pytest
    table: `aitest run` then finds the project (and its [tool.aitest]) from a subfolder, as pytest 8.1 does."""
    from importlib.metadata import version

    if any(a.startswith(("--rootdir", "-c", "--config-file")) for a in args):
        return []
    import re

    release = re.match(r"(\d+)\.(\d+)", version("pytest"))
    if release is None or (int(release[1]), int(release[2])) >= (8, 1):
        return []
    from aitest.config import find_rootdir

    paths = [a.split("::")[0] for a in args if not a.startswith("-") and Path(a.split("::")[0]).exists()]
    return [f"--rootdir={find_rootdir(Path.cwd(), paths)}"]


def build_parser() -> argparse.ArgumentParser:
    from aitest.compare.command import add_arguments as add_compare_arguments
    from aitest.importing.command import add_arguments as add_import_arguments
    from aitest.scaffold.command import add_arguments as add_init_arguments

    parser = argparse.ArgumentParser(prog="aitest", description="Behavior regression tests for AI features.")
    parser.add_argument("-V", "--version", action="version", version=f"aitest {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    p_init = sub.add_parser(
        "init", help="set a project up: [tool.aitest], an example spec, editor settings, a CI workflow"
    )
    add_init_arguments(p_init)
    p_validate = sub.add_parser("validate", help="check spec files and print file:line:col: message per problem")
    p_validate.add_argument("paths", nargs="*", help="spec files or folders (default: the configured spec folders)")
    p_schema = sub.add_parser("schema", help="print the JSON Schema of the spec format (for editors)")
    p_schema.add_argument("--report", action="store_true", help="print the JSON Schema of run reports instead")
    sub.add_parser("run", help="run the specs: pytest -m aitest, every further argument passed to pytest")
    p_compare = sub.add_parser(
        "compare", help="compare candidate models with a baseline, case by case, and gate the swap (docs/compare.md)"
    )
    add_compare_arguments(p_compare)
    p_import = sub.add_parser(
        "import", help="turn an LLM's logs into cases and recordings of a replay-only profile (docs/migrate.md)"
    )
    add_import_arguments(p_import)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["run"]:
        return run_pytest(argv[1:])
    args = build_parser().parse_args(argv)
    if args.command == "validate":
        return validate(args.paths)
    if args.command == "init":
        from aitest.scaffold.command import run as run_init

        return run_init(args)
    if args.command == "compare":
        from aitest.compare.command import run

        return run(args)
    if args.command == "import":
        from aitest.importing.command import run as run_import

        return run_import(args)
    return print_schema(report=args.report)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
