"""Every independent error of a spec file in one round: `aitest validate` and pytest's collection."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from conftest import Project

AITEST = str(Path(sys.executable).parent / "aitest")

# ten mistakes of nine kinds, each independent of the others, and one warning
BROKEN = """
feature: triage
target: feature:triage
ouput: json
determinism: {runs: 2, min_pass: 3}
params: {tempreature: 0}
expect:
  - regex: '(unclosed'
  - similar: a refund
  - threshold: 0.7
cases:
  - id: one
    vars: {tickt: charged twice}
    expect:
      - contians: billing
  - id: one
    vars: {ticket: x}
    xfail: true
  - id: three
    vars: {ticket: x}
    determinism: {runs: 0}
    expect:
      - equals: yes
"""
BROKEN_LINES = [
    "specs/triage.yaml:3:1: unknown key 'ouput'; did you mean 'output'?",
    "  hint: allowed here: cases, cases_from, description, determinism, expect, feature, gate, max_steps, messages, "
    "model, output, owner, params, prompt, properties, target, tool_choice, tool_results, tools",
    "specs/triage.yaml:4:34: min_pass 3 is more than runs 2",
    "  hint: min_pass counts the runs that must pass, at most runs",
    "specs/triage.yaml:5:10: unknown key 'tempreature'; did you mean 'temperature'?",
    "  hint: allowed here: json_schema, max_tokens, seed, stop, temperature, top_k, top_p",
    "specs/triage.yaml:7:12: regex: the pattern '(unclosed' does not compile: missing ), unterminated subpattern "
    "at position 0",
    "  hint: quote the pattern in single quotes in YAML and escape special characters with \\",
    "specs/triage.yaml:9:5: 'threshold' is an option of the check 'similar' above (line 8), not a check of its own",
    "  hint: remove the '- ' before threshold, so that it lines up under similar as part of that check",
    "specs/triage.yaml:12:11: var 'tickt' is not a parameter of feature:triage; did you mean 'ticket'?",
    "  hint: its parameters: ticket",
    "specs/triage.yaml:14:9: unknown check 'contians'; did you mean 'contains'?",
    "  hint: checks: all_of, any_of, bleu, contains, contains_all, contains_any, contains_json, contains_xml, "
    "ends_with, equals, finish_reason, is_json, is_refusal, is_sql, is_xml, language, levenshtein, max_cost, "
    "max_latency_ms, max_length, max_output_tokens, max_steps, min_length, no_pii, no_tool_calls, not, not_contains, "
    "not_regex, not_tool_called, one_of, python, regex, rouge_n, rubric, schema, similar, starts_with, tool_call_f1, "
    "tool_called, tool_calls, valid_tool_calls, word_count",
    "specs/triage.yaml:15:9: duplicate case id 'one' (first at line 11)",
    "  hint: case ids must be unique in a file",
    "specs/triage.yaml:17:12: 'xfail' must be text, not true or false",
    "  hint: give the reason the case is expected to fail, e.g. xfail: the model still misroutes refunds",
    "specs/triage.yaml:20:25: 'runs' must be at least 1, not 0",
    "specs/triage.yaml:22:17: warning: yes without quotes is the boolean true in YAML, not the text 'yes'",
    '  hint: write "yes" in quotes for the text (or true for the boolean)',
]

# a prompt spec: the model profile, params, the template, a case's vars and a data file, each wrong
PROMPT = """
feature: greet
model: gemma-27m
params:
  json_schema: {type: objekt}
prompt: |
  Greet {{ name }} from {{ city }}.
cases:
  - id: ada
    vars: {name: Ada}
  - id: bob
    vars: [Bob]
