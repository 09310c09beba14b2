"""Damaged, hostile and huge recordings, planted links, and coarse clocks: errors that name the file, nothing lost."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from llama_server import FakeServer, completion_body, fake_http_server

from conftest import ALIAS_BOMB, Project

FIXTURES = (fake_http_server,)  # pytest finds it here; the tests take it by name
RECORDING = "specs/__recordings__/bot.yaml"


def hosted(project: Project, server: FakeServer, *, cases: int = 2, extra: str = "") -> None:
    """A feature whose target calls an OpenAI-compatible server (a scripted one: these tests are about aitest)."""
    project.pytester.makepyprojecttoml(
        '[tool.aitest]\nspecs = ["specs"]\n\n[tool.aitest.models.hosted]\nprovider = "openai"\n'
        f'base_url = "{server.base_url}"\nmodel = "m"\nretries = 0\n{extra}'
    )
    project.module(
        "bot",
        "SCHEMA = {'type': 'object'}\n\n"
        "def answer(question, model):\n"
        "    return model.complete(question, max_tokens=8, json_schema=SCHEMA)\n",
    )
    rows = "\n".join(f"  - id: c{i}\n    vars: {{question: 'Question {i}?'}}" for i in range(cases))
    project.spec("specs/bot.yaml", f"feature: bot\nmodel: hosted\ntarget: bot:answer\ncases:\n{rows}\n")


def test_the_writer_never_emits_yaml_anchors(project: Project, fake_http_server: FakeServer) -> None:
    hosted(project, fake_http_server)
    project.run("--aitest-record=once").assert_outcomes(passed=2)
    text = (project.root / RECORDING).read_text()
    assert "&id" not in text and "*id" not in text
    project.run().assert_outcomes(passed=2)


def damage_entry(project: Project, field: str, value: str) -> None:
    path = project.root / RECORDING
    lines = path.read_text().splitlines()
    index = next(i for i, line in enumerate(lines) if line.lstrip().startswith(f"{field}:"))
    indent = lines[index][: len(lines[index]) - len(lines[index].lstrip())]
    lines[index] = f"{indent}{field}: {value}".replace("\n    ", "\n" + indent)
    path.write_text("\n".join(lines) + "\n")


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("response", "null", "*corrupt recording: entry 1: 'response' must be text, not empty*"),
        ("response", "yes", "*corrupt recording: entry 1: 'response' must be text, not true or false*"),
        ("response", "[a, b]", "*corrupt recording: entry 1: 'response' must be text, not a list*"),
        ("response", "!!binary aGVsbG8=", "*corrupt recording: YAML tag '!!binary' is not allowed*"),
        ("run", "0.9", "*corrupt recording: entry 1: 'run' must be a whole number*"),
        ("latency_ms", ".nan", "*corrupt recording: entry 1: 'latency_ms' must be a number of milliseconds*"),
        ("version", "true", "*corrupt recording: version True is not a format version aitest writes (1 to 2)*"),
        ("latency_ms", "12\n    colour: blue", "*corrupt recording: entry 1: unknown field 'colour'*"),
    ],
    ids=["null", "bool", "list", "binary", "float_run", "nan_latency", "bool_version", "unknown_field"],
)
def test_a_recording_with_wrong_types_is_an_error_never_replayed(
    project: Project, fake_http_server: FakeServer, field: str, value: str, message: str
) -> None:
    hosted(project, fake_http_server, cases=1)
    project.run("--aitest-record=once").assert_outcomes(passed=1)
    damage_entry(project, field, value)
    damaged = (project.root / RECORDING).read_bytes()
    for mode in ("none", "new"):
        result = project.run(f"--aitest-record={mode}")
        result.assert_outcomes(failed=1)
        result.stdout.fnmatch_lines([f"*specs/__recordings__/bot.yaml:*:*: {message.lstrip('*')}"])
        assert "Traceback" not in result.stdout.str()
        assert (project.root / RECORDING).read_bytes() == damaged


@pytest.mark.parametrize("where", ["prompt", "response"])
def test_an_alias_bomb_in_a_recording_is_refused_at_once(
    project: Project, fake_http_server: FakeServer, where: str
) -> None:
    hosted(project, fake_http_server, cases=1)
    project.run("--aitest-record=once").assert_outcomes(passed=1)
    path = project.root / RECORDING
    text = path.read_text()
    path.write_text(ALIAS_BOMB + text.replace(f"{where}: ", f"{where}: *g #", 1))
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider"], cwd=project.root, capture_output=True, text=True,
        timeout=60,
    )  # fmt: skip
    assert "corrupt recording: the recording expands to more than 100000 values through YAML aliases" in result.stdout
    assert "Traceback" not in result.stdout
    cache = project.root / ".aitest_cache" / "recordings"
    assert sum(f.stat().st_size for f in cache.glob("*")) < 100_000 if cache.exists() else True


@pytest.mark.parametrize("kind", ["folder", "fifo", "device"])
def test_a_recording_that_is_not_a_file_is_unreadable(
    project: Project, fake_http_server: FakeServer, kind: str
) -> None:
    hosted(project, fake_http_server, cases=1)
    path = project.root / RECORDING
    path.parent.mkdir(parents=True)
    if kind == "folder":
        path.mkdir()
    elif kind == "fifo":
        os.mkfifo(path)
    else:
        path.symlink_to("/dev/zero")
    result = project.run()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        ["*specs/__recordings__/bot.yaml: unreadable recording: the file is not a regular file*"]
    )
    assert "Traceback" not in result.stdout.str()


def test_a_planted_temp_link_is_never_followed(project: Project, fake_http_server: FakeServer, tmp_path: Path) -> None:
    hosted(project, fake_http_server, cases=1)
    outside = tmp_path / "outside.txt"
    outside.write_text("keep me")
    folder = project.root / "specs/__recordings__"
    folder.mkdir(parents=True)
    for pid in (os.getpid(), os.getppid()):  # the names writers used to take: .FILE.tmp-PID
        (folder / f".bot.yaml.tmp-{pid}").symlink_to(outside)
    project.run("--aitest-record=once").assert_outcomes(passed=1)
    assert outside.read_text() == "keep me"
    assert yaml.safe_load((folder / "bot.yaml").read_text())["entry_count"] == 1


def test_a_planted_lock_link_is_an_error_not_a_write(
    project: Project, fake_http_server: FakeServer, tmp_path: Path
) -> None:
    hosted(project, fake_http_server, cases=1)
    outside = tmp_path / "outside.txt"
    outside.write_text("keep me")
    locks = project.root / ".aitest_cache" / "locks"
    locks.mkdir(parents=True)
    (locks / "bot.lock").symlink_to(outside)
    result = project.run("--aitest-record=once")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        ["*.aitest_cache/locks/bot.lock is a symbolic link; aitest does not write through links*"]
    )
    assert "Traceback" not in result.stdout.str()
    assert outside.read_text() == "keep me"


def test_a_concurrent_write_is_not_lost_on_a_coarse_clock(tmp_path: Path) -> None:
    """Two workers: B writes a same-size file within the same second as A's read; A's flush must keep B's entry."""
    from aitest.recordings import fileformat
    from aitest.recordings.entry import Entry, Request, entry_key
    from aitest.recordings.store import RecordingStore

    def entry(prompt: str) -> Entry:
        model, request = {"provider": "openai", "model": "m"}, Request("complete", prompt=prompt)
        return Entry(entry_key(model, request, 0), model, request, 0, "r" * 4, 1.0)

    folder = tmp_path / "rec"
    store_a = RecordingStore(folder, tmp_path, tmp_path / "locks", frozenset())
    store_b = RecordingStore(folder, tmp_path, tmp_path / "locks", frozenset())
    first = store_a.feature("f")
    first.put(entry("p1"))
    first.flush(force=True)
    path = folder / "f.yaml"
    stamp = path.stat()
    other = store_b.feature("f")
    other.entries()
    other.put(entry("p2"))
    other.flush(force=True)
    text = path.read_text().replace("response: rrrr", "response: ssss", 1)  # B rewrote it: the clock did not tick
    path.write_text(text)
    os.utime(path, ns=(stamp.st_atime_ns, stamp.st_mtime_ns))
    first.put(entry("p3"))
    first.flush(force=True)
    entries = fileformat.read(path, "f.yaml")
    assert {e.request.prompt for e in entries.values()} == {"p1", "p2", "p3"}
    assert sorted(e.response for e in entries.values()) == ["rrrr", "rrrr", "ssss"]  # B's change is kept


