"""Learning-rate schedules compared: constant, step decay and cosine decay (with its warm-up and
floor), at equal steps, on several texts.

Schedules cost the same per step, so equal steps stand for equal wall time: a cosine that decays
over the run's time reaches, at a steady speed, the same rate at the same step as one that decays
over its steps (the two differ only when the speed changes during the run). Every run here has
the same model, seed and data order; only the learning rate differs. For each text and schedule
it prints the best validation bits/char and the step it was reached at, the last validation, and
the seconds the run took (a busy machine slows every run alike).

The texts: ../shared/corpora/tinyshakespeare.txt, corpora/shakespeare.txt, and prose that no
setting was tuned on, Python's own documentation topics (pydoc_data.topics), written to a
temporary file. About two minutes a run for the defaults (a 2 x 128 LSTM, 2,000 steps) on a
two-core machine.

    python benchmarks/schedules.py
    python benchmarks/schedules.py --texts pydoc --steps 1500 --schedules constant step cosine
    python benchmarks/schedules.py --max-time 120   # equal wall time instead: one run each, slower to compare
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from reference import default_corpus_path

from charrnn.config import ModelConfig, TrainConfig
from charrnn.data.corpus import read_corpus
from charrnn.nn.functional import bits
from charrnn.training.trainer import Trainer

ROOT = Path(__file__).resolve().parent.parent
TEXTS = {
    "tinyshakespeare": default_corpus_path(),
    "shakespeare": ROOT / "corpora" / "shakespeare.txt",
    "pydoc": None,  # written to a temporary file from pydoc_data.topics
}
# each schedule as the TrainConfig fields that make it; the rate is 2e-3 unless the name says
# (charrnn's default when the first round was measured; the default now is cosine-lr6e-3)
OLD_LR = 2e-3
SCHEDULES = {
    "constant": dict(lr_schedule="step", lr_decay=1.0, lr=OLD_LR),
    "step": dict(lr_schedule="step", lr_decay=0.9, lr=OLD_LR),  # lr_decay_every: a third of the run (see train)
    "step-lr3e-3": dict(lr_schedule="step", lr_decay=0.9, lr=3e-3),
    "cosine": dict(lr_schedule="cosine", warmup_steps=0, min_lr_ratio=0.1, lr=OLD_LR),
    "cosine-floor0": dict(lr_schedule="cosine", warmup_steps=0, min_lr_ratio=0.0, lr=OLD_LR),
    "cosine-floor0.3": dict(lr_schedule="cosine", warmup_steps=0, min_lr_ratio=0.3, lr=OLD_LR),
    "cosine-warmup100": dict(lr_schedule="cosine", warmup_steps=100, min_lr_ratio=0.1, lr=OLD_LR),
    "cosine-lr4e-3": dict(lr_schedule="cosine", warmup_steps=0, min_lr_ratio=0.1, lr=4e-3),
    "constant-lr4e-3": dict(lr_schedule="step", lr_decay=1.0, lr=4e-3),
    "constant-lr6e-3": dict(lr_schedule="step", lr_decay=1.0, lr=6e-3),
    "cosine-lr6e-3": dict(lr_schedule="cosine", warmup_steps=0, min_lr_ratio=0.1, lr=6e-3),
    "cosine-lr6e-3-floor0.3": dict(lr_schedule="cosine", warmup_steps=0, min_lr_ratio=0.3, lr=6e-3),
    "cosine-lr1e-2": dict(lr_schedule="cosine", warmup_steps=0, min_lr_ratio=0.1, lr=1e-2),
}


def text_path(name: str, tmp: Path) -> Path:
    if TEXTS[name] is not None:
        return TEXTS[name]
    import pydoc_data.topics

    path = tmp / "pydoc_topics.txt"
    path.write_text("\n\n".join(pydoc_data.topics.topics.values()), encoding="utf-8")
    return path


def train(path: Path, schedule: str, args) -> Trainer:
    limit = dict(max_steps=None, max_time=args.max_time) if args.max_time else dict(max_steps=args.steps, max_time=None)
    # the default step decay takes 0.9 every 2,000 steps: three times in a 10-minute run of a 2 x 256
    # model (about 6,000 steps); here it decays as often within the run, whatever its length
    thirds = dict(lr_decay_every=max(1, args.steps // 3)) if schedule.startswith("step") else {}
    cfg = TrainConfig(
        **limit, **SCHEDULES[schedule], **thirds, eval_every=args.eval_every, eval_chars=args.eval_chars, patience=None
    )
    model = ModelConfig(hidden_size=args.hidden_size, num_layers=args.layers)
    trainer = Trainer(read_corpus(path), model, cfg)
    for _ in trainer.run():  # its elapsed: the run's wall time, validations included
        pass
    return trainer


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--texts", nargs="+", choices=list(TEXTS), default=list(TEXTS))
    ap.add_argument("--schedules", nargs="+", choices=list(SCHEDULES), default=list(SCHEDULES))
    ap.add_argument("--steps", type=int, default=2000)
    ap.add_argument("--max-time", type=float, default=None, help="seconds per run (instead of --steps)")
    ap.add_argument("--hidden-size", type=int, default=128)
    ap.add_argument("--layers", type=int, default=2)
    ap.add_argument("--eval-every", type=int, default=250)
    ap.add_argument("--eval-chars", type=int, default=50_000)
    args = ap.parse_args(argv)
    budget = f"{args.max_time:g} s" if args.max_time else f"{args.steps:,} steps"
    print(
        f"2 x {args.hidden_size} LSTM" if args.layers == 2 else f"{args.layers} x {args.hidden_size} LSTM",
        f"batch 32 x 64, Adam at {OLD_LR:g} (unless the name says), {budget} a run, validated every {args.eval_every} steps on "
        f"{args.eval_chars:,} held-out characters",
    )
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.texts:
            path = text_path(name, Path(tmp))
            for schedule in args.schedules:
                trainer = train(path, schedule, args)
                last = bits(trainer.history[-1]["val_loss"])
                print(
                    f"{name:>16} {schedule:>17}: best {bits(trainer.best_val):.3f} bits/char at step "
                    f"{trainer.best_step:,}; last {last:.3f}; {trainer.step:,} steps in {trainer.elapsed:.0f} s",
                    flush=True,
                )


if __name__ == "__main__":
    main()
