"""Any OpenAI-compatible HTTP server (llama.cpp's server, vLLM, Ollama, hosted APIs), called through httpx."""

from __future__ import annotations

import os
import re
import time
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

from aitest.errors import Location, ModelError
from aitest.models.params import SAMPLING
from aitest.models.profile import MAX_CONCURRENCY
from aitest.models.providers.base import Completion, Provider
from aitest.models.providers.openai_wire import MalformedToolCall, read_completion
from aitest.models.providers.registry import register
from aitest.util.text import shown

if TYPE_CHECKING:
    import httpx

    from aitest.models.profile import Profile

MAX_DELAY = 8.0  # seconds: the cap on backoff and on a server's Retry-After
MAX_BODY = 64_000_000  # bytes of one answer
AUTO_FALLBACK = 4  # calls at once when `concurrency = "auto"` finds no llama.cpp slot count
_HEADER_SAFE = re.compile(r"[\x21-\x7e]+")  # what a Bearer token may hold: visible ASCII


def _import_httpx() -> ModuleType:
    try:
        import httpx
    except ImportError:
        raise ModelError("the openai provider needs httpx", hint="pip install 'aitest[openai]'") from None
    return httpx


def _response_format(schema: dict[str, Any], form: str) -> dict[str, Any]:
    """OpenAI's structured-output form, or llama.cpp's older `json_object` with a schema."""
    if form == "json_object":
        return {"type": "json_object", "schema": schema}
    return {"type": "json_schema", "json_schema": {"name": "output", "schema": schema, "strict": True}}


def _refuses_schema_form(body: dict[str, Any], response: httpx.Response) -> bool:
    """The server rejected OpenAI's json_schema form (llama-cpp-python's server says so with a 500)."""
    if body.get("response_format", {}).get("type") != "json_schema":
        return False
    return response.status_code in (400, 422) or (response.status_code == 500 and "response_format" in response.text)


