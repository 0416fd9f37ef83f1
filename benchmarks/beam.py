"""Greedy decoding against beam search on one prime: the total log-probability each finds, its
time, and the text. Beam search must find at least greedy's total; how much more, and what its
text reads like, is what this shows. A draw at temperature 1 is printed beside them for scale.

    python benchmarks/beam.py -c gru.npz --prime $'King.\\n' -n 200
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from charrnn.analysis import scoring
from charrnn.config import SampleConfig
from charrnn.generation import beam
from charrnn.language_model import LanguageModel


def total_bits(model: LanguageModel, prime: str, text: str) -> float:
    logp = scoring.log_probs(model, prime + text)[len(prime) - 1 :]
    return float(-logp.sum() / np.log(2))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-c", "--checkpoint", default="charrnn.npz")
    ap.add_argument("--prime", default="\n")
    ap.add_argument("-n", "--length", type=int, default=200)
    ap.add_argument("--widths", default="4,16")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    model = LanguageModel.load(args.checkpoint)
    runs = []
    for name, cfg in [
        ("sample, T = 1", SampleConfig(length=args.length, seed=args.seed)),
        ("argmax", SampleConfig(length=args.length, argmax=True)),
    ]:
        t0 = time.perf_counter()
        text = "".join(c[0] for c in model.generate(cfg, args.prime))
        runs.append((name, text, time.perf_counter() - t0))
    for k in map(int, args.widths.split(",")):
        t0 = time.perf_counter()
        best = beam.search(model, args.prime, k, args.length)[0]
        runs.append((f"beam {k}", model.vocab.decode(best.ids), time.perf_counter() - t0))
    print(f"{args.checkpoint}, prime {args.prime!r}, {args.length} characters")
    print("| decoding | total log2-probability | bits/char | seconds |")
    print("|---|---|---|---|")
    for name, text, seconds in runs:
        bits = total_bits(model, args.prime, text)
        print(f"| {name} | {-bits:.1f} | {bits / len(text):.3f} | {seconds:.2f} |")
    for name, text, _ in runs:
        print(f"\n{name}:\n" + "\n".join("    " + line for line in (args.prime + text).splitlines()))


if __name__ == "__main__":
    main()
