"""The library layer stays free of the command line: no click, rich or tqdm, no printing, and no
command-line flag named in any of its strings (the advice that names flags is cli/errors.py's).

Every module of the package outside `charrnn.cli` is found by walking the package, so a new
module is checked without anyone adding it to a list. The imports are checked in a fresh
interpreter, since this test session itself may have imported the command line's packages.
"""

from __future__ import annotations

import ast
import json
import pkgutil
import re
import subprocess
import sys
from pathlib import Path

import charrnn

ROOT = Path(__file__).resolve().parent.parent
UI_PACKAGES = ("click", "rich", "tqdm")


def library_modules() -> list[str]:
    names = ["charrnn"] + [m.name for m in pkgutil.walk_packages(charrnn.__path__, "charrnn.")]
    return sorted(
        n for n in names if n != "charrnn.__main__" and not (n == "charrnn.cli" or n.startswith("charrnn.cli."))
    )


def source_of(module: str) -> Path:
    path = ROOT / module.replace(".", "/")
    return path / "__init__.py" if path.is_dir() else path.with_suffix(".py")


def probe(modules: list[str], extra: str = "") -> list[str]:
    code = f"import json, sys{extra}\nimport {', '.join(modules)}\n" + (
        f"print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in {UI_PACKAGES!r})))"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True, timeout=60)
    return json.loads(out.stdout)


def test_the_walk_finds_every_layer():
    found = library_modules()
    for expected in (
        "charrnn.nn.model",
        "charrnn.nn.cells.lstm",
        "charrnn.generation.stepper",
        "charrnn.web.text_page",
        "charrnn.data.batching",
        "charrnn.training.trainer",
        "charrnn.checkpoint",
    ):
        assert expected in found


def test_library_imports_leave_click_rich_and_tqdm_unloaded():
    assert probe(library_modules()) == []


def test_the_probe_would_notice_a_ui_import():
    """The same probe, with click imported on purpose, reports it: the test above can fail."""
    assert "click" in probe(library_modules(), extra=", click")


def prints(source: str) -> list[int]:
    """Lines that call print() or touch sys.stdout / sys.stderr."""
    lines = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "print":
            lines.append(node.lineno)
        if (
            isinstance(node, ast.Attribute)
            and node.attr in ("stdout", "stderr")
            and isinstance(node.value, ast.Name)
            and node.value.id == "sys"
        ):
            lines.append(node.lineno)
    return lines


def test_library_modules_never_print():
    offenders = {m: prints(source_of(m).read_text()) for m in library_modules()}
    assert {m: lines for m, lines in offenders.items() if lines} == {}


def test_the_print_check_would_notice_a_print():
    assert prints("import sys\nprint('x')\nsys.stdout.write('y')\n") == [2, 3]


def test_import_charrnn_is_light_and_load_is_there_on_first_use():
    code = (
        "import json, sys\nimport charrnn\nbefore = sorted(m for m in sys.modules if m.split('.')[0] in ('numpy', 'charrnn'))\n"
        "charrnn.LanguageModel, charrnn.load\nprint(json.dumps([before, 'numpy' in sys.modules]))"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True, timeout=60)
    before, numpy_after = json.loads(out.stdout)
    assert before == ["charrnn"]
    assert numpy_after


FLAG = re.compile(r"(?<![\w-])(--[a-z][a-z0-9-]*|-c)(?![\w-])")  # --val-fraction, -c


def flags_named(source: str) -> list[tuple[int, str]]:
    """(line, flag) for each command-line flag that a string constant (docstrings and f-string
    parts included) of `source` names."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            found += [(node.lineno, m) for m in FLAG.findall(node.value)]
    return sorted(found)


def test_library_modules_never_name_a_flag():
    """The library says what happened; which flag to change is the command line's to say
    (cli/errors.py), from its one table of flags."""
    offenders = {m: flags_named(source_of(m).read_text()) for m in library_modules()}
    assert {m: found for m, found in offenders.items() if found} == {}


def test_the_flag_check_would_notice_a_flag():
    source = 'raise E(f"{n} characters: raise --val-fraction")\nx = "pass -c PATH"\ny = "utf-8 and a-c"\n'
    assert flags_named(source) == [(1, "--val-fraction"), (2, "-c")]
