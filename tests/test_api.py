"""`from aitest import check` inside ordinary pytest tests."""

from __future__ import annotations

import shutil

import pytest

from conftest import Project, copy_examples


def test_check_passes_and_fails_with_the_spec_messages(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_reply="""
        from aitest import check

        def test_good():
            check('{"category": "billing"}', [{"equals": "billing", "path": "category"}], output_kind="json")

        def test_bad():
            check("We cannot help.", [{"contains": "refund"}, {"max_length": 5}, {"regex": "help"}])
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*AssertionError: 2 of 3 checks failed:*",
            "*contains at *test_reply.py:7:1: 'refund' not found in the output*",
            "*max_length at *test_reply.py:7:1: 15 characters, more than the maximum 5*",
            "*We cannot help.*",
        ]
    )
    assert "aitest/api.py" not in result.stdout.str()


def test_a_malformed_check_names_the_calling_line(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_bad_check="""
        from aitest import check

        def test_typo():
            check("x", [{"contians": "x"}])
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*test_bad_check.py:4:1: unknown check 'contians'; did you mean 'contains'?*"])
    assert "aitest/spec/" not in result.stdout.str()


def test_latency_budget_through_the_api(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_slow="""
        from aitest import check

        def test_slow():
            check("ok", [{"max_latency_ms": 100}], latency_ms=250)
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*max_latency_ms at *test_slow.py:4:1: took 250 ms, over the budget of 100 ms*"])


# -- a replay-only CI: no torch, no sentence-transformers, the committed embedding cache -------------------


def committed_texts(project: Project) -> list[str]:
    """The example texts whose embeddings the repository's committed cache holds (real MiniLM vectors)."""
    import hashlib
    import json

    import yaml

    cache = next((project.root / "specs/__recordings__/__embeddings__").glob("*.jsonl"))
    keys = {json.loads(line)["sha256"] for line in cache.read_text().splitlines() if line.strip()}
    spec = yaml.safe_load((project.root / "specs/customer_reply.yaml").read_text())
    recording = yaml.safe_load((project.root / "specs/__recordings__/customer_reply.yaml").read_text())
    candidates = [c["similar"] for case in spec["cases"] for c in case.get("expect", []) if "similar" in c]
    candidates += [t for e in recording["entries"] for t in (e["response"], e["response"].strip())]
    return [t for t in candidates if hashlib.sha256(t.encode()).hexdigest() in keys]


def test_check_similar_replays_from_the_committed_cache_without_torch(project: Project) -> None:
    copy_examples(project)
    texts = committed_texts(project)
    assert len(texts) >= 2
    project.pytester.makepyfile(
        test_ci=f"""
        from aitest import check

        def test_cached():
            check({texts[1]!r}, [{{"similar": {texts[0]!r}, "threshold": 0.99}}])

        def test_not_cached():
            check("A reply no cache has ever seen 5e1d.", [{{"similar": {texts[0]!r}}}])
        """
    )
    project.block_imports("torch", "sentence_transformers", "transformers")
    result = project.pytester.runpytest_subprocess("-p", "no:cacheprovider", "test_ci.py")
    result.assert_outcomes(failed=2)
    out = result.stdout.str()
    result.stdout.fnmatch_lines(
        [
            "E   *AssertionError: 1 of 1 check failed:",
            "E     *similar at *test_ci.py:4:1: similarity 0.* to the reference, below the threshold 0.99",
        ]
    )
    result.stdout.fnmatch_lines(
        [
            "E   *aitest.errors.ModelError: similarity checks need sentence-transformers, which is not installed",
            "E     *hint: pip install 'aitest[[]embeddings]' (or commit the embedding cache, see docs/specs.md)",
        ]
    )
    assert "aitest/embeddings.py" not in out and "aitest/api.py" not in out


def test_recording_puts_the_embeddings_of_aitest_check_in_the_committed_cache(project: Project, minilm: None) -> None:
    project.pytester.makepyfile(
        test_reply="""
        from aitest import check

        def test_reply():
            check("Your refund has been sent to your card.", [{"similar": "We refunded your card.", "threshold": 0.5}])
        """
    )
    committed = project.root / "specs/__recordings__/__embeddings__"
    project.run("test_reply.py").assert_outcomes(passed=1)
    assert not committed.exists()  # replay (the default) never writes the committed cache
    project.run("test_reply.py", "--aitest-record=new").assert_outcomes(passed=1)
    assert len(next(committed.glob("*.jsonl")).read_text().splitlines()) == 2
    shutil.rmtree(project.root / ".aitest_cache")
    project.block_imports("torch", "sentence_transformers", "transformers")
    project.pytester.runpytest_subprocess("-p", "no:cacheprovider", "test_reply.py").assert_outcomes(passed=1)
