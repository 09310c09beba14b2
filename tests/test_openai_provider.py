"""The openai provider against a real llama_cpp.server, and its retries and errors against a scripted server."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterator
from typing import Any

import pytest
from llama_server import FakeServer, completion_body, fake_http_server, free_port, llama_server

from aitest.errors import Location, ModelError
from aitest.models.profiles import Profile
from aitest.models.providers.base import Completion
from aitest.models.providers.openai import OpenAIProvider

SCHEMA = {"type": "object", "properties": {"answer": {"type": "string"}}, "required": ["answer"]}
KEY = "sk-test-4f9c1d2e8b7a"
FIXTURES = (llama_server, fake_http_server)  # pytest finds them here; tests take them by name
pytestmark = pytest.mark.needs("httpx")  # the openai provider's HTTP client (the openai extra)


def make(base_url: str, **options: Any) -> OpenAIProvider:
    """A provider built the way aitest builds it: from a profile named 'hosted'."""
    profile = Profile("hosted", "openai", {"base_url": base_url, "model": "gemma-270m", **options})
    provider = OpenAIProvider.from_profile(profile)
    provider.backoff = 0.01
    return provider


# --- the real llama-cpp-python server -------------------------------------------------------------


@pytest.fixture(scope="module")
def real(llama_server: str) -> Iterator[OpenAIProvider]:
    provider = make(llama_server, timeout=120)
    yield provider
    provider.close()


def test_complete_returns_text_and_token_counts(real: OpenAIProvider) -> None:
    result = real.complete("The capital of France is", {"temperature": 0, "max_tokens": 12, "seed": 7})
    assert result.text.strip()
    assert result.prompt_tokens and result.prompt_tokens > 0
    assert result.completion_tokens and 0 < result.completion_tokens <= 12


def test_chat_returns_text_and_token_counts(real: OpenAIProvider) -> None:
    messages = [{"role": "user", "content": "Name a colour."}]
    result = real.chat(messages, {"temperature": 0, "max_tokens": 12, "seed": 7})
    assert result.text.strip()
    assert result.prompt_tokens and result.completion_tokens


def test_sampling_params_reach_the_server(real: OpenAIProvider) -> None:
    # llama.cpp's server reuses its KV cache across requests, so greedy text may vary with history;
    # what we own is that the params are sent and honoured: max_tokens bounds the completion.
    result = real.complete("Once upon a time", {"temperature": 0, "max_tokens": 3, "seed": 42, "top_k": 1})
    assert result.completion_tokens is not None and 1 <= result.completion_tokens <= 3


def test_stop_sequence_ends_the_completion(real: OpenAIProvider) -> None:
    result = real.complete("Count: one, two, three, four,", {"temperature": 0, "max_tokens": 24, "stop": [","]})
    assert "," not in result.text


def test_json_schema_constrains_chat_output(real: OpenAIProvider) -> None:
    messages = [{"role": "user", "content": "What is the capital of France? Answer in JSON."}]
    for _ in range(2):  # the second call goes straight to the form the server accepted
        result = real.chat(messages, {"temperature": 0, "max_tokens": 48, "seed": 1, "json_schema": SCHEMA})
        assert isinstance(json.loads(result.text)["answer"], str)


# --- the request a server receives -------------------------------------------------------------------


def test_request_carries_model_messages_and_params(fake_http_server: FakeServer) -> None:
    provider = make(fake_http_server.base_url + "/")
    params = {"temperature": 0.2, "max_tokens": 5, "seed": 3, "stop": ["\n"], "top_p": 0.9, "top_k": 40}
    result = provider.chat([{"role": "user", "content": "hi"}], params)
    assert result == Completion("ok", 3, 1)
    (request,) = fake_http_server.requests
    assert request.path == "/v1/chat/completions"
    assert request.body == {"model": "gemma-270m", "messages": [{"role": "user", "content": "hi"}], **params}
    assert "authorization" not in {name.lower() for name in request.headers}


def test_complete_posts_prompt_and_reads_text(fake_http_server: FakeServer) -> None:
    fake_http_server.respond((200, completion_body("Paris", chat=False, usage=False), {}))
    result = make(fake_http_server.base_url).complete("Capital:", {"max_tokens": 4, "json_schema": None})
    assert result == Completion("Paris", None, None)
    (request,) = fake_http_server.requests
    assert (request.path, request.body) == (
        "/v1/completions",
        {"model": "gemma-270m", "prompt": "Capital:", "max_tokens": 4},
    )


def test_json_schema_is_sent_in_openai_form(fake_http_server: FakeServer) -> None:
    make(fake_http_server.base_url).chat([], {"json_schema": SCHEMA})
    expected = {"type": "json_schema", "json_schema": {"name": "output", "schema": SCHEMA, "strict": True}}
    assert fake_http_server.requests[0].body["response_format"] == expected


@pytest.mark.parametrize(
    "refusal",
    [
        (400, '{"error": "unsupported response_format"}', {}),
        (500, '{"error": {"message": "response_format.type"}}', {}),
    ],
)
def test_json_schema_falls_back_to_llama_cpp_form_once(fake_http_server: FakeServer, refusal: Any) -> None:
    fake_http_server.respond(refusal, (200, completion_body('{"answer": "x"}'), {}))
    provider = make(fake_http_server.base_url)
    assert provider.chat([], {"json_schema": SCHEMA}).text == '{"answer": "x"}'
    provider.chat([], {"json_schema": SCHEMA})
    forms = [r.body["response_format"] for r in fake_http_server.requests]
    llama_form = {"type": "json_object", "schema": SCHEMA}
    assert forms[1:] == [llama_form, llama_form]  # one refusal, then the remembered form
    assert forms[0]["type"] == "json_schema"


# --- retries -------------------------------------------------------------------------------------------


def test_500_then_200_succeeds_after_a_retry(fake_http_server: FakeServer) -> None:
    fake_http_server.respond((500, "busy", {}), (200, completion_body("fine"), {}))
    assert make(fake_http_server.base_url).chat([], {}).text == "fine"
    assert len(fake_http_server.requests) == 2


def test_500_forever_fails_after_retries(fake_http_server: FakeServer) -> None:
    fake_http_server.respond((503, "model is loading " + "x" * 500, {}))
    with pytest.raises(ModelError) as info:
        make(fake_http_server.base_url, retries=2).chat([], {})
    message = str(info.value)
    assert "HTTP 503 after 3 attempts: model is loading" in message
    assert "model profile 'hosted'" in message and f"{fake_http_server.base_url}/chat/completions" in message
    assert "x" * 201 not in message and "\n" not in info.value.message
    assert len(fake_http_server.requests) == 3


def test_429_honours_retry_after(fake_http_server: FakeServer) -> None:
    fake_http_server.respond((429, "slow down", {"Retry-After": "0"}), (200, completion_body("done"), {}))
    provider = make(fake_http_server.base_url)
    provider.backoff = 5.0  # Retry-After: 0 must win over the backoff
    start = time.monotonic()
    assert provider.chat([], {}).text == "done"
    assert time.monotonic() - start < 2
    assert len(fake_http_server.requests) == 2


def test_backoff_doubles_and_is_capped() -> None:
    provider = OpenAIProvider(name="p", base_url="http://127.0.0.1:1/v1", model="m", backoff=0.5)
    assert [provider._delay(n, None) for n in range(6)] == [0.5, 1, 2, 4, 8, 8]
    assert provider._delay(0, "30") == 8 and provider._delay(0, "Wed, 21 Oct 2015 07:28:00 GMT") == 0.5


def test_a_4xx_is_not_retried(fake_http_server: FakeServer) -> None:
    fake_http_server.respond((404, '{"error": "no such model"}', {}))
    with pytest.raises(ModelError, match=r"answered HTTP 404: \{\"error\": \"no such model\"\}"):
        make(fake_http_server.base_url).complete("x", {})
    assert len(fake_http_server.requests) == 1


# --- errors ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("body", ["<html>Bad gateway</html>", '{"object": "list", "data": []}', '{"choices": []}'])
def test_a_response_that_is_not_a_completion(fake_http_server: FakeServer, body: str) -> None:
    fake_http_server.respond((200, body, {}))
    with pytest.raises(ModelError, match="not an OpenAI-compatible completion") as info:
        make(fake_http_server.base_url).chat([], {})
    assert body[:20] in str(info.value) and "model profile 'hosted'" in str(info.value)


def test_a_slow_server_times_out(fake_http_server: FakeServer) -> None:
    fake_http_server.delay = 2.0
    with pytest.raises(ModelError, match=r"did not answer within 0.5 s") as info:
        make(fake_http_server.base_url, timeout=0.5, retries=1).chat([], {})
    assert "raise `timeout` in the profile" in str(info.value)
    assert len(fake_http_server.requests) == 2  # a timeout is retried


def test_nothing_listening_is_connection_refused() -> None:
    base_url = f"http://127.0.0.1:{free_port()}/v1"
    with pytest.raises(ModelError) as info:
        make(base_url).chat([], {})
    assert (
        info.value.message
        == f"cannot connect to {base_url} (model profile 'hosted'): connection refused; is the server running?"
    )


def test_errors_carry_the_profile_location() -> None:
    profile = Profile(
        "hosted",
        "openai",
        {"base_url": f"http://127.0.0.1:{free_port()}/v1", "model": "m"},
        Location("pyproject.toml", 12),
    )
    with pytest.raises(ModelError) as info:
        OpenAIProvider.from_profile(profile).complete("x", {})
    assert str(info.value).startswith("pyproject.toml:12: cannot connect")


# --- the API key ------------------------------------------------------------------------------------------


def test_api_key_is_sent_as_bearer(fake_http_server: FakeServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AITEST_TEST_KEY", KEY)
    make(fake_http_server.base_url, api_key_env="AITEST_TEST_KEY").chat([], {})
    headers = {k.lower(): v for k, v in fake_http_server.requests[0].headers.items()}
    assert headers["authorization"] == f"Bearer {KEY}"


def test_a_rejected_key_is_named_by_its_variable_never_shown(
    fake_http_server: FakeServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AITEST_TEST_KEY", KEY)
    fake_http_server.respond((401, json.dumps({"error": f"Incorrect API key provided: {KEY}"}), {}))
    with pytest.raises(ModelError) as info:
        make(fake_http_server.base_url, api_key_env="AITEST_TEST_KEY").chat([], {})
    assert "rejected the API key in AITEST_TEST_KEY (HTTP 401)" in str(info.value)
    assert KEY not in str(info.value) and KEY not in repr(info.value)


def test_the_key_appears_in_no_error(fake_http_server: FakeServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AITEST_TEST_KEY", KEY)
    fake_http_server.respond((500, f"auth backend failed for {KEY}", {}))
    with pytest.raises(ModelError) as info:
        make(fake_http_server.base_url, api_key_env="AITEST_TEST_KEY", retries=0).chat([], {})
    assert "HTTP 500" in str(info.value) and KEY not in str(info.value)
    fake_http_server.respond((200, f"not json {KEY}", {}))
    with pytest.raises(ModelError) as info:
        make(fake_http_server.base_url, api_key_env="AITEST_TEST_KEY").chat([], {})
    assert KEY not in str(info.value)


@pytest.mark.parametrize("value", [None, ""])
def test_an_unset_key_variable_is_named(
    fake_http_server: FakeServer, monkeypatch: pytest.MonkeyPatch, value: str | None
) -> None:
    if value is None:
        monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    else:
        monkeypatch.setenv("OPENAI_API_KEY", value)
    with pytest.raises(ModelError) as info:
        make(fake_http_server.base_url, api_key_env="OPENAI_API_KEY").chat([], {})
    assert (
        info.value.message == "environment variable OPENAI_API_KEY (api_key_env of model profile 'hosted') is not set"
    )
    assert info.value.hint == "export it, or remove api_key_env for a server without authentication"
    assert not fake_http_server.requests


def test_a_401_without_a_key_says_to_configure_one(fake_http_server: FakeServer) -> None:
    fake_http_server.respond((401, '{"error": "missing bearer token"}', {}))
    with pytest.raises(ModelError, match=r"requires authentication \(HTTP 401\)") as info:
        make(fake_http_server.base_url).chat([], {})
    assert info.value.hint == "set api_key_env in the profile"


def test_no_fingerprint_for_a_remote_model(fake_http_server: FakeServer) -> None:
    assert make(fake_http_server.base_url).fingerprint() is None


def test_missing_httpx_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "httpx", None)
    with pytest.raises(ModelError, match="the openai provider needs httpx") as info:
        make("http://127.0.0.1:1/v1")
    assert info.value.hint == "pip install 'aitest[openai]'"
