"""What the fused kernels cost at start: a run's first training step, from a fresh process, with
NumPy's kernels, with numba's loaded from its cache, and with numba's compiled afresh.

Each contender is a fresh Python (isolated.py) that builds a Trainer at a config of
reference.CONFIGS and takes two steps; the figure is the process's whole time from its start to
the end of the first step (Python, imports, the corpus, the trainer, numba loading or compiling
its kernels, the step), and the second step's time for comparison. "compiled" points
NUMBA_CACHE_DIR at an empty folder, so numba compiles every kernel the step uses and caches them
there (the first run after an install); "cached" is every later run. Alternating rounds, medians.

    python benchmarks/startup.py                 # config B, 3 rounds
    python benchmarks/startup.py --config A --rounds 5
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import isolated  # noqa: E402
import reference  # noqa: E402
import scaling  # noqa: E402


def two_steps(config: str) -> dict:
    """Seconds of the first and the second training step, one process on every core."""
    trainer = scaling._trainer(config)
    times = []
    for _ in range(2):
        t = time.perf_counter()
        trainer.train_step()
        times.append(time.perf_counter() - t)
    return {"first_step_s": times[0], "second_step_s": times[1], "kernels": trainer.kernels}


def measure(config: str, env: dict) -> dict:
    t = time.perf_counter()
    figures = isolated.run("startup:two_steps", {"config": config}, env)
    return {**figures, "to_first_step_s": time.perf_counter() - t}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", default="B", choices=list(reference.CONFIGS))
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    print(f"charrnn startup, config {args.config}: load average {os.getloadavg()[0]:.1f}", flush=True)
    rounds = []
    with tempfile.TemporaryDirectory() as tmp:
        contenders = {
            "NumPy kernels": lambda: measure(args.config, {**os.environ, scaling.KERNELS_VARIABLE: "numpy"}),
            "numba, cached": lambda: measure(args.config, {**os.environ, scaling.KERNELS_VARIABLE: "numba"}),
            "numba, compiled": lambda: measure(
                args.config,
                {**os.environ, scaling.KERNELS_VARIABLE: "numba", "NUMBA_CACHE_DIR": tempfile.mkdtemp(dir=tmp)},
            ),
        }
        names = list(contenders)
        for r in range(args.rounds):
            order = names[r % len(names) :] + names[: r % len(names)]
            figures = {name: contenders[name]() for name in order}
            rounds.append(figures)
            print(
                f"  round {r + 1}: "
                + ", ".join(
                    f"{k} {v['to_first_step_s']:.2f} s (first step {v['first_step_s']:.2f} s)"
                    for k, v in figures.items()
                ),
                flush=True,
            )
    for name in names:
        median = {
            key: statistics.median(f[name][key] for f in rounds)
            for key in ("to_first_step_s", "first_step_s", "second_step_s")
        }
        print(
            f"  {name}: {median['to_first_step_s']:.2f} s from the process's start to the end of the first step "
            f"(that step {median['first_step_s']:.2f} s; the second {median['second_step_s']:.3f} s)",
            flush=True,
        )
    print(f"  load average at the end {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