@register
class OpenAIProvider(Provider):
    """Chat and completion calls to one server; one HTTP client, retries with backoff on 429, 5xx and timeouts."""

    name = "openai"
    options = {
        "base_url": "str",
        "model": "str",
        "api_key_env": "str",
        "timeout": "number",
        "retries": "int",
        "concurrency": "concurrency",  # N or "auto": not part of the identity (recordings do not depend on it)
    }
    required = ("base_url", "model")
    model_option = "model"

    def __init__(
        self,
        *,
        name: str,
        base_url: str,
        model: str,
        api_key_env: str | None = None,
        timeout: float = 60.0,
        retries: int = 3,
        backoff: float = 0.5,
        concurrency: int | str = 1,
        location: Location | None = None,
    ) -> None:
        self.profile_name, self.model, self.api_key_env, self.location = name, model, api_key_env, location
        self.base_url = base_url.rstrip("/")
        self.timeout, self.retries, self.backoff = timeout, max(0, retries), backoff
        self.calls_at_once = concurrency
        self._schema_form = "json_schema"  # becomes "json_object" once the server accepts only that
        self._client: httpx.Client = _import_httpx().Client(timeout=timeout)

    @classmethod
    def from_profile(cls, profile: Profile, rootdir: Path | None = None) -> OpenAIProvider:
        opts = profile.options
        return cls(
            name=profile.name,
            base_url=opts["base_url"],
            model=opts["model"],
            api_key_env=opts.get("api_key_env"),
            timeout=float(opts.get("timeout", 60.0)),
            retries=int(opts.get("retries", 3)),
            concurrency=opts.get("concurrency", 1),
            location=profile.location,
        )

    def close(self) -> None:
        self._client.close()

    def concurrency(self) -> tuple[int, str]:
        """The profile's `concurrency`; for "auto", a llama.cpp server's `total_slots` from `/props`, else 4."""
        if self.calls_at_once != "auto":
            return int(self.calls_at_once), ""
        url = re.sub(r"/v1$", "", self.base_url) + "/props"
        why = ""
        try:
            response = self._client.get(url, headers=self._headers(), timeout=min(self.timeout, 10.0))
            slots = response.json().get("total_slots") if response.status_code == 200 else None
            if isinstance(slots, int) and not isinstance(slots, bool) and slots >= 1:
                return min(slots, MAX_CONCURRENCY), ""
            why = f"HTTP {response.status_code}" if response.status_code != 200 else "no total_slots in its answer"
        except ModelError as error:
            why = error.message
        except Exception as exc:  # refused, timed out, not JSON: fall back, never fail the run for it
            why = type(exc).__name__
        note = (
            f'aitest: model profile {shown(self.profile_name)}: concurrency = "auto" found no slot count at {url} '
            f"({self._mask(why)[:120]}); sending {AUTO_FALLBACK} calls at once (set concurrency = N to choose)"
        )
        return AUTO_FALLBACK, note

    def complete(self, prompt: str, params: dict[str, Any]) -> Completion:
        return self._call("/completions", {"model": self.model, "prompt": prompt}, params)

    def chat(self, messages: list[dict[str, Any]], params: dict[str, Any]) -> Completion:
        return self._call("/chat/completions", {"model": self.model, "messages": messages}, params)

    def respond(
        self, messages: list[dict[str, Any]], tools: list[dict[str, Any]], tool_choice: Any, params: dict[str, Any]
    ) -> Completion:
        """A chat that offers ``tools``; ``tool_choice`` is sent as it is, and left out when None (or no tools)."""
        body: dict[str, Any] = {"model": self.model, "messages": messages}
        if tools:
            body["tools"] = tools
            if tool_choice is not None:
                body["tool_choice"] = tool_choice
        return self._call("/chat/completions", body, params)

    def _call(self, path: str, body: dict[str, Any], params: dict[str, Any]) -> Completion:
        try:
            return self._exchange(path, body, params)
        except ModelError:
            raise
        except Exception as exc:  # never a traceback: its frames hold the request's headers (the key)
            raise self._error(f"{self._at(self.base_url + path)} failed: {type(exc).__name__}", "") from None

    def _exchange(self, path: str, body: dict[str, Any], params: dict[str, Any]) -> Completion:
        url, headers = self.base_url + path, self._headers()
        body.update({k: params[k] for k in SAMPLING if params.get(k) is not None})
        schema = params.get("json_schema")
        if schema is not None:
            body["response_format"] = _response_format(schema, self._schema_form)
        response = self._send(url, body, headers)
        if schema is not None and _refuses_schema_form(body, response):
            body["response_format"] = _response_format(schema, "json_object")
            response = self._send(url, body, headers)
            if response.status_code < 400:
                self._schema_form = "json_object"
        self._raise_for_status(url, response)
        return self._completion(url, response)

    def _key(self) -> str | None:
        """The API key without the line break `echo` adds; None when the profile names no variable."""
        if not self.api_key_env:
            return None
        return (os.environ.get(self.api_key_env) or "").strip()

    def _headers(self) -> dict[str, str]:
        key = self._key()
        if key is None:
            return {}
        variable = f"environment variable {self.api_key_env} (api_key_env of model profile {shown(self.profile_name)})"
        if not key:
            raise ModelError(
                f"{variable} is not set",
                location=self.location,
                hint="export it, or remove api_key_env for a server without authentication",
            )
        if not _HEADER_SAFE.fullmatch(key):  # the value is never shown, not even in part
            raise ModelError(
                f"{variable} holds a character that an HTTP header cannot carry "
                "(a space, a line break, a control or non-ASCII character)",
                location=self.location,
                hint=f"set {self.api_key_env} to the key alone",
            )
        return {"Authorization": f"Bearer {key}"}

    def _send(self, url: str, body: dict[str, Any], headers: dict[str, str]) -> httpx.Response:
        """POST, retrying 429, 5xx and timeouts; returns the last response, raises when nothing answers."""
        import httpx

        attempt = 0
        while True:
            retry_after = None
            try:
                response = self._post(url, body, headers)
            except httpx.TimeoutException:
                if attempt >= self.retries:
                    message = f"{self._at(url)} did not answer within {self.timeout:g} s"
                    raise self._error(message, "raise `timeout` in the profile") from None
            except httpx.ConnectError as exc:
                refused = "refused" in str(exc).lower()
                reason = "connection refused; is the server running?" if refused else self._mask(str(exc))
                raise self._error(f"cannot connect to {self._at(self.base_url)}: {reason}", "check base_url") from None
            except httpx.HTTPError as exc:
                raise self._error(
                    f"{self._at(url)} failed: {type(exc).__name__}: {self._mask(str(exc))}", "is the server healthy?"
                ) from None
            else:
                status = response.status_code
                if (status != 429 and status < 500) or attempt >= self.retries or _refuses_schema_form(body, response):
                    return response
                retry_after = response.headers.get("retry-after")
            time.sleep(self._delay(attempt, retry_after))
            attempt += 1

    def _post(self, url: str, body: dict[str, Any], headers: dict[str, str]) -> httpx.Response:
        """POST and read the whole answer within `timeout` seconds: httpx's timeout bounds each read, so a
        server that drips a byte at a time would otherwise hold the run for as long as it likes."""
        import httpx

        deadline = time.monotonic() + self.timeout
        with self._client.stream("POST", url, json=body, headers=headers) as response:
            content = bytearray()
            for chunk in response.iter_bytes():
                content += chunk
                if time.monotonic() > deadline:
                    raise httpx.ReadTimeout("the whole answer took longer than the timeout", request=response.request)
                if len(content) > MAX_BODY:
                    raise self._error(f"{self._at(url)} answered more than {MAX_BODY // 1_000_000} MB", "")
        return httpx.Response(response.status_code, headers=response.headers, content=bytes(content))

    def _delay(self, attempt: int, retry_after: str | None) -> float:
        """The server's numeric Retry-After, else exponential backoff; both capped at MAX_DELAY."""
        try:
            seconds = float(retry_after) if retry_after is not None else -1.0
        except ValueError:  # an HTTP date
            seconds = -1.0
        return min(seconds if seconds >= 0 else self.backoff * 2**attempt, MAX_DELAY)

    def _raise_for_status(self, url: str, response: httpx.Response) -> None:
        status, at = response.status_code, self._at(url)
        if status in (401, 403) and self.api_key_env:
            raise self._error(f"{at} rejected the API key in {self.api_key_env} (HTTP {status})", "check that key")
        if status in (401, 403):
            raise self._error(f"{at} requires authentication (HTTP {status})", "set api_key_env in the profile")
        if status >= 400:
            tries = f" after {self.retries + 1} attempts" if status == 429 or status >= 500 else ""
            raise self._error(f"{at} answered HTTP {status}{tries}: {self._snippet(response.text)}", "")

    def _completion(self, url: str, response: httpx.Response) -> Completion:
        try:
            return read_completion(response.json(), self._mask)
        except MalformedToolCall as bad:
            raise self._error(f"{self._at(url)} returned {bad}", "the server returned malformed tool_calls") from None
        except (ValueError, KeyError, IndexError, TypeError, AttributeError):
            what = f"a response that is not an OpenAI-compatible completion: {self._snippet(response.text)}"
            raise self._error(f"{self._at(url)} returned {what}", "is base_url the server's /v1 root?") from None

    def _snippet(self, text: str) -> str:
        """The first 200 characters of a body on one line, with the API key masked should a server echo it."""
        return " ".join(self._mask(text).split())[:200]

    def _mask(self, text: str) -> str:
        """``text`` with the API key replaced by ***: a server that echoes it reaches no message or recording."""
        key = self._key()
        return text.replace(key, "***") if key else text

    def _at(self, url: str) -> str:
        return f"{shown(url, 120, quoted=False)} (model profile {shown(self.profile_name)})"

    def _error(self, message: str, hint: str) -> ModelError:
        return ModelError(message, location=self.location, hint=hint)
