"""Learning per step: charrnn's Trainer beside a plain PyTorch loop, from the same weights on the same batches.

Both start from one set of weights (charrnn's parameters load into torch by name: they use
PyTorch's state-dict names) and both read the same (B, T) windows of the same training text,
so with every difference switched off the two curves agree to float32 noise, and each
difference switched on alone shows what it costs or gains. The PyTorch loop is the plain one of
benchmarks/reference.py (one-hot -> nn.LSTM -> Linear, cross-entropy, clip_grad_norm_ 5, Adam,
constant learning rate, B contiguous streams with the state carried and detached, no dropout).
Both models are validated by charrnn's own validation (the Trainer's held-out tail, state carried),
so the figures are on the same text by the same measure. It counts steps, not seconds: machine
load changes nothing but how long it takes. PyTorch is needed.

    python benchmarks/same_start.py --hidden 128 --layers 1 --steps 1000     # a quick screen
    python benchmarks/same_start.py --dropout 0 --lr-decay 1 --offsets fixed      # the two loops as one
    python benchmarks/same_start.py --start torch --corpus pydoc             # from PyTorch's initial weights

The flags set charrnn's side only (its defaults are the library's); --start sets the weights both
start from. `--corpus pydoc` trains on the prose of Python's own pydoc_data.topics, written to a
temporary file.
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import math
import platform
import sys
import tempfile
from pathlib import Path

import numpy as np
import threadpoolctl

from charrnn.config import ModelConfig, TrainConfig
from charrnn.data.batching import Streams
from charrnn.data.corpus import read_corpus
from charrnn.nn import model
from charrnn.training import validation
from charrnn.training.trainer import Trainer

ROOT = Path(__file__).resolve().parent.parent
SHARED = next((p / "shared" / "corpora" for p in ROOT.parents if (p / "shared" / "corpora").is_dir()), ROOT)
CORPORA = {"tinyshakespeare": SHARED / "tinyshakespeare.txt", "shakespeare": ROOT / "corpora" / "shakespeare.txt"}


TORCH_LR = 2e-3  # the plain loop's, as the issue measured it


def corpus_path(name: str, folder: Path) -> Path:
    """A named corpus, or pydoc_data's topics written into `folder`, or a path."""
    if name == "pydoc":
        from pydoc_data.topics import topics

        path = folder / "pydoc_topics.txt"
        path.write_text("\n\n".join(topics[k] for k in sorted(topics)), encoding="utf-8")
        return path
    return CORPORA.get(name, Path(name))


def torch_start(model_cfg: ModelConfig, vocab: int, seed: int) -> dict[str, np.ndarray]:
    """PyTorch's own initial weights (uniform +-1/sqrt(H) everywhere), as charrnn's parameters."""
    import torch

    torch.manual_seed(seed)
    net = torch_model(model_cfg, vocab)
    return {k: v.detach().numpy().astype(np.float32) for k, v in net.state_dict().items()}


