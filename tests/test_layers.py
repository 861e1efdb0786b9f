"""Imports point one way: ``emission_list`` <- ``service`` <- ``consumers`` <- the composition
root (``service.commands``: the process runtime with its consumers, and the ``haze``
commands). Every import counts: at the top of a module, inside a function, or under
``TYPE_CHECKING``. (That the core imports only numpy and the standard library is
``tests/emission_list/test_purity.py``.)"""

from __future__ import annotations

import ast
from pathlib import Path

TOP = Path(__file__).resolve().parent.parent
PACKAGES = ("emission_list", "service", "consumers")
ROOT = "service.commands"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(TOP).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {
        _module_name(path): path for package in PACKAGES for path in (TOP / package).rglob("*.py")
    }


MODULES = _modules()


def _target(name: str) -> str | None:
    """The project module an imported name lives in (None: outside the project)."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def _imports(module: str) -> set[str]:
    path = MODULES[module]
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            names = [f"{base}.{alias.name}" for alias in node.names] or [base]
        else:
            continue
        found |= {target for name in names if (target := _target(name)) and target != module}
    return found


GRAPH = {module: _imports(module) for module in MODULES}


def _in(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def _offending(sources: str, forbidden: tuple[str, ...], *, exempt: str | None = None) -> list:
    return sorted(
        f"{module} imports {target}"
        for module, targets in GRAPH.items()
        if _in(module, sources) and not (exempt and _in(module, exempt))
        for target in targets
        if any(_in(target, f) for f in forbidden)
    )


def test_the_service_imports_neither_the_consumers_nor_the_composition_root() -> None:
    assert _offending("service", ("consumers", ROOT), exempt=ROOT) == []


def test_the_consumers_do_not_import_the_composition_root() -> None:
    assert _offending("consumers", (ROOT,)) == []


def _circles() -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    circles: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for target in GRAPH[module]:
            if target not in index:
                visit(target)
                low[module] = min(low[module], low[target])
            elif target in on_stack:
                low[module] = min(low[module], index[target])
        if low[module] == index[module]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == module:
                    break
            if len(component) > 1:
                circles.append(sorted(component))

    for module in sorted(GRAPH):
        if module not in index:
            visit(module)
    return circles


def test_no_modules_import_each_other_in_a_circle() -> None:
    assert _circles() == []


def test_the_graph_sees_the_imports_made_inside_functions() -> None:
    """A check on the checker: ``haze``'s parser imports its commands inside functions."""
    assert "service.commands.serve" in GRAPH["service.commands.cli"]
