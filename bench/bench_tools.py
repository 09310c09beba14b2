"""Tool-calling benchmarks, each a ratio against a baseline run in the same command.

    python bench/bench_tools.py [--replay-cases 1000] [--repeat 5] [--model-calls 10] [--skip-model]

(a) aitest's tool call on the in-process model (ModelClient.respond, live) against the bare
    llama-cpp-python call that aitest makes underneath (the same prompt, the same grammar), on the
    bundled Gemma 3 270M: the ratio aitest/bare is aitest's own cost (target <= 1.1).
(b) replay of 1,000 tool-calling cases (two recorded steps each: a call, then the reply; tool checks)
    against 1,000 plain prompt cases (one step; text checks), whole pytest processes (target <= 1.2).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from bench_engine import timed

PROVIDER = """
import json

from aitest.models.providers.base import Completion, Provider
from aitest.models.providers.registry import register
from aitest.models.response import ToolCall


@register
class Instant(Provider):
    name = "instant"
    options = {"model": "str"}
    required = ("model",)
    model_option = "model"

    @classmethod
    def from_profile(cls, profile, rootdir=None):
        return cls()

    def complete(self, prompt, params):
        return Completion("order " + prompt.rsplit(" ", 1)[-1] + " has shipped", 10, 4, finish_reason="stop")

    def chat(self, messages, params):
        return self.complete(messages[-1]["content"], params)

    def respond(self, messages, tools, tool_choice, params):
        if messages[-1]["role"] == "tool":
            return Completion("Your order has shipped: " + messages[-1]["content"], 20, 8, finish_reason="stop")
        n = messages[-1]["content"].rsplit(" ", 1)[-1]
        call = ToolCall("x", "lookup_order", {"order_id": n})
        return Completion("", 10, 6, (call,), "tool_calls")
