"""The layering holds: models ← services ← blueprints and jobs, with no import cycle.

The graph counts every import, function-local ones included: a lazy import hides a cycle from
Python, not from this test. The app factory (`nexus/__init__.py`) is the composition root that
entry points import lazily, so edges into it are not counted.
"""

from __future__ import annotations

import ast
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _modules() -> dict[str, Path]:
    found = {}
    for path in (ROOT / "nexus").rglob("*.py"):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def _owner(name: str, modules: dict[str, Path]) -> str | None:
    """The module of ours that an imported name lives in (`a.b.func` → `a.b`)."""
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name or None


def _imported(node: ast.AST, package: str, modules: dict[str, Path]) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if not isinstance(node, ast.ImportFrom):
        return []
    base = node.module or ""
    if node.level:
        anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
        base = ".".join([*anchor, base] if base else anchor)
    # `from pkg import sub` depends on the submodule; `from pkg import name` on pkg itself
    return [f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base for a in node.names]


def import_graph() -> dict[str, set[str]]:
    """Module → the modules of `nexus` it imports anywhere in its body."""
    modules = _modules()
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        targets = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            for imported in _imported(node, package, modules):
                owner = _owner(imported, modules)
                if owner not in (None, name, "nexus"):
                    targets.add(owner)
        graph[name] = targets
    graph.pop("nexus", None)
    return graph


def test_the_graph_sees_function_local_imports() -> None:
    graph = import_graph()
    assert "nexus.services" in graph["nexus.services.identity.passwords"]
    assert "nexus.queue" in graph["nexus.jobs.mail"]


def test_no_import_cycle() -> None:
    try:
        tuple(TopologicalSorter(import_graph()).static_order())
    except CycleError as err:
        pytest.fail(f"import cycle: {' -> '.join(err.args[1])}")


def test_services_never_import_jobs_or_views() -> None:
    """Services enqueue jobs by dotted name (nexus.queue); they know nothing of the web layer."""
    wrong = sorted(
        f"{module} -> {target}"
        for module, targets in import_graph().items()
        if module.startswith(("nexus.services", "nexus.models"))
        for target in targets
        if target.startswith(("nexus.jobs", "nexus.blueprints"))
    )
    assert wrong == []


def test_models_never_import_services() -> None:
    wrong = sorted(
        f"{module} -> {target}"
        for module, targets in import_graph().items()
        if module.startswith("nexus.models")
        for target in targets
        if target.startswith(("nexus.services", "nexus.jobs", "nexus.blueprints"))
    )
    assert wrong == []
