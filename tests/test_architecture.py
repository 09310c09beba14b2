"""The shape of the package: no import cycles, and the plugin's hooks only delegate."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "aitest"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(tree: ast.AST, modules: set[str]) -> set[str]:
    """Every aitest module imported anywhere in ``tree`` (in functions too), except for type checking only."""
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name in modules)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                candidate = f"{node.module}.{alias.name}"
                found.add(candidate if candidate in modules else node.module)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return {name for name in found if name in modules}


def import_graph() -> dict[str, set[str]]:
    files = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    modules = set(files)
    return {name: _imports(ast.parse(path.read_text()), modules) - {name} for name, path in files.items()}


def find_cycle(graph: dict[str, set[str]]) -> list[str]:
    """One import cycle as a list of modules (first = last), or [] when there is none."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    stack: list[str] = []

    def visit(node: str) -> list[str]:
        state[node] = 1
        stack.append(node)
        for target in sorted(graph[node]):
            if state.get(target) == 1:
                return [*stack[stack.index(target) :], target]
            if target not in state:
                cycle = visit(target)
                if cycle:
                    return cycle
        stack.pop()
        state[node] = 2
        return []

    for start in sorted(graph):
        if start not in state:
            cycle = visit(start)
            if cycle:
                return cycle
    return []


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) == []


def test_no_import_cycle_in_aitest() -> None:
    graph = import_graph()
    assert "aitest.plugin" in graph and "aitest.models.providers.registry" in graph
    assert find_cycle(graph) == []


def test_nothing_below_the_pytest_glue_imports_pytest() -> None:
    glue = {"aitest.plugin", "aitest.items"}
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        name = _module_name(path)
        tree = ast.parse(path.read_text())
        uses = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        uses |= {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
        if name not in glue and any(u == "pytest" or u.startswith(("pytest.", "_pytest")) for u in uses):
            offenders.append(name)
    assert offenders == []


def test_plugin_hooks_delegate() -> None:
    """Each hook of plugin.py is short: the work is the session's (aitest.session)."""
    tree = ast.parse((PACKAGE / "plugin.py").read_text())
    hooks = [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name.startswith("pytest_")]
    assert len(hooks) >= 6
    long_hooks = {h.name: h.end_lineno - h.lineno for h in hooks if (h.end_lineno or 0) - h.lineno > 30}
    assert long_hooks == {}
