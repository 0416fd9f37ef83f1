"""Reading both sides, measured: gaps filled, typos found, what cutting the backward direction into
training windows costs, and how fast fill and typos run.

Trains two models of the same size and training on corpora/shakespeare.txt, one that reads both
sides (--bidirectional) and one left to right, then on the held-out tail (the validation text
neither trained on):
- fill: one letter blanked in each of 100 lines; the share `charrnn fill` restores with the
  model of both sides, against the left context alone (the left-to-right model's likeliest next
  character) and against `fill` with the left-to-right model (whole-text ranking);
- typos: 30 letters changed at random in 3,000 characters; how many of them `inspect typos`
  names among its 60 most suspect;
- windows: the model of both sides' bits per character on the held-out text with the backward
  direction cut at every --seq-len characters (as training and validation read it), at 4 x
  --seq-len, and not at all (each direction reading the whole text, as score, fill and typos do);
- speed: characters per second of fill (a gap every line) and typos.

    python benchmarks/both_sides.py                      # --hidden-size 64 --layers 1 --max-steps 700
    python benchmarks/both_sides.py --hidden-size 256 --layers 2 --max-steps 3000
    python benchmarks/both_sides.py --keep /tmp/models    # trains once, then reads the models kept
    python benchmarks/both_sides.py --both charrnn.npz    # a model of both sides trained already
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from charrnn import checkpoint
from charrnn.analysis import typos
from charrnn.config import ModelConfig, TrainConfig
from charrnn.data.corpus import Corpus
from charrnn.generation import fill
from charrnn.language_model import LanguageModel
from charrnn.nn import both_sides, model
from charrnn.nn.functional import log_softmax
from charrnn.training.trainer import Trainer

ROOT = Path(__file__).resolve().parent.parent
LETTERS = "abcdefghijklmnopqrstuvwxyz"
DRAWS = 5  # of the blanked lines and the changed letters: one draw's share moves by several points


def trained(corpus: Corpus, cfg: ModelConfig, train: TrainConfig, keep: Path | None) -> tuple[LanguageModel, float]:
    """A model trained on the corpus, and the seconds it took; with `keep`, saved there, and
    read from there instead when a model of these settings is there already (0 seconds)."""
    if keep is not None and keep.exists():
        ckpt = checkpoint.load(keep)
        if ckpt.model == cfg and ckpt.train == train:
            return LanguageModel.of(ckpt), 0.0
    trainer = Trainer(corpus, cfg, train)
    start = time.perf_counter()
    for _ in trainer.run():
        pass
    seconds = time.perf_counter() - start
    if keep is not None:
        checkpoint.save(trainer.checkpoint(), keep)
    return LanguageModel(trainer.best_params or trainer.params, cfg, corpus.vocab), seconds


def blanked_lines(held_out: str, rng: np.random.Generator, n: int = 100) -> tuple[str, list[tuple[int, str]]]:
    """n consecutive lines of the held-out text with at least one letter each, one letter of each
    blanked to '_': the text, and each gap's position and true letter."""
    lines = [ln for ln in held_out.split("\n") if any(c in LETTERS for c in ln.lower())]
    first = int(rng.integers(0, len(lines) - n))
    chosen = lines[first : first + n]
    text, truth = "", []
    for line in chosen:
        letters = [i for i, c in enumerate(line) if c.isalpha()]
        i = int(rng.choice(letters))
        truth.append((len(text) + i, line[i]))
        text += line[:i] + "_" + line[i + 1 :] + "\n"
    return text, truth


def left_context_alone(left: LanguageModel, text: str, truth: list[tuple[int, str]]) -> float:
    """The share of gaps whose letter is the left-to-right model's likeliest next character."""
    ids = left.vocab.encode(text.replace("_", " ")).astype(np.intp)
    hits, state, done = 0, None, 0
    for position, letter in truth:
        state = model.state_after(left.params, left.cfg, ids[None, done:position], state)
        done = position
        logits = state[-1, 0] @ left.params["decoder.weight"].T + left.params["decoder.bias"]
        logits[0, left.vocab.chars.index("\n")] = -np.inf
        hits += left.vocab.chars[int(np.argmax(logits[0]))] == letter
        # the gap is read as its true letter from here on: the left context of later gaps is intact
        ids[position] = left.vocab.encode(letter)[0]
    return hits / len(truth)


def restored(m: LanguageModel, text: str, truth: list[tuple[int, str]]) -> tuple[float, float]:
    start = time.perf_counter()
    filled = fill.fill(m, text).text
    seconds = time.perf_counter() - start
    return sum(filled[p] == c for p, c in truth) / len(truth), len(text) / seconds


def typo_hits(both: LanguageModel, held_out: str, rng: np.random.Generator) -> tuple[int, int, float]:
    """30 letters changed at random in 3,000 held-out characters: how many of them typos names
    among its 60 most suspect, as it ranks them and by the character's own bits less its
    replacement's alone (no characters around it weighed: around=0), and its speed (chars/s)."""
    start = int(rng.integers(0, len(held_out) - 3000))
    text = list(held_out[start : start + 3000])
    letters = [i for i, c in enumerate(text) if c in LETTERS]
    changed = sorted(int(i) for i in rng.choice(letters, 30, replace=False))
    for i in changed:
        text[i] = str(rng.choice([c for c in LETTERS if c != text[i]]))
    t0 = time.perf_counter()
    found, _ = typos.suspects(both, "".join(text), 60, far=0.0)
    speed = len(text) / (time.perf_counter() - t0)
    alone, _ = typos.suspects(both, "".join(text), 60, far=0.0, around=0)
    return len({s.position for s in found} & set(changed)), len({s.position for s in alone} & set(changed)), speed


