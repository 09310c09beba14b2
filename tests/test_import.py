"""`aitest import`, run as a user runs it: every log format, what it writes, and every bad input."""

from __future__ import annotations

import json
import random
import runpy
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from conftest import SANDBOX, Project

AITEST = str(Path(sys.executable).parent / "aitest")
REPO = Path(__file__).resolve().parent.parent
SHIPPED = REPO / "examples" / "logs" / "support_routing.jsonl"
SYSTEM = "Route the message: answer billing, shipping or other."


def pair(user: str, answer: str, *, system: str = SYSTEM, **extra: Any) -> dict[str, Any]:
    request = {"model": "gpt-4o-mini", "messages": [{"role": "system", "content": system},
                                                     {"role": "user", "content": user}], "temperature": 0}  # fmt: skip
    response = {
        "object": "chat.completion", "model": "gpt-4o-mini",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": answer}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 30, "completion_tokens": 2},
    }  # fmt: skip
    return {"latency_ms": 412.5, "request": request, "response": response, **extra}


def jsonl(project: Project, name: str, rows: list[Any]) -> str:
    project.file(name, "".join(json.dumps(r) + "\n" for r in rows))
    return name


def imported(project: Project, *args: str) -> pytest.RunResult:
    return project.pytester.run(AITEST, "import", *args)


def written(project: Project) -> dict[str, bytes]:
    """Every file the project holds but its logs: what an import wrote."""
    return {
        str(p.relative_to(project.root)): p.read_bytes()
        for p in sorted(project.root.rglob("*"))
        if p.is_file()
        and not p.name.endswith((".jsonl", ".csv", ".json"))
        and p.name not in ("stdout", "stderr")  # pytester's own
        and "__pycache__" not in p.parts
    }


def entries(project: Project, feature: str = "routing") -> list[dict[str, Any]]:
    path = project.root / "specs" / "__recordings__" / f"{feature}.yaml"
    return list(yaml.safe_load(path.read_text())["entries"])


ROWS = [pair("I was charged twice", "billing"), pair("Where is my parcel?", "shipping"), pair("Hello", "other")]


def test_openai_pairs_make_a_spec_recordings_and_a_profile_that_replays_offline(project: Project) -> None:
    log = jsonl(project, "prod.jsonl", ROWS)
    result = imported(project, log, "--feature", "routing", "--profile", "prod-llm")
    assert result.ret == 0, result.stderr.str()
    result.stdout.fnmatch_lines([
        "aitest import: 3 logged calls read from prod.jsonl",
        "  imported 3 requests as cases of routing (specs/routing.yaml: a new spec)",
        "  recordings: specs/__recordings__/routing.yaml (+3 entries for prod-llm)",
        "  profile: [tool.aitest.models.prod-llm] added to pyproject.toml (provider recorded)",
        "next: aitest compare --baseline prod-llm --candidate gemma-270m --candidate smollm2-135m --aitest-record=new",
    ])  # fmt: skip
    spec = yaml.safe_load((project.root / "specs/routing.yaml").read_text())
    assert spec["gate"] == {"min_agreement": 0.8}
    assert spec["messages"] == [{"system": SYSTEM}, {"user": "{{ message }}"}]
    assert [c["messages"] for c in spec["cases"]] == [[{"user": r["request"]["messages"][1]["content"]}] for r in ROWS]
    recorded = entries(project)
    assert sorted(e["response"] for e in recorded) == ["billing", "other", "shipping"]
    assert {(e["latency_ms"], e["tokens"]["prompt"], e["tokens"]["completion"]) for e in recorded} == {(412.5, 30, 2)}
    assert recorded[0]["model"] == {"provider": "recorded", "model": "gpt-4o-mini"}
    pyproject = (project.root / "pyproject.toml").read_text()
    assert pyproject.startswith('[tool.aitest]\nspecs = ["specs"]\n')  # what was there stays
    assert '[tool.aitest.models.prod-llm]\nprovider = "recorded"' in pyproject
    # the recorded profile replays with no model package and no network
    (project.root / "sitecustomize.py").write_text(SANDBOX)
    replay = project.pytester.runpytest_subprocess("-p", "no:cacheprovider", "--aitest-model", "prod-llm")
    replay.assert_outcomes(passed=3)
    replay.stdout.fnmatch_lines(["aitest recordings (none): 3 replayed, 0 recorded, 0 missed, 0 unused"])
    # a live mode on it fails each case with the one-line reason
    live = project.pytester.runpytest_subprocess("-p", "no:cacheprovider", "--aitest-model", "prod-llm",
                                                 "--aitest-record=all", "--tb=line")  # fmt: skip
    live.assert_outcomes(failed=3)
    live.stdout.fnmatch_lines([
        "*specs/routing.yaml:*: model profile 'prod-llm' is replay-only (provider recorded; made by aitest import "
        "prod.jsonl): it has no model to call",
    ])  # fmt: skip


