"""The domain core imports only numpy and the standard library."""

import ast
import sys
from pathlib import Path

import emission_list

ALLOWED = set(sys.stdlib_module_names) | {"numpy", "emission_list", "__future__"}


def _imported_roots(path: Path) -> set[str]:
    roots = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module.split(".")[0])
    return roots


def test_domain_core_imports_only_numpy_and_stdlib():
    package = Path(emission_list.__file__).parent
    files = sorted(package.rglob("*.py"))
    assert len(files) > 5
    offenders = {str(f.relative_to(package)): sorted(_imported_roots(f) - ALLOWED) for f in files}
    assert {f: bad for f, bad in offenders.items() if bad} == {}
