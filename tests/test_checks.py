"""Each check passing and failing with the message a user reads, and `path` selection."""

from __future__ import annotations

import pytest

from conftest import Project, literal_brackets

# (check YAML, output returned by the target as a Python literal, expected failure line or None)
CASES = [
    ("equals: billing", "'  billing \\n'", None),
    ("equals: Billing\n        ignore_case: true", "'billing'", None),
    ("equals: billing", "'account'", "*equals at specs/c.yaml:6:9: expected 'billing', got 'account'*"),
    ("equals: 3", "3", None),
    ("equals: true", "1", "*expected true, got 1*"),
    ("contains: refund", "'we will refund you'", None),
    ("contains: REFUND\n        ignore_case: true", "'we will refund you'", None),
    ("contains: refund", "'no money back'", "*contains at specs/c.yaml:6:9: 'refund' not found in the output*"),
    ("not_contains: sorry", "'all good'", None),
    (
        "not_contains: sorry",
        "'so sorry'",
        "*not_contains at *: 'sorry' found in the output at character 4, but must not be*",
    ),
    ("contains_all: [a, b]", "'a and b'", None),
    ("contains_all: [apple, pear, kiwi]", "'apple'", "*contains_all at *: missing 2 of 3: 'pear', 'kiwi'*"),
    ("contains_any: [x, an]", "'banana'", None),
    ("contains_any: [x, y]", "'banana'", "*contains_any at *: none of 'x', 'y' found in the output*"),
    ("regex: '^\\d{3}-\\d{4}$'", "'555-1234'", None),
    ("regex: '^\\d+$'", "'abc'", "*regex at *: no match for /^\\d+$/ in the output*"),
    ("not_regex: '\\d'", "'abc'", None),
    ("not_regex: '\\d+'", "'order 42'", "*not_regex at *: /\\d+/ matched '42' at character 7, but must not*"),
    ("one_of: [high, urgent]", "'urgent'", None),
    ("one_of: [high, urgent]", "'low'", "*one_of at *: got 'low', expected one of ['high', 'urgent']*"),
    ("min_length: 3", "'abcd'", None),
    ("min_length: 5", "'abc'", "*min_length at *: 3 characters, fewer than the minimum 5*"),
    ("max_length: 3", "'abc'", None),
    ("max_length: 2", "[1, 2, 3]", "*max_length at *: 3 items, more than the maximum 2*"),
    ("schema: {type: object, required: [a]}", "{'a': 1}", None),
    (
        "schema: {type: object, properties: {a: {type: string}}}",
        "{'a': 1}",
        "*schema at *: at /a: 1 is not of type 'string'*",
    ),
    (
        "schema: {properties: {e: {format: email}}}",
        "{'e': 'not-an-email'}",
        "*schema at *: at /e: 'not-an-email' is not a 'email'*",
    ),
    (
        "schema: {properties: {d: {format: date-time}}}",
        "{'d': 'yesterday'}",
        "*at /d: 'yesterday' is not a 'date-time'*",
    ),
    ("schema: {type: object}", "'plain words'", "*'schema' needs JSON output, but the output is not JSON*"),
]


@pytest.mark.parametrize(("check", "output", "failure"), CASES)
def test_check(project: Project, check: str, output: str, failure: str | None) -> None:
    project.module("out", f"def produce():\n    return {output}\n")
    project.spec(
        "specs/c.yaml", f"feature: c\ntarget: out:produce\ncases:\n  - id: one\n    expect:\n      - {check}\n"
    )
    result = project.run()
    if failure is None:
        result.assert_outcomes(passed=1)
    else:
        result.assert_outcomes(failed=1)
        result.stdout.fnmatch_lines([literal_brackets(failure), "*output:*"])


def test_schema_file_with_local_ref(project: Project) -> None:
    project.file("specs/schemas/item.json", '{"type": "object", "required": ["sku"]}')
    project.file(
        "specs/schemas/order.json",
        '{"type": "object", "properties": {"items": {"type": "array", "items": {"$ref": "item.json"}}}}',
    )
    project.spec(
        "specs/order.yaml",
        """
        feature: order
        target: feature:triage
        expect:
          - schema: schemas/order.json
        cases:
          - id: ok
            vars: {ticket: charge}
        """,
    )
    project.run().assert_outcomes(passed=1)
    project.file("specs/schemas/item.json", '{"type": "object", "required": ["price"]}')
    result = project.run()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*schema at specs/order.yaml:4:5: at /items/0: 'price' is a required property*"])


