"""Novelty checks: the suffix array's build time and a 1,000-character check on the shipped corpora,
and the memory the build takes, which bounds what a corpus of any size can cost.

For each shipped corpus (and tinyshakespeare, where /work/shared has it), in a fresh subprocess:
build the index, check a 1,000-character text (half copied from the corpus, half prose it does not
have), and print the median of --rounds rounds and the child's peak RSS. Then the build's peak RSS
on synthetic corpora of growing size, up to the largest the index takes (MAX_INDEX_CHARS), and the
time it takes to refuse a 500 MB corpus (the checkpoint's record says its size, so nothing is read).

    python benchmarks/novelty.py
    python benchmarks/novelty.py --rounds 5 --sizes 1,8
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPORA = [ROOT / "corpora/shakespeare.txt", ROOT / "corpora/python_code.txt"]
TINY = Path("/work/shared/corpora/tinyshakespeare.txt")

CHILD = r"""
import json, resource, sys, time
import numpy as np
from charrnn.analysis.novelty import CorpusIndex
from charrnn.data.corpus import read_corpus
path, rounds, synthetic = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
if synthetic:
    rng = np.random.default_rng(0)
    chars = [chr(c) for c in range(32, 97)]
    ids = rng.integers(0, len(chars), synthetic).astype(np.uint8)
    text = "".join(chars[i] for i in ids[1000:1500]) + "x" * 500
else:
    corpus = read_corpus(path)
    ids, chars = corpus.ids, corpus.vocab.chars
    prose = open(sys.argv[4]).read()[:500]
    text = "".join(chars[i] for i in ids[len(ids) // 2 : len(ids) // 2 + 500]) + prose
builds, checks, cpu = [], [], []
for _ in range(rounds):
    t0, c0 = time.perf_counter(), time.process_time()
    index = CorpusIndex(ids, chars)
    t1 = time.perf_counter()
    found = index.novelty(text[:1000])
    checks.append(time.perf_counter() - t1)
    builds.append(t1 - t0)
    cpu.append(time.process_time() - c0)
    del index
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"chars": int(len(ids)), "build": sorted(builds)[rounds // 2], "check": sorted(checks)[rounds // 2], "cpu": sorted(cpu)[rounds // 2],
                  "peak_mb": peak, "longest": found.longest, "copied_share": found.copied_share}))
"""

REFUSE = r"""
import sys, time
from charrnn.analysis import novelty
from charrnn.metadata import CorpusRecord
from charrnn.errors import DataError
t0 = time.perf_counter()
try:
    novelty.training_corpus(
        CorpusRecord.of({"name": "big.txt", "chars": 500_000_000, "bytes": 500_000_000, "path": sys.executable})
    )
except DataError as e:
    print(f"{time.perf_counter() - t0:.4f} s: {e}")
"""


def child(*args) -> dict:
    out = subprocess.run([sys.executable, "-c", CHILD, *map(str, args)], capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--sizes", default="1,4,16,32", help="synthetic corpus sizes, in millions of characters")
    args = ap.parse_args()
    print(
        "corpus                    chars      build s  check 1,000 chars s  both, CPU s  peak RSS MB  longest  copied"
    )
    for path in CORPORA + ([TINY] if TINY.exists() else []):
        r = child(path, args.rounds, 0, ROOT / "README.md")
        print(
            f"{path.name:24} {r['chars']:>10,} {r['build']:9.3f} {r['check']:20.3f} {r['cpu']:12.3f} {r['peak_mb']:12.0f}"
            f" {r['longest']:8} {r['copied_share']:7.1%}"
        )
    base = child(CORPORA[0], 1, 1000, ROOT / "README.md")["peak_mb"]
    print(f"\nbuild's peak RSS on random text (64 characters), beside {base:.0f} MB for a 1,000-character corpus:")
    for millions in [int(s) for s in args.sizes.split(",")]:
        r = child("-", 1, millions * 1_000_000)
        per_char = (r["peak_mb"] - base) * 2**20 / r["chars"]
        print(
            f"  {r['chars']:>11,} chars: build {r['build']:6.2f} s, peak {r['peak_mb']:6.0f} MB ({per_char:.1f} B/char)"
        )
    print("\na 500 MB corpus:")
    print("  " + subprocess.run([sys.executable, "-c", REFUSE], capture_output=True, text=True).stdout.strip())


if __name__ == "__main__":
    main()
