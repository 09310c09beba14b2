"""In-process llama.cpp through llama-cpp-python: the model is loaded once per process."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aitest.errors import ModelError
from aitest.models.params import SAMPLING
from aitest.models.providers.base import Completion, Provider
from aitest.models.providers.registry import register

if TYPE_CHECKING:
    from aitest.models.profile import Profile


@register
class LlamaCppProvider(Provider):
    """A GGUF model in this process; grammars for json_schema are compiled once per schema."""

    name = "llama_cpp"
    options = {"model_path": "str", "n_ctx": "int", "n_threads": "int", "seed": "int", "chat_format": "str"}
    required = ("model_path",)
    model_option = "model_path"

    def __init__(self, llama: Any, *, path: Path, sha256: str | None, profile: Profile) -> None:
        self.llama = llama
        self.path = path
        self.sha256 = sha256
        self.profile = profile
        self._grammars: dict[str, Any] = {}

    @classmethod
    def from_profile(cls, profile: Profile, rootdir: Path | None = None) -> LlamaCppProvider:
        path, sha256 = model_file(profile, rootdir or Path.cwd())
        try:
            from llama_cpp import Llama
        except ImportError:
            raise ModelError(
                f"model profile '{profile.name}' needs llama-cpp-python, which is not installed",
                location=profile.location,
                hint="pip install 'aitest[local]' (or replay recordings: --aitest-record=none needs no model)",
            ) from None
        opts = profile.options
        kwargs: dict[str, Any] = {"n_ctx": opts.get("n_ctx", 2048), "seed": opts.get("seed", 0), "verbose": False}
        if "n_threads" in opts:
            kwargs["n_threads"] = opts["n_threads"]
        if "chat_format" in opts:
            kwargs["chat_format"] = opts["chat_format"]
        try:
            llama = Llama(model_path=str(path), **kwargs)
        except (ValueError, RuntimeError) as exc:
            raise ModelError(f"llama.cpp could not load {path}: {exc}", location=profile.location) from None
        return cls(llama, path=path, sha256=sha256, profile=profile)

    @classmethod
    def size(cls, profile: Profile, rootdir: Path) -> int | None:
        configured = str(profile.options.get("model_path", ""))
        if configured.startswith("bundled:"):
            from aitest.models.bundled import bundled_size

            return bundled_size(configured.removeprefix("bundled:"))
        path = (rootdir / os.path.expanduser(configured)).resolve()
        return path.stat().st_size if path.is_file() else None

    def close(self) -> None:
        self.llama.close()

    def fingerprint(self) -> str | None:
        if self.sha256 is None:
            from aitest.models.gguf_hash import cached_sha256

            self.sha256 = cached_sha256(self.path)
        return self.sha256

    def _kwargs(self, params: dict[str, Any]) -> dict[str, Any]:
        kwargs = {k: params[k] for k in SAMPLING if k in params}
        schema = params.get("json_schema")
        if schema is not None:
            kwargs["grammar"] = self._grammar(schema)
        return kwargs

    def _grammar(self, schema: dict[str, Any]) -> Any:
        key = json.dumps(schema, sort_keys=True)
        if key not in self._grammars:
            from llama_cpp.llama_grammar import LlamaGrammar

            self._grammars[key] = LlamaGrammar.from_json_schema(key, verbose=False)
        return self._grammars[key]

    def complete(self, prompt: str, params: dict[str, Any]) -> Completion:
        self.llama.reset()  # no KV-cache reuse: an output must not depend on the previous prompt
        result = self.llama.create_completion(prompt, **self._kwargs(params))
        return _completion(result, result["choices"][0]["text"])

    def chat(self, messages: list[dict[str, Any]], params: dict[str, Any]) -> Completion:
        self.llama.reset()
        result = self.llama.create_chat_completion(messages=messages, **self._kwargs(params))
        return _completion(result, result["choices"][0]["message"]["content"] or "")


def _completion(result: dict[str, Any], text: str) -> Completion:
    usage = result.get("usage") or {}
    return Completion(text, usage.get("prompt_tokens"), usage.get("completion_tokens"))


def model_file(profile: Profile, rootdir: Path) -> tuple[Path, str | None]:
    """The GGUF path of a profile (bundled:NAME or a path relative to the project) and its known hash."""
    configured = str(profile.options["model_path"])
    if configured.startswith("bundled:"):
        from aitest.models.bundled import resolve_bundled

        path, sha256 = resolve_bundled(configured.removeprefix("bundled:"), profile.location)
        return path, sha256
    path = (rootdir / os.path.expanduser(configured)).resolve()
    if not path.is_file():
        raise ModelError(
            f"model file {configured} not found (model profile '{profile.name}', looked at {path})",
            location=profile.location,
            hint='fix model_path, or use model_path = "bundled:gemma-3-270m"',
        )
    return path, None
