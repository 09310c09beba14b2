"""Recording calls to an OpenAI-compatible server (the real llama_cpp.server on loopback)."""

from __future__ import annotations

import json

import pytest
from llama_server import llama_server

from conftest import Project

FIXTURES = (llama_server,)  # pytest finds the fixture here; the test takes it by name
SECRET = "sk-test-0123456789abcdef-do-not-record"


def test_recording_over_http_keeps_secrets_out(
    project: Project, llama_server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AITEST_TEST_KEY", SECRET)
    project.pytester.makepyprojecttoml(
        '[tool.aitest]\nspecs = ["specs"]\n\n[tool.aitest.models.hosted]\nprovider = "openai"\n'
        f'base_url = "{llama_server}"\nmodel = "gemma-270m"\napi_key_env = "AITEST_TEST_KEY"\n'
    )
    project.module(
        "bot",
        "def answer(question, model):\n    return model.chat([{'role': 'user', 'content': question}], max_tokens=8)\n",
    )
    project.spec(
        "specs/bot.yaml",
        "feature: bot\nmodel: hosted\ntarget: bot:answer\nparams: {temperature: 0}\ncases:\n  - id: a\n    vars: {question: Hi there}\n",
    )
    result = project.run("--aitest-record=once")
    result.assert_outcomes(passed=1)
    text = (project.root / "specs/__recordings__/bot.yaml").read_text()
    assert "model: {provider: openai, model: gemma-270m}" in text or "provider: openai" in text
    assert SECRET not in text and "Authorization" not in text and "Bearer" not in text
    monkeypatch.delenv("AITEST_TEST_KEY")  # replay needs neither the key nor the server
    project.run().assert_outcomes(passed=1)


def test_concurrent_calls_to_the_real_server_give_the_sequential_outputs(project: Project, llama_server: str) -> None:
    """The openai provider with concurrency = 2 against llama_cpp.server on the built-in model: the same
    recorded outputs as one call at a time."""
    questions = ["Hi there", "What is 2 + 2?", "Name a colour.", "Say hello.", "Count to three.", "Is water wet?"]
    cases = "".join(f"  - id: q{i}\n    vars: {{q: {q!r}}}\n" for i, q in enumerate(questions))
    project.spec(
        "specs/bot.yaml",
        "feature: bot\nmodel: hosted\nprompt: 'Q: {{ q }}\\nA:'\nparams: {temperature: 0, max_tokens: 12, seed: 7}\n"
        "cases:\n" + cases,
    )
    outputs = {}
    for concurrency in (1, 2):
        project.pytester.makepyprojecttoml(
            '[tool.aitest]\nspecs = ["specs"]\n\n[tool.aitest.models.hosted]\nprovider = "openai"\n'
            f'base_url = "{llama_server}"\nmodel = "gemma-270m"\nconcurrency = {concurrency}\ntimeout = 120\n'
        )
        report = project.root / f"report{concurrency}.json"
        result = project.run("--aitest-record=off", f"--aitest-report={report}")
        result.assert_outcomes(passed=len(questions))
        cases_out = json.loads(report.read_text())["cases"]
        outputs[concurrency] = {c["id"]: [r["output"] for r in c["runs"]] for c in cases_out}
        if concurrency == 2:
            result.stdout.fnmatch_lines(["*6/6 model calls sent ahead for 'hosted' (2 at once)*"])
    assert outputs[2] == outputs[1]