def torch_model(model_cfg: ModelConfig, vocab: int):
    import torch

    class CharModel(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.rnn = torch.nn.LSTM(vocab, model_cfg.hidden_size, num_layers=model_cfg.num_layers)
            self.decoder = torch.nn.Linear(model_cfg.hidden_size, vocab)

        def forward(self, x, state):  # x (T, B) ids
            out, state = self.rnn(torch.nn.functional.one_hot(x, vocab).float(), state)
            return self.decoder(out), state

    return CharModel()


def run_torch(trainer: Trainer, start: dict, steps: int, marks: set[int], lr: float, clip: float):
    """The plain PyTorch loop over the unshifted windows of the trainer's text: yields the validation nats at each mark."""
    import torch
    import torch.nn.functional as F

    mc, tc = trainer.model_cfg, trainer.cfg
    V = len(trainer.corpus.vocab)
    net = torch_model(mc, V)
    net.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in start.items()})
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    windows = Streams(trainer.train_ids, tc.batch_size, tc.seq_len)
    state = None
    for step in range(steps):
        k = step % windows.n_windows
        if k == 0:
            state = None
        x, y = (torch.from_numpy(np.ascontiguousarray(a.T)).long() for a in windows.window(k))
        logits, state = net(x, state)
        state = tuple(s.detach() for s in state)
        loss = F.cross_entropy(logits.reshape(-1, V), y.reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(net.parameters(), clip)
        opt.step()
        if step + 1 in marks:
            params = {k: v.detach().numpy().copy() for k, v in net.state_dict().items()}
            yield validation.mean_loss(params, mc, trainer.val_ids, tc.batch_size, tc.seq_len, trainer.comm)


def run_charrnn(trainer: Trainer, start: dict, steps: int, marks: set[int]):
    """charrnn's Trainer, step by step, from `start`: yields the validation nats at each mark."""
    trainer.params = {k: v.copy() for k, v in start.items()}
    for _ in range(steps):
        trainer.train_step()
        if trainer.step in marks:
            yield trainer.evaluate()


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", default="tinyshakespeare", help="tinyshakespeare, shakespeare, pydoc, or a path")
    ap.add_argument("--hidden", type=int, default=128)
    ap.add_argument("--layers", type=int, default=2)
    ap.add_argument("--steps", type=int, default=3000)
    ap.add_argument("--every", type=int, default=250, help="validate every this many steps")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument(
        "--start",
        choices=("charrnn", "torch", "own"),
        default="charrnn",
        help="the initial weights of both: charrnn's, PyTorch's, or each its own (as a user gets them)",
    )
    ap.add_argument("--forget-bias", type=float, help="set the start's LSTM forget-gate bias (b_ih; b_hh 0)")
    ap.add_argument("--dropout", type=float, help="charrnn: dropout between layers (default: the library's)")
    ap.add_argument("--lr", type=float, help="charrnn: learning rate (PyTorch's stays 2e-3)")
    ap.add_argument("--lr-decay", type=float, help="charrnn: step decay factor (1: constant)")
    ap.add_argument("--lr-schedule", help="charrnn: step, cosine (over --steps) or plateau")
    ap.add_argument("--offsets", choices=("random", "fixed"), help="charrnn: where the streams start each epoch")
    ap.add_argument(
        "--threads", type=int, default=1, help="BLAS and torch threads (one: no spinning on a busy machine)"
    )
    ap.add_argument("--no-torch", action="store_true", help="charrnn only")
    ap.add_argument("--no-charrnn", action="store_true", help="PyTorch only")
    args = ap.parse_args(argv)
    threadpoolctl.threadpool_limits(args.threads)
    if not args.no_torch:
        import torch

        torch.set_num_threads(args.threads)

    with tempfile.TemporaryDirectory() as folder:
        corpus = read_corpus(corpus_path(args.corpus, Path(folder)))
    mc = ModelConfig(hidden_size=args.hidden, num_layers=args.layers)
    tc = TrainConfig(
        max_steps=args.steps, max_time=None, patience=None, val_fraction=0.1, eval_chars=100_000, seed=args.seed
    )
    changes = {"dropout": args.dropout, "lr": args.lr, "lr_decay": args.lr_decay, "lr_schedule": args.lr_schedule}
    changes["epoch_offsets"] = args.offsets
    mc = dataclasses.replace(mc, **{k: v for k, v in changes.items() if v is not None and hasattr(mc, k)})
    tc = dataclasses.replace(tc, **{k: v for k, v in changes.items() if v is not None and hasattr(tc, k)})
    trainer = Trainer(corpus, mc, tc)
    V = len(corpus.vocab)

    def own(name: str) -> dict:
        return trainer.params if name == "charrnn" else torch_start(mc, V, args.seed)

    starts = {n: own(n if args.start == "own" else args.start) for n in ("torch", "charrnn")}
    if args.forget_bias is not None:
        H = mc.hidden_size
        for start, layer in itertools.product(starts.values(), range(mc.num_layers)):
            _, _, b_ih, b_hh = model.layer_keys(layer)
            start[b_ih][H : 2 * H], start[b_hh][H : 2 * H] = args.forget_bias, 0.0
    starts = {n: {k: v.copy() for k, v in start.items()} for n, start in starts.items()}
    marks = set(range(args.every, args.steps + 1, args.every)) | {args.steps}

    print(f"# {platform.processor() or platform.machine()}, {corpus.name}: {len(corpus.ids):,} chars, vocab {V}")
    print(f"# charrnn: {mc}")
    print(f"# charrnn: {tc}")
    print(f"# start: {args.start}" + (f", forget bias {args.forget_bias}" if args.forget_bias is not None else ""))
    curves = {}  # run in step with each other, so the table grows as they go
    if not args.no_torch:
        curves["torch"] = run_torch(trainer, starts["torch"], args.steps, marks, TORCH_LR, tc.grad_clip)
    if not args.no_charrnn:
        curves["charrnn"] = run_charrnn(trainer, starts["charrnn"], args.steps, marks)
    print("step  " + "  ".join(f"{n:>8}" for n in curves) + ("  charrnn-torch" if len(curves) == 2 else ""))
    for s, *losses in zip(sorted(marks), *curves.values()):
        bits = [loss / math.log(2) for loss in losses]
        diff = f"  {bits[1] - bits[0]:+13.3f}" if len(bits) == 2 else ""
        print(f"{s:>5} " + "  ".join(f"{b:8.3f}" for b in bits) + diff, flush=True)


if __name__ == "__main__":
    sys.exit(main())
