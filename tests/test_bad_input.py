"""Every bad input a user can write: a one- or two-line message with file:line:col, other specs still run."""

from __future__ import annotations

import pytest

from conftest import Project

GOOD = """
feature: good
target: feature:echo
cases:
  - id: fine
    vars: {text: ok}
    expect: [{equals: ok}]
"""

BAD = [
    ("malformed_yaml", "feature: x\ncases:\n  - id: a\n   vars: {}\n", "specs/bad.yaml:4:*: malformed YAML*"),
    (
        "python_tag",
        "feature: x\ntarget: feature:echo\ncases:\n  - id: a\n    vars: !!python/object/apply:os.system ['echo pwned']\n",
        "specs/bad.yaml:5:11: YAML tag '!!python/object/apply:os.system' is not allowed",
    ),
    (
        "unknown_key",
        "feature: x\ntarget: feature:echo\nexpekt: []\ncases: [{id: a, vars: {text: x}}]\n",
        "specs/bad.yaml:3:1: unknown key 'expekt'; did you mean 'expect'?",
    ),
    (
        "misspelled_check",
        "feature: x\ntarget: feature:echo\ncases:\n  - id: a\n    vars: {text: x}\n    expect:\n      - contians: x\n",
        "specs/bad.yaml:7:9: unknown check 'contians'; did you mean 'contains'?",
    ),
    (
        "unknown_option",
        "feature: x\ntarget: feature:echo\nexpect:\n  - contains: x\n    ignorecase: true\ncases: [{id: a, vars: {text: x}}]\n",
        "specs/bad.yaml:5:5: unknown option 'ignorecase' of check 'contains'; did you mean 'ignore_case'?",
    ),
    (
        "two_checks_in_one_item",
        "feature: x\ntarget: feature:echo\nexpect:\n  - contains: x\n    regex: y\ncases: [{id: a, vars: {text: x}}]\n",
        "specs/bad.yaml:4:5: one check per list item, found contains and regex",
    ),
    (
        "wrong_type",
        "feature: x\ntarget: feature:echo\nexpect:\n  - max_length: ten\ncases: [{id: a, vars: {text: x}}]\n",
        "specs/bad.yaml:4:17: 'max_length' must be a whole number, not text",
    ),
    (
        "missing_feature",
        "target: feature:echo\ncases: [{id: a, vars: {text: x}}]\n",
        "specs/bad.yaml:1:1: missing required key 'feature' in the spec",
    ),
    (
        "cases_not_a_list",
        "feature: x\ntarget: feature:echo\ncases: {id: a}\n",
        "specs/bad.yaml:3:8: 'cases' must be a list, not a mapping",
    ),
    (
        "duplicate_case_ids",
        "feature: x\ntarget: feature:echo\ncases:\n  - id: a\n    vars: {text: x}\n  - id: a\n    vars: {text: y}\n",
        "specs/bad.yaml:6:9: duplicate case id 'a' (first at line 4)",
    ),
    (
        "prompt_and_target",
        "feature: x\nprompt: hi\ntarget: feature:echo\ncases: [{id: a, vars: {text: x}}]\n",
        "specs/bad.yaml:3:1: a spec needs exactly one of 'prompt', 'messages' and 'target', not prompt and target together",
    ),
    (
        "neither_prompt_nor_target",
        "feature: x\ncases: [{id: a, vars: {text: x}}]\n",
        "specs/bad.yaml:1:1: a spec needs exactly one of 'prompt', 'messages' and 'target'",
    ),
    (
        "missing_module",
        "feature: x\ntarget: myapp.nothing:run\ncases: [{id: a, vars: {text: x}}]\n",
        "specs/bad.yaml:2:9: target module 'myapp.nothing' not found (no module named 'myapp')",
    ),
    (
        "missing_function",
        "feature: x\ntarget: feature:ecko\ncases: [{id: a, vars: {text: x}}]\n",
        "specs/bad.yaml:2:9: module 'feature' has no function 'ecko'; did you mean 'echo'?",
    ),
    (
        "missing_schema_file",
        "feature: x\ntarget: feature:echo\nexpect:\n  - schema: schemas/nope.json\ncases: [{id: a, vars: {text: x}}]\n",
        "specs/bad.yaml:4:13: schema file 'specs/schemas/nope.json' not found",
    ),
    (
        "invalid_json_schema",
        "feature: x\ntarget: feature:echo\nexpect:\n  - schema: {type: strng}\ncases: [{id: a, vars: {text: x}}]\n",
        "specs/bad.yaml:4:13: invalid JSON Schema (inline) at /type: 'strng' is not valid under any of the given schemas",
    ),
    (
        "remote_ref",
        "feature: x\ntarget: feature:echo\nexpect:\n  - schema: {$ref: 'https://example.com/s.json'}\ncases: [{id: a, vars: {text: x}}]\n",
        "specs/bad.yaml:4:13: schema $ref 'https://example.com/s.json' is remote; aitest never fetches schemas",
    ),
    (
        "bad_regex",
        "feature: x\ntarget: feature:echo\nexpect:\n  - regex: '[a-'\ncases: [{id: a, vars: {text: x}}]\n",
        "specs/bad.yaml:4:12: regex: the pattern '[a-' does not compile: unterminated character set at position 0",
    ),
    (
        "malformed_path",
        "feature: x\ntarget: feature:echo\nexpect:\n  - equals: 1\n    path: items[x]\ncases: [{id: a, vars: {text: x}}]\n",
        "specs/bad.yaml:5:11: malformed path 'items[x]': use dotted keys and [n], e.g. items[0].sku",
    ),
    (
        "unknown_var",
        "feature: x\ntarget: feature:echo\ncases:\n  - id: a\n    vars: {txt: hi}\n",
        "specs/bad.yaml:5:11: var 'txt' is not a parameter of feature:echo; did you mean 'text'?",
    ),
    (
        "bad_feature_name",
        "feature: Ticket Triage\ntarget: feature:echo\ncases: [{id: a, vars: {text: x}}]\n",
        "specs/bad.yaml:1:10: 'feature' 'Ticket Triage' is not allowed",
    ),
    (
        "bad_output_kind",
        "feature: x\ntarget: feature:echo\noutput: jsn\ncases: [{id: a, vars: {text: x}}]\n",
        "specs/bad.yaml:3:9: 'output' must be one of text, json, not 'jsn'; did you mean 'json'?",
    ),
    (
        "min_pass_over_runs",
        "feature: x\ntarget: feature:echo\ndeterminism: {runs: 2, min_pass: 3}\ncases: [{id: a, vars: {text: x}}]\n",
        "specs/bad.yaml:3:34: min_pass 3 is more than runs 2",
    ),
    ("empty_file", "", "specs/bad.yaml:1:1: the file is empty"),
    ("not_a_mapping", "- just\n- a list\n", "specs/bad.yaml:1:1: a spec must be a mapping of keys*"),
    (
        "duplicate_key",
        "feature: x\nfeature: y\ncases: [{id: a, vars: {text: x}}]\n",
        "specs/bad.yaml:2:1: duplicate key 'feature'",
    ),
]