def test_recording_a_feature_writes_its_file_a_few_times_not_once_per_case(
    project: Project, fake_http_server: FakeServer
) -> None:
    hosted(project, fake_http_server, cases=300)
    project.pytester.makeconftest(
        "import aitest.util.files as files\n"
        "WRITES = []\n"
        "_write = files.write_atomic\n"
        "def counting(path, text):\n"
        "    if path.name == 'bot.yaml':\n"
        "        WRITES.append(path)\n"
        "    return _write(path, text)\n"
        "files.write_atomic = counting\n"
        "import aitest.recordings.store as store\n"
        "store.write_atomic = counting\n"
        "def pytest_terminal_summary(terminalreporter):\n"
        "    terminalreporter.write_line(f'recording writes: {len(WRITES)}')\n"
    )
    result = project.run("--aitest-record=once")
    result.assert_outcomes(passed=300)
    writes = int(result.stdout.str().split("recording writes: ")[1].split()[0])
    assert 1 <= writes <= 12
    assert yaml.safe_load((project.root / RECORDING).read_text())["entry_count"] == 300
    project.run().assert_outcomes(passed=300)


def test_an_interrupted_run_keeps_what_it_recorded(project: Project, fake_http_server: FakeServer) -> None:
    hosted(project, fake_http_server, cases=5)
    project.pytester.makeconftest(
        "import pytest\ndef pytest_runtest_call(item):\n    if item.name == 'c3':\n        raise KeyboardInterrupt\n"
    )
    result = project.pytester.runpytest_subprocess("-p", "no:cacheprovider", "--aitest-record=once")
    assert result.ret == pytest.ExitCode.INTERRUPTED
    recorded = yaml.safe_load((project.root / RECORDING).read_text())
    assert recorded["entry_count"] == 3  # c0, c1, c2: flushed when the session ended


