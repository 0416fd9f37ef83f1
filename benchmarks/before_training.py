"""The work before a training run's first step, phase by phase: reading the text, setting up the
Trainer (the weights, the split, the measured validation plan) and the n-gram baselines; then a
whole `charrnn train --max-steps 1` (start-up, one step, one validation and one save) as the
command line runs it.

On ../shared/corpora/tinyshakespeare.txt and on a 100 MB text made of copies of it and of
Python's documentation topics, written to a temporary file. Each phase is given in wall seconds
and in CPU seconds of this process: on a busy machine the wall time grows with the load, while
the CPU time is what the phase costs on a quiet one (the phases run on one core; the script sets
one BLAS thread before NumPy is imported). The budget is 2 % of a 10-minute run: 12 s.

    python benchmarks/before_training.py
    python benchmarks/before_training.py --mb 20 --no-cli
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # before NumPy: the phases are measured on one core

import argparse  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

from reference import default_corpus_path  # noqa: E402

TINY = default_corpus_path()


def clocks() -> tuple[float, float]:
    return time.perf_counter(), time.process_time()


def phases(path: Path) -> dict[str, tuple[float, float]]:
    """Wall and CPU seconds of each phase before the first step, in this process."""
    from charrnn.config import ModelConfig, TrainConfig
    from charrnn.data.corpus import read_corpus
    from charrnn.training.trainer import Trainer

    spent, last = {}, clocks()

    def lap(name: str) -> None:
        nonlocal last
        now = clocks()
        spent[name] = (now[0] - last[0], now[1] - last[1])
        last = now

    corpus = read_corpus(path)
    lap("read")
    trainer = Trainer(corpus, ModelConfig(), TrainConfig())
    lap("trainer")
    trainer.measure_baselines()
    lap("baselines")
    return spent


def whole_command(path: Path, tmp: Path, workers: str) -> float:
    """Wall seconds of `charrnn train PATH --max-steps 1` (one step, validated and saved)."""
    cmd = [sys.executable, "-m", "charrnn", "train", str(path), "-c", str(tmp / "m.npz"), "--force", "-q"]
    start = time.perf_counter()
    subprocess.run([*cmd, "--max-steps", "1", "--workers", workers], check=True, capture_output=True)
    return time.perf_counter() - start


def big_text(tmp: Path, mb: int) -> Path:
    import pydoc_data.topics

    piece = TINY.read_text(encoding="utf-8") + "\n\n".join(pydoc_data.topics.topics.values())
    path = tmp / f"text_{mb}mb.txt"
    with open(path, "w", encoding="utf-8") as f:
        for _ in range(-(-mb * 1_000_000 // len(piece))):
            f.write(piece)
    return path


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mb", type=int, default=100, help="size of the large text, in megabytes")
    ap.add_argument("--no-cli", action="store_true", help="leave out the whole command's time")
    ap.add_argument("--workers", default="auto", help="--workers of the whole command")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for path in (TINY, big_text(tmp, args.mb)):
            spent = phases(path)
            total = sum(w for w, _ in spent.values()), sum(c for _, c in spent.values())
            shown = "; ".join(f"{k} {w:.2f} s ({c:.2f} s CPU)" for k, (w, c) in spent.items())
            print(
                f"{path.name} ({path.stat().st_size / 1e6:.1f} MB): {shown}; before the first step {total[0]:.2f} s "
                f"({total[1]:.2f} s CPU)",
                flush=True,
            )
            if not args.no_cli:
                seconds = whole_command(path, tmp, args.workers)
                print(
                    f"{path.name}: charrnn train --max-steps 1 --workers {args.workers}: {seconds:.2f} s in all",
                    flush=True,
                )


if __name__ == "__main__":
    main()
