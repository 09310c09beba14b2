"""not / any_of / all_of, promptfoo's names for checks, and `weight` with a case's `threshold`: real specs
run by pytest and `aitest validate`, as a user runs them."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import jsonschema
import pytest

from conftest import Project, literal_brackets

AITEST = str(Path(sys.executable).parent / "aitest")
REPLY = "Hello there, sorry for the delay. Your refund is on its way."


def echo_spec(project: Project, checks: str, *, case: str = "", text: str = REPLY) -> Path:
    """A spec of the echo target with one case `reply` whose output is ``text``, its checks ``checks``."""
    body = "\n".join("      " + line for line in checks.strip("\n").splitlines())
    return project.spec(
        "specs/reply.yaml",
        f"feature: reply\ntarget: feature:echo\ncases:\n  - id: reply\n    vars: {{text: {json.dumps(text)}}}\n"
        f"{case}    expect:\n{body}\n",
    )


def validate(project: Project) -> pytest.RunResult:
    return project.pytester.run(AITEST, "validate")


# -- promptfoo's names ----------------------------------------------------------------------------------------

PROMPTFOO = """
feature: support_reply
target: feature:echo
cases:
  - id: refund
    vars: {text: "Hello there, sorry for the delay. Your refund is on its way."}
    expect:
      - type: not-contains
        value: banana
      - type: icontains
        value: HELLO
      - type: contains-any
        value: [sorry, apologies]
      - type: not-icontains-all
        value: [BANANA, APPLE]
      - not-regex: "^Bye"
      - type: equals
        value: "Hello there, sorry for the delay. Your refund is on its way."
"""


def test_a_promptfoo_file_validates_with_hints_and_runs(project: Project) -> None:
    project.spec("specs/reply.yaml", PROMPTFOO)
    result = validate(project)
    assert result.ret == 0
    assert result.stdout.lines == [
        "specs/reply.yaml:7:15: warning: 'not-contains' is promptfoo's name: aitest calls it 'not_contains'",
        "specs/reply.yaml:9:15: warning: 'icontains' is promptfoo's name: aitest calls it 'contains' with "
        "ignore_case: true",
        "specs/reply.yaml:11:15: warning: 'contains-any' is promptfoo's name: aitest calls it 'contains_any'",
        "specs/reply.yaml:13:15: warning: 'not-icontains-all' is promptfoo's name: aitest calls it "
        "'not: {contains_all: ..., ignore_case: true}'",
        "specs/reply.yaml:15:9: warning: 'not-regex' is promptfoo's name: aitest calls it 'not_regex'",
    ]
    result.stderr.fnmatch_lines(["specs/reply.yaml: ok (support_reply, 1 case)", "1 spec file, 0 problems, 5 warnings"])
    project.run().assert_outcomes(passed=1)


def test_promptfoo_names_fail_with_aitest_messages(project: Project) -> None:
    echo_spec(project, "- type: not-contains\n  value: refund\n- type: istarts-with\n  value: BYE")
    result = project.run("-W", "ignore::aitest.errors.SpecWarning")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "  2 of 2 checks failed:",
            "  not_contains at specs/reply.yaml:7:9: 'refund' found in the output at character 40, but must not be",
            "  starts_with at specs/reply.yaml:9:9: does not start with 'BYE': *",
        ]
    )


# -- not, any_of, all_of --------------------------------------------------------------------------------------


def test_combinators_pass(project: Project) -> None:
    echo_spec(
        project,
        """
- not: {contains: banana}
- any_of:
    - starts_with: Hi
    - contains: refund
- all_of:
    - contains: Hello
    - not:
        any_of: [{regex: "^Bye"}, is_json]
""",
    )
    project.run().assert_outcomes(passed=1)


def test_combinators_fail_saying_what_the_inner_checks_found(project: Project) -> None:
    echo_spec(
        project,
        """
- not: {contains: refund}
- any_of:
    - starts_with: Hi
    - regex: "^Bye"
- all_of:
    - contains: Hello
    - max_length: 5
