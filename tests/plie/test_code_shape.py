"""The shape of the code, checked on every run: functions short enough to read at once."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
APPS = ["plie", "territories", "operations", "participants", "steps", "applications", "reporting", "privacy"]
APPS += ["agenda", "printouts", "controls", "home", "imports", "demo", "scripts"]
MAX_LINES = 60


def long_functions():
    for app in APPS:
        for path in sorted((ROOT / app).rglob("*.py")):
            name = path.relative_to(ROOT).as_posix()
            if "/migrations/" in name:
                continue
            for node in ast.walk(ast.parse(path.read_text(), name)):
                if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                    start = min([node.lineno, *(d.lineno for d in node.decorator_list)])
                    length = node.end_lineno - start + 1
                    if length > MAX_LINES:
                        yield f"{name}:{node.lineno} {node.name} ({length} lignes)"


def test_no_function_is_longer_than_60_lines():
    assert list(long_functions()) == []
