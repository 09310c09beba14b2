"""Checks of how the model answered: is_refusal, finish_reason, max_output_tokens."""

from __future__ import annotations

import re
from typing import Any

from aitest.checks.base import Check, CheckContext, CheckResult, ValueCheck, as_text, show, verdict, within
from aitest.checks.registry import register

# English phrases with which models decline a request, matched case-insensitively anywhere in the output (with
# typographic apostrophes read as plain ones). Kept short and specific, so that an answer which merely mentions
# an inability ("I can't recommend this enough") is not taken for a refusal.
REFUSAL_PHRASES = (
    r"i(?:'m| am) sorry,? but",
    r"i apologi[sz]e,? but",
    r"my apologies,? but",
    r"i (?:cannot|can't|can not|won't|will not|am unable to|'m unable to|am not able to|'m not able to) "
    r"(?:help|assist|provide|comply|fulfil|fulfill|do that|do this|create|generate|share|support|answer|engage)",
    r"i (?:must|have to|need to) (?:decline|refuse)",
    r"as an ai(?: language model| model| assistant)?,",
    r"as a language model,",
    r"(?:against|violates?) (?:my|the|our) (?:guidelines|policies|policy|programming|usage policies)",
    r"i(?:'m| am) not (?:comfortable|allowed|permitted) (?:to|with)",
    r"(?:that|this) would (?:not|n't) be (?:ethical|appropriate)",
)
_REFUSAL = re.compile("|".join(f"(?:{p})" for p in REFUSAL_PHRASES), re.IGNORECASE)
FINISH_REASONS = ("stop", "length", "tool_calls", "content_filter")


@register
class IsRefusal(ValueCheck):
    name = "is_refusal"
    example = "is_refusal"
    description = (
        "the output declines the request: empty, or holding one of aitest's English refusal phrases "
        "(I'm sorry, but...; I can't help...; as an AI, ...; against my guidelines; ...)"
    )
    aliases = ("is-refusal",)
    value_schema = {"enum": [None, True], "description": "no value (or true)"}

    def judge(self, output: Any) -> CheckResult:
        text = as_text(output).replace("\u2019", "'").strip()
        if not text:
            return CheckResult(True, "a refusal: the output is empty")
        match = _REFUSAL.search(text)
        if match:
            return CheckResult(True, f"a refusal: {show(match.group(0))}")
        return CheckResult(False, f"not a refusal: no refusal phrase in {show(text)}")


@register
class FinishReason(Check):
    name = "finish_reason"
    example = "finish_reason: stop"
    description = (
        "the model's last answer stopped for this reason: stop (it finished), length (it hit max_tokens), "
        "tool_calls, content_filter"
    )
    aliases = ("finish-reason",)
    value_schema = {"enum": list(FINISH_REASONS)}

    def run(self, ctx: CheckContext) -> CheckResult:
        reason = ctx.finish_reason
        if reason is None:
            return CheckResult(
                False,
                "the model's finish reason is not known: the recording predates finish reasons (re-record with "
                "--aitest-record=all), or the provider reports none",
            )
        return verdict(
            reason.lower() == self.value,
            f"finished with {reason}",
            f"expected finish reason {self.value}, got {reason}",
        )


@register
class MaxOutputTokens(Check):
    name = "max_output_tokens"
    example = "max_output_tokens: 120"
    description = "the model generated at most N tokens in the run (completion tokens, summed over its model calls)"
    value_schema = {"type": "integer", "minimum": 1}

    def run(self, ctx: CheckContext) -> CheckResult:
        usage = ctx.usage
        if usage is None:
            return CheckResult(False, "max_output_tokens needs the token counts of a run's model calls, and none are "
                               "known here (aitest.check sees no model call)")  # fmt: skip
        if usage.calls == 0:
            return within(0, "completion tokens", high=self.value, note=" (no model call)")
        if usage.completion_tokens is None:
            return CheckResult(False, f"the completion token counts are not known: the model calls of profile "
                               f"'{usage.profile}' reported none")  # fmt: skip
        calls = f" over {usage.calls} model calls" if usage.calls > 1 else ""
        tokens = usage.completion_tokens
        return within(tokens, "completion token" if tokens == 1 else "completion tokens", high=self.value, note=calls)
