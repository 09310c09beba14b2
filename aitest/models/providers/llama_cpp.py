"""In-process llama.cpp through llama-cpp-python: the model is loaded once per process."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aitest.errors import ModelError
from aitest.models.params import SAMPLING
from aitest.models.providers import tool_prompt
from aitest.models.providers.base import Completion, Provider
from aitest.models.providers.registry import register
from aitest.util.text import shown

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
        # llama-cpp-python's gemma format drops a system turn: the tools then open the first user turn
        self._keeps_system = getattr(llama, "chat_format", None) not in _DROPS_SYSTEM

    @classmethod
    def from_profile(cls, profile: Profile, rootdir: Path | None = None) -> LlamaCppProvider:
        path, sha256 = model_file(profile, rootdir or Path.cwd())
        try:
            from llama_cpp import Llama
        except ImportError:
            raise ModelError(
                f"model profile {shown(profile.name)} needs llama-cpp-python, which is not installed",
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
        drops_system = not self._keeps_system and any(m.get("role") == "system" for m in messages)
        if drops_system or any(m.get("tool_calls") or m.get("role") == "tool" for m in messages):
            # earlier calls and their results as text turns, and a system turn the chat format would drop as the
            # opening of the first user turn: llama-cpp-python's formats would lose them
            result = self._chat_turns(messages, [], False, self._kwargs(params))
            return _completion(result, result["choices"][0]["message"]["content"] or "")
        self.llama.reset()
        result = self.llama.create_chat_completion(messages=messages, **self._kwargs(params))
        return _completion(result, result["choices"][0]["message"]["content"] or "")

    def respond(
        self, messages: list[dict[str, Any]], tools: list[dict[str, Any]], tool_choice: Any, params: dict[str, Any]
    ) -> Completion:
        """Tools as prompt text in the model's own chat template, the answer bound by a grammar to one valid
        call or text (see tool_prompt); never llama-cpp-python's tools= formats, which drop tool results."""
        functions = tool_prompt.offered_tools(tools, tool_choice)
        required = tool_prompt.must_call(tool_choice)
        kwargs = self._kwargs(params)
        first = None
        if functions and not required:
            # `call | text`, in two passes: grammar-bound sampling checks every token of the vocabulary at each
            # step (262k for Gemma), so a text answer is sampled free; one that starts a call (`{`, or a code
            # fence) is sampled again bound to a valid call
            first = self._chat_turns(messages, functions, required, kwargs)
            text = first["choices"][0]["message"]["content"] or ""
            if not tool_prompt.starts_call(text):
                return _completion(first, text)
        if functions:
            kwargs["grammar"] = self._tool_grammar(functions, required=True)
        result = self._chat_turns(messages, functions, required, kwargs)
        text = result["choices"][0]["message"]["content"] or ""
        call = tool_prompt.parse_call(text, functions) if functions else None
        done = _completion(result, "" if call else text)
        if first is not None:  # both passes' tokens were generated
            done = _plus(done, _completion(first, ""))
        if call is None:
            return done
        return Completion("", done.prompt_tokens, done.completion_tokens, (call,), "tool_calls")

    def _chat_turns(
        self, messages: list[dict[str, Any]], functions: list[dict[str, Any]], required: bool, kwargs: dict[str, Any]
    ) -> dict[str, Any]:
        """The chat completion of the rendered turns; a template that refuses a system turn gets it in the
        first user turn instead (and so does every later call)."""
        turns = tool_prompt.render(messages, functions, required=required, system_role=self._keeps_system)
        self.llama.reset()
        try:
            result: dict[str, Any] = self.llama.create_chat_completion(messages=turns, **kwargs)
            return result
        except ValueError as exc:  # a Jinja template's raise_exception("System role not supported")
            if turns[0]["role"] != "system" or "system" not in str(exc).lower():
                raise
        self._keeps_system = False
        return self._chat_turns(messages, functions, required, kwargs)

    def _tool_grammar(self, functions: list[dict[str, Any]], *, required: bool) -> Any:
        shape = [[f.get("name"), f.get("parameters")] for f in functions]
        key = "tools:" + json.dumps([shape, required], sort_keys=True)
        if key not in self._grammars:
            from llama_cpp.llama_grammar import LlamaGrammar

            text = tool_prompt.call_grammar(functions, required=required)
            if not self._parses(text):
                rejected = [f for f in functions if not self._parses(tool_prompt.call_grammar([f], required=True))]
                name = ", ".join(str(f.get("name")) for f in rejected or functions)
                raise ModelError(
                    f"tool '{name}': llama.cpp rejects the grammar made from its parameters schema",
                    hint="simplify the schema (types, enum, const, properties, items, anyOf, local $ref)",
                )
            self._grammars[key] = LlamaGrammar.from_string(text, verbose=False)
        return self._grammars[key]

    def _parses(self, grammar: str) -> bool:
        """Whether llama.cpp accepts a GBNF text: a grammar it rejects would crash the sampler later."""
        model = getattr(self.llama, "_model", None)
        if model is None:  # not a real Llama (tests): nothing to ask
            return True
        import llama_cpp

        sampler = llama_cpp.llama_sampler_init_grammar(model.vocab, grammar.encode("utf-8"), b"root")
        if not sampler:
            return False
        llama_cpp.llama_sampler_free(sampler)
        return True


_DROPS_SYSTEM = frozenset({"gemma", "mistral-instruct"})  # llama-cpp-python chat formats without a system turn


def _plus(done: Completion, earlier: Completion) -> Completion:
    """``done`` with the tokens of an earlier pass added."""

    def total(a: int | None, b: int | None) -> int | None:
        return None if a is None and b is None else (a or 0) + (b or 0)

    return Completion(
        done.text,
        total(done.prompt_tokens, earlier.prompt_tokens),
        total(done.completion_tokens, earlier.completion_tokens),
        done.tool_calls,
        done.finish_reason,
    )


def _completion(result: dict[str, Any], text: str) -> Completion:
    usage = result.get("usage") or {}
    finish = result["choices"][0].get("finish_reason")
    return Completion(text, usage.get("prompt_tokens"), usage.get("completion_tokens"), finish_reason=finish)


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
            f"model file {shown(configured, 120, quoted=False)} not found (model profile {shown(profile.name)}, "
            f"looked at {shown(str(path), 120, quoted=False)})",
            location=profile.location,
            hint='fix model_path, or use model_path = "bundled:gemma-3-270m"',
        )
    return path, None
