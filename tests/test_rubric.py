"""`rubric:`: a model profile judges the output; its answer is a model call, recorded and replayed."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from aitest.checks.base import CaseInfo, CheckContext, CheckSetup
from aitest.checks.rubric import JUDGE_PARAMS, MAX_OUTPUT_CHARS, Rubric, judge_prompt, read_verdict
from aitest.errors import Location
from conftest import Project

AITEST = str(Path(sys.executable).parent / "aitest")
SUPPORT = """
def reply(message):
    if "refund" in message:
        return "Stop bothering us about refunds."
    return "Thank you for writing, we are glad to help!"
"""


def rubric_spec(question: str = "Is the reply polite?", extra: str = "", *, model: str = "") -> str:
    return (
        f"feature: support\n{model}target: support:reply\ncases:\n"
        "  - id: thanks\n    vars: {message: Can you help me with my order?}\n"
        "  - id: refund\n    vars: {message: Where is my refund?}\n"
        f"expect:\n  - rubric: {question}\n{extra}"
    )


@pytest.fixture
def support(project: Project) -> Project:
    project.module("support", SUPPORT)
    return project


@pytest.mark.parametrize(
    ("answer", "verdict"),
    [
        (" yes\n\nInput: What is", True),
        ("\n\n1. Yes", True),
        ("No, the reply does not apologise.", False),
        ("TRUE", True),
        ("fail.", False),
        (" no\n\nQuestion: yes", False),  # only the first line with text counts
        ("The answer", None),
        ("", None),
        ("yesterday", None),
    ],
)
def test_the_verdict_is_the_first_yes_or_no_of_the_first_line(answer: str, verdict: bool | None) -> None:
    assert read_verdict(answer) is verdict


def test_the_judge_prompt_holds_the_question_the_input_and_the_output() -> None:
    prompt = judge_prompt("Is it short?", {"message": "Hi", "lang": "en"}, "Hello!")
    assert prompt.endswith("Input: message: Hi; lang: en\nReply: Hello!\nQuestion: Is it short?\nAnswer:")
    assert judge_prompt("Q?", {"message": "Hi"}, "x").endswith("Input: Hi\nReply: x\nQuestion: Q?\nAnswer:")
    long = judge_prompt("Q?", {}, "x" * (MAX_OUTPUT_CHARS * 2))
    assert "Input: (none)" in long
    assert len(long) < MAX_OUTPUT_CHARS + 2000


@dataclass
class Answering:
    """Stands in for a judge's client to test our side (prompt, parsing, messages): it answers as told."""

    answer: str
    calls: list[tuple[str, Any, dict[str, Any]]] = field(default_factory=list)

    def complete(self, prompt: str, **params: Any) -> str:
        self.calls.append(("complete", prompt, params))
        return self.answer

    def chat(self, messages: list[dict[str, Any]], **params: Any) -> str:
        self.calls.append(("chat", messages, params))
        return self.answer


def judged(answer: str, options: dict[str, Any] | None = None) -> tuple[Any, Answering, list[str | None]]:
    client = Answering(answer)
    asked: list[str | None] = []

    def lookup(profile: str | None) -> tuple[str, Answering]:
        asked.append(profile)
        return profile or "gemma-270m", client

    check = Rubric("Is the reply  polite?", options or {}, CheckSetup(Path("."), Location("specs/s.yaml", 7, 12)))
    ctx = CheckContext("Thanks!", output="Thanks!", case=CaseInfo("s", "a", {"message": "Hi"}), models=lookup)
    return check.run(ctx), client, asked


def test_yes_passes_no_fails_and_anything_else_fails_showing_the_answer() -> None:
    passed, client, asked = judged(" Yes, it is.")
    assert (passed.passed, passed.score, passed.message) == (True, 1.0, "the judge (gemma-270m) answered yes")
    assert asked == [None]  # no judge: the spec's own model
    kind, prompt, params = client.calls[0]
    assert (kind, params) == ("complete", JUDGE_PARAMS)
    assert prompt.endswith("Input: Hi\nReply: Thanks!\nQuestion: Is the reply polite?\nAnswer:")
    failed, _, _ = judged("no")
    assert (failed.passed, failed.score) == (False, 0.0)
    assert failed.message == "the judge (gemma-270m) answered no to 'Is the reply polite?'"
    assert failed.detail == "judge's answer: 'no'"
    unclear, _, _ = judged("\nThe answer")
    assert not unclear.passed
    assert unclear.message == "the judge (gemma-270m) answered neither yes nor no: 'The answer'"
    echo, _, _ = judged("Answer each question about a reply with yes")  # Gemma 3 270M through chat
    assert not echo.passed
    assert echo.message == (
        "the judge (gemma-270m) repeated its prompt instead of answering: 'Answer each question about a reply with yes'"
    )


def test_judge_and_chat_options_choose_the_profile_and_the_api() -> None:
    result, client, asked = judged("yes", {"judge": "smollm2-135m", "chat": True})
    assert asked == ["smollm2-135m"]
    assert result.message == "the judge (smollm2-135m) answered yes"
    kind, messages, _ = client.calls[0]
    assert kind == "chat"
    assert messages[0]["role"] == "user" and messages[0]["content"].endswith("Question: Is the reply polite?\nAnswer:")