@pytest.mark.parametrize(
    ("path", "expected", "failure"),
    [
        ("category", "billing", None),
        ("items[0].sku", "X1", None),
        ("tags[1]", "b", None),
        ("items[0].qty", 2, None),
        ("items[3].sku", "X1", "*path 'items[3].sku' not found: items has 1 items, so [3] is missing*"),
        ("owner.name", "x", "*path 'owner.name' not found: the output has no key 'owner' (keys: category, priority*"),
        ("category.name", "x", "*path 'category.name' not found: category is not an object, so 'name' is missing*"),
    ],
)
def test_path_selection(project: Project, path: str, expected: object, failure: str | None) -> None:
    project.spec(
        "specs/p.yaml",
        f"""
        feature: p
        target: feature:triage
        output: json
        cases:
          - id: one
            vars: {{ticket: charge}}
            expect:
              - equals: {expected}
                path: "{path}"
        """,
    )
    result = project.run()
    if failure is None:
        result.assert_outcomes(passed=1)
    else:
        result.assert_outcomes(failed=1)
        result.stdout.fnmatch_lines([literal_brackets(failure)])


def test_path_on_text_output_that_is_json(project: Project) -> None:
    project.module("out", 'def produce():\n    return \'{"answer": "yes"}\'\n')
    project.spec(
        "specs/t.yaml",
        """
        feature: t
        target: out:produce
        cases:
          - id: one
            expect:
              - equals: "yes"
                path: answer
              - contains: '"answer"'
        """,
    )
    project.run().assert_outcomes(passed=1)


def test_json_output_in_a_code_fence_is_parsed(project: Project) -> None:
    project.module("out", "def produce():\n    return '```json\\n{\"a\": [1, 2]}\\n```'\n")
    project.spec(
        "specs/f.yaml",
        """
        feature: f
        target: out:produce
        output: json
        cases:
          - id: one
            expect: [{max_length: 2, path: a}]
        """,
    )
    project.run().assert_outcomes(passed=1)


def test_output_that_is_not_json_fails_with_the_parse_error(project: Project) -> None:
    project.module("out", "def produce():\n    return 'Sure! Here is the JSON: {'\n")
    project.spec(
        "specs/f.yaml",
        """
        feature: f
        target: out:produce
        output: json
        cases:
          - id: one
            expect: [{contains: x}]
        """,
    )
    result = project.run()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        ["*output is not valid JSON (Expecting value: line 1 column 1*", "*Sure! Here is the JSON*"]
    )


def test_failure_message_shows_every_failed_check_and_truncates_output(project: Project) -> None:
    project.module("out", "def produce():\n    return '\\n'.join(f'line {i}' for i in range(40))\n")
    project.spec(
        "specs/f.yaml",
        """
        feature: long_text
        target: out:produce
        expect:
          - contains: line 3
          - max_length: 10
        cases:
          - id: one
            expect:
              - equals: "line 0\\nline 1"
        """,
    )
    result = project.run()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*long_text::one failed (specs/f.yaml:7:9)*",
            "*2 of 3 checks failed:*",
            "*max_length at specs/f.yaml:5:5: 309 characters, more than the maximum 10*",
            "*equals at specs/f.yaml:9:9: expected 'line 0\\nline 1', got*",
            "*--- expected*",
            "*output:*",
            "*line 19*",
            "*... (20 more lines)*",
        ]
    )
    assert "aitest/run.py" not in result.stdout.str()


def test_promptfoo_form_is_accepted(project: Project) -> None:
    project.spec(
        "specs/pf.yaml",
        """
        feature: pf
        target: feature:echo
        cases:
          - id: one
            vars: {text: hello world}
            expect:
              - type: contains
                value: world
              - type: regex
                value: '^hello'
        """,
    )
    project.run().assert_outcomes(passed=1)
