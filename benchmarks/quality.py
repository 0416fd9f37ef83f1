"""How well the default settings learn: validation bits per character after 2, 5 and 10 minutes.

For each cell type (rnn, gru, lstm) and each corpus (the shipped corpora/shakespeare.txt and,
when present, ../shared/corpora/tinyshakespeare.txt), trains with charrnn's defaults for
--minutes (default 10), and prints a markdown table of the best validation bits/char reached
by each time mark, plus a few lines sampled from each model. This is a benchmark, not a test:
it takes an hour with the defaults.

    python benchmarks/quality.py                      # the full table
    python benchmarks/quality.py --minutes 1 --cells lstm --marks 0.5,1
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from charrnn.config import ModelConfig, TrainConfig
from charrnn.data.corpus import read_corpus
from charrnn.language_model import LanguageModel
from charrnn.nn.functional import bits
from charrnn.training.trainer import Trainer

ROOT = Path(__file__).resolve().parent.parent
CORPORA = {
    "shakespeare.txt": ROOT / "corpora" / "shakespeare.txt",
    "tinyshakespeare.txt": ROOT.parent / "shared" / "corpora" / "tinyshakespeare.txt",
}


def best_by(history: list[dict], seconds: float) -> float | None:
    """Best validation loss (bits/char) among evaluations done within `seconds`."""
    vals = [h["val_loss"] for h in history if h["elapsed"] <= seconds]
    return bits(min(vals)) if vals else None


def run(path: Path, cell: str, minutes: float) -> tuple[list[dict], str, Trainer]:
    corpus = read_corpus(path)
    trainer = Trainer(corpus, ModelConfig(cell=cell), TrainConfig(max_time=minutes * 60))
    for _ in trainer.run():
        pass
    model = LanguageModel(trainer.best_params, trainer.model_cfg, corpus.vocab)
    text = model.generate_text(length=300, temperature=0.8, seed=1)
    return trainer.history, text, trainer


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--minutes", type=float, default=10.0)
    ap.add_argument("--marks", default="2,5,10", help="time marks in minutes")
    ap.add_argument("--cells", default="rnn,gru,lstm")
    ap.add_argument("--corpora", default=",".join(CORPORA))
    args = ap.parse_args(argv)
    marks = [float(m) for m in args.marks.split(",")]
    rows, samples = [], []
    for name in args.corpora.split(","):
        path = CORPORA[name]
        if not path.exists():
            print(f"skipping {name}: {path} not found", file=sys.stderr)
            continue
        for cell in args.cells.split(","):
            history, text, trainer = run(path, cell, args.minutes)
            figures = [best_by(history, m * 60) for m in marks]
            rows.append((name, cell, trainer.step, figures))
            samples.append((name, cell, text))
            shown = ", ".join("-" if f is None else f"{f:.3f}" for f in figures)
            print(
                f"{name} {cell}: {trainer.step} steps; best val bits/char at {args.marks} min: {shown}", file=sys.stderr
            )
    head = " | ".join(f"{m:g} min" for m in marks)
    print(f"| corpus | cell | steps | {head} |")
    print("|---|---|---|" + "---|" * len(marks))
    for name, cell, steps, figures in rows:
        cells = " | ".join("-" if f is None else f"{f:.3f}" for f in figures)
        print(f"| {name} | {cell} | {steps:,} | {cells} |")
    for name, cell, text in samples:
        print(f"\n{name}, {cell}, temperature 0.8:\n")
        print("    " + "\n    ".join(text.strip().splitlines()[:8]))
    print(f"\nnumpy {np.__version__}", file=sys.stderr)


if __name__ == "__main__":
    main()