def test_a_miss_on_a_recorded_profile_says_it_is_replay_only(project: Project) -> None:
    imported(project, jsonl(project, "prod.jsonl", ROWS), "--feature", "routing", "--profile", "prod-llm")
    spec = project.root / "specs/routing.yaml"
    spec.write_text(spec.read_text().replace("I was charged twice", "I was charged three times"))
    result = project.run("--aitest-model", "prod-llm")
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines([
        "*hint: model profile 'prod-llm' is replay-only (provider recorded; made by aitest import prod.jsonl): "
        "no flag records it; import a log that holds this request",
    ])  # fmt: skip


def test_importing_twice_changes_nothing_and_a_bigger_log_adds_only_the_new(project: Project) -> None:
    log = jsonl(project, "prod.jsonl", ROWS[:2])
    assert imported(project, log, "--feature", "routing", "--profile", "prod-llm").ret == 0
    first = written(project)
    again = imported(project, log, "--feature", "routing", "--profile", "prod-llm")
    assert again.ret == 0
    again.stdout.fnmatch_lines(["  already imported: 2 requests (left as they are)"])
    assert written(project) == first  # byte-identical
    jsonl(project, "prod.jsonl", [*ROWS, pair("Refund please", "billing")])
    bigger = imported(project, log, "--feature", "routing", "--profile", "prod-llm")
    bigger.stdout.fnmatch_lines(["  imported 2 requests as cases of routing (specs/routing.yaml: new cases)",
                                 "  already imported: 2 requests (left as they are)"])  # fmt: skip
    old, new = first["specs/routing.yaml"].decode(), (project.root / "specs/routing.yaml").read_text()
    assert new.startswith(old)  # the new cases come after the old ones, which stay as they were
    assert len(entries(project)) == 4
    assert project.run("--aitest-model", "prod-llm").ret == 0


def test_redaction_leaves_no_original_value_in_any_written_file(project: Project) -> None:
    shipped = SHIPPED.read_text()
    originals = ["maria.gonzalez@example.com", "j.smith@example.org", "accounts@northwind-traders.com",
                 "+1 415 555 0132", "020 7946 0958"]  # fmt: skip
    assert all(value in shipped for value in originals)
    project.file("logs/prod.jsonl", shipped)
    result = imported(project, "logs/prod.jsonl", "--feature", "routing", "--profile", "prod-llm",
                      "--redact", "email,phone")  # fmt: skip
    assert result.ret == 0, result.stderr.str()
    result.stdout.fnmatch_lines(["  redacted: email 3, phone 2 (in 5 requests imported)"])
    files = written(project)
    assert "specs/routing.yaml" in files and "specs/__recordings__/routing.yaml" in files
    for name, data in files.items():
        for value in originals:
            assert value.encode() not in data, f"{value} in {name}"
    spec = (project.root / "specs/routing.yaml").read_text()
    assert "My email is <email-1>" in spec and "call me at <phone-1>" in spec
    # the same value gets the same placeholder in the request and its answer
    project.file("one.jsonl", json.dumps(pair("Mail a@b.io or c@d.io, again a@b.io", "Sent to a@b.io")) + "\n")
    imported(project, "one.jsonl", "--feature", "mails", "--profile", "prod-llm", "--redact", "all")
    (entry,) = entries(project, "mails")
    assert entry["request"]["messages"][1]["content"] == "Mail <email-1> or <email-2>, again <email-1>"
    assert entry["response"] == "Sent to <email-1>"


def test_without_redact_personal_data_is_a_warning(project: Project) -> None:
    project.file("prod.jsonl", SHIPPED.read_text())
    result = imported(project, "prod.jsonl", "--feature", "routing", "--profile", "prod-llm")
    assert result.ret == 0
    result.stderr.fnmatch_lines([
        "warning: personal data found in 5 requests (email 3, phone 2) and written as logged; "
        "to replace it, remove what this import wrote (the new cases, or the new spec and its recording) and "
        "import again with --redact email,phone",
    ])  # fmt: skip


def test_sampling_is_reproducible_whatever_the_line_order_and_duplicates_are_counted(project: Project) -> None:
    lines = SHIPPED.read_text().splitlines(keepends=True)
    project.file("a.jsonl", "".join(lines))
    random.Random(3).shuffle(lines)
    project.file("b.jsonl", "".join(lines))
    ids = []
    for name in ("a", "b"):
        result = imported(project, f"{name}.jsonl", "--feature", name, "--profile", "prod-llm", "--sample", "5",
                          "--spec", f"specs/{name}.yaml", "--redact", "all")  # fmt: skip
        assert result.ret == 0, result.stderr.str()
        result.stdout.fnmatch_lines([
            "  sample: 5 of 24 distinct requests (--sample 5)",
            "  duplicates: 3 (imported once; 1 had another answer, the first one is kept)",
        ])  # fmt: skip
        ids.append(sorted(c["id"] for c in yaml.safe_load((project.root / f"specs/{name}.yaml").read_text())["cases"]))
    assert ids[0] == ids[1] and len(ids[0]) == 5


