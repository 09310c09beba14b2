"""The OpenAI Batch API's files, both given: the input (``{custom_id, method, url, body: request}`` per
line) and the output (``{custom_id, response: {status_code, body: response}, error}`` per line, in any
order), joined on ``custom_id``. The input is indexed by where each line starts, not held in memory."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import ExitStack
from pathlib import Path
from typing import IO, Any

from aitest.importing.jsonl import lines, parse
from aitest.importing.logged import ODD, LoggedCall, NoAnswer, NotOfFormat, Skipped, checked, malformed
from aitest.importing.openai_pairs import answered, request_call
from aitest.util.text import shown


class BatchError(ValueError):
    """The files cannot be joined at all (one of them missing): a usage error, exit 2."""


def read(inputs: list[tuple[Path, str]], outputs: list[tuple[Path, str]]) -> Iterator[LoggedCall | Skipped]:
    if not outputs:
        names = ", ".join(display for _, display in inputs)
        raise BatchError(f"{names}: a batch input file holds requests only; give its output file too (both files)")
    if not inputs:
        names = ", ".join(display for _, display in outputs)
        raise BatchError(f"{names}: a batch output file needs its input file, joined on custom_id; give both files")
    index: dict[str, tuple[Path, str, int, int]] = {}  # custom_id -> (file, display, line, offset)
    for path, display in inputs:
        with path.open("rb") as handle:
            for line in lines(handle):
                try:
                    value = parse(line)
                    if not isinstance(value, dict) or not isinstance(value.get("custom_id"), str):
                        raise NotOfFormat("not a batch input line (an object with 'custom_id' and 'body')")
                except NotOfFormat as why:
                    yield Skipped(f"{display}:{line.number}", str(why))
                    continue
                index.setdefault(value["custom_id"], (path, display, line.number, line.offset))
    answered_ids: set[str] = set()
    with ExitStack() as stack:
        opened = {path: stack.enter_context(path.open("rb")) for path, _ in inputs}
        for path, display in outputs:
            handle = stack.enter_context(path.open("rb"))
            for line in lines(handle):
                where = f"{display}:{line.number}"
                try:
                    value = parse(line)
                    call = checked(_joined(value, where, index, answered_ids, opened))
                except NotOfFormat as why:
                    yield Skipped(getattr(why, "where", where), str(why))
                except NoAnswer as why:
                    yield Skipped(where, str(why), bad=False)
                except ODD as exc:
                    yield Skipped(where, malformed(exc))
                else:
                    yield call
    unanswered = len(index) - len(answered_ids)
    if unanswered:
        yield Skipped(inputs[0][1], f"{unanswered} request(s) of the input have no line in the output", bad=False)


def _joined(
    value: Any, where: str, index: Mapping[str, tuple[Path, str, int, int]], seen: set[str],
    opened: Mapping[Path, IO[bytes]],
) -> LoggedCall:  # fmt: skip
    if not isinstance(value, dict) or not isinstance(value.get("custom_id"), str) or "response" not in value:
        raise NotOfFormat("not a batch output line (an object with 'custom_id' and 'response')")
    custom_id = value["custom_id"]
    if custom_id not in index:
        raise NotOfFormat(f"custom_id {shown(custom_id)} is not in the input file: the files do not join")
    seen.add(custom_id)
    if value.get("error"):
        error = value["error"]
        said = error.get("message") if isinstance(error, dict) else error
        raise NoAnswer(f"the batch request failed: {shown(str(said), 120, quoted=False)}")
    response = value["response"]
    status = response.get("status_code") if isinstance(response, dict) else None
    if str(status) != "200":
        raise NoAnswer(f"the batch request answered with status {status}, not 200")
    if not isinstance(response.get("body"), dict):
        raise NotOfFormat("the batch response's body is not a chat.completion object")
    path, display, number, offset = index[custom_id]
    handle = opened[path]
    handle.seek(offset)
    line = next(lines(handle))
    request = parse(line)
    body = request.get("body") if isinstance(request, dict) else None
    try:
        base = request_call(body, f"{display}:{number}")
    except NotOfFormat as why:  # the request is at fault: named at its own line of the input file
        why.where = f"{display}:{number}"  # type: ignore[attr-defined]
        raise
    return answered(base, response.get("body"), None)
