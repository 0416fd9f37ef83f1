"""What --patience does on a small corpus: the steps it saves and the bits/char it keeps.

Trains the same model twice on the head of corpora/shakespeare.txt (default 100 KB), once with
no patience and once with patience K (default 10, charrnn's default), same seed, and prints the
steps each ran, the best validation bits/char each kept, and the last validation of the run
that did not stop. Training is deterministic, so the patient run follows the other exactly until
it stops. About five minutes on a two-core machine with the defaults.

    python benchmarks/patience.py
    python benchmarks/patience.py --kb 50 --patience 5
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from charrnn.config import ModelConfig, TrainConfig
from charrnn.data.corpus import Corpus
from charrnn.nn.functional import bits
from charrnn.training.trainer import Trainer

ROOT = Path(__file__).resolve().parent.parent


def train(text: str, patience: int | None, args) -> tuple[Trainer, float]:
    cfg = TrainConfig(max_steps=args.steps, max_time=None, eval_every=args.eval_every, patience=patience)
    model = ModelConfig(hidden_size=args.hidden_size, num_layers=1, dropout=0.0)
    trainer = Trainer(Corpus.from_text(text), model, cfg)
    start = time.perf_counter()
    for _ in trainer.run():
        pass
    return trainer, time.perf_counter() - start


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--kb", type=int, default=100, help="kilobytes of the corpus's head to train on")
    ap.add_argument("--patience", type=int, default=10)
    ap.add_argument("--steps", type=int, default=4000)
    ap.add_argument("--eval-every", type=int, default=100)
    ap.add_argument("--hidden-size", type=int, default=128)
    args = ap.parse_args(argv)
    text = (ROOT / "corpora" / "shakespeare.txt").read_text(encoding="utf-8")[: args.kb * 1000]
    print(
        f"1 x 128 LSTM on the first {len(text):,} characters of corpora/shakespeare.txt, validating every {args.eval_every} steps"
    )
    for patience in (None, args.patience):
        trainer, seconds = train(text, patience, args)
        last = bits(trainer.history[-1]["val_loss"])
        print(
            f"patience {patience or 'none':>4}: {trainer.step:,} steps in {seconds:.0f} s; best validation "
            f"{bits(trainer.best_val):.3f} bits/char at step {trainer.best_step:,}; last {last:.3f}"
        )


if __name__ == "__main__":
    main()