def test_the_shipped_log_streamed_errors_and_filtered_answers(project: Project) -> None:
    project.file("prod.jsonl", SHIPPED.read_text())
    result = imported(project, "prod.jsonl", "--feature", "routing", "--profile", "prod-llm", "--redact", "all")
    result.stdout.fnmatch_lines([
        "  skipped: 2 requests with a reason",
        "    prod.jsonl:13: the logged call failed: Rate limit reached for gpt-4o-mini",
        "    prod.jsonl:19: the response was withheld by the provider's content filter (finish_reason content_filter)",
    ])  # fmt: skip
    streamed = [e for e in entries(project) if "subscription price" in e["request"]["messages"][1]["content"]]
    assert streamed[0]["response"] == '{"intent": "billing", "urgent": false}'  # the chunks, joined
    assert streamed[0]["tokens"] == {"prompt": 82, "completion": 11}
    spec = yaml.safe_load((project.root / "specs/routing.yaml").read_text())
    assert spec["params"]["json_schema"]["required"] == ["intent", "urgent"]  # response_format, kept


TOOLS = [{"type": "function", "function": {"name": "lookup_order", "description": "Find an order",
          "parameters": {"type": "object", "properties": {"order_id": {"type": "string"}},
                         "required": ["order_id"]}}}]  # fmt: skip


def tool_pair(user: str, order: str) -> dict[str, Any]:
    row = pair(user, "")
    row["request"]["tools"] = TOOLS
    call = {"id": "call_Xy12", "type": "function", "function": {"name": "lookup_order",
                                                                "arguments": json.dumps({"order_id": order})}}  # fmt: skip
    row["response"]["choices"][0] = {"index": 0, "finish_reason": "tool_calls",
                                     "message": {"role": "assistant", "content": None, "tool_calls": [call]}}  # fmt: skip
    return row


def test_tool_calls_are_imported_as_tool_calls(project: Project) -> None:
    rows = [tool_pair("Where is order 77?", "77"), tool_pair("Status of 4471?", "4471")]
    answered = tool_pair("Where is order 77?", "77")  # the next step: the tool's result, then a reply
    answered["request"]["messages"] += [
        {"role": "assistant", "content": None, "tool_calls": [{"id": "call_Xy12", "type": "function",
                                                                "function": {"name": "lookup_order",
                                                                             "arguments": '{"order_id": "77"}'}}]},
        {"role": "tool", "tool_call_id": "call_Xy12", "content": '{"status": "shipped"}'},
    ]  # fmt: skip
    answered["response"] = pair("", "It has shipped.")["response"]
    log = jsonl(project, "tools.jsonl", [*rows, answered])
    result = imported(project, log, "--feature", "orders", "--profile", "prod-llm")
    assert result.ret == 0, result.stderr.str()
    spec = yaml.safe_load((project.root / "specs/orders.yaml").read_text())
    assert spec["tools"] == TOOLS and spec["max_steps"] == 1
    assert spec["cases"][2]["messages"][1]["tool_calls"][0]["function"]["name"] == "lookup_order"
    recorded = {e["request"]["messages"][-1]["content"]: e for e in entries(project, "orders")}
    assert recorded["Status of 4471?"]["tool_calls"] == [
        {"id": "call_0", "name": "lookup_order", "arguments": {"order_id": "4471"}}
    ]
    assert recorded["Status of 4471?"]["finish_reason"] == "tool_calls"
    assert recorded['{"status": "shipped"}']["response"] == "It has shipped."
    result = project.run("--aitest-model", "prod-llm", "-v")
    result.assert_outcomes(passed=3)  # valid_tool_calls holds for the logged calls


def batch_files(project: Project, *, bad_id: bool = False) -> tuple[str, str]:
    inputs, outputs = [], []
    for i, row in enumerate(ROWS):
        inputs.append(
            {"custom_id": f"req-{i}", "method": "POST", "url": "/v1/chat/completions", "body": row["request"]}
        )
        body = {"status_code": 200, "request_id": f"r{i}", "body": row["response"]}
        outputs.append({"id": f"batch_req_{i}", "custom_id": f"req-{i}", "response": body, "error": None})
    outputs.reverse()  # the output comes in any order
    outputs.append({"id": "x", "custom_id": "req-9", "response": {"status_code": 500, "body": {}}, "error": None})
    if bad_id:
        outputs.append({"id": "y", "custom_id": "nope", "response": {"status_code": 200, "body": {}}, "error": None})
    return jsonl(project, "batch_in.jsonl", inputs), jsonl(project, "batch_out.jsonl", outputs)


