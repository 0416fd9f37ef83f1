"""Novelty checks of texts copied from the corpus: their time grows with the text, not with its square.

A comparison in the suffix array's binary search costs as much as the prefix the two suffixes
share, so a text copied whole from the corpus is the costly case: every one of its positions
shares thousands of characters with the corpus. For growing lengths, in one process with the
index built once, this times the check of a text copied whole from the corpus (its middle) and of
a text of the same length the corpus does not have (random letters), alternating the two in each
of --rounds rounds, and prints the medians and their ratio.

    python benchmarks/novelty_copies.py
    python benchmarks/novelty_copies.py --lengths 2000,8000 --rounds 5
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from charrnn.analysis.novelty import CorpusIndex
from charrnn.data.corpus import read_corpus

CORPUS = Path(__file__).resolve().parent.parent / "corpora/shakespeare.txt"


def timed(index: CorpusIndex, text: str) -> tuple[float, int]:
    t0 = time.perf_counter()
    found = index.novelty(text)
    return time.perf_counter() - t0, found.longest


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lengths", default="2000,8000,32000,128000")
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    corpus = read_corpus(CORPUS)
    ids, chars = np.asarray(corpus.ids), corpus.vocab.chars
    index = CorpusIndex(ids, chars)
    rng = np.random.default_rng(0)
    print(f"index of {CORPUS.name}: {len(ids):,} characters")
    print("     length  copied: check s  longest  other: check s  longest  copied/other")
    for n in [int(s) for s in args.lengths.split(",")]:
        start = (len(ids) - n) // 2
        copied = "".join(chars[i] for i in ids[start : start + n])
        other = "".join(rng.choice(list("abcdefghijklmnopqrstuvwxyz "), n))
        runs = {"copied": [], "other": []}
        for _ in range(args.rounds):  # alternating, so that a change in the machine's load hits both
            for name, text in (("copied", copied), ("other", other)):
                runs[name].append(timed(index, text))
        (tc, lc), (to, lo) = (sorted(runs[k])[args.rounds // 2] for k in ("copied", "other"))
        print(f"{n:>11,} {tc:15.2f} {lc:8,} {to:14.2f} {lo:8,} {tc / to:13.2f}")


if __name__ == "__main__":
    main()
