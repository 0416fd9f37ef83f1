"""The command line starts without the library: `charrnn --help`, a command's `--help` and a
usage error load no NumPy (seen by `python -X importtime`), and `import charrnn.cli` leaves the
environment as it was (a worker under mpiexec shares out the cores in `main()`, before NumPy
starts its BLAS: tests/test_training_on_several_workers.py). The modules only a command's body
loads import at the top."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

CLI = Path(__file__).resolve().parent.parent / "charrnn" / "cli"
MPI_WORKER = {"PMI_SIZE": "2", "MPI_LOCALNRANKS": "2"}  # what mpiexec sets for each of 2 workers on one host
THREADS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def python(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    environ = {k: v for k, v in os.environ.items() if k not in THREADS and k not in MPI_WORKER}
    return subprocess.run(
        [sys.executable, *args], capture_output=True, text=True, timeout=60, env={**environ, **(env or {})}
    )


def imported(importtime: str) -> set[str]:
    """The modules `python -X importtime` says were imported."""
    return {line.rsplit("|", 1)[1].strip() for line in importtime.splitlines() if line.startswith("import time:")}


@pytest.mark.parametrize(
    "args, status",
    [
        (["--help"], 0),
        (["train", "--help"], 0),
        (["sample", "--help"], 0),
        (["inspect", "score", "--help"], 0),
        (["export", "--help"], 0),
        (["train"], 2),  # no corpus
        (["sample", "--temp", "warm"], 2),
        (["inspect", "neurons", "-", "--unit", "one"], 2),
        (["export"], 2),  # no page
        (["tran", "corpus.txt"], 2),  # no such command
    ],
    ids=lambda value: " ".join(value) if isinstance(value, list) else None,
)
def test_help_and_usage_errors_load_no_numpy(args, status):
    done = python("-X", "importtime", "-m", "charrnn", *args)
    assert done.returncode == status, done.stderr[-2000:]
    loaded = imported(done.stderr)
    assert "charrnn.cli" in loaded
    assert "numpy" not in loaded


def test_importing_the_command_line_loads_no_numpy_and_leaves_the_environment_alone():
    code = "import os, sys; before = dict(os.environ); import charrnn.cli; print(before == dict(os.environ))"
    done = python("-X", "importtime", "-c", code, env=MPI_WORKER)
    assert done.stdout.strip() == "True", done.stderr[-2000:]
    assert "numpy" not in imported(done.stderr)


def imports_in_functions(path: Path) -> list[str]:
    """The import statements of a module that sit inside a function: `line: statement`."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            for inner in ast.walk(node):
                if isinstance(inner, ast.Import | ast.ImportFrom):
                    found.append(f"{path.name}:{inner.lineno}: {ast.unparse(inner)}")
    return found


def test_modules_only_a_command_body_loads_import_at_the_top():
    done = python("-c", "import json, sys, charrnn.cli; print(json.dumps(sorted(sys.modules)))")
    light = {name for name in json.loads(done.stdout) if name.startswith("charrnn.cli")}
    body_only = []
    for path in sorted(CLI.rglob("*.py")):
        parts = path.relative_to(CLI.parent.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        if name not in light:
            body_only.append(path)
    assert len(body_only) >= 10  # render/, facts, progress and train's modules but command and workers
    assert [found for path in body_only for found in imports_in_functions(path)] == []


def test_an_import_inside_a_function_is_seen(tmp_path):
    module = tmp_path / "m.py"
    module.write_text("import os\n\n\ndef f():\n    from pathlib import Path\n\n    return Path, os\n")
    assert imports_in_functions(module) == ["m.py:5: from pathlib import Path"]
