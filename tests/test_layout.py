"""The package layout: imports point one way (lower layers never import upper ones), and no module cycles."""

from __future__ import annotations

import ast
from pathlib import Path

from conftest import ROOT

PACKAGE = ROOT / "src" / "quoteattr"
LAYERS = ["data", "systems", "evaluation", "labelstudio", "dataset", "training", "main_job", "cli"]
"""Each part may import itself and the parts before it, never one after it (README's layout section)."""


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(path: Path) -> set[str]:
    """Every quoteattr module a file imports, at module level or inside functions."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("quoteattr"):
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name.startswith("quoteattr"))
    return found


def layer(module: str) -> int | None:
    parts = module.split(".")
    return LAYERS.index(parts[1]) if len(parts) > 1 and parts[1] in LAYERS else None


def test_every_module_belongs_to_a_layer():
    modules = [module_name(p) for p in PACKAGE.rglob("*.py")]
    assert [m for m in modules if m != "quoteattr" and layer(m) is None] == []


def test_imports_point_down_the_layers():
    upward = []
    for path in PACKAGE.rglob("*.py"):
        source = module_name(path)
        if source == "quoteattr":
            continue  # the public API on top re-exports from below
        for target in imported_modules(path):
            if target != "quoteattr" and layer(target) > layer(source):
                upward.append(f"{source} imports {target}")
    assert upward == []


def test_no_import_cycles_between_modules():
    graph = {module_name(p): {t for t in imported_modules(p) if t != module_name(p)} for p in PACKAGE.rglob("*.py")}
    state: dict[str, str] = {}

    def visit(module: str, trail: list[str]) -> list[str] | None:
        if state.get(module) == "done":
            return None
        if state.get(module) == "open":
            return trail[trail.index(module) :] + [module]
        state[module] = "open"
        for target in sorted(graph.get(module, ())):
            if target in graph and target != "quoteattr" and not module.startswith(target + "."):
                cycle = visit(target, trail + [module])
                if cycle:
                    return cycle
        state[module] = "done"
        return None

    for module in sorted(graph):
        cycle = visit(module, [])
        assert cycle is None, " -> ".join(cycle)
