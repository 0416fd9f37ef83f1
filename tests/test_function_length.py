"""Every function of charrnn reads on one screen: no body runs over 50 lines (its docstring,
which for a command is its --help, aside)."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "charrnn"
MAX_BODY = 50


def long_functions(path: Path, most: int = MAX_BODY) -> list[str]:
    """`file:line name (n lines)` for each function whose body, after its docstring, runs over `most` lines."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        body = node.body
        documented = isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant)
        start = body[1].lineno if documented and len(body) > 1 else body[0].lineno
        lines = node.end_lineno - start + 1
        if lines > most:
            found.append(f"{path.name}:{node.lineno} {node.name} ({lines} lines)")
    return found


def test_no_function_body_runs_over_50_lines():
    assert [found for path in sorted(PACKAGE.rglob("*.py")) for found in long_functions(path)] == []


def test_a_long_body_is_seen_and_a_docstring_is_not_counted(tmp_path):
    module = tmp_path / "m.py"
    doc = '    """' + "\n" * 60 + '    """\n'
    module.write_text(f"def short():\n{doc}    return 1\n\n\ndef long():\n" + "    x = 1\n" * 51)
    assert long_functions(module) == ["m.py:66 long (51 lines)"]