cases_from: people.csv
"""
PROMPT_LINES = [
    "specs/greet.yaml:2:8: unknown model profile 'gemma-27m' (from the spec's model); did you mean 'gemma-270m'?",
    "  hint: known profiles: gemma-270m, smollm2-135m; define others under [tool.aitest.models.NAME]",
    "specs/greet.yaml:4:16: params.json_schema is not a valid JSON Schema: 'objekt' is not valid under any of the "
    "given schemas",
    "specs/greet.yaml:6:1: the prompt uses {{ city }}, but case 'ada' has no var 'city'",
    "  hint: add city under the vars of case 'ada' (line 8)",
    "specs/greet.yaml:11:11: 'vars' must be a mapping, not a list",
    "specs/people.csv:3: row 2 has 1 value, but the header has 2 columns (name, city)",
    "  hint: give every row one value per column; quote a value that holds a comma",
]


def test_validate_reports_every_independent_error_of_a_file_in_one_run(project: Project) -> None:
    project.spec("specs/triage.yaml", BROKEN)
    result = project.pytester.run(AITEST, "validate")
    assert result.ret == 1
    assert result.stdout.lines == BROKEN_LINES
    result.stderr.fnmatch_lines(["1 spec file, 10 problems, 1 warning"])


def test_validate_reports_the_meaning_too_model_params_template_vars_and_data_rows(project: Project) -> None:
    project.spec("specs/greet.yaml", PROMPT)
    project.file("specs/people.csv", "name,city\nCy,Rome\nDee\n")
    result = project.pytester.run(AITEST, "validate")
    assert result.ret == 1
    assert result.stdout.lines == PROMPT_LINES
    result.stderr.fnmatch_lines(["1 spec file, 5 problems"])


def test_pytest_collection_shows_every_error_in_the_failure_of_the_spec(project: Project) -> None:
    project.spec("specs/triage.yaml", BROKEN)
    project.spec("specs/greet.yaml", PROMPT)
    project.file("specs/people.csv", "name,city\nCy,Rome\nDee\n")
    project.spec("specs/good.yaml", "feature: good\ntarget: feature:echo\ncases: [{id: a, vars: {text: hi}}]\n")
    result = project.run()
    result.assert_outcomes(passed=1, failed=2, warnings=1)
    failures = result.stdout.str().split("= FAILURES =")[1].split("short test summary")[0].splitlines()
    for expected in (BROKEN_LINES, PROMPT_LINES):
        assert [line for line in failures if line in expected] == expected
    result.stdout.fnmatch_lines(
        [
            "FAILED specs/greet.yaml::spec - unknown model profile 'gemma-27m'*",
            "FAILED specs/triage.yaml::spec - unknown key 'ouput'; did you mean 'output'?",
        ]
    )


def test_a_yaml_syntax_error_still_stops_the_file(project: Project) -> None:
    project.spec("specs/bad.yaml", "feature: bad\nouput: json\ncases: [\n")
    result = project.pytester.run(AITEST, "validate")
    assert result.stdout.lines == [
        "specs/bad.yaml:4:1: malformed YAML: did not find expected node content",
        "  hint: check indentation and quoting",
    ]


@pytest.mark.parametrize(
    ("text", "lines"),
    [
        (  # the target cannot be imported: its vars are not checked against it
            "feature: f\ntarget: feature:nope\ncases:\n  - id: a\n    vars: {whatever: 1}\n",
            ["specs/f.yaml:2:9: module 'feature' has no function 'nope'"],
        ),
        (  # both prompt and target: neither the template nor the vars are checked
            "feature: f\ntarget: feature:echo\nprompt: 'Hi {{ who }}'\ncases: [{id: a, vars: {x: 1}}]\n",
            [
                "specs/f.yaml:2:1: a spec needs exactly one of 'prompt', 'messages' and 'target', not prompt and target together",
                "  hint: prompt: a template sent to the model; messages: a chat; target: module.path:function of your feature's code",
            ],
        ),
        (  # the cases are not a list: nothing about cases is checked further
            "feature: f\nprompt: 'Hi {{ who }}'\ncases: {id: a}\n",
            ["specs/f.yaml:3:8: 'cases' must be a list, not a mapping"],
        ),
        (  # a case's id is broken: its vars and checks are still checked
            "feature: f\ntarget: feature:echo\ncases:\n  - id: 'a b'\n    vars: {txt: x}\n    expect: [{regx: a}]\n",
            [
                "specs/f.yaml:4:9: 'id' 'a b' is not allowed",
                "  hint: use letters, digits, _ and -, e.g. double_charge",
                "specs/f.yaml:6:15: unknown check 'regx'; did you mean 'regex'?",
                "*",
            ],
        ),
    ],
    ids=["target_not_found", "prompt_and_target", "cases_not_a_list", "bad_case_id"],
)
def test_what_depends_on_a_broken_part_is_not_reported_again(project: Project, text: str, lines: list[str]) -> None:
    project.spec("specs/f.yaml", text)
    result = project.pytester.run(AITEST, "validate")
    assert result.ret == 1
    result.stdout.fnmatch_lines(lines, consecutive=True)
    assert len(result.stdout.lines) == len(lines)


def test_a_var_the_prompt_uses_is_one_error_however_many_cases_lack_it(project: Project) -> None:
    cases = "".join(f"  - id: c{i}\n    vars: {{name: N{i}}}\n" for i in range(8))
    project.spec(
        "specs/greet.yaml", f"feature: greet\nprompt: |\n  Hi {{{{ name }}}} of {{{{ town }}}}\ncases:\n{cases}"
    )
    result = project.pytester.run(AITEST, "validate")
    assert result.stdout.lines == [
        "specs/greet.yaml:3:1: the prompt uses {{ town }}, but 8 cases have no var 'town': "
        "'c0', 'c1', 'c2', 'c3', 'c4' and 3 more",
        "  hint: add town under the vars of case 'c0' (line 5), and to the others",
    ]


def test_a_feature_name_taken_by_another_spec_comes_with_the_other_errors(project: Project) -> None:
    project.spec("specs/a.yaml", "feature: echo\ntarget: feature:echo\ncases: [{id: a, vars: {text: x}}]\n")
    project.spec(
        "specs/b.yaml", "feature: echo\ntarget: feature:echo\nowner: [me]\ncases: [{id: a, vars: {text: x}}]\n"
    )
    result = project.pytester.run(AITEST, "validate")
    assert result.stdout.lines == [
        "specs/b.yaml:1:1: feature 'echo' is already defined in specs/a.yaml:1:1",
        "  hint: feature names are unique in the suite; rename one",
        "specs/b.yaml:3:8: 'owner' must be text, not a list",
    ]
