"""Peak memory of the streams against their length: `sample` and `inspect score` stay flat.

Trains a default-sized model (2 x 256 LSTM, and one of both sides) for one step on a synthetic
text, then runs each command in a subprocess of its own, measured by a small parent of its own
(the peak resident set size of its only child, RUSAGE_CHILDREN), and stops it with Ctrl-C
(SIGINT) after --seconds if it has not ended:

- `sample -n 1000000000000`, with --num-samples 1 and 2, its output read and counted (as far as
  it was flushed to the pipe), stopped after a fifth, two fifths and all of --seconds;
- `inspect score` of synthetic texts of 2, 20 and --mb megabytes (200 by default), and of an
  endless standard input (written to for as long as it reads);
- `inspect score` of the largest text with the model of both sides, which holds the text's ids.

`--against PATH` runs the score lines with the charrnn of another checkout too (its folder on
PYTHONPATH), to compare with the code before a change. Each line gives how much was written or
read and the peak RSS.

    python benchmarks/stream_memory.py                      # about 5 minutes
    python benchmarks/stream_memory.py --seconds 5 --mb 50
    python benchmarks/stream_memory.py --whole 20           # a 20 MB text scored to its end
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
ALPHABET = np.frombuffer(b"abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZ.,;:!?'\n-", dtype=np.uint8)

# One run's parent: starts the command, feeds its stdin (if asked) and drains its stdout, sends
# SIGINT after `seconds` unless it has ended, then prints one JSON line: the bytes read from its
# stdout and written to its stdin, its exit code, its last stderr line and its peak RSS in KiB.
PARENT = r"""
import json, resource, signal, subprocess, sys, threading
cmd, seconds, feed = json.loads(sys.argv[1]), float(sys.argv[2]), sys.argv[3] == "feed"
child = subprocess.Popen(cmd, stdin=subprocess.PIPE if feed else subprocess.DEVNULL,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
count = {"read": 0, "written": 0}
def feeding():
    block = b"the quick brown fox jumps over the lazy dog.\n" * 1500
    try:
        while True:
            child.stdin.write(block)
            count["written"] += len(block)
    except (BrokenPipeError, ValueError, OSError):
        pass
def draining():
    while chunk := child.stdout.read1(1 << 16):
        count["read"] += len(chunk)
if feed:
    threading.Thread(target=feeding, daemon=True).start()
drain = threading.Thread(target=draining, daemon=True)
drain.start()
try:
    child.wait(seconds)
except subprocess.TimeoutExpired:
    child.send_signal(signal.SIGINT)
    child.wait(120)
drain.join(10)
said = child.stderr.read().decode("utf-8", "replace").strip().splitlines()
print(json.dumps({**count, "code": child.returncode, "said": said[-1] if said else "",
                  "rss_kib": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}))
"""


def write_text(path: Path, megabytes: int, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    with open(path, "wb") as f:
        for _ in range(megabytes):
            f.write(ALPHABET[rng.integers(0, len(ALPHABET), 1 << 20)].tobytes())


def charrnn(*args) -> list[str]:
    return [sys.executable, "-m", "charrnn", *map(str, args)]


def measured(cmd: list[str], seconds: float, feed: bool = False, code: Path = ROOT) -> dict:
    # run from the checkout too: python -m puts the working directory first on the path
    env = {**os.environ, "PYTHONPATH": str(code)}
    parent = [sys.executable, "-c", PARENT, json.dumps(cmd), str(seconds), "feed" if feed else "-"]
    run = subprocess.run(parent, check=True, capture_output=True, text=True, env=env, cwd=code)
    return json.loads(run.stdout)


def how(run: dict, seconds: float) -> str:
    """How the run ended: by itself, or stopped, with what it said then."""
    ended = "read to its end" if run["code"] == 0 else f"stopped after {seconds:.0f} s"
    return f"{ended}, exit {run['code']}: {run['said'] or 'nothing said'}"


def mb(run: dict) -> str:
    return f"peak RSS {run['rss_kib'] / 1024:,.0f} MB"


def train(corpus: Path, ckpt: Path, *extra: str) -> None:
    args = ["train", corpus, "-c", ckpt, "-q", "--max-steps", "1", "--eval-every", "1", "--eval-chars", "1000"]
    subprocess.run(
        charrnn(*args, "--sample-length", "0", *extra), check=True, env={**os.environ, "PYTHONPATH": str(ROOT)}
    )


def samples(ckpt: Path, seconds: float) -> None:
    for n in (1, 2):
        for share in (0.2, 0.4, 1.0):
            run = measured(charrnn("sample", "-c", ckpt, "-n", 10**12, "--num-samples", n), seconds * share)
            print(
                f"sample -n 10^12 --num-samples {n}, {run['read']:,} characters written, {mb(run)} "
                f"({how(run, seconds * share)})",
                flush=True,
            )


def scores(tmp: Path, ckpt: Path, both: Path, seconds: float, sizes: list[int], codes: dict[str, Path]) -> None:
    for size in sizes:
        text = tmp / f"text-{size}mb.txt"
        write_text(text, size, seed=size)
        for name, code in codes.items():
            run = measured(charrnn("inspect", "score", text, "-c", ckpt, "--json"), seconds, code=code)
            print(f"{name}: inspect score of a {size:,} MB text, {mb(run)} ({how(run, seconds)})", flush=True)
        if size == sizes[-1]:
            run = measured(charrnn("inspect", "score", text, "-c", both, "--json"), seconds * 4)
            print(f"both sides: inspect score of a {size:,} MB text, {mb(run)} ({how(run, seconds * 4)})", flush=True)
        text.unlink()
    for name, code in codes.items():
        run = measured(charrnn("inspect", "score", "-", "-c", ckpt, "--json"), seconds, feed=True, code=code)
        print(
            f"{name}: inspect score of an endless standard input, {run['written']:,} bytes written to it, {mb(run)} "
            f"({how(run, seconds)})",
            flush=True,
        )


def whole(size: int) -> None:
    """A text of `size` MB scored to its end by a model small enough to read it in minutes."""
    with tempfile.TemporaryDirectory(prefix="charrnn-streams-") as tmp:
        tmp = Path(tmp)
        corpus, ckpt, text = tmp / "corpus.txt", tmp / "small.npz", tmp / "text.txt"
        write_text(corpus, 1)
        train(corpus, ckpt, "--model", "rnn", "--hidden-size", "16", "--layers", "1")
        write_text(text, size, seed=size)
        run = measured(charrnn("inspect", "score", text, "-c", ckpt, "--json"), 3600)
        print(f"this: inspect score of a {size:,} MB text to its end (RNN 1 x 16), {mb(run)} ({how(run, 3600)})")


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=20.0, help="how long each run goes on before Ctrl-C")
    ap.add_argument("--mb", type=int, default=200, help="the largest text scored, in megabytes")
    ap.add_argument("--against", type=Path, help="another checkout whose charrnn scores the same texts")
    ap.add_argument("--no-sample", action="store_true", help="only the lines of inspect score")
    ap.add_argument(
        "--whole", type=int, metavar="MB", help="instead: score a text of MB megabytes to its end (1 x 16 RNN)"
    )
    args = ap.parse_args(argv)
    if args.whole:
        return whole(args.whole)
    codes = {"this": ROOT, **({"against": args.against.resolve()} if args.against else {})}
    with tempfile.TemporaryDirectory(prefix="charrnn-streams-") as tmp:
        tmp = Path(tmp)
        corpus, ckpt, both = tmp / "corpus.txt", tmp / "model.npz", tmp / "both.npz"
        write_text(corpus, 1)
        train(corpus, ckpt)
        train(corpus, both, "--bidirectional")
        if not args.no_sample:
            samples(ckpt, args.seconds)
        scores(tmp, ckpt, both, args.seconds, [2, 20, args.mb], codes)


if __name__ == "__main__":
    main()
