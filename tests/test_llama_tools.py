"""Tool calls in the llama.cpp provider: tools as prompt text in the model's own template, calls bound by a grammar."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from aitest.config import Config
from aitest.errors import ModelError
from aitest.models.profiles import all_profiles
from aitest.models.providers import registry, tool_prompt
from aitest.models.providers.base import Completion
from aitest.models.providers.llama_cpp import LlamaCppProvider
from aitest.models.response import ToolCall


def tool(name: str, description: str, properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
    parameters = {"type": "object", "properties": properties, "required": required}
    return {"type": "function", "function": {"name": name, "description": description, "parameters": parameters}}


# bounded strings: a 135M model may otherwise repeat digits in an id until max_tokens cuts the call
ORDER_ID = {"type": "string", "description": "the order number, like A123", "maxLength": 12}
LOOKUP = tool("lookup_order", "Find an order and its status.", {"order_id": ORDER_ID}, ["order_id"])
CANCEL = tool(
    "cancel_order",
    "Cancel an order.",
    {"order_id": ORDER_ID, "reason": {"type": "string", "enum": ["changed_mind", "late", "damaged"]}},
    ["order_id", "reason"],
)
TICKET = tool(
    "create_ticket",
    "Open a support ticket.",
    {"subject": {"type": "string", "maxLength": 40}, "priority": {"type": "string", "enum": ["low", "high"]}},
    ["subject", "priority"],
)
TOOLS = [LOOKUP, CANCEL, TICKET]
SCHEMAS = {t["function"]["name"]: t["function"]["parameters"] for t in TOOLS}

ASKS = [
    "Where is my order A123?",
    "Please cancel order B77, it arrived damaged.",
    "My laptop will not start. Open a ticket, it is urgent.",
    "What is the status of order 9001?",
    "Cancel order X5 please, I changed my mind.",
    "I want to report a billing problem, low priority.",
    "Has order C42 shipped yet?",
    "Order D8 is late, cancel it.",
    "The app crashes when I log in. Please file a high priority ticket.",
    "Check order 55-B for me.",
    "Stop order Z1, it is taking too long.",
    "Create a ticket: password reset email never arrives.",
]
TURNS = [
    {"role": "system", "content": "You help the customers of a shop."},
    {"role": "user", "content": "Where is order A123?"},
    {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {
                "id": "call_0",
                "type": "function",
                "function": {"name": "lookup_order", "arguments": '{"order_id":"A123"}'},
            }
        ],
    },
    {"role": "tool", "tool_call_id": "call_0", "content": "A123 shipped on 2024-05-02 by DHL"},
]


def roles(turns: list[dict[str, str]]) -> list[str]:
    return [t["role"] for t in turns]


# --- the prompt ---------------------------------------------------------------------------------------------


def test_the_system_turn_lists_each_tool_with_its_description_and_schema() -> None:
    turns = tool_prompt.render([{"role": "user", "content": "hi"}], tool_prompt.offered_tools(TOOLS, "auto"),
                               required=False)  # fmt: skip
    assert roles(turns) == ["system", "user"]
    system = turns[0]["content"]
    for t in TOOLS:
        assert f"- {t['function']['name']}: {t['function']['description']} Parameters: {{" in system
    assert '"enum":["changed_mind","late","damaged"]' in system  # compact JSON
    assert 'answer with only a JSON object {"name": "<tool name>", "arguments"' in system
    assert "Otherwise answer in plain text." in system


def test_calls_and_results_become_alternating_text_turns() -> None:
    follow_up = [*TURNS, {"role": "user", "content": "And when will it arrive?"}]
    turns = tool_prompt.render(follow_up, tool_prompt.offered_tools(TOOLS, None), required=False)
    assert roles(turns) == ["system", "user", "assistant", "user"]
    assert turns[0]["content"].startswith("You help the customers of a shop.\n\nTools:\n")
    assert turns[2]["content"] == '{"name": "lookup_order", "arguments": {"order_id": "A123"}}'
    assert turns[3]["content"] == (
        "Result of lookup_order (call_0): A123 shipped on 2024-05-02 by DHL\n\nAnd when will it arrive?"
    )


def test_a_conversation_that_opens_with_the_assistant_gets_a_user_turn_first() -> None:
    turns = tool_prompt.render([{"role": "assistant", "content": "Hello!"}, {"role": "user", "content": "hi"}], [],
                               required=False)  # fmt: skip
    assert roles(turns) == ["user", "assistant", "user"]
    assert turns[0]["content"] == tool_prompt.START


def test_without_a_system_role_the_tools_open_the_first_user_turn() -> None:
    turns = tool_prompt.render(TURNS, [LOOKUP["function"]], required=True, system_role=False)
    assert roles(turns) == ["user", "assistant", "user"]
    assert turns[0]["content"].startswith("You help the customers of a shop.\n\nTools:\n- lookup_order: ")
    assert turns[0]["content"].endswith("Where is order A123?")
    assert "Call one tool: answer with only a JSON object" in turns[0]["content"]


def test_tool_choice_picks_what_is_offered() -> None:
    assert tool_prompt.offered_tools(TOOLS, "none") == []
    assert tool_prompt.offered_tools(None, "auto") == []
    named = {"type": "function", "function": {"name": "cancel_order"}}
    assert tool_prompt.offered_tools(TOOLS, named) == [CANCEL["function"]]
    assert tool_prompt.must_call(named) and tool_prompt.must_call("required")
    assert not tool_prompt.must_call("auto") and not tool_prompt.must_call(None)
    with pytest.raises(ModelError, match="tool_choice names the tool 'refund', which is not among the tools"):
        tool_prompt.offered_tools(TOOLS, {"type": "function", "function": {"name": "refund"}})
    no_tools = tool_prompt.render(TURNS, [], required=False)
    assert "Tools:" not in no_tools[0]["content"] and "A123 shipped" in no_tools[-1]["content"]


def test_an_answer_is_a_call_only_when_it_is_one_complete_call_of_an_offered_tool() -> None:
    functions = [t["function"] for t in TOOLS]
    call = tool_prompt.parse_call(' {"name": "lookup_order", "arguments": {"order_id": "A1"}} ', functions)
    assert call == ToolCall("call_0", "lookup_order", {"order_id": "A1"})
    assert tool_prompt.parse_call('{"name": "lookup_order", "arguments": {"order_id": "A', functions) is None
    assert tool_prompt.parse_call('{"name": "refund", "arguments": {}}', functions) is None
    assert tool_prompt.parse_call("Your order shipped.", functions) is None


# --- the grammar --------------------------------------------------------------------------------------------

TYPICAL_SCHEMAS: dict[str, dict[str, Any]] = {
    "strings": {"type": "object", "properties": {"a": {"type": "string"}, "b": {"type": "string"}}, "required": ["a"]},
    "numbers": {
        "type": "object",
        "properties": {"n": {"type": "integer"}, "x": {"type": "number"}, "ok": {"type": "boolean"}},
        "required": ["n", "x", "ok"],
    },
    "enums": {"type": "object", "properties": {"level": {"enum": ["low", "high", 3]}}, "required": ["level"]},
    "nested": {
        "type": "object",
        "properties": {
            "customer": {
                "type": "object",
                "properties": {
                    "name": {"type": "string"},
                    "address": {
                        "type": "object",
                        "properties": {"city": {"type": "string"}, "zip": {"type": "string", "pattern": "^[0-9]{5}$"}},
                    },
                },
                "required": ["name"],
            }
        },
        "required": ["customer"],
    },
    "arrays": {
        "type": "object",
        "properties": {
            "tags": {"type": "array", "items": {"type": "string"}, "maxItems": 3},
            "lines": {"type": "array", "items": {"$ref": "#/$defs/Line"}, "minItems": 1},
        },
        "required": ["lines"],
        "$defs": {"Line": {"type": "object", "properties": {"sku": {"type": "string"}, "qty": {"type": "integer"}}}},
    },
    "optional_only": {
        "type": "object",
        "properties": {"note": {"type": ["string", "null"]}, "when": {"type": "string", "format": "date"}},
    },
    "no_parameters": {"type": "object", "properties": {}},
}


TYPICAL = [
    {"name": name, "description": f"uses {name}", "parameters": schema} for name, schema in TYPICAL_SCHEMAS.items()
]


def test_the_grammar_is_a_call_of_one_declared_tool_or_text_that_is_not_json() -> None:
    pytest.importorskip("llama_cpp")
    auto = tool_prompt.call_grammar([t["function"] for t in TOOLS], required=False)
    lines = auto.splitlines()
    assert lines[:3] == ["root ::= call | text", "call ::= call-0 | call-1 | call-2", r"text ::= [^{ \t\r\n] .*"]
    assert r'"\"lookup_order\""' in auto and r'"\"create_ticket\""' in auto
    assert r'"\"changed_mind\"" | "\"late\"" | "\"damaged\""' in auto
    required = tool_prompt.call_grammar([TICKET["function"]], required=True)
    assert required.startswith("root ::= call\ncall ::= call-0\n") and "text ::=" not in required.split("\n", 3)[3]


def test_two_tools_may_define_the_same_name_differently() -> None:
    pytest.importorskip("llama_cpp")
    a = {"name": "a", "parameters": {"$ref": "#/$defs/Item", "$defs": {"Item": {"enum": ["apple"]}}}}
    b = {"name": "b", "parameters": {"$ref": "#/$defs/Item", "$defs": {"Item": {"enum": ["bolt"]}}}}
    grammar = tool_prompt.call_grammar([a, b], required=True)
    assert r'call-0-Item ::= "\"apple\""' in grammar and r'call-1-Item ::= "\"bolt\""' in grammar


@pytest.mark.parametrize(
    ("parameters", "reason"),
    [
        ({"type": "object", "properties": {"when": {"type": "moment"}}}, "Unrecognized schema"),
        ({"type": "object", "properties": {"x": {"$ref": "other.json#/X"}}}, "Unsupported ref other.json#/X"),
    ],
)
def test_a_schema_the_converter_cannot_take_is_an_error_naming_the_tool(
    parameters: dict[str, Any], reason: str
) -> None:
    pytest.importorskip("llama_cpp")
    functions = [LOOKUP["function"], {"name": "book_slot", "parameters": parameters}]
    with pytest.raises(ModelError) as info:
        tool_prompt.call_grammar(functions, required=False)
    message = str(info.value).splitlines()[0]
    assert message.startswith("tool 'book_slot': its parameters schema cannot be turned into a llama.cpp grammar (")
    assert reason in message


# --- the provider, with a stand-in for llama.cpp --------------------------------------------------------------


class FakeLlama:
    """Answers every chat with ``answer``; keeps what it was sent."""

    def __init__(self, answer: str, finish: str = "stop", chat_format: str | None = None) -> None:
        self.answer, self.finish, self.chat_format = answer, finish, chat_format
        self.sent: list[dict[str, Any]] = []

    def reset(self) -> None:
        pass

    def create_chat_completion(self, **kwargs: Any) -> dict[str, Any]:
        self.sent.append(kwargs)
        choice = {"message": {"role": "assistant", "content": self.answer}, "finish_reason": self.finish}
        return {"choices": [choice], "usage": {"prompt_tokens": 50, "completion_tokens": 9}}


def fake_provider(llama: FakeLlama) -> LlamaCppProvider:
    return LlamaCppProvider(llama, path=Path("x.gguf"), sha256=None, profile=None)  # type: ignore[arg-type]


def test_respond_returns_a_call_with_its_arguments_and_the_tool_calls_finish() -> None:
    pytest.importorskip("llama_cpp")
    llama = FakeLlama('{"name": "cancel_order", "arguments": {"order_id": "B7", "reason": "late"}}')
    answer = fake_provider(llama).respond([{"role": "user", "content": "cancel B7"}], TOOLS, "required", {})
    assert answer == Completion("", 50, 9, (ToolCall("call_0", "cancel_order", {"order_id": "B7", "reason": "late"}),),
                                "tool_calls")  # fmt: skip
    assert llama.sent[0]["grammar"] is not None and "tools" not in llama.sent[0]
    assert roles(llama.sent[0]["messages"]) == ["system", "user"]


def test_respond_returns_text_and_a_call_cut_at_max_tokens_as_text_of_finish_length() -> None:
    pytest.importorskip("llama_cpp")
    text = fake_provider(FakeLlama("It shipped.")).respond([{"role": "user", "content": "?"}], TOOLS, None, {})
    assert (text.text, text.tool_calls, text.finish_reason) == ("It shipped.", (), "stop")
    cut = FakeLlama('{"name": "lookup_order", "arguments": {"order_id": "A12', "length")
    answer = fake_provider(cut).respond([{"role": "user", "content": "?"}], TOOLS, "required", {"max_tokens": 8})
    assert (answer.text, answer.tool_calls, answer.finish_reason) == (cut.answer, (), "length")
    assert cut.sent[0]["max_tokens"] == 8


def test_with_auto_a_text_answer_is_sampled_free_and_a_call_is_sampled_again_bound_to_the_grammar() -> None:
    pytest.importorskip("llama_cpp")
    text = FakeLlama("It shipped on Monday.")
    answer = fake_provider(text).respond([{"role": "user", "content": "?"}], TOOLS, "auto", {})
    assert answer.text == "It shipped on Monday." and len(text.sent) == 1 and "grammar" not in text.sent[0]
    for start in ('{"name": "lookup_order", "arguments": {"order_id": "A1"}}', '```json\n{"name": "lookup_order"'):
        call = FakeLlama(start)
        call.answer = start
        answer = fake_provider(call).respond([{"role": "user", "content": "?"}], TOOLS, None, {})
        assert len(call.sent) == 2 and "grammar" not in call.sent[0] and call.sent[1]["grammar"] is not None
        assert answer.prompt_tokens == 100 and answer.completion_tokens == 18  # both passes count


def test_tool_choice_none_is_a_plain_chat_that_still_shows_the_results() -> None:
    llama = FakeLlama('{"name": "lookup_order", "arguments": {"order_id": "A1"}}')
    answer = fake_provider(llama).respond(TURNS, TOOLS, "none", {})
    assert answer.tool_calls == () and answer.text == llama.answer
    assert "grammar" not in llama.sent[0] and roles(llama.sent[0]["messages"]) == [
        "system",
        "user",
        "assistant",
        "user",
    ]
    assert "Tools:" not in llama.sent[0]["messages"][0]["content"]


def test_a_format_that_drops_system_turns_gets_the_tools_in_the_user_turn() -> None:
    pytest.importorskip("llama_cpp")
    llama = FakeLlama("ok", chat_format="gemma")
    fake_provider(llama).respond(TURNS, TOOLS, "auto", {})
    assert roles(llama.sent[0]["messages"]) == ["user", "assistant", "user"]
    assert "Tools:\n- lookup_order: Find an order" in llama.sent[0]["messages"][0]["content"]


def test_a_template_that_refuses_a_system_turn_gets_it_in_the_user_turn() -> None:
    pytest.importorskip("llama_cpp")

    class NoSystem(FakeLlama):
        def create_chat_completion(self, **kwargs: Any) -> dict[str, Any]:
            if kwargs["messages"][0]["role"] == "system":
                raise ValueError("System role not supported")
            return super().create_chat_completion(**kwargs)

    llama = NoSystem("ok")
    provider = fake_provider(llama)
    provider.respond(TURNS, TOOLS, "auto", {})
    provider.respond(TURNS, TOOLS, "auto", {})
    assert [roles(sent["messages"])[0] for sent in llama.sent] == ["user", "user"]


# --- real models ---------------------------------------------------------------------------------------------

PARAMS = {"temperature": 0.7, "max_tokens": 128}  # room for the longest valid call of the tools below


def built_in(name: str, tmp_path: Path) -> LlamaCppProvider:
    """A built-in profile's provider, as a spec gets it (loaded once per session)."""
    provider = registry.get_provider(all_profiles(Config(tmp_path))[name], tmp_path)
    assert isinstance(provider, LlamaCppProvider)
    return provider