def windowed_bits(both: LanguageModel, ids: np.ndarray, window: int) -> float:
    """Bits per character with the backward direction cut at every `window` characters (the
    forward state carried), as training reads the text."""
    state, nats, n = model.zero_state(both.cfg, 1), 0.0, 0
    for start in range(0, len(ids) - 1 - window + 1, window):
        x, y = ids[None, start : start + window], ids[None, start + 1 : start + 1 + window]
        loss, state = both_sides.loss(both.params, both.cfg, x, y, state)
        nats, n = nats + loss * window, n + window
    return nats / n / np.log(2)


def whole_bits(both: LanguageModel, ids: np.ndarray) -> float:
    nats = 0.0
    for start, logits in both_sides.read(both.params, both.cfg, ids[None]):
        logp = log_softmax(logits.astype(np.float64))
        targets = ids[start : start + len(logits)]
        nats -= logp[np.arange(len(targets)), targets].sum()
    return nats / len(ids) / np.log(2)


def measure(both: LanguageModel, left: LanguageModel | None, held_out: str, seq_len: int, seed: int) -> None:
    """Print fill's and typos' figures on the held-out text, the windows' cost and the speed;
    without `left`, those of the model of both sides alone."""
    rng = np.random.default_rng(seed)
    print(f"fill, one letter blanked in each of 100 held-out lines ({DRAWS} draws of the lines and letters):")
    shares = {"both sides": [], "left context alone": [], "left-to-right fill (whole-text ranking)": []}
    speeds: dict[str, list[float]] = {"both sides": [], "left to right": []}
    for _ in range(DRAWS):
        text, truth = blanked_lines(held_out, rng)
        share, speed = restored(both, text, truth)
        shares["both sides"].append(share)
        speeds["both sides"].append(speed)
        if left is not None:
            share, speed = restored(left, text, truth)
            shares["left context alone"].append(left_context_alone(left, text, truth))
            shares["left-to-right fill (whole-text ranking)"].append(share)
            speeds["left to right"].append(speed)
    for name, got in shares.items():
        if got:
            print(f"  {name}: {' '.join(f'{100 * s:.0f} %' for s in got)}, mean {100 * np.mean(got):.1f} %")
    draws = [typo_hits(both, held_out, rng) for _ in range(DRAWS)]
    print("typos, of 30 letters changed in 3,000 held-out characters, found among the 60 most suspect:")
    for name, hits in (
        ("ranked as typos ranks them", [d[0] for d in draws]),
        ("by their own bits alone", [d[1] for d in draws]),
    ):
        print(f"  {name}: {' '.join(map(str, hits))}, min {min(hits)}, mean {np.mean(hits):.1f}")
    ids = both.vocab.encode(held_out).astype(np.intp)
    cut = {w: windowed_bits(both, ids, w) for w in (seq_len, 4 * seq_len)}
    print(
        f"windows: bits/char on the held-out text, backward direction cut every {seq_len}: "
        f"{cut[seq_len]:.3f}; every {4 * seq_len}: {cut[4 * seq_len]:.3f}; never: {whole_bits(both, ids):.3f}"
    )
    said = [f"{name} {np.median(v):,.0f}" for name, v in speeds.items() if v]
    print(
        f"speed, chars/s (median of {DRAWS} draws): fill (a gap in every line) {', '.join(said)}; "
        f"typos {np.median([d[2] for d in draws]):,.0f}"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--hidden-size", type=int, default=64)
    ap.add_argument("--layers", type=int, default=1)
    ap.add_argument("--max-steps", type=int, default=700)
    ap.add_argument("--seq-len", type=int, default=64)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--keep", type=Path, help="A folder to save the two models in, and read them from on the next run.")
    ap.add_argument("--both", type=Path, help="Measure this checkpoint of both sides instead (trains nothing).")
    args = ap.parse_args()
    corpus = Corpus.from_text((ROOT / "corpora/shakespeare.txt").read_text(encoding="utf-8"))
    if args.both is not None:
        ckpt = checkpoint.load(args.both)
        both = LanguageModel.of(ckpt)
        held_out = corpus.vocab.decode(Trainer(corpus, both.cfg, ckpt.train).val_ids.tolist())
        print(
            f"model: {args.both}, {both.cfg.describe()}, {ckpt.record.step:,} steps of {ckpt.train.batch_size} x {ckpt.train.seq_len}"
        )
        print(f"  held out: {len(held_out):,} characters")
        measure(both, None, held_out, ckpt.train.seq_len, args.seed)
        return
    train = TrainConfig(max_steps=args.max_steps, max_time=None, seq_len=args.seq_len, seed=args.seed, patience=None)
    size = dict(hidden_size=args.hidden_size, num_layers=args.layers)
    keep = {name: args.keep / f"{name}.npz" if args.keep else None for name in ("both", "left")}
    both, t_both = trained(corpus, ModelConfig(**size, bidirectional=True), train, keep["both"])
    left, t_left = trained(corpus, ModelConfig(**size), train, keep["left"])
    held_out = corpus.vocab.decode(Trainer(corpus, left.cfg, train).val_ids.tolist())
    print(
        f"models: LSTM {args.layers} x {args.hidden_size}, {args.max_steps} steps of {train.batch_size} x {args.seq_len}"
    )
    print(
        f"  trained in {t_both:.0f} s (both sides) and {t_left:.0f} s (left to right); held out: {len(held_out):,} characters"
    )
    measure(both, left, held_out, args.seq_len, args.seed)


if __name__ == "__main__":
    main()
