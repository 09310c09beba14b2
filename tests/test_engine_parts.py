"""The seams new work builds on: record-mode policies, checks with a context, self-describing providers, results."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from aitest.checks.base import Check, CheckContext, CheckResult, CheckSetup
from aitest.checks.path import parse_path
from aitest.config import Config
from aitest.errors import AitestError, ConfigError, Location
from aitest.models.providers import registry
from aitest.models.providers.base import Completion, Provider
from aitest.recordings.mode import RecordMode
from aitest.result import CaseResult, CheckVerdict, RunResult
from aitest.run import evaluate
from aitest.spec.model import Expectation

HERE = Location("specs/x.yaml", 3, 5)


@pytest.mark.parametrize(
    ("mode", "replays", "records_new_file", "records_existing", "writes", "prunes"),
    [
        ("none", (True, True), False, False, False, False),
        ("once", (False, True), True, False, True, False),
        ("new", (True, True), True, True, True, False),
        ("all", (False, False), True, True, True, False),
        ("rewrite", (False, False), True, True, True, True),
        ("off", (False, False), False, False, False, False),
    ],
)
def test_each_record_mode_carries_its_policy(
    mode: str,
    replays: tuple[bool, bool],
    records_new_file: bool,
    records_existing: bool,
    writes: bool,
    prunes: bool,
) -> None:
    policy = RecordMode.parse(mode)
    assert (policy.replays(file_existed=False), policy.replays(file_existed=True)) == replays
    if policy.uses_files:
        assert policy.records_misses(file_existed=False) is records_new_file
        assert policy.records_misses(file_existed=True) is records_existing
    assert policy.records is writes and policy.prunes is prunes
    assert policy.uses_files is (mode != "off")


def test_an_unknown_record_mode_names_its_source_and_the_modes() -> None:
    assert RecordMode.parse(None) is RecordMode.NONE
    with pytest.raises(AitestError, match=r"AITEST_RECORD='sometimes' is not a record mode; use one of none, once"):
        RecordMode.parse("sometimes", source="AITEST_RECORD")


class SlowerThanRunZero(Check):
    """A check the engine never heard of: it compares this run's latency and output with the others'."""

    name = "test_only"
    value_schema: dict[str, Any] = {}

    def run(self, ctx: CheckContext) -> CheckResult:
        seen = (
            f"value={ctx.value!r} output={ctx.output!r} runs={ctx.runs!r} latency={ctx.latency_ms} json={ctx.json()!r}"
        )
        return CheckResult(ctx.value == ctx.runs[0], seen, score=ctx.latency_ms / 100)


def test_a_new_check_gets_its_context_from_the_engine() -> None:
    check = SlowerThanRunZero(None, {}, CheckSetup(Path("."), HERE))
    whole = Expectation("test_only", check, None, HERE)
    field = Expectation("test_only", check, parse_path("a"), HERE)
    run = evaluate(
        '{"a": "x"}', [whole, field], output_kind="json", latency_ms=42.0, runs=('{"a": "x"}', '{"a": "y"}'), index=1
    )
    first, second = run.checks
    assert first.message == (
        "value={'a': 'x'} output='{\"a\": \"x\"}' runs=('{\"a\": \"x\"}', '{\"a\": \"y\"}') latency=42.0 json={'a': 'x'}"
    )
    assert second.message.startswith("value='x' ") and second.message.endswith("json='x'")  # a selected JSON string
    assert (first.score, second.path, run.index, run.latency_ms) == (0.42, "a", 1, 42.0)


class EchoProvider(Provider):
    """A provider described to the registry as the built-in ones are."""

    name = "echo"
    options = {"model": "str", "loud": "bool"}
    required = ("model",)
    model_option = "model"

    @classmethod
    def from_profile(cls, profile: Any, rootdir: Path | None = None) -> EchoProvider:
        return cls()

    def complete(self, prompt: str, params: dict[str, Any]) -> Completion:
        return Completion(prompt)

    def chat(self, messages: list[dict[str, Any]], params: dict[str, Any]) -> Completion:
        return Completion(str(messages[-1]["content"]))


def test_a_provider_describes_its_options_and_identity(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from aitest.models.profiles import all_profiles

    monkeypatch.setattr(registry, "_REGISTRY", dict(registry.provider_types()))
    registry.register(EchoProvider)
    ok = Config(tmp_path, models={"mine": {"provider": "echo", "model": "parrot", "loud": True}})
    profile = all_profiles(ok)["mine"]
    assert profile.identity() == {"provider": "echo", "model": "parrot"}
    assert registry.get_provider(profile, tmp_path).complete("hi", {}).text == "hi"
    typo = Config(tmp_path, models={"mine": {"provider": "echo", "model": "parrot", "lowd": True}})
    with pytest.raises(ConfigError, match="unknown option 'lowd'; did you mean 'loud'"):
        all_profiles(typo)
    with pytest.raises(ConfigError, match="'loud' must be true or false"):
        all_profiles(Config(tmp_path, models={"mine": {"provider": "echo", "model": "p", "loud": 1}}))
    with pytest.raises(ConfigError, match="provider must be one of llama_cpp, openai, recorded, echo"):
        all_profiles(Config(tmp_path, models={"mine": {"provider": "ecko"}}))


def test_a_case_result_round_trips_as_plain_data() -> None:
    verdict = CheckVerdict("similar", False, "similarity 0.5", HERE, path="reply", score=0.5, detail="d")
    run = RunResult(0, {"reply": "hi", "n": {1, 2}}, 12.5, (verdict,), "", 1, 10, 3)
    result = CaseResult(
        "f", "c", "failed", HERE, (run,), nodeid="specs/x.yaml::c", profile="p",
        model={"provider": "llama_cpp", "model": "m"}, reason="similar [path reply]: similarity 0.5",
        reason_location=HERE,
    )  # fmt: skip
    plain = result.to_dict()
    assert plain["runs"][0]["output"] == {"reply": "hi", "n": "{1, 2}"}  # not JSON: kept as its repr
    again = CaseResult.from_dict(plain)
    assert again.to_dict() == plain
    assert again.runs[0].checks[0] == verdict and again.reason_location == HERE
