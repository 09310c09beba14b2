"""Mutated specs and recordings, as an attacker or a careless editor makes them: for the fuzz test and its bench.

`mutate(text, rng)` applies a few random edits to a valid file: broken syntax, YAML features (anchors,
aliases, merge keys, tags), control characters and odd encodings, wrong types, huge and deeply nested
values, alias bombs. Driven by a `random.Random`, so Hypothesis (which supplies and shrinks it) and a
plain seeded loop generate the same kinds of input.
"""

from __future__ import annotations

import random
import shutil
from pathlib import Path

from conftest import ALIAS_BOMB

REPO = Path(__file__).resolve().parent.parent

TOKENS = [
    "&a ", "*a", "*nope", "<<: *a", "!!int ", "!!bool ", "!!float ", "!!binary ", "!!python/object:os.system ",
    "!!set ", "!!omap ", "!custom ", "[", "]", "{", "}", ": ", "- ", "\t", "'", '"', "#", "|", ">", "? ", "%YAML 1.2\n",
    "---\n", "...\n", "\x00", "\x01", "\x1b", "\x7f", "\ufeff", "\u2028", "é", "\U0001f600", "\ud800", "2.0", "-1",
    "1e309", ".nan", ".inf", "null", "~", "yes", "no", "0x1F", "0o7", "2024-01-01", "true", "&b [*a, *a, *a]",
]  # fmt: skip
VALUES = [
    "2.0", "-5", "0", "1e309", ".nan", "null", "[]", "{}", "[1, [2, [3]]]", "yes", "'evil\\n'", '"evil\\n"',
    "!!int abc", "!!bool maybe", "!!binary aGk=", "{type: [contains], value: x}", "*a", "&a [*a]",
    "x" * 300, "../../etc/passwd", "/dev/zero", "a" * 300 + ".json", "os:system", "subprocess:getoutput",
    "{'$ref': 'http://example.com/s.json'}", "'\\d+'", '"\\d+"',
]  # fmt: skip


def _lines(text: str) -> list[str]:
    return text.split("\n")


def mutate(text: str, rng: random.Random, edits: int | None = None) -> str:
    """A few random edits of ``text``."""
    for _ in range(edits if edits is not None else rng.randint(1, 4)):
        lines = _lines(text)
        kind = rng.randrange(11)
        i = rng.randrange(len(lines))
        if kind == 0 and text:  # a character inserted, replaced or deleted
            pos = rng.randrange(len(text))
            op = rng.randrange(3)
            char = rng.choice([*TOKENS[27:40], "x", " ", "\n", ":", "-"])
            text = text[:pos] + (char if op < 2 else "") + text[pos + (op > 0) :]
            continue
        if kind == 1:
            lines.pop(i)
        elif kind == 2:
            lines.insert(i, lines[rng.randrange(len(lines))])
        elif kind == 3:
            j = rng.randrange(len(lines))
            lines[i], lines[j] = lines[j], lines[i]
        elif kind == 4:  # a token inside a line
            pos = rng.randint(0, len(lines[i]))
            lines[i] = lines[i][:pos] + rng.choice(TOKENS) + lines[i][pos:]
        elif kind == 5 and ": " in lines[i]:  # a value replaced
            head = lines[i].split(": ", 1)[0]
            lines[i] = f"{head}: {rng.choice(VALUES)}"
        elif kind == 6:  # indentation shifted
            lines[i] = " " * rng.choice([1, 2, 3, 4, 8]) + lines[i] if rng.random() < 0.5 else lines[i].lstrip()
        elif kind == 7 and ": " in lines[i]:  # deep nesting
            depth = rng.choice([50, 101, 700, 2000])
            lines[i] = lines[i].split(": ", 1)[0] + ": " + "[" * depth + "]" * depth
        elif kind == 8 and ": " in lines[i]:  # a huge value
            lines[i] = (
                lines[i].split(": ", 1)[0] + ": " + rng.choice(["y" * 1_000_000, "1" * 5000, "'" + "z" * 200_000 + "'"])
            )
        elif kind == 9:  # an alias bomb at the top level, used somewhere
            text = ALIAS_BOMB + text.replace(": ", ": *f #", 1) if rng.random() < 0.5 else ALIAS_BOMB + text
            continue
        elif kind == 10:  # a line cut short (a truncated file)
            lines[i] = lines[i][: rng.randrange(len(lines[i]) + 1)]
            if rng.random() < 0.3:
                lines = lines[: i + 1]
        text = "\n".join(lines)
    return text


def spec_seeds() -> list[str]:
    return [p.read_text() for p in sorted((REPO / "specs").glob("*.yaml"))] + [
        'feature: p\nprompt: "Say {{ word }}"\nparams: {max_tokens: 4, temperature: 0}\n'
        "determinism: {runs: 2, agree: exact}\ncases:\n  - id: a\n    vars: {word: hi}\n    expect:\n"
        "      - contains: hi\n      - regex: '\\w+'\n        ignore_case: true\n      - {type: equals, value: hi}\n"
    ]


def recording_seeds() -> list[str]:
    return [p.read_text() for p in sorted((REPO / "specs" / "__recordings__").glob("*.yaml"))]


def feature_of(text: str) -> str:
    """The feature a (sound) recording is of: the file name it is found by."""
    import yaml

    return str(yaml.safe_load(text)["feature"])


def project(root: Path) -> Path:
    """A copy of the example project (specs, schemas, targets), where mutated specs are loaded."""
    if not (root / "examples").exists():
        shutil.copytree(REPO / "examples", root / "examples", ignore=shutil.ignore_patterns("__pycache__"))
        shutil.copytree(REPO / "specs" / "schemas", root / "specs" / "schemas")
        shutil.copytree(REPO / "specs" / "tools", root / "specs" / "tools")
        (root / "pyproject.toml").write_text('[tool.aitest]\nspecs = ["specs"]\n')
    return root / "specs"