@pytest.mark.parametrize(("text", "message"), [(t, m) for _, t, m in BAD], ids=[name for name, _, _ in BAD])
def test_bad_spec_fails_alone_with_file_line_col(project: Project, text: str, message: str) -> None:
    project.spec("specs/good.yaml", GOOD)
    (project.root / "specs/bad.yaml").write_text(text)
    result = project.run()
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines([message])
    failure = result.stdout.str().split("FAILURES")[1].split("short test summary")[0]
    body = [line for line in failure.splitlines() if line.strip() and not line.startswith(("____", "====", " ===="))]
    assert 1 <= len(body) <= 2, body  # one or two lines: the message and an optional hint
    assert "Traceback" not in result.stdout.str()


def test_all_problems_of_a_file_are_listed(project: Project) -> None:
    (project.root / "specs/bad.yaml").parent.mkdir(exist_ok=True)
    (project.root / "specs/bad.yaml").write_text(
        "feature: x\ntarget: feature:echo\nmodle: a\ncases:\n  - id: a\n    expect: [{contans: b}]\n"
    )
    result = project.run()
    result.stdout.fnmatch_lines(
        [
            "specs/bad.yaml:3:1: unknown key 'modle'; did you mean 'model'?",
            "*",
            "specs/bad.yaml:6:15: unknown check 'contans'; did you mean 'contains'?",
        ]
    )


def test_import_error_inside_the_target_module_names_it(project: Project) -> None:
    project.module("broken_feature", "import not_installed_lib\n\ndef run(text):\n    return text\n")
    project.spec("specs/x.yaml", "feature: x\ntarget: broken_feature:run\ncases: [{id: a, vars: {text: hi}}]\n")
    result = project.run()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "specs/x.yaml:2:9: importing target module 'broken_feature' raised ModuleNotFoundError: No module named 'not_installed_lib'*"
        ]
    )


def test_schema_file_with_invalid_json_points_into_that_file(project: Project) -> None:
    project.file("specs/schemas/s.json", '{"type": "object",\n "required": ["a"\n}')
    project.spec(
        "specs/x.yaml",
        "feature: x\ntarget: feature:echo\nexpect: [{schema: schemas/s.json}]\ncases: [{id: a, vars: {text: hi}}]\n",
    )
    result = project.run()
    result.stdout.fnmatch_lines(["*specs/schemas/s.json:3:1: invalid JSON in schema file: Expecting ',' delimiter"])


def test_bad_config_is_a_clear_usage_error(project: Project) -> None:
    project.pytester.makepyprojecttoml('[tool.aitest]\nspec = ["specs"]\n')
    project.spec("specs/good.yaml", GOOD)
    result = project.run()
    result.stderr.fnmatch_lines(["*pyproject.toml:2: [[]tool.aitest] unknown key 'spec'; did you mean 'specs'?*"])
    assert result.ret != 0