"""
TOOLS = (
    "tools:\n  - {type: function, function: {name: lookup_order, description: Look up an order.,"
    " parameters: {type: object, properties: {order_id: {type: string}}, required: [order_id]}}}\n"
)


def make_project(root: Path, n: int) -> None:
    (root / "pyproject.toml").write_text(
        '[tool.aitest]\nspecs = ["specs"]\ndefault_model = "instant"\n\n'
        '[tool.aitest.models.instant]\nprovider = "instant"\nmodel = "i"\n'
    )
    (root / "conftest.py").write_text(PROVIDER)
    for kind in ("tools", "plain"):
        (root / kind).mkdir()
        (root / kind / "pyproject.toml").write_text(
            (root / "pyproject.toml").read_text().replace('specs = ["specs"]', 'specs = ["."]')
        )
        (root / kind / "conftest.py").write_text(PROVIDER)
    tool = ["feature: orders", TOOLS.rstrip(), "messages:", "  - user: 'Where is order {{ n }}'",
            "tool_results: {lookup_order: {status: shipped}}", "cases:"]  # fmt: skip
    plain = ["feature: plain", "prompt: 'Where is order {{ n }}'", "cases:"]
    for i in range(n):
        called = f"      - tool_called: lookup_order\n        args: {{order_id: '{i}'}}"
        tool += [f"  - id: c{i}", f"    vars: {{n: '{i}'}}", "    expect:", called, "      - contains: shipped"]
        plain += [f"  - id: c{i}", f"    vars: {{n: '{i}'}}", "    expect:",
                  f"      - contains: 'order {i}'", "      - contains: shipped", "      - regex: 'ha\\w+'"]  # fmt: skip
    (root / "tools" / "orders.yaml").write_text("\n".join(tool) + "\n")
    (root / "plain" / "plain.yaml").write_text("\n".join(plain) + "\n")


def replay(cases: int, repeat: int) -> None:
    common = ["-q", "-p", "no:cacheprovider", "-p", "no:hypothesispytest"]
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        make_project(root, cases)
        passed = f"{cases} passed"
        for kind in ("tools", "plain"):  # record once (not measured), then replay
            timed([*common, "--aitest-record=once"], root / kind, passed)
            timed(common, root / kind, passed)
        runs: dict[str, list[float]] = {"tools": [], "plain": []}
        for _ in range(repeat):  # interleaved, so drift hits both sides alike
            for kind in runs:
                runs[kind].append(timed(common, root / kind, passed))
    med = {k: statistics.median(v) for k, v in runs.items()}
    print(f"(b) replay of {cases} cases, median of {repeat} pytest processes:")
    print(f"  tool-calling cases (2 steps, tool_called + contains + valid_tool_calls): {med['tools']:.3f} s")
    print(f"  plain prompt cases (1 step, contains x2 + regex)                      : {med['plain']:.3f} s")
    print(f"  ratio tools/plain = {med['tools'] / med['plain']:.2f}  (target <= 1.2)")


def model(calls: int) -> None:
    from llama_cpp.llama_grammar import LlamaGrammar

    from aitest.models.bundled import resolve_bundled
    from aitest.models.client import ModelClient
    from aitest.models.profile import Profile
    from aitest.models.profiles import BUILTIN_PROFILES
    from aitest.models.providers.registry import get_provider
    from aitest.models.providers.tool_prompt import call_grammar, render
    from aitest.recordings.mode import RecordMode
    from aitest.stats import CallStats

    resolve_bundled("gemma-3-270m")
    options = {k: v for k, v in BUILTIN_PROFILES["gemma-270m"].items() if k != "provider"}
    profile = Profile("gemma-270m", "llama_cpp", options)
    root = Path.cwd()
    provider = get_provider(profile, root)
    parameters = {"type": "object", "properties": {"order_id": {"type": "string"}}, "required": ["order_id"]}
    function = {"name": "lookup_order", "description": "Look up an order by number.", "parameters": parameters}
    tools = [{"type": "function", "function": function}]
    params = {"temperature": 0, "max_tokens": 32, "seed": 7}
    questions = [[{"role": "user", "content": f"Where is my order {1000 + i}?"}] for i in range(calls)]
    llama = provider.llama  # type: ignore[attr-defined]
    functions = [t["function"] for t in tools]
    grammar = LlamaGrammar.from_string(call_grammar(functions, required=True), verbose=False)
    keeps_system = provider._keeps_system  # type: ignore[attr-defined]

    def bare() -> float:
        start = time.perf_counter()
        for messages in questions:
            llama.reset()
            turns = render(messages, functions, required=True, system_role=keeps_system)
            llama.create_chat_completion(messages=turns, grammar=grammar, **params)
        return time.perf_counter() - start

    def ours() -> float:
        start = time.perf_counter()
        for messages in questions:
            client = ModelClient(profile, RecordMode.OFF, None, CallStats(), root, dict(params))
            client.respond(messages, tools=tools, tool_choice="required")
        return time.perf_counter() - start

    ours(), bare()  # warm up (grammar caches, first-token costs)
    runs: dict[str, list[float]] = {"aitest": [], "bare": []}
    for _ in range(3):
        runs["aitest"].append(ours())
        runs["bare"].append(bare())
    med = {k: statistics.median(v) for k, v in runs.items()}
    print(f"(a) {calls} tool calls (tool_choice required) on the bundled Gemma 3 270M, median of 3 rounds:")
    print(f"  bare llama-cpp-python, same prompt and grammar: {med['bare']:.3f} s")
    print(f"  aitest ModelClient.respond (live)             : {med['aitest']:.3f} s")
    print(f"  ratio aitest/bare = {med['aitest'] / med['bare']:.3f}  (target <= 1.1)")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--replay-cases", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--model-calls", type=int, default=10)
    parser.add_argument("--skip-model", action="store_true", help="only (b): no llama-cpp-python needed")
    args = parser.parse_args()
    if not args.skip_model:
        model(args.model_calls)
    replay(args.replay_cases, args.repeat)


if __name__ == "__main__":
    main()