def load_spec_text(text: str, root: Path) -> str:
    """Load one spec text as `aitest validate` and pytest's collection do: "ok" or "error" (our own error
    type, with a location). Anything else raised is a traceback a user would see: the caller fails."""
    from aitest.config import load_config
    from aitest.errors import AitestError
    from aitest.session import AitestSession

    path = project(root) / "fuzz.yaml"
    path.write_bytes(text.encode("utf-8", "surrogatepass"))
    try:
        AitestSession(load_config(root)).load(path)
    except AitestError:
        return "error"
    return "ok"


def load_recording_text(text: str, root: Path, *, feature: str | None = None, repair: bool = False) -> str:
    """Read one recording text as a replay does: "ok" or "error" (RecordingError naming the file).
    ``feature``: the feature it must be of; ``repair``: read as `--aitest-record=rewrite` does, where
    damaged entries are dropped and reported ("repaired")."""
    from aitest.errors import AitestError
    from aitest.recordings import fileformat

    path = root / "fuzz_recording.yaml"
    path.write_bytes(text.encode("utf-8", "surrogatepass"))
    try:
        loaded = fileformat.load(path, "fuzz_recording.yaml", feature=feature, repair=repair)
    except AitestError as error:
        assert error.location is not None and error.location.line > 0, f"no line: {error}"
        assert "--aitest-record" in error.hint or "git checkout" in error.hint or "upgrade" in error.hint, error.hint
        return "error"
    return "repaired" if loaded.dropped else "ok"


def damaged_recordings(text: str) -> list[tuple[str, str]]:
    """Each way a sound recording is damaged by hand (or by a bad merge), as (form, damaged text): every one
    must be refused on load, naming its line; none may replay."""
    import yaml

    from aitest.recordings.fileformat import readable_yaml

    data = yaml.safe_load(text)
    entries = data["entries"]

    def rendered(document: dict) -> str:
        return "# a damaged recording\n" + readable_yaml(document)

    def changed(**top: object) -> dict:
        return {**data, **top}

    def with_entries(items: list) -> dict:
        return changed(entries=items, entry_count=len(items))

    out: list[tuple[str, str]] = []
    for value in (0, -1, FORMAT_NEXT, "1", 1.0, True, None):
        out.append((f"version {value!r}", rendered(changed(version=value))))
    for value in ("other", "", ["a"], None):
        out.append((f"feature {value!r}", rendered(changed(feature=value))))
    n = len(entries)
    for value in (float(n), n + 1, n - 1, str(n), None):
        out.append((f"entry_count {value!r}", rendered(changed(entry_count=value))))
    missing = {k: v for k, v in data.items() if k != "entry_count"}
    out.append(("entry_count missing", rendered(missing)))
    for i, entry in enumerate(entries[:6]):
        request = entry["request"]

        def edited(index: int = i, **fields: object) -> list:
            return _replaced(entries, index, fields)

        if request["kind"] == "complete":
            prompt = {**request, "prompt": request["prompt"] + " (edited)"}
        else:
            messages = [dict(m) for m in request["messages"]]
            messages[-1]["content"] = f"{messages[-1].get('content')} (edited)"
            prompt = {**request, "messages": messages}
        out.append((f"entry {i + 1}: request edited, key kept", rendered(with_entries(edited(request=prompt)))))
        params = {**request, "params": {**request.get("params", {}), "temperature": 0.55}}
        out.append((f"entry {i + 1}: params edited, key kept", rendered(with_entries(edited(request=params)))))
        other_model = {**entry["model"], "model": entry["model"]["model"] + "-edited"}
        out.append((f"entry {i + 1}: model edited, key kept", rendered(with_entries(edited(model=other_model)))))
        out.append((f"entry {i + 1}: run edited, key kept", rendered(with_entries(edited(run=entry["run"] + 1)))))
        out.append((f"entry {i + 1}: made-up key", rendered(with_entries(edited(key="0123456789abcdef0123")))))
        if n > 1:
            j = (i + 1) % n
            swapped = [dict(e) for e in entries]
            swapped[i]["key"], swapped[j]["key"] = entries[j]["key"], entries[i]["key"]
            out.append((f"entry {i + 1}: key swapped with entry {j + 1}", rendered(with_entries(swapped))))
        twin = {**entry, "response": str(entry["response"]) + " (another answer)"}
        out.append((f"entry {i + 1}: twice, two answers", rendered(with_entries([*entries, twin]))))
        out.append((f"entry {i + 1}: twice, one answer", rendered(with_entries([*entries, dict(entry)]))))
    for i, record in enumerate((data.get("properties") or [])[:3]):
        records = data["properties"]

        def inputs(index: int = i, **fields: object) -> dict:
            return changed(properties=_replaced(data["properties"], index, fields))

        out.append((f"inputs {i + 1}: budget edited", rendered(inputs(budget=record["budget"] + 1))))
        out.append((f"inputs {i + 1}: property renamed", rendered(inputs(property=record["property"] + "_x"))))
        out.append((f"inputs {i + 1}: definition edited", rendered(inputs(definition="0" * 16))))
        out.append((f"inputs {i + 1}: made-up key", rendered(inputs(key="0123456789abcdef0123"))))
        out.append((f"inputs {i + 1}: twice", rendered(changed(properties=[*records, dict(record)]))))
    return out


FORMAT_NEXT = 3  # a version newer than aitest writes


def _replaced(items: list, index: int, fields: dict) -> list:
    """``items`` with the item at ``index`` updated by ``fields``."""
    return [*items[:index], {**items[index], **fields}, *items[index + 1 :]]
