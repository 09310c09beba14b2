"""Recording calls to an OpenAI-compatible server (the real llama_cpp.server on loopback)."""

from __future__ import annotations

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
