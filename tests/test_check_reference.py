"""The check reference of docs/specs.md is made from the registry, and every check's example loads."""

from __future__ import annotations

from pathlib import Path

import pytest

from aitest.checks.reference import BEGIN, END, built_in, rewritten
from conftest import Project

REPO = Path(__file__).resolve().parent.parent


def test_the_reference_in_docs_is_current() -> None:
    text = (REPO / "docs/specs.md").read_text()
    assert BEGIN in text and END in text
    assert text == rewritten(text), "run: python -m aitest.checks.reference docs/specs.md"


def test_every_built_in_check_has_an_example_that_loads(project: Project) -> None:
    pytest.importorskip("sqlglot")  # is_sql's example needs the metrics extra
    pytest.importorskip("lingua")
    examples = [(name, cls.example) for name, cls in built_in().items()]
    assert all(example for _, example in examples), [n for n, e in examples if not e]
    project.file("checks/__init__.py", "")
    project.file("checks/tone.py", "def is_polite(output):\n    return True\n")
    project.file("specs/schemas/invoice.json", '{"type": "object"}')
    tools = "tools:\n" + "".join(
        f"  - {{type: function, function: {{name: {n}, parameters: {{type: object, properties: {{}}}}}}}}\n"
        for n in ("lookup_order", "cancel_order", "refund_order")
    )
    items = "".join(f"      - {example}\n" for _, example in examples)
    project.spec(
        "specs/all.yaml",
        "feature: all\nmessages:\n  - user: hi\n" + tools + "max_steps: 3\ncases:\n  - id: a\n    expect:\n" + items,
    )
    result = project.pytester.run(str(Path(__import__("sys").executable).parent / "aitest"), "validate")
    assert result.ret == 0, result.stdout.str() + result.stderr.str()
