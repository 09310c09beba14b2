"""The target contract: vars as keyword arguments, the user's frames on error, clear model errors."""

from __future__ import annotations

from conftest import Project


def test_target_exception_shows_type_message_and_user_frames(project: Project) -> None:
    project.module("shaky", "def run(text):\n    return helper(text)\n\ndef helper(text):\n    raise KeyError(text)\n")
    project.spec("specs/s.yaml", "feature: s\ntarget: shaky:run\ncases:\n  - id: a\n    vars: {text: missing}\n")
    result = project.run()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "s::a failed (specs/s.yaml:4:9)",
            "  shaky:run raised KeyError: 'missing'",
            '*File "*shaky.py", line 2, in run',
            '*File "*shaky.py", line 5, in helper',
        ]
    )
    assert "aitest/run.py" not in result.stdout.str()


def test_non_string_output_is_checked_as_json(project: Project) -> None:
    project.module("calc", "def total(items):\n    return {'total': sum(items), 'items': items}\n")
    project.spec(
        "specs/c.yaml",
        "feature: calc\ntarget: calc:total\ncases:\n  - id: a\n    vars: {items: [1, 2]}\n"
        "    expect:\n      - equals: 3\n        path: total\n      - min_length: 2\n        path: items\n",
    )
    project.run().assert_outcomes(passed=1)


def test_target_with_a_model_parameter_gets_the_client(project: Project) -> None:
    project.module("smart", "def run(text, model):\n    return model.complete(text)\n")
    project.spec("specs/m.yaml", "feature: m\ntarget: smart:run\ncases:\n  - id: a\n    vars: {text: hi}\n")
    result = project.run()  # replay only, and nothing is recorded yet
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*no recording for this feature: specs/__recordings__/m.yaml does not exist*"])


def test_a_swallowed_model_error_still_fails_the_case(project: Project) -> None:
    project.module(
        "careless",
        "def run(text, model):\n    try:\n        return model.complete(text)\n    except Exception:\n        return 'fallback'\n",
    )
    project.spec(
        "specs/c.yaml",
        "feature: c\ntarget: careless:run\ncases:\n  - id: a\n    vars: {text: hi}\n    expect: [{equals: fallback}]\n",
    )
    result = project.run()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*no recording for this feature*"])


def test_missing_var_for_a_required_parameter(project: Project) -> None:
    project.spec("specs/v.yaml", "feature: v\ntarget: feature:echo\ncases:\n  - id: a\n")
    result = project.run()
    result.stdout.fnmatch_lines(["specs/v.yaml:4:5: vars lack 'text', required by feature:echo"])


def test_determinism_runs_and_agreement(project: Project) -> None:
    project.module(
        "flaky",
        "import itertools\n_n = itertools.count()\n\ndef run():\n    return f'answer {next(_n) % 2}'\n",
    )
    project.spec(
        "specs/d.yaml",
        "feature: d\ntarget: flaky:run\ndeterminism: {runs: 4, agree: exact}\ncases:\n"
        "  - id: agree\n    expect: [{contains: answer}]\n"
        "  - id: loose\n    determinism: {runs: 4, min_pass: 2}\n    expect: [{contains: answer 0}]\n",
    )
    result = project.run()
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        [
            "d::agree failed*",
            "  4/4 runs passed (need 4); outputs do not agree (exact): 2 distinct outputs in 4 runs",
            "  2 distinct outputs:",
            "    2x 'answer 0' (runs 1, 3)",
            "    2x 'answer 1' (runs 2, 4)",
        ]
    )


def test_bytes_and_values_json_cannot_hold_are_checked_as_text(project: Project) -> None:
    project.module(
        "odd",
        """
        import datetime

        def raw(n):
            return b"\\xff order " + str(n).encode()

        def when(n):
            return {"at": datetime.date(2026, 12, n), "n": n}
        """,
    )
    project.spec(
        "specs/odd.yaml",
        """
        feature: odd
        target: odd:raw
        cases:
          - id: bytes
            vars: {n: 7}
            expect: [{contains: order 7}, {contains: order 8}]
        """,
    )
    project.spec(
        "specs/when.yaml",
        """
        feature: when
        target: odd:when
        output: json
        cases:
          - id: date
            vars: {n: 6}
            expect: [{equals: "2026-12-06", path: at}, {equals: 7, path: n}]
        """,
    )
    for args in ((), ("-n", "2")):
        result = project.run("--tb=short", *args)
        result.assert_outcomes(failed=2)
        assert "INTERNALERROR" not in result.stdout.str()
        result.stdout.fnmatch_lines(["*contains at specs/odd.yaml:*: 'order 8' not found in the output"])
        result.stdout.fnmatch_lines(["*equals [[]path n] at specs/when.yaml:*: expected 7, got 6"])
