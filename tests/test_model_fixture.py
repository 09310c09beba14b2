"""The `aitest_model` fixture: an ordinary test's model calls, recorded and replayed as a spec's are."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from llama_server import FakeServer, fake_http_server
from recorded import Call, write_recording

from aitest.fixture import recording_name
from conftest import SANDBOX, Project

FIXTURES = (fake_http_server,)  # pytest finds it here; the tests take it by name
REPLY = """
import json

def test_reply(aitest_model):
    reply = aitest_model.complete("Say hello to Ada.\\nGreeting:", max_tokens=8, temperature=0)
    with open("seen.jsonl", "a") as out:
        out.write(json.dumps(reply) + "\\n")
    assert reply
"""


def test_a_miss_fails_the_test_with_the_miss_message_and_none_of_our_frames(project: Project) -> None:
    project.file("tests/test_bot.py", REPLY)
    result = project.run("tests")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            ">       reply = aitest_model.complete(*",
            "E       aitest.errors.RecordingMiss: no recording for this test: "
            "specs/__recordings__/tests/test_bot/test_reply.yaml does not exist (model llama_cpp bundled:gemma-3-270m)",
            "E         hint: record it with --aitest-record=once (or AITEST_RECORD=once)",
            "tests/test_bot.py:4: RecordingMiss",
            "aitest recordings (none): 0 replayed, 0 recorded, 1 missed, 0 unused",
        ]
    )
    out = result.stdout.str()
    assert "aitest/fixture.py" not in out and "aitest/models/client.py" not in out
    assert "ModelRuntime" not in out  # the fixture's value reads short among the test's arguments


def test_a_test_that_catches_a_miss_and_goes_on_fails_all_the_same(project: Project) -> None:
    project.file(
        "tests/test_fallback.py",
        """
        def classify(text, model):
            try:
                return model.complete(f"Queue for: {text}").strip()
            except Exception:
                return "general"  # the app's fallback hides the miss

        def test_fallback(aitest_model):
            assert classify("charged twice", aitest_model) == "general"
        """,
    )
    result = project.run("tests")
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(
        [
            "*ERROR at teardown of test_fallback*",
            "the test went on after a model error it caught: no recording for this test: "
            "specs/__recordings__/tests/test_fallback/test_fallback.yaml does not exist (model *)",
            "  hint: record it with --aitest-record=once (or AITEST_RECORD=once)",
        ]
    )
    assert "Traceback" not in result.stdout.str()


def test_a_miss_against_a_recording_names_the_nearest_request(project: Project) -> None:
    project.file("tests/test_bot.py", REPLY)
    write_recording(project.root, "tests/test_bot/test_reply", [Call("Say hi to Ada.\nGreeting:", "Hi Ada")])
    result = project.run("tests")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "E       aitest.errors.RecordingMiss: no recorded response for this model call "
            "(specs/__recordings__/tests/test_bot/test_reply.yaml, 1 entries; model llama_cpp bundled:gemma-3-270m)",
            "E         nearest recorded request (run 1; run: 0 in the file):",
            "E           params differ: max_tokens: recorded (absent), now 8",
            "E           params differ: temperature: recorded (absent), now 0",
            "E           prompt differs:",
            "E             -Say hi to Ada.",
            "E             +Say hello to Ada.",
            "E         hint: record it with --aitest-record=new (or AITEST_RECORD=new)",
        ]
    )


def test_replay_gives_the_recorded_answer_and_repeated_calls_their_own(project: Project) -> None:
    project.file(
        "tests/test_bot.py",
        """
        def test_twice(aitest_model):
            first = aitest_model.complete("Pick a colour.", temperature=1.0)
            second = aitest_model.complete("Pick a colour.", temperature=1.0)
            assert (first, second) == ("red", "blue")
        """,
    )
    prompt, params = "Pick a colour.", {"temperature": 1.0}
    calls = [Call(prompt, "red", 0, params), Call(prompt, "blue", 1, params), Call("stale", "x")]
    write_recording(project.root, "tests/test_bot/test_twice", calls)
    result = project.run("tests")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["aitest recordings (none): 2 replayed, 0 recorded, 0 missed, 1 unused"])


PARALLEL = """
import pytest