def test_batch_input_and_output_are_joined_on_custom_id(project: Project) -> None:
    given, answers = batch_files(project)
    inputs = (project.root / given).read_text()
    project.file(
        given, inputs + json.dumps({"custom_id": "req-9", "method": "POST", "body": ROWS[0]["request"]}) + "\n"
    )
    result = imported(project, answers, given, "--feature", "routing", "--profile", "prod-llm")
    assert result.ret == 0, result.stderr.str()
    result.stdout.fnmatch_lines([
        "  imported 3 requests as cases of routing*",
        "    batch_out.jsonl:4: the batch request answered with status 500, not 200",
    ])  # fmt: skip
    assert sorted(e["response"] for e in entries(project)) == ["billing", "other", "shipping"]
    assert {e["latency_ms"] for e in entries(project)} == {0.0}  # a batch logs no times


def test_batch_files_that_do_not_join(project: Project) -> None:
    given, answers = batch_files(project, bad_id=True)
    alone = imported(project, answers, "--feature", "routing", "--profile", "prod-llm")
    assert alone.ret == 2
    alone.stderr.fnmatch_lines([
        "aitest import: batch_out.jsonl: a batch output file needs its input file, joined on custom_id; give both files"
    ])  # fmt: skip
    assert not (project.root / "specs").exists()
    result = imported(project, given, answers, "--feature", "routing", "--profile", "prod-llm")
    assert result.ret == 1
    result.stderr.fnmatch_lines([
        "batch_out.jsonl:4: custom_id 'req-9' is not in the input file: the files do not join",
        "batch_out.jsonl:5: custom_id 'nope' is not in the input file: the files do not join",
    ])  # fmt: skip
    result.stdout.fnmatch_lines(["  not of the format: 2 lines (exit 1; --skip-bad to accept them)"])
    skipping = imported(project, given, answers, "--feature", "routing", "--profile", "prod-llm", "--skip-bad")
    assert skipping.ret == 0


def test_plain_pairs_as_jsonl_and_csv(project: Project) -> None:
    jsonl(
        project,
        "pairs.jsonl",
        [{"input": "Hi there", "output": "Hello!", "latency_ms": 120}, {"input": "Bye", "output": "Goodbye"}],
    )
    project.file("pairs.csv", 'input,output,prompt_tokens,completion_tokens\n"Is it, really?","Yes, it is.",7,4\n')
    for name, feature in (("pairs.jsonl", "greet"), ("pairs.csv", "answers")):
        result = imported(project, name, "--feature", feature, "--profile", "prod-llm")
        assert result.ret == 0, result.stderr.str()
    greet = {e["request"]["messages"][0]["content"]: e for e in entries(project, "greet")}
    assert greet["Hi there"]["response"] == "Hello!" and greet["Hi there"]["latency_ms"] == 120
    (answer,) = entries(project, "answers")
    assert answer["request"]["messages"] == [{"role": "user", "content": "Is it, really?"}]
    assert answer["response"] == "Yes, it is." and answer["tokens"] == {"prompt": 7, "completion": 4}
    spec = yaml.safe_load((project.root / "specs/answers.yaml").read_text())
    assert spec["messages"] == [{"user": "{{ message }}"}]
    assert project.run("--aitest-model", "prod-llm").ret == 0


def attr(key: str, value: Any) -> dict[str, Any]:
    if isinstance(value, bool):
        return {"key": key, "value": {"boolValue": value}}
    if isinstance(value, int):
        return {"key": key, "value": {"intValue": str(value)}}
    if isinstance(value, list):
        return {"key": key, "value": {"arrayValue": {"values": [{"stringValue": v} for v in value]}}}
    return {"key": key, "value": {"stringValue": value}}


