"""`aitest init [DIR]`: [tool.aitest], an example spec that passes on replay, editor settings, a CI
workflow. Each file is created, added to, or left alone and said so; a second run changes nothing."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from aitest.config import Config, find_rootdir, load_config
from aitest.errors import AitestError
from aitest.scaffold import templates
from aitest.scaffold.pyproject import add_table
from aitest.scaffold.steps import Step, shown, write_file
from aitest.scaffold.vscode import map_schema


@dataclass(frozen=True)
class InitOptions:
    force: bool = False  # replace the example, schema and workflow files when they differ
    example: bool = True
    editor: bool = True
    ci: bool = True


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "dir", nargs="?", help="the project folder (default: the project root, found from here as pytest finds it)"
    )
    parser.add_argument(
        "--force", action="store_true", help="replace the example, the schema and the workflow where they differ"
    )
    parser.add_argument("--no-example", action="store_true", help="write no example spec")
    parser.add_argument("--no-editor", action="store_true", help="write no schema file and no .vscode/settings.json")
    parser.add_argument("--no-ci", action="store_true", help="write no .github/workflows/aitest.yml")


def run(args: argparse.Namespace) -> int:
    root = Path(args.dir).resolve() if args.dir else find_rootdir(Path.cwd())
    options = InitOptions(force=args.force, example=not args.no_example, editor=not args.no_editor, ci=not args.no_ci)
    print(f"aitest init: the project in {root}")
    steps: list[Step] = []
    try:
        if not root.is_dir():
            root.mkdir(parents=True)
        for step in init(root, options):  # each file said as it is done, so a failure shows what was
            print("\n".join(step.lines()))
            steps.append(step)
        config = load_config(root)
    except AitestError as error:
        print(f"aitest init: {error}", file=sys.stderr)
        return 1
    except OSError as error:
        where = f" {error.filename}" if error.filename else f" in {root}"
        print(f"aitest init: cannot write{where}: {error.strerror or error}", file=sys.stderr)
        return 1
    print("\n".join(next_lines(root, config, steps, options)))
    return 0


def init(root: Path, options: InitOptions) -> Iterator[Step]:
    """Set the project in ``root`` up, one file at a time; AitestError (before anything is written) when
    its pyproject.toml or [tool.aitest] cannot be read."""
    load_config(root)  # a broken [tool.aitest] stops here, with its line
    yield add_table(root, templates.template("pyproject_table.toml"))
    config = load_config(root)
    spec_dir = config.specs[0] if config.specs else root / "specs"
    if options.example:
        example = templates.example_files(root, spec_dir, config.recordings)
        yield write_file(root, *example.module, what="the example feature's code", force=options.force)
        yield write_file(root, *example.spec, what="an example spec", force=options.force)
        yield write_file(root, *example.recording, what="its recorded model answers (commit them)", force=options.force)
    if options.editor:
        yield from editor_steps(root, config, options)
    if options.ci:
        folders = tuple(shown(folder, root) for folder in config.specs) or ("specs",)
        workflow = templates.workflow(templates.aitest_source(), folders)
        what = "replays the specs in CI (aitest's docs/ci.md)"
        yield write_file(root, root / templates.WORKFLOW, workflow, what=what, force=options.force)


def editor_steps(root: Path, config: Config, options: InitOptions) -> Iterator[Step]:
    """The spec format's schema, and the editor settings that map the spec files to it."""
    from aitest.spec.schema import spec_schema

    schema = json.dumps(spec_schema(), indent=2) + "\n"  # as `aitest schema` prints it
    what = "the spec format's JSON Schema, for editors (as `aitest schema` prints it)"
    yield write_file(root, root / templates.SCHEMA, schema, what=what, regenerate=True)
    folders = [shown(folder, root) for folder in config.specs]
    globs = [f"{folder}/**/*.{ext}" for folder in folders for ext in ("yaml", "yml")]
    globs += ["**/*.aitest.yaml", "**/*.aitest.yml", f"!{shown(config.recordings, root)}/**", "!**/*.schema.yaml"]
    yield map_schema(root, f"./{templates.SCHEMA}", globs, force=options.force)


def next_lines(root: Path, config: Config, steps: list[Step], options: InitOptions) -> list[str]:
    """What changed, and the commands to run next."""
    lines = [] if any(step.changed for step in steps) else ["nothing changed: the project was set up already"]
    specs = " ".join(shown(folder, root) for folder in config.specs) or "specs"
    lines += ["next:", "  aitest validate          # checks the specs without running them"]
    lines.append(f"  pytest {specs:<17} # runs them, replayed from the recordings: no model needed")
    if options.ci and templates.SOURCE_LINE in _read(root / templates.WORKFLOW):
        lines.append(f"  edit AITEST_SOURCE in {templates.WORKFLOW}: aitest is not on PyPI yet (docs/ci.md)")
    lines.extend(testpaths_note(root, config))
    return lines


def testpaths_note(root: Path, config: Config) -> list[str]:
    """A note when pytest's `testpaths` leave the spec folders out: a bare `pytest` would not run them."""
    testpaths = _testpaths(root)
    if not testpaths:
        return []
    missing = [f for f in config.specs if not any(f.is_relative_to((root / p).resolve()) for p in testpaths)]
    if not missing:
        return []
    folders = ", ".join(shown(f, root) for f in missing)
    return [
        f"note: pytest's testpaths ({', '.join(testpaths)}) leave out {folders}: a bare `pytest` does not run "
        f"the specs; add {folders} to testpaths, or name the folder (pytest {folders})"
    ]


def _testpaths(root: Path) -> list[str]:
    """pytest's `testpaths` from [tool.pytest.ini_options] (or [tool.pytest]) of pyproject.toml."""
    from aitest.config import parse_toml

    path = root / "pyproject.toml"
    try:
        tool = parse_toml(path.read_text(encoding="utf-8"), path).get("tool", {})
    except (OSError, UnicodeDecodeError, AitestError):
        return []
    pytest = tool.get("pytest", {}) if isinstance(tool, dict) else {}
    section = pytest.get("ini_options", pytest) if isinstance(pytest, dict) else {}
    value = section.get("testpaths", []) if isinstance(section, dict) else []
    value = value.split() if isinstance(value, str) else value
    return [str(p) for p in value] if isinstance(value, list) else []


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return ""
