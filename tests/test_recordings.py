"""Record modes, replay and the miss message, through real pytest runs on the real Gemma 3 270M model."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from conftest import Project

pytest.importorskip("llama_cpp")

SPEC = """
feature: greet
prompt: "Write one short greeting for {{ name }}.\\nGreeting:"
params: {temperature: 0, max_tokens: 6, seed: 1}
cases:
  - id: ada
    vars: {name: Ada}
    expect: [{min_length: 1}]
  - id: bob
    vars: {name: Bob}
    expect: [{min_length: 1}]
"""
RECORDING = "specs/__recordings__/greet.yaml"


@pytest.fixture
def greet(project: Project, gemma: Path) -> Project:
    project.spec("specs/greet.yaml", SPEC)
    return project


def entries(project: Project) -> list[dict[str, object]]:
    return list(yaml.safe_load((project.root / RECORDING).read_text())["entries"])


def test_none_without_a_recording_fails_and_says_how_to_record(greet: Project) -> None:
    result = greet.run()
    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines(
        [
            "*no recording for this feature: specs/__recordings__/greet.yaml does not exist (model llama_cpp bundled:gemma-3-270m)",
            "*hint: record it with --aitest-record=once (or AITEST_RECORD=once)",
        ]
    )
    assert not (greet.root / RECORDING).exists()


def test_once_records_then_none_replays_the_same_outputs(greet: Project) -> None:
    result = greet.run("--aitest-record=once")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["aitest recordings (once): 0 replayed, 2 recorded, 0 missed, 0 unused"])
    recorded = entries(greet)
    assert [e["request"]["prompt"] for e in recorded] == [  # type: ignore[index]
        "Write one short greeting for Ada.\nGreeting:",
        "Write one short greeting for Bob.\nGreeting:",
    ]
    assert all(e["model"] == {"provider": "llama_cpp", "model": "bundled:gemma-3-270m"} for e in recorded)
    assert all(len(str(e["gguf_sha256"])) == 64 and e["latency_ms"] > 0 for e in recorded)  # type: ignore[operator]
    before = (greet.root / RECORDING).read_bytes()
    replay = greet.run()
    replay.assert_outcomes(passed=2)
    replay.stdout.fnmatch_lines(["aitest recordings (none): 2 replayed, 0 recorded, 0 missed, 0 unused"])
    assert (greet.root / RECORDING).read_bytes() == before


def test_once_does_not_add_to_an_existing_file(greet: Project) -> None:
    greet.run("--aitest-record=once", "-k", "ada").assert_outcomes(passed=1, deselected=1)
    result = greet.run("--aitest-record=once")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        ["*no recorded response for this model call*", "*hint: record it with --aitest-record=new*"]
    )
    assert len(entries(greet)) == 1


def test_new_records_only_misses(greet: Project) -> None:
    greet.run("--aitest-record=once", "-k", "ada")
    ada_before = entries(greet)[0]
    result = greet.run("--aitest-record=new")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["aitest recordings (new): 1 replayed, 1 recorded, 0 missed, 0 unused"])
    after = entries(greet)
    assert len(after) == 2 and after[0] == ada_before


def test_all_calls_everything_and_keeps_other_entries(greet: Project) -> None:
    greet.run("--aitest-record=once")
    result = greet.run("--aitest-record=all", "-k", "bob")
    result.assert_outcomes(passed=1, deselected=1)
    result.stdout.fnmatch_lines(["aitest recordings (all): 0 replayed, 1 recorded, 0 missed, 1 unused"])
    assert len(entries(greet)) == 2


def test_rewrite_keeps_exactly_this_runs_entries_and_is_stable(greet: Project) -> None:
    greet.run("--aitest-record=once")
    result = greet.run("--aitest-record=rewrite", "-k", "ada")
    result.stdout.fnmatch_lines(["aitest recordings (rewrite): 0 replayed, 1 recorded, 0 missed, 0 unused, 1 pruned"])
    assert [e["request"]["prompt"] for e in entries(greet)] == ["Write one short greeting for Ada.\nGreeting:"]  # type: ignore[index]
    first = (greet.root / RECORDING).read_text()
    greet.run("--aitest-record=rewrite", "-k", "ada")
    second = (greet.root / RECORDING).read_text()
    strip = re.compile(r"latency_ms: [\d.]+")
    assert strip.sub("", first) == strip.sub("", second)  # stable order and content; only timings move


def test_off_calls_live_and_writes_nothing(greet: Project) -> None:
    result = greet.run("--aitest-record=off")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["aitest: 2 live model calls (recordings off)"])
    assert not (greet.root / "specs/__recordings__").exists()


def test_env_var_sets_the_mode_and_a_bad_value_is_a_usage_error(
    greet: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AITEST_RECORD", "once")
    greet.run().assert_outcomes(passed=2)
    monkeypatch.setenv("AITEST_RECORD", "sometimes")
    result = greet.run()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        ["*AITEST_RECORD='sometimes' is not a record mode; use one of none, once, new, all, rewrite, off"]
    )


def test_miss_names_the_nearest_request_and_how_it_differs(greet: Project) -> None:
    greet.run("--aitest-record=once")
    spec = greet.root / "specs/greet.yaml"
    spec.write_text(
        spec.read_text().replace("one short greeting", "one warm greeting").replace("max_tokens: 6", "max_tokens: 7")
    )
    result = greet.run("-k", "ada")
    result.assert_outcomes(failed=1, deselected=1)
    result.stdout.fnmatch_lines(
        [
            "*no recorded response for this model call (specs/__recordings__/greet.yaml, 2 entries; model llama_cpp bundled:gemma-3-270m)",
            "*nearest recorded request (run 1; run: 0 in the file):",
            "*params differ: max_tokens: recorded 6, now 7",
            "*prompt differs:",
            "*-Write one short greeting for Ada.",
            "*+Write one warm greeting for Ada.",
            "*hint: record it with --aitest-record=new (or AITEST_RECORD=new)",
        ]
    )


def test_model_swap_misses_every_entry_of_the_other_model(greet: Project) -> None:
    from aitest.models.bundled import resolve_bundled

    greet.run("--aitest-record=once")
    gguf, _ = resolve_bundled("gemma-3-270m")
    greet.pytester.makepyprojecttoml(
        f'[tool.aitest]\nspecs = ["specs"]\n\n[tool.aitest.models.candidate]\nprovider = "llama_cpp"\nmodel_path = "{gguf}"\n'
    )
    result = greet.run("--aitest-model=candidate")
    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines(
        [
            f"*model differs: recorded llama_cpp bundled:gemma-3-270m, now llama_cpp {gguf}",
            "*(0 of 2 entries were recorded with*",
        ]
    )
    # the baseline's entries are another model's: not this run's to use, so not unused
    result.stdout.fnmatch_lines(["aitest recordings (none): 0 replayed, 0 recorded, 2 missed, 0 unused"])


def test_parallel_workers_lose_no_entry(project: Project, gemma: Path) -> None:
    cases = "\n".join(f"  - id: c{i}\n    vars: {{n: {i}}}\n    expect: [{{min_length: 1}}]" for i in range(8))
    project.spec(
        "specs/count.yaml",
        f'feature: count\nprompt: "Number {{{{ n }}}} in words:"\nparams: {{max_tokens: 4, temperature: 0}}\ncases:\n{cases}\n',
    )
    result = project.pytester.runpytest_subprocess("-n", "2", "--aitest-record=new", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=8)
    result.stdout.fnmatch_lines(["aitest recordings (new): 0 replayed, 8 recorded, 0 missed, 0 unused"])
    assert len(entries_of(project.root / "specs/__recordings__/count.yaml")) == 8
    replay = project.pytester.runpytest_subprocess("-n", "2", "-p", "no:cacheprovider")
    replay.stdout.fnmatch_lines(["aitest recordings (none): 8 replayed, 0 recorded, 0 missed, 0 unused"])


def entries_of(path: Path) -> list[object]:
    return list(yaml.safe_load(path.read_text())["entries"])


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda t: t[: len(t) // 2], "*specs/__recordings__/greet.yaml*: *recording*"),
        (
            lambda t: t.replace("version: 2", "version: 9"),
            "*specs/__recordings__/greet.yaml:3:10: recording format version 9 is newer than this aitest understands (2)*",
        ),
        (lambda t: t.replace("entries:", "entries: {", 1), "*specs/__recordings__/greet.yaml:*:*: corrupt recording*"),
    ],
    ids=["truncated", "newer_version", "corrupt"],
)
def test_damaged_recording_is_an_error_and_never_rewritten(greet: Project, damage: object, message: str) -> None:
    greet.run("--aitest-record=once")
    path = greet.root / RECORDING
    path.write_text(damage(path.read_text()))  # type: ignore[operator]
    damaged = path.read_bytes()
    result = greet.run("--aitest-record=new")
    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines([message])
    assert path.read_bytes() == damaged


def test_live_run_warns_when_the_model_file_behind_a_name_changed(greet: Project) -> None:
    greet.run("--aitest-record=once")
    path = greet.root / RECORDING
    path.write_text(re.sub(r"gguf_sha256: \w+", "gguf_sha256: " + "f" * 64, path.read_text()))
    result = greet.run("--aitest-record=all")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(
        [
            "aitest warning: specs/__recordings__/greet.yaml: the model file behind 'bundled:gemma-3-270m' has changed since it was recorded*"
        ]
    )


def test_gguf_hash_is_computed_once_per_file_version(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from aitest.models import gguf_hash

    monkeypatch.setenv("AITEST_MODEL_CACHE", str(tmp_path / "cache"))
    calls: list[Path] = []
    real = gguf_hash.sha256_of
    monkeypatch.setattr(gguf_hash, "sha256_of", lambda p: calls.append(p) or real(p))
    model = tmp_path / "m.gguf"
    model.write_bytes(b"weights v1")
    first = gguf_hash.cached_sha256(model)
    assert gguf_hash.cached_sha256(model) == first and len(calls) == 1
    model.write_bytes(b"weights version 2")
    assert gguf_hash.cached_sha256(model) != first and len(calls) == 2


def test_rewrite_never_prunes_a_feature_whose_model_calls_failed(greet: Project) -> None:
    greet.run("--aitest-record=once")
    greet.pytester.makepyprojecttoml(
        '[tool.aitest]\nspecs = ["specs"]\n\n[tool.aitest.models.gone]\nprovider = "llama_cpp"\nmodel_path = "gone.gguf"\n'
    )
    result = greet.run("--aitest-record=rewrite", "--aitest-model=gone")
    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines(["aitest warning: greet: not pruned, because some of its model calls failed"])
    assert len(entries(greet)) == 2


def test_rewrite_with_a_damaged_file_reports_it_and_leaves_it(greet: Project) -> None:
    greet.run("--aitest-record=once")
    path = greet.root / RECORDING
    path.write_text(path.read_text().replace("entries:", "entries: {", 1))
    damaged = path.read_bytes()
    result = greet.run("--aitest-record=rewrite")
    result.assert_outcomes(failed=2)
    assert "INTERNALERROR" not in result.stdout.str()
    assert path.read_bytes() == damaged


def test_latency_budget_live_and_replayed(greet: Project) -> None:
    spec = greet.root / "specs/greet.yaml"
    spec.write_text(spec.read_text().replace("cases:", "expect:\n  - max_latency_ms: 60000\ncases:", 1))
    live = greet.run("--aitest-record=once")
    live.assert_outcomes(passed=2)
    live.stdout.fnmatch_lines(["aitest latency greet: p50 * ms, p95 * ms (2 runs)"])
    path = greet.root / RECORDING
    path.write_text(re.sub(r"latency_ms: [\d.]+", "latency_ms: 75000.0", path.read_text(), count=1))
    replay = greet.run()
    replay.assert_outcomes(passed=1, failed=1)  # the recorded time counts when replayed
    replay.stdout.fnmatch_lines(["*max_latency_ms at specs/greet.yaml:5:5: took 75000 ms, over the budget of 60000 ms"])
    replay.stdout.fnmatch_lines(["aitest latency greet: p50 * ms, p95 75000 ms (2 runs)"])
    spec.write_text(spec.read_text().replace("max_latency_ms: 60000", "max_latency_ms: 0.001"))
    tight = greet.run("--aitest-record=off", "-k", "ada")
    tight.stdout.fnmatch_lines(["*max_latency_ms at specs/greet.yaml:5:5: took * ms, over the budget of 0.001 ms"])