@pytest.mark.parametrize("n", range(6))
def test_number(aitest_model, n):
    assert aitest_model.complete(f"Say {n}.") == f"{n}"
"""


def test_replay_under_xdist_counts_every_workers_calls(project: Project) -> None:
    project.file("tests/test_many.py", PARALLEL)
    for n in range(6):
        extra = [Call("never asked", "x")] if n == 0 else []
        write_recording(project.root, f"tests/test_many/test_number[{n}]", [Call(f"Say {n}.", f"{n}"), *extra])
    result = project.pytester.runpytest_subprocess("-p", "no:cacheprovider", "-n", "2", "tests")
    result.assert_outcomes(passed=6)
    result.stdout.fnmatch_lines(["aitest recordings (none): 6 replayed, 0 recorded, 0 missed, 1 unused"])


MARKED = """
import pytest

@pytest.mark.aitest_model("smollm2-135m")
def test_small(aitest_model):
    aitest_model.chat([{"role": "user", "content": "Hello"}])
"""


def test_a_marker_chooses_the_profile_and_aitest_model_overrides_it(project: Project) -> None:
    project.file("tests/test_marked.py", MARKED)
    project.run("tests").stdout.fnmatch_lines(["*does not exist (model llama_cpp bundled:smollm2-135m)"])
    overridden = project.run("tests", "--aitest-model=gemma-270m")
    overridden.stdout.fnmatch_lines(["*does not exist (model llama_cpp bundled:gemma-3-270m)"])


@pytest.mark.parametrize(
    ("marker", "message", "hint"),
    [
        (
            '"smollm2"',
            "tests/test_marked.py:3: @pytest.mark.aitest_model: unknown model profile 'smollm2'; "
            "did you mean 'smollm2-135m'?",
            "  hint: known profiles: gemma-270m, smollm2-135m; define others under [tool.aitest.models.NAME]",
        ),
        (
            "",
            "tests/test_marked.py:3: @pytest.mark.aitest_model takes one model profile name",
            '  hint: e.g. @pytest.mark.aitest_model("smollm2-135m")',
        ),
    ],
)
def test_a_bad_marker_is_a_setup_error_in_one_line(project: Project, marker: str, message: str, hint: str) -> None:
    project.file("tests/test_marked.py", MARKED.replace('"smollm2-135m"', marker))
    result = project.run("tests")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["_*ERROR at setup of test_small*_", message, hint])
    assert "Traceback" not in result.stdout.str() and "aitest/" not in result.stdout.str()


def test_aitest_model_flag_typo_gets_a_did_you_mean(project: Project) -> None:
    result = project.run("--aitest-model=gema-270m")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [
            "ERROR: --aitest-model: unknown model profile 'gema-270m'; did you mean 'gemma-270m'?",
            "  hint: known profiles: gemma-270m, smollm2-135m",
        ]
    )


@pytest.mark.parametrize(
    ("nodeid", "name"),
    [
        ("tests/test_bot.py::test_reply", "tests/test_bot/test_reply"),
        ("test_top.py::TestBot::test_reply[ada-1]", "test_top/TestBot.test_reply[ada-1]"),
        ("tests/test_bot.py::test_reply[Grace/Hopper]", "tests/test_bot/test_reply[Grace_Hopper]-7e25c90e"),
        ("tests/test_bot.py::test_reply[a b]", "tests/test_bot/test_reply[a_b]-916bce5f"),
    ],
)
def test_a_tests_recording_is_named_after_its_node_id(nodeid: str, name: str) -> None:
    assert recording_name(nodeid) == name


def test_two_tests_whose_names_clean_up_alike_never_share_a_recording() -> None:
    assert recording_name("t.py::test[a/b]") != recording_name("t.py::test[a:b]")
    assert len(recording_name("t.py::test[" + "x" * 500 + "]").split("/")[-1]) <= 110


HOSTED = """
import pytest

def test_a(aitest_model):
    assert aitest_model.complete("question a") == "ok"

def test_b(aitest_model):
    assert aitest_model.complete("question b") == "ok"