@pytest.fixture(params=["gemma-270m", "smollm2-135m"])
def real(request: pytest.FixtureRequest, gemma: Path, smollm2: Path, tmp_path: Path) -> LlamaCppProvider:
    """Each built-in model in turn (Gemma through llama-cpp-python's gemma format, SmolLM2 its GGUF template)."""
    return built_in(request.param, tmp_path)


def valid_call(answer: Completion, offered: list[dict[str, Any]]) -> bool:
    names = {t["function"]["name"] for t in offered}
    if answer.finish_reason != "tool_calls" or len(answer.tool_calls) != 1 or answer.text:
        return False
    call = answer.tool_calls[0]
    if call.name not in names:
        return False
    try:
        jsonschema.validate(call.arguments, SCHEMAS[call.name])
    except jsonschema.ValidationError:
        return False
    return True


def test_llama_cpp_compiles_the_grammar_of_typical_schemas(
    smollm2: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    provider = built_in("smollm2-135m", tmp_path)
    for function in TYPICAL:
        for required in (True, False):
            assert provider._parses(tool_prompt.call_grammar([function], required=required)), function["name"]
    assert provider._tool_grammar(TYPICAL, required=False) is provider._tool_grammar(TYPICAL, required=False)
    assert not provider._parses("root ::= call")  # an undefined rule: what llama.cpp rejects is seen
    broken = {"name": "broken", "parameters": {"type": "object", "properties": {}}}
    convert = tool_prompt.call_grammar
    monkeypatch.setattr(
        tool_prompt, "call_grammar", lambda fs, **kw: convert(fs, **kw).replace('"\\"broken\\""', "nowhere")
    )
    with pytest.raises(ModelError, match=r"^tool 'broken': llama\.cpp rejects the grammar made from its parameters"):
        provider._tool_grammar([TICKET["function"], broken], required=False)


def test_a_required_call_always_names_a_declared_tool_with_valid_arguments(real: LlamaCppProvider) -> None:
    provider, model = real, real.profile.name
    toolsets = [TOOLS, [CANCEL, TICKET]]
    started = time.perf_counter()
    answers = []
    for i, ask in enumerate(ASKS[:9]):  # 9 asks x 2 tool sets + 2 named calls: 20 calls per model
        for offered in toolsets:
            messages = [{"role": "user", "content": ask}]
            answer = provider.respond(messages, offered, "required", {**PARAMS, "seed": i})
            answers.append((offered, answer))
    named = {"type": "function", "function": {"name": "create_ticket"}}
    for ask in ASKS[:2]:
        answers.append(([TICKET], provider.respond([{"role": "user", "content": ask}], TOOLS, named, PARAMS)))
    invalid = [(a.text, a.tool_calls, a.finish_reason) for offered, a in answers if not valid_call(a, offered)]
    print(
        f"\n{model}: {len(answers) - len(invalid)}/{len(answers)} valid calls in {time.perf_counter() - started:.1f}s"
    )
    print("  tools called:", sorted({a.tool_calls[0].name for _, a in answers if a.tool_calls}))
    assert len(answers) >= 20 and invalid == []
    assert all(a.tool_calls[0].name == "create_ticket" for _, a in answers[-2:])


def test_a_tool_result_reaches_the_models_prompt(real: LlamaCppProvider, monkeypatch: pytest.MonkeyPatch) -> None:
    provider = real
    prompts: list[str] = []
    original = provider.llama.create_completion

    def spy(*args: Any, **kwargs: Any) -> Any:
        prompts.append(provider.llama.detokenize(kwargs["prompt"]).decode("utf-8", "replace"))
        return original(*args, **kwargs)

    monkeypatch.setattr(provider.llama, "create_completion", spy)
    answer = provider.respond(
        [*TURNS, {"role": "user", "content": "When did it ship?"}], TOOLS, "auto", {"max_tokens": 16}
    )
    assert prompts  # two when the free answer starts a call and is sampled again bound to the grammar
    assert "Result of lookup_order (call_0): A123 shipped on 2024-05-02 by DHL" in prompts[0]
    assert "Find an order and its status." in prompts[0] and "Cancel an order." in prompts[0]
    assert answer.text or answer.tool_calls


def test_with_auto_choice_the_answer_is_text_or_a_valid_call(real: LlamaCppProvider) -> None:
    provider, model = real, real.profile.name
    kinds = []
    for i, ask in enumerate([ASKS[0], ASKS[2], "Hi! Who are you?"]):
        answer = provider.respond(
            [{"role": "user", "content": ask}], TOOLS, "auto", {**PARAMS, "max_tokens": 32, "seed": i}
        )
        if answer.tool_calls:
            assert valid_call(answer, TOOLS), answer
            kinds.append("call")
        else:
            assert answer.text.strip() and not answer.text.lstrip().startswith("{")
            assert answer.finish_reason in ("stop", "length")
            kinds.append("text")
    print(f"\n{model} auto: {kinds}")


def test_a_chat_with_earlier_calls_and_results_but_no_tools_keeps_them_as_text_turns() -> None:
    pytest.importorskip("llama_cpp")
    llama = FakeLlama("It shipped.")
    fake_provider(llama).chat(TURNS, {})
    sent = llama.sent[0]["messages"]
    assert "grammar" not in llama.sent[0]
    assert any("Result of lookup_order (call_0)" in m["content"] for m in sent)  # the result reaches the model
