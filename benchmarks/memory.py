"""Peak memory of training on a large corpus: it must not grow with the corpus.

Writes a synthetic text of --mb megabytes (default 500) to a temporary directory, then runs
`charrnn train` on it in a subprocess for a few steps of config B (2 x 256 LSTM, batch 32,
seq 64) and prints the child's peak resident set size (resource.getrusage), beside the same
run on a 5 MB text for comparison, and on a folder of --files files (default 5,000) that hold
the large text between them (read as documents: data/corpus.py). Reading the corpus streams it
in 1 MiB chunks and memory-maps its ids (one byte per character here), so the figures should be
close.

    python benchmarks/memory.py            # 500 MB
    python benchmarks/memory.py --mb 50 --files 1000
    python benchmarks/memory.py --workers 2   # an MPI job of 2: the peak of its largest process
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ALPHABET = np.frombuffer(b"abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZ.,;:!?'\n-", dtype=np.uint8)


def write_corpus(path: Path, megabytes: int, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    with open(path, "wb") as f:
        for _ in range(megabytes):
            f.write(ALPHABET[rng.integers(0, len(ALPHABET), 1 << 20)].tobytes())


def write_folder(folder: Path, megabytes: int, n_files: int, seed: int = 0) -> None:
    """n_files files holding `megabytes` of text between them."""
    rng = np.random.default_rng(seed)
    folder.mkdir()
    size = (megabytes << 20) // n_files
    for i in range(n_files):
        (folder / f"{i:06}.txt").write_bytes(ALPHABET[rng.integers(0, len(ALPHABET), size)].tobytes())


def peak_rss_of_training(corpus: Path, workdir: Path, workers: str) -> tuple[float, float]:
    """(peak RSS in MB, wall seconds) of a short `charrnn train` run in a fresh subprocess; with
    several workers, of the largest process (RUSAGE_CHILDREN holds the largest descendant waited
    for, and mpiexec waits for every worker)."""
    cmd = [
        sys.executable,
        "-m",
        "charrnn",
        "train",
        str(corpus),
        "-q",
        "--force",
        "-c",
        str(workdir / "mem.npz"),
        "--hidden-size",
        "256",
        "--layers",
        "2",
        "--batch-size",
        "32",
        "--seq-len",
        "64",
        "--max-steps",
        "5",
        "--eval-every",
        "5",
        "--eval-chars",
        "20000",
        "--sample-length",
        "0",
        "--workers",
        workers,
    ]
    # run through a tiny parent so RUSAGE_CHILDREN holds this run alone
    probe = (
        "import resource, subprocess, sys\n"
        f"subprocess.run({cmd!r}, check=True)\n"
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
    )
    start = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", probe], check=True, capture_output=True, text=True)
    return int(out.stdout.strip()) / 1024, time.perf_counter() - start  # ru_maxrss is in KiB on Linux


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mb", type=int, default=500, help="size of the large synthetic corpus")
    ap.add_argument("--workers", default="1", help="worker processes (needs the mpi extra beyond 1)")
    ap.add_argument("--files", type=int, default=5000, help="files of the folder that holds it too")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="charrnn-mem-") as tmp:
        tmp = Path(tmp)
        for mb in (5, args.mb):
            corpus = tmp / f"corpus-{mb}mb.txt"
            write_corpus(corpus, mb)
            rss, seconds = peak_rss_of_training(corpus, tmp, args.workers)
            print(
                f"corpus {mb:,} MB, {args.workers} worker(s): peak RSS {rss:,.0f} MB per process (read, encode and "
                f"5 training steps of config B in {seconds:.0f} s)"
            )
            corpus.unlink()
        folder = tmp / "folder"
        write_folder(folder, args.mb, args.files)
        rss, seconds = peak_rss_of_training(folder, tmp, args.workers)
        print(
            f"folder of {args.files:,} files, {args.mb:,} MB, {args.workers} worker(s): peak RSS {rss:,.0f} MB per "
            f"process (read, encode and 5 training steps of config B in {seconds:.0f} s)"
        )
    print(f"this process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MB")


if __name__ == "__main__":
    main()