""",
    )
    result = project.run()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "  3 of 3 checks failed:",
            "  not at specs/reply.yaml:7:9: contains passed, but must not: contains 'refund'",
            "  any_of at specs/reply.yaml:8:9: none of 2 checks passed: starts_with: *; "
            "regex: no match for /^Bye/ in the output",
            "  all_of at specs/reply.yaml:11:9: 1 of 2 checks failed: max_length: 60 characters, more than the "
            "maximum 5",
            "FAILED specs/reply.yaml::reply - not: contains passed, but must not: contains*",
        ]
    )


def test_inner_checks_select_their_own_path(project: Project) -> None:
    project.spec(
        "specs/triage.yaml",
        """
feature: triage
target: feature:triage
output: json
cases:
  - id: charge
    vars: {ticket: charged twice}
    expect:
      - any_of:
          - equals: account
            path: category
          - equals: urgent
            path: priority
      - not:
          equals: urgent
          path: missing.field
      - any_of:
          - equals: billing
            path: nowhere
""",
    )
    result = project.run()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "  1 of 3 checks failed:",
            literal_brackets(
                "  any_of at specs/triage.yaml:16:9: none of 1 check passed: equals [path nowhere]: path 'nowhere' "
                "not found: *"
            ),
        ]
    )


@pytest.mark.parametrize(
    ("checks", "lines"),
    [
        (
            "- not:\n- any_of: []\n- all_of: {contains: x}",
            [
                "specs/reply.yaml:7:9: 'not' wraps no check",
                "  hint: write the check to negate under it, e.g. not: {contains: sorry}",
                "specs/reply.yaml:8:9: 'any_of' lists no checks",
                "  hint: list the checks under it, e.g. any_of: [{contains: sorry}, {contains: apolog}]",
                "specs/reply.yaml:9:17: 'all_of' must be a list, not a mapping",
            ],
        ),
        (
            "- any_of:\n    - contians: x\n- not: is_jsn",
            [
                "specs/reply.yaml:8:13: unknown check 'contians'; did you mean 'contains'?",
                "  hint: checks: *",
                "specs/reply.yaml:9:14: unknown check 'is_jsn'; did you mean 'is_json'?",
                "  hint: checks: *",
            ],
        ),
        (
            "- all_of:\n    - contains: x\n      weight: 2\n    - regex: '('",
            [
                "specs/reply.yaml:9:13: 'weight' of the check 'contains' inside a combinator means nothing",
                "  hint: put weight: on the not / any_of / all_of check itself, in the case's list",
            ],
        ),
        (
            "- not:\n    any_of:\n      - regex: '('",
            [
                "specs/reply.yaml:9:22: regex: the pattern '(' does not compile: *",
                "  hint: *",
            ],
        ),
        (
            "- not: {not: {not: {not: {not: {not: {not: {not: {not: {contains: x}}}}}}}}}",
            [
                "specs/reply.yaml:7:*: checks are nested more than 8 levels deep",
                "  hint: split the condition into separate checks of the list (they must all pass)",
            ],
        ),
    ],
    ids=["empty", "unknown", "weight_inside", "inner_meaning", "too_deep"],
)
def test_bad_combinators_are_errors_at_their_line(project: Project, checks: str, lines: list[str]) -> None:
    echo_spec(project, checks)
    result = validate(project)
    assert result.ret == 1
    result.stdout.fnmatch_lines(lines, consecutive=True)


def test_combinators_in_property_invariants(project: Project) -> None:
    project.module("shout", "def shout(text):\n    return text.upper() if 'x' in text else text\n")
    project.spec(
        "specs/shout.yaml",
        """
feature: shout
target: shout:shout
cases:
  - id: hello
    vars: {text: hello}
properties:
  - id: stays_calm
    vary: {text: [{append: " ok"}]}
    expect:
      - any_of: [{contains: ok}, {contains: OK}]
      - not: {regex: "^[A-Z ]+$"}
  - id: never_shouts
    vary: {text: [{append: " xx"}]}
    expect:
      - not: {regex: "^[A-Z ]+$"}
