"""aitest's test matrix: Pythons 3.10 to 3.13, the oldest and the newest dependencies pyproject.toml allows,
a replay-only install, and a suite's pinned pytest and Hypothesis left alone (docs/ci.md, "Supported versions").

`make matrix` runs every session, then `summary` prints each one's install and test time; `.venv/bin/nox -l`
lists them, `.venv/bin/nox -s tests-3.12` runs one. Each session installs aitest without extras, as a user's
CI does: a test that needs an extra skips there (AITEST_MATRIX=1 allows it; tests/conftest.py).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import nox
from packaging.requirements import Requirement

if sys.version_info >= (3, 11):
    import tomllib
else:  # nox runs from the dev venv (3.11); this keeps the file importable by an older nox
    import tomli as tomllib

ROOT = Path(__file__).resolve().parent
OUT = ROOT / "build" / "matrix"  # timings, JUnit files, run reports; `make matrix` starts it empty
# scratch files outside the repository: under it, pytest would take the repository's pyproject.toml as the
# rootdir (and its settings) of a user's project, and so would the pytester projects of the tests
SCRATCH = Path(tempfile.gettempdir()) / "aitest-matrix"
DEV_VENV = Path(os.environ.get("AITEST_DEV_VENV", ROOT / ".venv"))  # the full dev install: the reference
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))

PYTHONS = ("3.10", "3.11", "3.12", "3.13")
TEST_TOOLS = ("pytest-xdist",)  # the least the suite needs beyond aitest: pytester is pytest's own
QUICK_TESTS = ("-m", "not slow", "-n", "2", "-p", "no:cacheprovider")
# a suite's own pins that installing aitest must leave alone (the example: an older Python 3.10 suite)
PINNED_SUITES = {
    "hypothesis+pytest": ("hypothesis==6.100.0", "pytest==7.4.4"),
    "pytest": ("pytest==7.4.4",),
}
# AITEST_MATRIX: a test whose extra is missing skips, also under CI=true (tests/conftest.py). CI=true everywhere,
# so that a local run gives CI's result (pytest before 8 shortens summary lines outside CI, and tests read
# them whole). The quick Hypothesis profile: `make test` runs the thorough one; the matrix proves versions, not
# search depth. TMPDIR outside the repository (see SCRATCH), whatever nox sets.
MATRIX_ENV = {"AITEST_MATRIX": "1", "CI": "true", "HYPOTHESIS_PROFILE": "quick", "TMPDIR": tempfile.gettempdir()}

nox.options.envdir = str(ROOT / "build" / "nox")  # the sessions' venvs, in build/ (ignored by git)
nox.options.error_on_missing_interpreters = True  # a Python the matrix claims but cannot find fails it


def _pyenv_pythons() -> None:
    """Where pyenv manages the Pythons (as on aitest's machines), let its shims answer python3.10 .. python3.13."""
    if "PYENV_VERSION" in os.environ or not shutil.which("pyenv"):
        return
    run = subprocess.run(["pyenv", "versions", "--bare"], capture_output=True, text=True, check=False)
    installed = run.stdout.split()
    chosen = []
    for python in PYTHONS:
        patches = [v for v in installed if v.startswith(f"{python}.") and v[len(python) + 1 :].isdigit()]
        if patches:
            chosen.append(max(patches, key=lambda v: int(v.rsplit(".", 1)[1])))
    current = subprocess.run(["pyenv", "version-name"], capture_output=True, text=True, check=False).stdout.strip()
    os.environ["PYENV_VERSION"] = ":".join(v for v in dict.fromkeys([*current.split(":"), *chosen]) if v)


_pyenv_pythons()


class Timings:
    """One session's install and test time and its test counts, written to build/matrix/times/ for `summary`."""

    def __init__(self, session: nox.Session) -> None:
        self.session = session
        self.seconds = {"install": 0.0, "test": 0.0}
        self.counts: dict[str, int] = {}

    @contextlib.contextmanager
    def phase(self, name: str) -> Iterator[None]:
        start = time.monotonic()
        try:
            yield
        finally:
            self.seconds[name] += time.monotonic() - start

    @contextlib.contextmanager
    def record(self) -> Iterator[Timings]:
        status = "failed"
        try:
            yield self
            status = "passed"
        finally:
            install, test = self.seconds["install"], self.seconds["test"]
            folder = OUT / "times"
            folder.mkdir(parents=True, exist_ok=True)
            entry = {"session": self.session.name, "python": self.session.python, "status": status}
            entry |= {"install_s": round(install, 1), "test_s": round(test, 1), "counts": self.counts}
            (folder / f"{_file_name(self.session.name)}.json").write_text(json.dumps(entry), encoding="utf-8")
            shutil.rmtree(SCRATCH / _file_name(self.session.name), ignore_errors=True)
            self.session.log(f"install {install:.1f} s, test {test:.1f} s, {_counts_text(self.counts)}: {status}")


def _scratch(session: nox.Session, name: str) -> Path:
    """A path for ``name`` in the session's own scratch folder (emptied when the session ends); a folder name is
    created empty, a file name is not created."""
    path = SCRATCH / _file_name(session.name) / name
    shutil.rmtree(path, ignore_errors=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.suffix:
        path.mkdir()
    return path


def _file_name(session_name: str) -> str:
    return "".join(c if c.isalnum() or c in ".-" else "_" for c in session_name)


def _counts_text(counts: dict[str, int]) -> str:
    return ", ".join(f"{n} {what}" for what, n in counts.items() if n or what == "passed") or "no tests"


def _junit_counts(path: Path) -> dict[str, int]:
    """passed / failed / error / skipped / xfailed, counted from pytest's JUnit XML, one <testcase> at a time."""
    counts = dict.fromkeys(("passed", "failed", "error", "skipped", "xfailed"), 0)
    for case in ET.parse(path).getroot().iter("testcase"):
        skipped = case.find("skipped")
        if case.find("failure") is not None:
            counts["failed"] += 1
        elif case.find("error") is not None:
            counts["error"] += 1
        elif skipped is not None:
            counts["xfailed" if skipped.get("type") == "pytest.xfail" else "skipped"] += 1
        else:
            counts["passed"] += 1
    return counts


def _lower_bounds() -> dict[Requirement, str]:
    """Each dependency of aitest with a lower bound `>=X`, and X."""
    requirements = (Requirement(text) for text in PYPROJECT["project"]["dependencies"])
    return {r: s.version for r in requirements for s in r.specifier if s.operator == ">="}


def _oldest_constraints(session: nox.Session) -> Path:
    """A pip constraints file holding each `>=X` lower bound of aitest's dependencies as `==X`: the oldest install."""
    lines = [f"{r.name}=={version}{f'; {r.marker}' if r.marker else ''}\n" for r, version in _lower_bounds().items()]
    path = _scratch(session, "oldest.txt")
    path.write_text("".join(lines), encoding="utf-8")
    session.log("oldest allowed: " + ", ".join(line.split(";")[0].strip() for line in lines))
    return path


def _versions(session: nox.Session, *names: str) -> dict[str, str]:
    """The version of each of these distributions installed in the session's venv (those not installed left out)."""
    code = textwrap.dedent(
        """
        import importlib.metadata as m, json, sys
        found = {}
        for name in sys.argv[1:]:
            try:
                found[name] = m.version(name)
            except m.PackageNotFoundError:
                pass
        print(json.dumps(found))
        """
    )
    output = session.run("python", "-c", code, *names, silent=True)
    return dict(json.loads(str(output).strip().splitlines()[-1]))


def _run_tests(session: nox.Session, *, constraints: Path | None = None) -> None:
    """aitest without extras plus the test tools; the tests that need no model, an extra's tests skipped."""
    with Timings(session).record() as timings:
        with timings.phase("install"):
            session.install(".", *TEST_TOOLS, *(("-c", str(constraints)) if constraints else ()))
            installed = _versions(session, *(r.name for r in _lower_bounds()))
            session.log("installed: " + ", ".join(f"{name}=={version}" for name, version in installed.items()))
        junit = OUT / f"{_file_name(session.name)}.xml"
        try:
            with timings.phase("test"):
                session.run("pytest", *QUICK_TESTS, f"--junitxml={junit}", *session.posargs, env=MATRIX_ENV)
        finally:
            if junit.exists():
                timings.counts = _junit_counts(junit)


@nox.session(name="tests-3.10-oldest", python="3.10")
def tests_oldest(session: nox.Session) -> None:
    """The oldest Python with the oldest version of every dependency pyproject.toml allows (its >= bounds)."""
    _run_tests(session, constraints=_oldest_constraints(session))


@nox.session(python=PYTHONS[1:])
def tests(session: nox.Session) -> None:
    """The newer Pythons with the newest versions of every dependency pyproject.toml allows."""
    _run_tests(session)


# -- the example specs, replayed from the committed recordings ---------------------------------------------


def _examples_project(session: nox.Session) -> Path:
    """The repository's example specs, their targets and committed recordings, as a user's project of their own
    (outside the repository, so the installed aitest is the one that runs)."""
    project = _scratch(session, "project")
    for folder in ("specs", "examples"):
        shutil.copytree(ROOT / folder, project / folder, ignore=shutil.ignore_patterns("__pycache__"))
    table = "".join(f"{key} = {json.dumps(value)}\n" for key, value in PYPROJECT["tool"]["aitest"].items())
    (project / "pyproject.toml").write_text(f"[tool.aitest]\n{table}", encoding="utf-8")
    return project


Results = dict[str, dict[str, str]]  # nodeid -> the run report's kind, outcome and one-line reason of the case


def _replay(session: nox.Session, pytest: str, name: str, *, external: bool = False) -> Results:
    """Replay the example specs (--aitest-record=none) with ``pytest``: each case's result, from the run report."""
    project = _examples_project(session)
    report = OUT / f"{name}.report.json"
    with session.chdir(project):
        # exit 1: some example cases fail on purpose (the demo shows them); the results are compared instead
        args = ("specs", "--aitest-record=none", f"--aitest-report={report}", "-p", "no:cacheprovider", "-q")
        session.run(pytest, *args, "--tb=no", external=external, success_codes=[0, 1], env=MATRIX_ENV)
    cases = json.loads(report.read_text(encoding="utf-8"))["cases"]
    return {c["nodeid"]: {"kind": c["kind"], "outcome": c["outcome"], "reason": c["reason"]} for c in cases}


def _reference(session: nox.Session) -> Results:
    """The same replay in the full dev venv (Python 3.11, every extra): what every replay must match."""
    cached = OUT / "reference.results.json"
    if cached.exists():
        return dict(json.loads(cached.read_text(encoding="utf-8")))
    pytest = DEV_VENV / "bin" / "pytest"
    if not pytest.exists():
        session.error(f"the reference replay needs the dev venv {DEV_VENV} (make matrix sets it up)")
    results = _replay(session, str(pytest), "reference", external=True)
    OUT.mkdir(parents=True, exist_ok=True)
    cached.write_text(json.dumps(results, indent=1), encoding="utf-8")
    return results


def _same_results(session: nox.Session, got: Results, want: Results) -> None:
    """Fail the session with every nodeid whose outcome or reason differs from the reference replay's."""
    differ = sorted(n for n in got.keys() | want.keys() if got.get(n) != want.get(n))
    for nodeid in differ:
        here, there = (_shown(r.get(nodeid)) for r in (got, want))
        session.warn(f"{nodeid}: {here} here, {there} in the dev venv")
    if differ:
        session.error(f"{len(differ)} of {len(want)} example cases replay otherwise than in the dev venv: {differ}")
    properties = sum(r["kind"] == "property" for r in got.values())
    if not properties:
        session.error("the replay ran no property: the example specs have some")
    session.log(
        f"all {len(got)} example cases ({properties} properties) replay with the dev venv's outcomes and reasons"
    )


def _shown(result: dict[str, str] | None) -> str:
    return f"{result['outcome']} ({result['reason'] or 'no reason'})" if result else "not run"


def _outcome_counts(results: Results) -> dict[str, int]:
    counts = {"passed": 0}
    for result in results.values():
        counts[result["outcome"]] = counts.get(result["outcome"], 0) + 1
    return counts


@nox.session(name="replay-examples", python="3.11")
def replay_examples(session: nox.Session) -> None:
    """aitest alone (no llama-cpp-python, no torch, no extra) replays the example specs as the full install does."""
    with Timings(session).record() as timings:
        with timings.phase("install"):
            session.install(".")
        with timings.phase("test"):
            want = _reference(session)
            got = _replay(session, "pytest", session.name)
            timings.counts = _outcome_counts(got)
            _same_results(session, got, want)


@nox.session(name="pinned-suite", python="3.10")
@nox.parametrize("pins", list(PINNED_SUITES), ids=list(PINNED_SUITES))
def pinned_suite(session: nox.Session, pins: str) -> None:
    """A suite on Python 3.10 that pins pytest (and Hypothesis) installs aitest's wheel: the pins stay, and the
    example specs replay with the same outcomes as on 3.11."""
    pinned = dict(pin.split("==") for pin in PINNED_SUITES[pins])
    with Timings(session).record() as timings:
        with timings.phase("install"):
            session.install(*PINNED_SUITES[pins])  # the suite's own environment, before aitest arrives
            dist = _scratch(session, "dist")
            session.run("python", "-m", "pip", "wheel", "--no-deps", "--quiet", str(ROOT), "-w", str(dist))
            (wheel,) = dist.glob("aitest-*.whl")
            session.install(str(wheel))  # as a user would: no --upgrade, no constraints
        kept = _versions(session, *pinned)
        if kept != pinned:
            session.error(f"installing aitest changed the suite's pins: {pinned} became {kept}")
        session.run("python", "-m", "pip", "check")
        session.log(f"pins kept: {kept}; pip check is clean")
        with timings.phase("test"):
            want = _reference(session)
            got = _replay(session, "pytest", _file_name(session.name))
            timings.counts = _outcome_counts(got)
            _same_results(session, got, want)


@nox.session(python=False)
def summary(session: nox.Session) -> None:
    """Each session's install and test time and counts, from build/matrix/times/ (nox runs this one last)."""
    rows = [json.loads(p.read_text(encoding="utf-8")) for p in sorted((OUT / "times").glob("*.json"))]
    if not rows:
        session.skip("no session has run yet")
    header = ("session", "python", "install s", "test s", "tests", "result")
    table = [header]
    for r in rows:
        times = (f"{r['install_s']:.1f}", f"{r['test_s']:.1f}")
        table.append((r["session"], str(r["python"]), *times, _counts_text(r["counts"]), r["status"]))
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)) for row in table]
    total = sum(r["install_s"] + r["test_s"] for r in rows)
    print("\n".join(["", *lines, f"{len(rows)} sessions, {total / 60:.1f} min of install and test in all", ""]))