def span(attrs: dict[str, Any], events: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    base = {"gen_ai.operation.name": "chat", "gen_ai.request.model": "gpt-4o", "gen_ai.usage.input_tokens": 21,
            "gen_ai.usage.output_tokens": 3}  # fmt: skip
    return {"traceId": "ab", "spanId": "cd", "name": "chat gpt-4o", "startTimeUnixNano": "1700000000000000000",
            "endTimeUnixNano": "1700000000750000000", "attributes": [attr(k, v) for k, v in {**base, **attrs}.items()],
            "events": events or []}  # fmt: skip


def export(*spans: dict[str, Any]) -> dict[str, Any]:
    return {
        "resourceSpans": [
            {"resource": {"attributes": []}, "scopeSpans": [{"scope": {"name": "t"}, "spans": list(spans)}]}
        ]
    }


def test_otel_genai_spans_of_each_convention_version(project: Project) -> None:
    current = span({
        "gen_ai.system_instructions": json.dumps([{"type": "text", "content": SYSTEM}]),
        "gen_ai.input.messages": json.dumps([{"role": "user", "parts": [{"type": "text", "content": "Refund me"}]}]),
        "gen_ai.output.messages": json.dumps([{"role": "assistant", "parts": [{"type": "text", "content": "billing"}],
                                               "finish_reason": "stop"}]),
    })  # fmt: skip
    indexed = span({"gen_ai.prompt.0.role": "system", "gen_ai.prompt.0.content": SYSTEM,
                    "gen_ai.prompt.1.role": "user", "gen_ai.prompt.1.content": "Where is it?",
                    "gen_ai.completion.0.role": "assistant", "gen_ai.completion.0.content": "shipping",
                    "gen_ai.completion.0.finish_reason": "stop"})  # fmt: skip
    events = span({}, [
        {"name": "gen_ai.system.message", "attributes": [attr("content", SYSTEM)]},
        {"name": "gen_ai.user.message", "attributes": [attr("content", "Hello")]},
        {"name": "gen_ai.choice", "attributes": [attr("message", json.dumps({"content": "other"})),
                                                  attr("finish_reason", "stop")]},
    ])  # fmt: skip
    http = {"name": "GET /", "attributes": [attr("http.method", "GET")]}  # not a model call: passed over
    jsonl(project, "spans.jsonl", [export(current, http), export(indexed, events)])
    result = imported(project, "spans.jsonl", "--feature", "routing", "--profile", "prod-llm")
    assert result.ret == 0, result.stderr.str()
    result.stdout.fnmatch_lines(["aitest import: 3 logged calls read from spans.jsonl", "  imported 3 requests*"])
    recorded = {e["request"]["messages"][1]["content"]: e for e in entries(project)}
    assert {k: e["response"] for k, e in recorded.items()} == {"Refund me": "billing", "Where is it?": "shipping",
                                                                "Hello": "other"}  # fmt: skip
    assert recorded["Hello"]["latency_ms"] == 750.0 and recorded["Hello"]["tokens"] == {"prompt": 21, "completion": 3}
    assert 'model = "gpt-4o"' in (project.root / "pyproject.toml").read_text()
    pretty = project.root / "pretty.json"
    pretty.write_text(json.dumps(export(current), indent=2))  # one pretty-printed export
    result = imported(project, "pretty.json", "--feature", "pretty", "--profile", "prod-llm")
    assert result.ret == 0, result.stderr.str()


def test_cases_are_added_to_an_existing_spec_without_touching_its_text(project: Project) -> None:
    original = (
        "# our routing spec\nfeature: routing\nmessages:\n  - system: '" + SYSTEM + "'   # keep this\n"
        '  - user: "{{ text }}"\ncases:\n    # hand-written first\n    - id: mine\n      vars: {text: Hi}\n'
        "      expect: [{min_length: 1}]\n\n# the gate comes last\ngate: {max_regressions: 0}\n"
    )
    project.spec("specs/routing.yaml", original)
    log = jsonl(project, "prod.jsonl", [*ROWS, pair("Other system", "x", system="Be brief.")])
    result = imported(project, log, "--feature", "routing", "--profile", "prod-llm", "--spec", "specs/routing.yaml")
    assert result.ret == 0, result.stderr.str()
    result.stdout.fnmatch_lines([
        "  imported 3 requests as cases of routing (specs/routing.yaml: new cases)",
        "    prod.jsonl:4: its system prompt differs from the spec's",
    ])  # fmt: skip
    text = (project.root / "specs/routing.yaml").read_text()
    head, _ = original.split("\n# the gate comes last\n")
    assert text.startswith(head) and text.endswith("\n# the gate comes last\ngate: {max_regressions: 0}\n")
    added = yaml.safe_load(text)["cases"][1:]
    assert [c["messages"] for c in added] == [[{"user": r["request"]["messages"][1]["content"]}] for r in ROWS]
    project.file(".pytest-marker", "")
    outcome = project.run("--aitest-model", "prod-llm", "-k", "not mine")
    outcome.assert_outcomes(passed=3)


def test_specs_that_cannot_take_imported_cases(project: Project) -> None:
    log = jsonl(project, "prod.jsonl", ROWS)
    project.spec(
        "specs/other.yaml", "feature: other\nmessages:\n  - user: '{{ t }}'\ncases:\n  - id: a\n    vars: {t: x}\n"
    )
    project.spec(
        "specs/prompt.yaml", "feature: routing\nprompt: 'Route {{ t }}'\ncases:\n  - id: a\n    vars: {t: x}\n"
    )
    before = written(project)
    other = imported(project, log, "--feature", "routing", "--profile", "p", "--spec", "specs/other.yaml")
    assert other.ret == 2
    other.stderr.fnmatch_lines(["aitest import: specs/other.yaml: its feature is 'other', not 'routing': *"])
    prompt = imported(project, log, "--feature", "routing", "--profile", "p", "--spec", "specs/prompt.yaml")
    assert prompt.ret == 2
    prompt.stderr.fnmatch_lines(["aitest import: specs/prompt.yaml: the spec calls a prompt, and imported requests*"])
    assert written(project) == before


def test_a_profile_of_another_provider_is_refused(project: Project) -> None:
    log = jsonl(project, "prod.jsonl", ROWS)
    for name, said in (("gemma-270m", "llama_cpp (built in)"), ("hosted", "openai (pyproject.toml:*)")):
        if name == "hosted":
            pyproject = project.root / "pyproject.toml"
            pyproject.write_text(pyproject.read_text() + '\n[tool.aitest.models.hosted]\nprovider = "openai"\n'
                                 'base_url = "http://127.0.0.1:1/v1"\nmodel = "m"\n')  # fmt: skip
        before = written(project)
        result = imported(project, log, "--feature", "routing", "--profile", name)
        assert result.ret == 2
        result.stderr.fnmatch_lines([f"aitest import: model profile '{name}' exists with provider {said}: import *"])
        assert written(project) == before


def test_lines_not_of_the_format_are_named_counted_and_skipped(project: Project) -> None:
    project.file("prod.jsonl", json.dumps(ROWS[0]) + "\nnot json at all\n" + json.dumps({"request": {}, "response": {}})
                 + "\n" + json.dumps(ROWS[1]) + "\n")  # fmt: skip
    result = imported(project, "prod.jsonl", "--feature", "routing", "--profile", "prod-llm")
    assert result.ret == 1
    result.stderr.fnmatch_lines([
        "prod.jsonl:2: not JSON (Expecting value)",
        "prod.jsonl:3: the request has no 'messages' list (a chat-completion request)",
    ])  # fmt: skip
    result.stdout.fnmatch_lines(
        ["  imported 2 requests*", "  not of the format: 2 lines (exit 1; --skip-bad to accept them)"]
    )
    assert len(entries(project)) == 2


def test_nothing_imported_writes_nothing(project: Project) -> None:
    project.file("empty.jsonl", "")
    jsonl(project, "errors.jsonl", [{"request": ROWS[0]["request"], "response": {"error": {"message": "quota"}}}])
    jsonl(project, "odd.jsonl", [{"hello": 1}])
    before = written(project)
    empty = imported(project, "empty.jsonl", "--feature", "routing", "--profile", "prod-llm")
    assert empty.ret == 2
    empty.stderr.fnmatch_lines(["aitest import: empty.jsonl: the file is empty: nothing to import"])
    failed = imported(project, "errors.jsonl", "--feature", "routing", "--profile", "prod-llm")
    assert failed.ret == 2
    failed.stderr.fnmatch_lines(["aitest import: nothing imported from errors.jsonl: no line holds a request with "
                                 "its answer; nothing was written"])  # fmt: skip
    odd = imported(project, "odd.jsonl", "--feature", "routing", "--profile", "prod-llm")
    assert odd.ret == 2
    odd.stderr.fnmatch_lines(
        ["aitest import: odd.jsonl:1: not a log format aitest reads (looked for *); name one with --format"]
    )
    assert written(project) == before


def test_a_huge_line_is_skipped_in_bounded_memory(project: Project) -> None:
    huge = json.dumps(pair("x" * 9_000_000, "big"))
    project.file("prod.jsonl", json.dumps(ROWS[0]) + "\n" + huge + "\n" + json.dumps(ROWS[1]) + "\n")
    result = imported(project, "prod.jsonl", "--feature", "routing", "--profile", "prod-llm", "--skip-bad")
    assert result.ret == 0
    result.stderr.fnmatch_lines(["prod.jsonl:2: line longer than 8 MB: skipped"])
    assert len(entries(project)) == 2


def test_an_unwritable_recordings_folder_writes_nothing(project: Project) -> None:
    (project.root / "specs").mkdir()
    (project.root / "specs" / "__recordings__").write_text("a file where the folder should be")
    before = written(project)
    result = imported(project, jsonl(project, "prod.jsonl", ROWS), "--feature", "routing", "--profile", "prod-llm")
    assert result.ret == 2
    result.stderr.fnmatch_lines(
        ["aitest import: *specs/__recordings__/routing.yaml: cannot be written*nothing was imported*"]
    )
    assert written(project) == before


def test_bad_options(project: Project) -> None:
    log = jsonl(project, "prod.jsonl", ROWS)
    cases = [
        (
            ("--feature", "Routing!"),
            "aitest import: --feature 'Routing!': a feature name is lowercase letters, digits and _",
        ),
        (("--sample", "0"), "aitest import: --sample must be 1 or more"),
        (("--redact", "emial"), "aitest import: --redact: unknown detector 'emial'; did you mean 'email'?*"),
    ]
    for extra, message in cases:
        args = ["--feature", "routing", "--profile", "prod-llm", *extra]
        result = imported(project, log, *args)
        assert result.ret == 2, extra
        result.stderr.fnmatch_lines([message])
    missing = imported(project, "nope.jsonl", "--feature", "routing", "--profile", "prod-llm")
    assert missing.ret == 2
    missing.stderr.fnmatch_lines(["aitest import: nope.jsonl: no such file"])


def test_another_profiles_answers_to_cases_already_imported_are_recorded(project: Project) -> None:
    log = jsonl(project, "prod.jsonl", ROWS)
    assert imported(project, log, "--feature", "routing", "--profile", "prod-llm").ret == 0
    other = [pair(r["request"]["messages"][1]["content"], r["response"]["choices"][0]["message"]["content"] + "!")
             for r in ROWS]  # fmt: skip
    for row in other:
        row["request"]["model"] = row["response"]["model"] = "claude-x"
    result = imported(project, jsonl(project, "other.jsonl", other), "--feature", "routing", "--profile", "claude")
    assert result.ret == 0, result.stderr.str()
    result.stdout.fnmatch_lines([
        "  already imported: 3 requests (left as they are)",
        "  recordings: specs/__recordings__/routing.yaml (+3 entries for claude)",
        "  profile: [tool.aitest.models.claude] added to pyproject.toml (provider recorded)",
    ])  # fmt: skip
    assert project.run("--aitest-model", "claude").ret == 0
    # a recording deleted by mistake: importing the log again brings its entries back
    (project.root / "specs/__recordings__/routing.yaml").unlink()
    again = imported(project, log, "--feature", "routing", "--profile", "prod-llm")
    again.stdout.fnmatch_lines(["  recordings: specs/__recordings__/routing.yaml (+3 entries for prod-llm)"])
    project.run("--aitest-model", "prod-llm").assert_outcomes(passed=3)


def test_rewrite_on_another_model_keeps_the_imported_answers(project: Project) -> None:
    imported(project, jsonl(project, "prod.jsonl", ROWS), "--feature", "routing", "--profile", "prod-llm")
    project.file("conftest.py", INSTANT)
    pyproject = project.root / "pyproject.toml"
    pyproject.write_text(pyproject.read_text() + '\n[tool.aitest.models.fast]\nprovider = "instant"\nmodel = "a"\n')
    project.run("--aitest-model", "fast", "--aitest-record=rewrite").assert_outcomes(passed=3)
    project.run("--aitest-model", "prod-llm").assert_outcomes(passed=3)


INSTANT = runpy.run_path(str(REPO / "bench" / "instant.py"))["CONFTEST"]  # a provider that answers at once


def test_odd_lines_are_skipped_with_a_reason_never_a_traceback(project: Project) -> None:
    good = json.dumps(ROWS[0])
    odd = [
        '{"request": {"messages": [{"role": "user", "content": "cut \\ud83d"}]}, "response": {"choices": [{"message": {"content": "ok"}}]}}',
        json.dumps({"request": ROWS[1]["request"], "response": [{"choices": [{"delta": "text"}]}]}),
        json.dumps({"request": ROWS[1]["request"], "response": [{"choices": [{"delta": {"tool_calls": [{"index": "x"}]}}]}]}),
        json.dumps({"request": {**ROWS[1]["request"], "temperature": "hot"}, "response": ROWS[1]["response"]}),
        json.dumps({"request": {**ROWS[1]["request"], "response_format": {"type": "json_schema", "json_schema": "x"}},
                    "response": ROWS[2]["response"]}),
        json.dumps({"request": {**ROWS[1]["request"], "tool_choice": {"weird": 1},
                                "tools": [{"type": "function", "function": {"name": "f"}}]}, "response": ROWS[1]["response"]}),
        json.dumps({"latency_ms": 1e400, **ROWS[2]}).replace("Infinity", "1e999"),
        "[" * 100_000 + "]" * 100_000,
    ]  # fmt: skip
    project.file("odd.jsonl", good + "\n" + "\n".join(odd) + "\n")
    result = imported(project, "odd.jsonl", "--feature", "routing", "--profile", "prod-llm")
    assert result.ret == 1, result.stderr.str()
    assert "Traceback" not in result.stderr.str()
    result.stderr.fnmatch_lines([
        "odd.jsonl:2: holds text that is not valid Unicode (a lone surrogate: a character cut in half?)",
        "odd.jsonl:3: a streamed chunk's delta is not an object",
        "odd.jsonl:4: a streamed chunk's tool call is not {index, id, function: {name, arguments}}",
        "odd.jsonl:5: its temperature (\"hot\") is not a valid value for it",
        "odd.jsonl:7: its tool_choice is not auto, required, none or {type: function, function: {name}}",
        "odd.jsonl:9: not JSON *",
    ])  # fmt: skip
    spans = export(
        span({"gen_ai.input.messages": "[}"}),
        {"name": ["x"], "attributes": [{"key": "k", "value": {"arrayValue": "x"}}]},
    )
    jsonl(project, "spans.jsonl", [spans, {"resourceSpans": [["x"]]}])
    otel = imported(project, "spans.jsonl", "--feature", "spans", "--profile", "prod-llm")
    assert otel.ret == 2 and "Traceback" not in otel.stderr.str(), otel.stderr.str()
    otel.stderr.fnmatch_lines(["spans.jsonl:1 (span 1): gen_ai.input.messages is not JSON"])


def test_a_first_line_over_64_kb_is_recognised(project: Project) -> None:
    jsonl(project, "rag.jsonl", [pair("context " * 12_000 + "question?", "answer"), ROWS[0]])
    result = imported(project, "rag.jsonl", "--feature", "rag", "--profile", "prod-llm")
    assert result.ret == 0, result.stderr.str()
    result.stdout.fnmatch_lines(["  imported 2 requests*"])


def test_crlf_spec_keeps_its_line_endings_and_the_feature_is_found_under_any_name(project: Project) -> None:
    original = (f"feature: routing\r\nmessages:\r\n  - system: '{SYSTEM}'\r\n  - user: '{{{{ t }}}}'\r\ncases:\r\n"
                "  - id: mine\r\n    vars: {t: Hi}\r\n")  # fmt: skip
    path = project.root / "specs" / "our_routing.yaml"
    path.parent.mkdir(parents=True)
    path.write_bytes(original.encode())
    pyproject = project.root / "pyproject.toml"
    pyproject.write_bytes(pyproject.read_bytes().replace(b"\n", b"\r\n"))
    result = imported(project, jsonl(project, "prod.jsonl", ROWS), "--feature", "routing", "--profile", "prod-llm")
    assert result.ret == 0, result.stderr.str()
    result.stdout.fnmatch_lines(["  imported 3 requests as cases of routing (specs/our_routing.yaml: new cases)"])
    assert not (project.root / "specs/routing.yaml").exists()
    data = path.read_bytes()
    assert data.startswith(original.encode()) and b"\n" not in data.replace(b"\r\n", b"")
    assert b"\n" not in pyproject.read_bytes().replace(b"\r\n", b"")


def test_agent_logs_with_made_up_call_ids_are_duplicates(project: Project) -> None:
    rows = []
    for call_id, spacing in (("call_aaa", '{"order_id":"77"}'), ("call_bbb", '{"order_id": "77"}')):
        row = tool_pair("Where is order 77?", "77")
        row["request"]["messages"] += [
            {"role": "assistant", "content": None,
             "tool_calls": [{"id": call_id, "type": "function", "function": {"name": "lookup_order", "arguments": spacing}}]},
            {"role": "tool", "tool_call_id": call_id, "content": "shipped"},
        ]  # fmt: skip
        row["response"] = pair("", "It shipped.")["response"]
        rows.append(row)
    result = imported(project, jsonl(project, "agent.jsonl", rows), "--feature", "orders", "--profile", "prod-llm")
    result.stdout.fnmatch_lines(["  imported 1 request as cases of orders*", "  duplicates: 1 (imported once)",
                                 "*(+1 entry for prod-llm)"])  # fmt: skip


def test_redaction_reaches_tools_params_and_argument_names(project: Project) -> None:
    row = tool_pair("Where is order 77?", "77")
    row["request"]["tools"][0]["function"]["description"] = "Escalate to jane.roe@acme.com"
    row["request"]["stop"] = ["carol@x.org"]
    call = row["response"]["choices"][0]["message"]["tool_calls"][0]["function"]
    call["arguments"] = json.dumps({"order_id": "77", "dave@y.org": "k"})
    imported(project, jsonl(project, "p.jsonl", [row]), "--feature", "orders", "--profile", "p", "--redact", "all")
    for name, data in written(project).items():
        for value in ("jane.roe@acme.com", "carol@x.org", "dave@y.org"):
            assert value.encode() not in data, f"{value} in {name}"


def test_legacy_function_calls_are_tool_calls(project: Project) -> None:
    row = pair("Where is order 77?", "")
    row["request"]["functions"] = [TOOLS[0]["function"]]
    row["response"]["choices"][0] = {"index": 0, "finish_reason": "function_call", "message": {
        "role": "assistant", "content": None, "function_call": {"name": "lookup_order", "arguments": '{"order_id": "77"}'}}}  # fmt: skip
    result = imported(project, jsonl(project, "old.jsonl", [row]), "--feature", "orders", "--profile", "p")
    assert result.ret == 0, result.stderr.str()
    (entry,) = entries(project, "orders")
    assert entry["tool_calls"] == [{"id": "call_0", "name": "lookup_order", "arguments": {"order_id": "77"}}]
    assert entry["finish_reason"] == "tool_calls"


def test_a_log_where_nothing_fits_exits_2_with_the_reasons(project: Project) -> None:
    last_assistant = pair("Hello", "x")
    last_assistant["request"]["messages"].append({"role": "assistant", "content": "Hi"})
    result = imported(project, jsonl(project, "p.jsonl", [last_assistant]), "--feature", "f", "--profile", "p")
    assert result.ret == 2
    result.stdout.fnmatch_lines(["    p.jsonl:1: its last turn is not the user's or a tool's: nothing to answer"])
    result.stderr.fnmatch_lines(["aitest import: nothing imported from p.jsonl: no request fits*"])
    refused = imported(project, "p.jsonl", "--feature", "f", "--profile", "p", "--spec", "specs/f.txt")
    assert refused.ret == 2
    refused.stderr.fnmatch_lines(["aitest import: --spec specs/f.txt: a spec file ends in .yaml or .yml"])