""",
    )
    result = project.run("-rf")
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(["*never_shouts*", "*not*regex passed, but must not*"])


def test_aitest_check_takes_combinators_and_promptfoo_names(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_reply="""
        from aitest import check

        def test_good():
            check("Sorry, no.", [{"not": {"contains": "yes"}}, {"any_of": [{"contains": "x"}, {"icontains": "SORRY"}]}])

        def test_bad():
            check("Sorry, no.", [{"type": "not-icontains", "value": "SORRY"}])
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        ["*AssertionError: 1 of 1 check failed:*", "*not at *test_reply.py:7:1: contains passed, but must not: *"]
    )


# -- weight and threshold -------------------------------------------------------------------------------------

WEIGHTED = """
- contains: refund
  weight: 3
- contains: banana
- starts_with: Hello
  weight: 0
"""


def test_a_case_with_a_threshold_passes_on_its_weighted_score(project: Project) -> None:
    echo_spec(project, WEIGHTED, case="    threshold: 0.75\n")
    result = project.run("--aitest-report=report.json")
    result.assert_outcomes(passed=1)
    report = json.loads((project.root / "report.json").read_text())
    from aitest.reports.run_report import checks_passed, report_schema

    jsonschema.validate(report, report_schema())
    [case] = report["cases"]
    assert case["extra"] == {"score": 0.75, "threshold": 0.75, "runs_passed": 1}
    assert case["summary"] == "weighted score 0.75 >= threshold 0.75"
    assert [c["passed"] for c in case["runs"][0]["checks"]] == [True, False, True]
    assert checks_passed(case)


def test_a_case_below_its_threshold_fails_showing_the_score(project: Project) -> None:
    echo_spec(project, WEIGHTED, case="    threshold: 0.8\n")
    result = project.run()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "reply::reply failed (specs/reply.yaml:4:9)",
            "  weighted score 0.75 < threshold 0.8",
            "  1 of 3 checks failed:",
            "  contains at specs/reply.yaml:10:9: 'banana' not found in the output",
            "FAILED specs/reply.yaml::reply - weighted score 0.75 < threshold 0.8",
        ]
    )


def test_scores_of_checks_count_as_they_are(project: Project) -> None:
    project.module("scored", "def half(output):\n    return {'passed': False, 'score': 0.5, 'message': 'half'}\n")
    echo_spec(project, "- python: scored:half\n- contains: refund", case="    threshold: 0.75\n")
    result = project.run("--aitest-report=report.json")
    result.assert_outcomes(passed=1)
    [case] = json.loads((project.root / "report.json").read_text())["cases"]
    assert case["extra"]["score"] == 0.75


def test_a_critical_check_fails_the_case_whatever_the_threshold(project: Project) -> None:
    echo_spec(
        project, "- contains: refund\n  weight: 9\n- contains: banana\n  critical: true", case="    threshold: 0.1\n"
    )
    result = project.run()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "  weighted score 0.90 >= threshold 0.1, but the critical check contains failed (a threshold does not "
            "excuse it)",
            "FAILED specs/reply.yaml::reply - contains: 'banana' not found in the output",
        ]
    )


def test_without_a_threshold_every_check_must_pass(project: Project) -> None:
    echo_spec(project, WEIGHTED)
    project.run().assert_outcomes(failed=1)


def test_threshold_out_of_range_and_negative_weight_are_errors(project: Project) -> None:
    echo_spec(project, "- contains: refund\n  weight: -1", case="    threshold: 1.5\n")
    result = validate(project)
    assert result.ret == 1
    result.stdout.fnmatch_lines(
        [
            "specs/reply.yaml:6:16: 'threshold' must be at most 1, not 1.5",
            "  hint: the weighted share of the case's checks that must pass, from 0 to 1, e.g. threshold: 0.75",
            "specs/reply.yaml:9:17: 'weight' must be at least 0, not -1",
            "  hint: a check's share of its case's score under threshold:, 0 or more (default 1; 0 counts nothing)",
        ]
    )