def test_a_key_with_a_trailing_newline_is_used_without_it(
    project: Project, fake_http_server: FakeServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AITEST_TEST_KEY", "sk-test-SECRET-0123456789\n")
    hosted(project, fake_http_server, cases=1, extra='api_key_env = "AITEST_TEST_KEY"\n')
    project.run("--aitest-record=off").assert_outcomes(passed=1)
    headers = {k.lower(): v for k, v in fake_http_server.requests[0].headers.items()}
    assert headers["authorization"] == "Bearer sk-test-SECRET-0123456789"


@pytest.mark.parametrize("key", ["sk-tëst-SECRET-0123456789", "sk-test-SECRET\n-0123456789", "sk-test SECRET-0123"])
def test_a_key_an_http_header_cannot_carry_is_named_never_shown(
    project: Project, fake_http_server: FakeServer, monkeypatch: pytest.MonkeyPatch, key: str
) -> None:
    monkeypatch.setenv("AITEST_TEST_KEY", key)
    hosted(project, fake_http_server, cases=1, extra='api_key_env = "AITEST_TEST_KEY"\n')
    result = project.run(
        "--aitest-record=off", "--showlocals", "--tb=long", "--junitxml=junit.xml", "--aitest-report=report.json"
    )
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*environment variable AITEST_TEST_KEY (api_key_env of model profile 'hosted') holds a character "
            "that an HTTP header cannot carry*"
        ]
    )
    for text in (
        result.stdout.str(),
        result.stderr.str(),
        *(p.read_text() for p in project.root.glob("*.*") if p.is_file()),
    ):
        assert "SECRET" not in text
    assert not fake_http_server.requests


def test_a_key_the_server_echoes_reaches_no_recording(
    project: Project, fake_http_server: FakeServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AITEST_TEST_KEY", "sk-test-SECRET-0123456789")
    fake_http_server.respond((200, completion_body("your key is sk-test-SECRET-0123456789"), {}))
    hosted(project, fake_http_server, cases=1, extra='api_key_env = "AITEST_TEST_KEY"\n')
    project.run("--aitest-record=once", "--aitest-report=report.json").assert_outcomes(passed=1)
    for path in (project.root / RECORDING, project.root / "report.json"):
        text = path.read_text()
        assert "SECRET" not in text and "your key is ***" in text
