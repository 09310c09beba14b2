"""A side of a comparison: the results of one model, from a run report, a folder of shard reports, or a
model profile (the specs run on it through pytest, replayed unless a record mode says otherwise)."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aitest.errors import AitestError
from aitest.reports.run_report import REPORT_VERSION

# how a provider's models are run, as far as selection cares: a local one has a file (a size) and costs nothing
# unless priced; a hosted one (a server, or a replay-only import) has no file; another provider is not known
HOSTED_PROVIDERS = frozenset({"openai", "recorded"})


class CompareError(AitestError):
    """Bad usage or input of `aitest compare` (exit status 2)."""


@dataclass
class Side:
    """The results one model gave: cases by (feature, id), each feature's gate, each profile's identity and size."""

    name: str  # the profile, or the report file or folder, as the user named it
    source: str  # "profile" | "report"
    cases: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    gates: dict[str, dict[str, Any]] = field(default_factory=dict)
    models: dict[str, dict[str, Any]] = field(default_factory=dict)
    record_mode: str = ""

    @property
    def identities(self) -> set[tuple[str, str]]:
        """The (provider, model) pairs its cases ran on."""
        return {(c["model"]["provider"], c["model"]["model"]) for c in self.cases.values() if c.get("model")}

    @property
    def size(self) -> int | None:
        """The bytes of its model file, when it ran on one model of known size."""
        sizes = {m.get("bytes") for m in self.models.values()}
        return sizes.pop() if len(sizes) == 1 else None

    @property
    def hosted(self) -> bool:
        """Its models are all hosted (a server, or recordings alone): a file size does not apply."""
        return bool(self.models) and all(m.get("provider") in HOSTED_PROVIDERS for m in self.models.values())

    def add(self, report: dict[str, Any]) -> None:
        """Merge one report (a shard) into this side."""
        for case in report["cases"]:
            if case.get("kind", "case") == "spec":
                continue  # a spec that did not load: no case to compare
            self.cases[(case["feature"], case["id"])] = case
        self.gates.update({name: dict(f.get("gate", {})) for name, f in report.get("features", {}).items()})
        self.models.update(report.get("models", {}))
        self.record_mode = self.record_mode or report.get("record_mode", "")


def load_report(path: Path, shown: str) -> dict[str, Any]:
    """A run report, checked: CompareError (one line) for a file that is unreadable, not JSON, not a run
    report, or written by a newer aitest."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise CompareError(f"{shown}: cannot read the report: {getattr(exc, 'strerror', None) or exc}") from None
    except ValueError as exc:
        raise CompareError(f"{shown}: not a run report: not JSON ({exc})") from None
    if not isinstance(document, dict) or "aitest_report" not in document:
        raise CompareError(
            f"{shown}: not an aitest run report (it has no aitest_report key)",
            hint="write one with pytest --aitest-report=PATH",
        )
    version = document["aitest_report"]
    if isinstance(version, int) and not isinstance(version, bool) and version > REPORT_VERSION:
        raise CompareError(
            f"{shown}: written by a newer aitest (report format {version}; this one reads {REPORT_VERSION})",
            hint="upgrade aitest (pip install -U aitest)",
        )
    from aitest.reports.run_report import report_schema
    from aitest.util.schema_quick import quick_valid

    schema = report_schema()
    if quick_valid(schema, document, schema):  # a sound pre-check: valid reports skip jsonschema's slow walk
        return document
    from jsonschema import Draft202012Validator

    errors = list(Draft202012Validator(schema).iter_errors(document))
    error = min(errors, key=lambda e: len(e.absolute_path), default=None)  # the outermost problem first
    if error is not None:
        pointer = "/" + "/".join(str(p) for p in error.absolute_path)
        raise CompareError(f"{shown}: not a valid aitest run report: at {pointer}: {error.message[:200]}")
    return document


def side_from_path(name: str, path: Path) -> Side:
    """A side from a report file, or from a folder of shard reports (every *.json in it, merged)."""
    side = Side(name, "report")
    if path.is_dir():
        files = sorted(path.glob("*.json"))
        if not files:
            raise CompareError(f"{name}: the folder holds no report (*.json)")
        for file in files:
            side.add(load_report(file, f"{name}/{file.name}"))
    else:
        side.add(load_report(path, name))
    return side


def side_from_profile(name: str, *, rootdir: Path, paths: list[str], record: str | None, quiet: bool = False) -> Side:
    """Run the specs on a profile (pytest -m aitest --aitest-model=NAME) and read its report."""
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "report.json"
        cmd = [sys.executable, "-m", "pytest", "-m", "aitest", "-q", "-p", "no:cacheprovider", "--tb=no", "-rN"]
        cmd += [f"--aitest-model={name}", f"--aitest-report={report}", *paths]
        if record:
            cmd.append(f"--aitest-record={record}")
        if not quiet:
            mode = record or "none"
            print(f"aitest compare: running the specs on {name} ({'replay' if mode == 'none' else mode})...",
                  file=sys.stderr)  # fmt: skip
        proc = subprocess.run(cmd, cwd=rootdir, capture_output=True, text=True)
        if proc.returncode not in (0, 1, 5) or not report.is_file():  # 5: no tests collected
            tail = (proc.stderr.strip() or proc.stdout.strip()).splitlines()[-3:]
            raise CompareError(f"running the specs on {name} failed (pytest exit {proc.returncode}): {' '.join(tail)}")
        side = Side(name, "profile")
        side.add(load_report(report, name))
        return side
