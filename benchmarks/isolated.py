"""Run one benchmark contender in a process of its own and get its figures back as JSON.

OpenBLAS's and OpenMP's worker threads keep spinning for a while after a call, so a library
timed right after another in the same process is slowed by the first one's threads. Each
contender therefore runs here in a fresh Python, one after the other, alternating in rounds;
under `workers=N` it runs as an MPI job of N processes and rank 0's figures come back.

    from isolated import run
    figures = run("scaling:charrnn_speed", {"config": "B", "seconds": 3}, env=env, workers=2)

As a script (what `run` starts): `python benchmarks/isolated.py MODULE:FUNCTION 'JSON KWARGS'`
imports MODULE from this folder, calls FUNCTION(**KWARGS) and prints its result as JSON.
"""

from __future__ import annotations

import importlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def run(target: str, kwargs: dict, env: dict | None = None, workers: int | None = None, timeout: float = 900):
    """target(**kwargs) in a fresh process (an MPI job of `workers` processes if given)."""
    cmd = [sys.executable, str(HERE / "isolated.py"), target, json.dumps(kwargs)]
    if workers is not None:
        mpiexec = shutil.which("mpiexec", path=str(Path(sys.executable).parent)) or shutil.which("mpiexec")
        if mpiexec is None:
            raise RuntimeError("no mpiexec: pip install 'charrnn[mpi]'")
        cmd = [mpiexec, "-n", str(workers), *cmd]
    env = dict(os.environ if env is None else env)
    env["PYTHONPATH"] = os.pathsep.join([str(HERE.parent), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout)
    if out.returncode != 0:
        raise RuntimeError(f"{target} failed ({out.returncode}): {out.stderr.strip()[-2000:]}")
    lines = [line for line in out.stdout.splitlines() if line.startswith("{")]
    return json.loads(lines[-1])


def main() -> None:
    module, function = sys.argv[1].split(":")
    sys.path.insert(0, str(HERE))
    result = getattr(importlib.import_module(module), function)(**json.loads(sys.argv[2]))
    if result is not None:  # rank 0's; the other ranks return None
        print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