def test_the_editor_schema_knows_combinators_weight_and_threshold() -> None:
    from aitest.spec.schema import spec_schema

    schema = spec_schema()
    validator = jsonschema.Draft202012Validator(schema)
    good = {
        "feature": "f",
        "prompt": "x",
        "cases": [
            {
                "id": "a",
                "threshold": 0.5,
                "expect": [
                    {"not": {"contains": "x"}, "weight": 2},
                    {"any_of": [{"contains": "x"}, "is_json", {"all_of": [{"regex": "y"}]}]},
                    {"type": "not-icontains", "value": "x"},
                ],
            }
        ],
    }
    assert list(validator.iter_errors(good)) == []
    for bad in ({"not": {"contians": "x"}}, {"any_of": []}, {"contains": "x", "weight": -1}):
        assert list(validator.iter_errors({**good, "cases": [{"id": "a", "expect": [bad]}]}))
    assert list(validator.iter_errors({**good, "cases": [{"id": "a", "threshold": 2}]}))


def test_a_weight_without_any_threshold_is_a_warning(project: Project) -> None:
    echo_spec(project, "- contains: refund\n  weight: 2")
    result = validate(project)
    assert result.ret == 0
    assert result.stdout.lines == [
        "specs/reply.yaml:8:9: warning: 'weight' counts only in a case that sets threshold:, and no case here does",
        "  hint: add threshold: 0.75 (say) to the case, or remove weight:",
    ]


def test_promptfoos_levenshtein_threshold_is_the_largest_distance(project: Project) -> None:
    project.module("feature", "def echo(text):\n    return text\n")
    project.spec(
        "specs/lev.yaml",
        """
        feature: lev
        target: feature:echo
        cases:
          - id: near
            vars: {text: kitten}
            expect:
              - type: levenshtein
                value: sitting
                threshold: 3
          - id: far
            vars: {text: kitten}
            expect:
              - type: levenshtein
                value: sitting
                threshold: 2
        """,
    )
    result = project.run()
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*edit distance 3 to 'sitting', more than max_distance 2*"])


def test_a_weighted_case_counts_max_costs_verdict_not_its_dollars(project: Project) -> None:
    project.module("feature", "def echo(text):\n    return text\n")
    project.spec(
        "specs/w.yaml",
        """
        feature: w
        target: feature:echo
        cases:
          - id: cost
            vars: {text: we will refund you}
            threshold: 0.75
            expect: [{contains: refund}, {max_cost: 0.01}]
        """,
    )
    project.run().assert_outcomes(passed=1)


def test_a_levenshtein_cell_gives_the_largest_distance(project: Project) -> None:
    project.module("feature", "def echo(text):\n    return text\n")
    project.file("specs/rows.csv", "text,__expected\nkitten,levenshtein(3): sitting\nkitten,levenshtein(2): sitting\n")
    project.spec("specs/lev.yaml", "feature: lev\ntarget: feature:echo\ncases_from: rows.csv\n")
    project.run().assert_outcomes(passed=1, failed=1)


def test_promptfoos_latency_and_cost_take_their_threshold_as_the_limit(project: Project) -> None:
    project.module("feature", "def echo(text):\n    return text\n")
    project.spec(
        "specs/lim.yaml",
        """
        feature: lim
        target: feature:echo
        cases:
          - id: a
            vars: {text: hi}
            expect:
              - type: latency
                threshold: 5000
              - type: cost
                threshold: 0.01
        """,
    )
    result = project.pytester.run(str(Path(sys.executable).parent / "aitest"), "validate")
    assert result.ret == 0, result.stdout.str()
    result.stdout.fnmatch_lines(["*'latency' is promptfoo's name: aitest calls it 'max_latency_ms'",
                                 "*'cost' is promptfoo's name: aitest calls it 'max_cost'"])  # fmt: skip
    project.run().assert_outcomes(passed=1)
