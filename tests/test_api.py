"""`from aitest import check` inside ordinary pytest tests."""

from __future__ import annotations

import pytest


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
