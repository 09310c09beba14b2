"""The files `aitest init` writes, from `aitest/templates/` (package data): one source for the
workflow in docs/ci.md and the one a project gets."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from aitest.scaffold.steps import shown

EXAMPLE_FEATURE = "aitest_example"
EXAMPLE_MODULE = "aitest_example.py"
WORKFLOW = ".github/workflows/aitest.yml"
SCHEMA = "aitest.schema.json"
SOURCE_LINE = "  AITEST_SOURCE: git+https://github.com/OWNER/aitest@main   # <- replace OWNER, pin a tag or commit\n"


def template(name: str) -> str:
    """The text of ``aitest/templates/NAME``."""
    return (resources.files("aitest") / "templates" / name).read_text(encoding="utf-8")


@dataclass(frozen=True)
class ExampleFiles:
    """The example feature: its spec, its code and its recorded model answers, with their paths."""

    spec: tuple[Path, str]
    module: tuple[Path, str]
    recording: tuple[Path, str]


def example_files(root: Path, spec_dir: Path, recordings: Path) -> ExampleFiles:
    """The example rendered for this project's spec and recordings folders."""
    spec = spec_dir / f"{EXAMPLE_FEATURE}.yaml"
    recording = recordings / f"{EXAMPLE_FEATURE}.yaml"
    values = {
        "schema": Path(os.path.relpath(root / SCHEMA, spec_dir)).as_posix(),
        "specs": shown(spec_dir, root),
        "spec": shown(spec, root),
        "module": EXAMPLE_MODULE,
        "recording": shown(recording, root),
    }
    return ExampleFiles(
        spec=(spec, _render(template("example_spec.yaml.tmpl"), values)),
        module=(root / EXAMPLE_MODULE, _render(template("example_target.py.tmpl"), values)),
        recording=(recording, template("example_recording.yaml")),
    )


def workflow(source: str | None, specs: tuple[str, ...] = ("specs",)) -> str:
    """The CI workflow; with ``source`` (where this aitest came from), its AITEST_SOURCE filled in.

    ``specs``: the spec folders, named on pytest's command line, so that a `testpaths` that leaves
    them out does not leave the jobs with nothing to run."""
    text = _render(template("workflow.yml"), {"specs": " ".join(specs)})
    if source:
        text = text.replace(
            SOURCE_LINE, f"  AITEST_SOURCE: {source}   # where `aitest init` found aitest installed from\n"
        )
    return text


def aitest_source() -> str | None:
    """Where this aitest was installed from, when CI can install it from there too: a git repository at a
    commit, or a wheel on an https URL (PEP 610's direct_url.json); None for PyPI or a local folder."""
    from importlib.metadata import PackageNotFoundError, distribution

    try:
        text = distribution("aitest").read_text("direct_url.json")
        info = json.loads(text) if text else {}
    except (PackageNotFoundError, ValueError):
        return None
    url = info.get("url", "") if isinstance(info, dict) else ""
    vcs = info.get("vcs_info") if isinstance(info, dict) else None
    if isinstance(vcs, dict) and vcs.get("vcs") == "git" and url.startswith("https://"):
        return f"git+{url}@{vcs.get('commit_id') or vcs.get('requested_revision') or 'main'}"
    if isinstance(info, dict) and "archive_info" in info and url.startswith("https://"):
        return str(url)
    return None


def _render(text: str, values: dict[str, str]) -> str:
    for key, value in values.items():
        text = text.replace(f"<<{key}>>", value)
    return text