@pytest.mark.skipif("os.environ.get('SKIP_C')")
def test_c(aitest_model):
    assert aitest_model.complete("question c") == "ok"
"""


def test_rewrite_prunes_only_the_recordings_of_tests_that_ran(
    project: Project, fake_http_server: FakeServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    project.pytester.makepyprojecttoml(
        '[tool.aitest]\nspecs = ["specs"]\ndefault_model = "hosted"\n\n[tool.aitest.models.hosted]\n'
        f'provider = "openai"\nbase_url = "{fake_http_server.base_url}"\nmodel = "m"\nretries = 0\n'
    )
    project.file("tests/test_hosted.py", HOSTED)
    project.run("tests", "--aitest-record=once").assert_outcomes(passed=3)
    folder = project.root / "specs/__recordings__/tests/test_hosted"
    before = {p.name: p.read_text() for p in folder.iterdir()}
    assert sorted(before) == ["test_a.yaml", "test_b.yaml", "test_c.yaml"]
    stale = yaml.safe_load(before["test_a.yaml"])["entries"][0]
    write_recording(project.root, "tests/test_hosted/test_a", [Call("old question a", "ok", model=stale["model"])])
    monkeypatch.setenv("SKIP_C", "1")
    result = project.run("tests", "--aitest-record=rewrite", "-k", "test_a or test_c")
    result.assert_outcomes(passed=1, skipped=1)
    result.stdout.fnmatch_lines(["aitest recordings (rewrite): 0 replayed, 1 recorded, 0 missed, 0 unused, 1 pruned"])
    prompts = [e["request"]["prompt"] for e in yaml.safe_load((folder / "test_a.yaml").read_text())["entries"]]
    assert prompts == ["question a"]
    assert (folder / "test_b.yaml").read_text() == before["test_b.yaml"]  # deselected: untouched
    assert (folder / "test_c.yaml").read_text() == before["test_c.yaml"]  # skipped: untouched


@pytest.mark.slow
def test_recorded_live_on_the_bundled_model_in_parallel_then_replayed_offline(project: Project, gemma: Path) -> None:
    project.file(
        "tests/test_live.py",
        """
        import json
        import pytest

        def keep(reply):
            with open("seen.jsonl", "a") as out:
                out.write(json.dumps(reply) + "\\n")

        @pytest.mark.parametrize("name", ["Ada", "Grace", "Linus"])
        def test_greet(aitest_model, name):
            keep(aitest_model.complete(f"Say hello to {name}.\\nGreeting:", max_tokens=6, temperature=0))

        def test_chat(aitest_model):
            keep(aitest_model.chat([{"role": "user", "content": "Name a colour."}], max_tokens=6, temperature=0))
        """,
    )
    live = project.pytester.runpytest_subprocess("-p", "no:cacheprovider", "-n", "2", "--aitest-record=once", "tests")
    live.assert_outcomes(passed=4)
    live.stdout.fnmatch_lines(["aitest recordings (once): 0 replayed, 4 recorded, 0 missed, 0 unused"])
    folder = project.root / "specs/__recordings__/tests/test_live"
    recorded = {}
    for path in folder.iterdir():
        for entry in yaml.safe_load(path.read_text())["entries"]:
            assert entry["model"] == {"provider": "llama_cpp", "model": "bundled:gemma-3-270m"}
            recorded[path.name] = entry["response"]
    assert sorted(recorded) == [
        "test_chat.yaml",
        "test_greet[Ada].yaml",
        "test_greet[Grace].yaml",
        "test_greet[Linus].yaml",
    ]
    (project.root / "seen.jsonl").unlink()
    (project.root / "sitecustomize.py").write_text(SANDBOX)  # no llama_cpp, no network
    replay = project.pytester.runpytest_subprocess("-p", "no:cacheprovider", "-p", "no:anyio", "-n", "2", "tests")
    replay.assert_outcomes(passed=4)
    replay.stdout.fnmatch_lines(["aitest recordings (none): 4 replayed, 0 recorded, 0 missed, 0 unused"])
    seen = [json.loads(line) for line in (project.root / "seen.jsonl").read_text().splitlines()]
    assert sorted(seen) == sorted(recorded.values())  # byte-identical to the recorded responses
