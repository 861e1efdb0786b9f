"""The suite's hypothesis profile: no test fails for being slow on a loaded machine."""

from __future__ import annotations

import ast
from pathlib import Path

import hypothesis

TESTS = Path(__file__).parent


def test_the_loaded_profile_has_no_deadline() -> None:
    assert hypothesis.settings.default.deadline is None


def test_no_test_sets_a_deadline_of_its_own() -> None:
    """A ``@settings(deadline=...)`` other than None would bring the flake back."""
    offenders = []
    for path in sorted(TESTS.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "settings":
                for keyword in node.keywords:
                    value = keyword.value
                    if keyword.arg == "deadline" and not (
                        isinstance(value, ast.Constant) and value.value is None
                    ):
                        offenders.append(f"{path.relative_to(TESTS)}:{node.lineno}")
    assert offenders == []