def test_an_unknown_judge_is_a_spec_error_at_the_check(support: Project) -> None:
    support.spec("specs/support.yaml", rubric_spec(extra="    judge: smollm2-13m\n"))
    result = support.pytester.run(AITEST, "validate")
    assert result.ret == 1
    result.stdout.fnmatch_lines(
        [
            "specs/support.yaml:9:5: unknown model profile 'smollm2-13m' (from judge:); did you mean 'smollm2-135m'?",
            "  hint: known profiles: gemma-270m, smollm2-135m; define others under [[]tool.aitest.models.NAME]",
        ]
    )


def test_a_judgment_not_recorded_is_a_miss_that_says_how_to_record_it(support: Project) -> None:
    support.spec("specs/support.yaml", rubric_spec(extra="    judge: smollm2-135m\n"))
    result = support.run("--aitest-report=report.json")
    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines(
        [
            "support::thanks failed (specs/support.yaml:4:9)",
            "  no recording for this feature: specs/__recordings__/support.yaml does not exist "
            "(model llama_cpp bundled:smollm2-135m)",
            "  hint: record it with --aitest-record=once (or AITEST_RECORD=once)",
        ]
    )
    report = yaml.safe_load((support.root / "report.json").read_text())
    assert {case["outcome"] for case in report["cases"]} == {"missing"}


def test_aitest_model_changes_the_default_judge_but_not_a_named_one(support: Project) -> None:
    support.spec("specs/support.yaml", rubric_spec())
    support.run().stdout.fnmatch_lines(["*(model llama_cpp bundled:gemma-3-270m)"])
    support.run("--aitest-model=smollm2-135m").stdout.fnmatch_lines(["*(model llama_cpp bundled:smollm2-135m)"])
    support.spec("specs/support.yaml", rubric_spec(extra="    judge: gemma-270m\n"))
    support.run("--aitest-model=smollm2-135m").stdout.fnmatch_lines(["*(model llama_cpp bundled:gemma-3-270m)"])


def test_rubric_in_aitest_check_without_a_model_is_one_line(project: Project) -> None:
    project.pytester.makepyfile(
        test_judged="""
        from aitest import check

        def test_polite():
            check("Thanks!", [{"rubric": "Is the reply polite?"}])
        """
    )
    result = project.run("test_judged.py")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "E   *aitest.errors.ModelError: rubric needs a model to judge: pass one to aitest.check as model=",
            "E     *hint: e.g. check(reply, [[]{'rubric': 'Is it polite?'}], model=aitest_model)",
        ]
    )
    assert "aitest/api.py" not in result.stdout.str()
    assert "aitest/checks/" not in result.stdout.str()


def test_rubric_in_aitest_check_judges_with_the_model_given(project: Project) -> None:
    project.pytester.makepyfile(
        test_judged="""
        from aitest import check

        class Judge:
            def complete(self, prompt, **params):
                assert "Input: Where is my refund?" in prompt
                return "no"

            def chat(self, messages, **params):
                raise AssertionError("not asked")

        def test_polite():
            check("Go away.", [{"rubric": "Is the reply polite?"}], vars={"message": "Where is my refund?"}, model=Judge())
        """
    )
    result = project.run("test_judged.py")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*rubric at *test_judged.py:12:1: the judge (the model passed to aitest.check) answered no to 'Is the reply polite?'"
        ]
    )


def test_a_real_judgment_is_recorded_and_replayed_without_llama_cpp(support: Project, smollm2: Path) -> None:
    support.spec("specs/support.yaml", rubric_spec(extra="    judge: smollm2-135m\n"))
    live = support.run("--aitest-record=once", "--aitest-report=live.json")
    recorded = yaml.safe_load((support.root / "specs/__recordings__/support.yaml").read_text())["entries"]
    assert len(recorded) == 2
    for entry in recorded:
        assert entry["model"]["model"] == "bundled:smollm2-135m"
        assert entry["request"]["params"] == JUDGE_PARAMS
        assert "Question: Is the reply polite?\nAnswer:" in entry["request"]["prompt"]
    verdicts = {
        ("thanks" if "Thank you" in e["request"]["prompt"] else "refund"): read_verdict(e["response"]) for e in recorded
    }
    live_outcomes = {c["id"]: c["outcome"] for c in yaml.safe_load((support.root / "live.json").read_text())["cases"]}
    expected = {case: "passed" if verdict else "failed" for case, verdict in verdicts.items()}
    assert live_outcomes == expected  # the verdict is the judge's answer, as recorded
    live.assert_outcomes(
        passed=sum(v == "passed" for v in expected.values()), failed=sum(v == "failed" for v in expected.values())
    )

    support.block_imports("llama_cpp")
    replay = support.pytester.runpytest_subprocess("-p", "no:cacheprovider", "--aitest-report=replay.json")
    replay_outcomes = {
        c["id"]: c["outcome"] for c in yaml.safe_load((support.root / "replay.json").read_text())["cases"]
    }
    assert replay_outcomes == expected
    replay.stdout.fnmatch_lines(["aitest recordings (none): 2 replayed, 0 recorded, 0 missed, 0 unused"])
    assert support.pytester.run(sys.executable, "-c", "import llama_cpp").ret != 0  # really blocked

    support.spec("specs/support.yaml", rubric_spec("Is the reply friendly?", "    judge: smollm2-135m\n"))
    miss = support.pytester.runpytest_subprocess("-p", "no:cacheprovider")
    miss.assert_outcomes(failed=2)
    miss.stdout.fnmatch_lines(
        ["*prompt differs:*", "*-Question: Is the reply polite?", "*+Question: Is the reply friendly?"]
    )
