"""`rubric: QUESTION`: a model profile (the judge) answers a yes/no question about the output; yes passes.

The judge's call goes through the same model client as the feature's calls, so it is recorded in
the feature's recording file and replayed like any other: the verdict of a small model is then at
least reproducible, if not right (see docs/specs.md, "Custom and graded checks").
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from aitest.checks.base import Check, CheckContext, CheckResult, CheckSetup, as_text, show
from aitest.checks.registry import register
from aitest.util.text import cut

# greedy and short: the verdict is the first word; the rest of the answer is shown when it is unclear
JUDGE_PARAMS: dict[str, Any] = {"temperature": 0, "max_tokens": 8}
MAX_OUTPUT_CHARS = 2000  # of the output in the judge's prompt (small models have small contexts)
MAX_INPUT_CHARS = 1000
EXAMPLES = """Answer each question about a reply with yes or no.

Input: What colour is the sky?
Reply: The sky is blue.
Question: Does the reply mention a colour?
Answer: yes

Input: What do you like?
Reply: I like trains.
Question: Does the reply mention a colour?
Answer: no

Input: Where is Paris?
Reply: Paris is in France.
Question: Is the reply about Germany?
Answer: no

Input: Can you help me?
Reply: Thanks for asking, I will gladly help.
Question: Is the reply polite?
Answer: yes

"""
_WORDS = {"yes": True, "true": True, "pass": True, "no": False, "false": False, "fail": False}
_VERDICT = re.compile(r"\b(" + "|".join(_WORDS) + r")\b", re.IGNORECASE)


def judge_prompt(question: str, variables: Mapping[str, Any], output: str) -> str:
    """The judge's prompt: a few worked examples (they help small base models), then this case."""
    texts = {name: as_text(value) for name, value in variables.items()}
    given = next(iter(texts.values())) if len(texts) == 1 else "; ".join(f"{k}: {v}" for k, v in texts.items())
    return (
        f"{EXAMPLES}Input: {cut(given or '(none)', MAX_INPUT_CHARS)}\n"
        f"Reply: {cut(output, MAX_OUTPUT_CHARS)}\nQuestion: {question}\nAnswer:"
    )


def _first_line(answer: str) -> str:
    return next((line.strip() for line in answer.splitlines() if line.strip()), "")


def read_verdict(answer: str) -> bool | None:
    """yes/no (or true/false, pass/fail) as the first such word of the answer's first line; None if absent."""
    found = _VERDICT.search(_first_line(answer))
    return _WORDS[found.group(1).lower()] if found else None


def repeats_prompt(answer: str, prompt: str) -> bool:
    """The judge began to repeat its prompt ("Answer each question about a reply with yes"): no verdict,
    whatever words it copied."""
    first = _first_line(answer)
    return len(first.split()) > 1 and any(line.startswith(first) for line in prompt.splitlines())


@register
class Rubric(Check):
    name = "rubric"
    example = "rubric: Does the reply apologise for the delay?"
    description = "a model (the judge) answers a yes/no question about the output; yes passes. Recorded and replayed"
    value_schema = {"type": "string", "minLength": 1}
    options = {
        "judge": {
            "type": "string",
            "minLength": 1,
            "description": "the model profile that answers (default: the spec's model)",
        },
        "chat": {
            "type": "boolean",
            "description": "ask through the chat API (for chat-only servers) instead of a text completion",
        },
    }

    def __init__(self, value: Any, options: dict[str, Any], setup: CheckSetup) -> None:
        super().__init__(value, options, setup)
        self.question = " ".join(str(value).split())
        self.judge: str | None = options.get("judge")
        self.chat = bool(options.get("chat", False))

    def model_profiles(self) -> tuple[str | None, ...]:
        return (self.judge,)

    def run(self, ctx: CheckContext) -> CheckResult:
        profile, client = ctx.model(self.judge, who="rubric")
        prompt = judge_prompt(self.question, ctx.case.vars if ctx.case else {}, as_text(ctx.value))
        if self.chat:
            answer = client.chat([{"role": "user", "content": prompt}], **JUDGE_PARAMS)
        else:
            answer = client.complete(prompt, **JUDGE_PARAMS)
        verdict = read_verdict(answer)
        said = f"judge's answer: {show(answer.strip(), 200)}"
        if repeats_prompt(answer, prompt):
            return CheckResult(
                False, f"the judge ({profile}) repeated its prompt instead of answering: {show(answer.strip())}"
            )
        if verdict is None:
            return CheckResult(False, f"the judge ({profile}) answered neither yes nor no: {show(answer.strip())}")
        if verdict:
            return CheckResult(True, f"the judge ({profile}) answered yes", score=1.0, detail=said)
        return CheckResult(
            False, f"the judge ({profile}) answered no to {show(self.question, 120)}", score=0.0, detail=said
        )
