"""Reference figures for the charrnn speed benchmark.

Everything here is independent of charrnn's own code:

* ``gemm_limit_train`` -- the time of only the matrix products one training
  step of a stacked RNN/LSTM/GRU character model must do (forward and
  backward), with NumPy float32 and the BLAS as installed.  Everything else
  (nonlinearities, the one-hot gather, the loss, the optimiser, copies) is
  taken as free, so this is an upper bound on what a NumPy implementation that
  calls the same BLAS can reach.
* ``torch_train`` / ``torch_sample`` -- PyTorch's CPU nn.LSTM/GRU/RNN on the
  same shapes, as a conventional char-rnn would use it; ``TorchLoop`` is its
  training loop, one step at a time, with a validation that reads a held-out
  text as charrnn's does (time_to_quality.py trains it against charrnn).
* ``load_corpus_ids`` -- the shared tinyshakespeare corpus as integer ids.

The module imports without PyTorch; the torch functions import it lazily and
``torch_available()`` says whether they can run.  Thread counts are left at
each library's default (see ``thread_info()``).

Run ``python benchmarks/reference.py`` for the figures of configs A, B and C.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np

GATES = {"rnn": 1, "lstm": 4, "gru": 3}

# Benchmark configurations from the issue: (cell, hidden, layers, batch, seq).
CONFIGS = {
    "A": ("lstm", 128, 1, 32, 64),
    "B": ("lstm", 256, 2, 32, 64),
    "C": ("lstm", 512, 2, 64, 100),
}

# OpenBLAS variables that may be set on this machine and slow a current NumPy.
BLAS_ENV_VARS = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CORPUS = REPO_ROOT.parent / "shared" / "corpora" / "tinyshakespeare.txt"


def _pick(times, statistic):
    """Reduce repeated timings: 'median' (default, robust) or 'min' (best
    case, useful when other processes share the machine)."""
    if statistic == "median":
        return statistics.median(times)
    if statistic == "min":
        return min(times)
    raise ValueError(f"statistic must be 'median' or 'min', not {statistic!r}")


def _gates(cell: str) -> int:
    try:
        return GATES[cell.lower()]
    except KeyError:
        raise ValueError(f"unknown cell {cell!r}; expected one of {sorted(GATES)}") from None


# --------------------------------------------------------------------------
# Corpus
# --------------------------------------------------------------------------


def default_corpus_path() -> Path:
    """``shared/corpora/tinyshakespeare.txt`` beside the repo root or beside one of its parents
    (a git worktree may sit a level deeper than the clone)."""
    for folder in REPO_ROOT.parents:
        path = folder / "shared" / "corpora" / "tinyshakespeare.txt"
        if path.is_file():
            return path
    return DEFAULT_CORPUS


def load_corpus_ids(path=None, max_chars=None):
    """Return ``(ids, vocab_size)`` for a text file.

    The vocabulary is the sorted set of distinct characters; ``ids`` is
    uint8 when the vocabulary fits, int32 otherwise.  With ``path`` None the
    shared tinyshakespeare corpus is used.  If the file is absent, a
    synthetic uniformly random text (65 symbols, seed 0, as long as
    tinyshakespeare or ``max_chars``) is returned instead and a warning says
    so; the GEMM and PyTorch timings do not depend on the text itself.
    """
    path = Path(path) if path is not None else default_corpus_path()
    if path.is_file():
        text = path.read_text(encoding="utf-8")
        if max_chars is not None:
            text = text[:max_chars]
        vocab = sorted(set(text))
        dtype = np.uint8 if len(vocab) <= 256 else np.int32
        if dtype is np.uint8 and all(ord(c) < 256 for c in vocab):
            # Fast path: translate through a 256-entry lookup table.
            table = np.zeros(256, dtype=np.uint8)
            table[[ord(c) for c in vocab]] = np.arange(len(vocab), dtype=np.uint8)
            ids = table[np.frombuffer(text.encode("latin-1"), dtype=np.uint8)]
        else:
            index = {c: i for i, c in enumerate(vocab)}
            ids = np.fromiter((index[c] for c in text), dtype=dtype, count=len(text))
        return ids, len(vocab)

    n = max_chars if max_chars is not None else 1_115_394
    warnings.warn(
        f"corpus {path} not found; using a synthetic random text of {n} chars over 65 symbols instead",
        stacklevel=2,
    )
    rng = np.random.default_rng(0)
    return rng.integers(0, 65, size=n, dtype=np.uint8), 65


# --------------------------------------------------------------------------
# Environment / threads
# --------------------------------------------------------------------------


def torch_available() -> bool:
    """True when ``import torch`` works."""
    try:
        import torch  # noqa: F401
    except Exception:
        return False
    return True


def blas_info() -> list:
    """What threadpoolctl reports for NumPy's BLAS (empty if not installed)."""
    try:
        import threadpoolctl
    except ImportError:
        return []
    return [
        {k: d.get(k) for k in ("internal_api", "version", "architecture", "num_threads", "threading_layer")}
        for d in threadpoolctl.threadpool_info()
        if d.get("user_api") == "blas"
    ]


def thread_info() -> dict:
    """Thread counts and BLAS details both libraries use as installed."""
    info = {
        "cpus": os.cpu_count(),
        "numpy": np.__version__,
        "numpy_blas": blas_info(),
        "env": {
            k: os.environ.get(k) for k in BLAS_ENV_VARS + ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
        },
    }
    if torch_available():
        import torch

        info["torch"] = torch.__version__
        info["torch_threads"] = torch.get_num_threads()
        info["torch_interop_threads"] = torch.get_num_interop_threads()
    return info


def clean_blas_env(environ=None) -> dict:
    """A copy of the environment with OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE
    removed, for running one benchmark subprocess with them unset.  It never
    changes the current process's environment."""
    env = dict(os.environ if environ is None else environ)
    for k in BLAS_ENV_VARS:
        env.pop(k, None)
    return env


# --------------------------------------------------------------------------
# GEMM-only limit
# --------------------------------------------------------------------------


def gemm_shapes(cell, hidden, layers, batch, seq, vocab):
    """The matrix products of one training step, as ``(m, k, n, count)``:
    ``count`` products of an (m,k) by a (k,n) matrix."""
    G, H, B, T, V = _gates(cell), hidden, batch, seq, vocab
    GH, TB = G * H, T * B
    shapes = []
    for layer in range(layers):
        shapes.append((B, H, GH, T))  # forward recurrent h @ W_hh, per step
        shapes.append((B, GH, H, T))  # backward dgates @ W_hh^T, per step
        shapes.append((GH, TB, H, 1))  # dW_hh = dgates^T @ h_prev
        if layer >= 1:  # layer 0: one-hot input = gather
            shapes.append((TB, H, GH, 1))  # input projection x @ W_ih
            shapes.append((TB, GH, H, 1))  # dx = dgates @ W_ih^T
            shapes.append((GH, TB, H, 1))  # dW_ih = dgates^T @ x
    shapes.append((TB, H, V, 1))  # decoder logits
    shapes.append((TB, V, H, 1))  # dh from the decoder
    shapes.append((V, TB, H, 1))  # dW_dec
    return shapes


def gemm_flops(cell, hidden, layers, batch, seq, vocab) -> int:
    """Floating-point operations (2·m·k·n) of the products in one step."""
    return sum(2 * m * k * n * c for m, k, n, c in gemm_shapes(cell, hidden, layers, batch, seq, vocab))


def _gemm_step_calls(cell, hidden, layers, batch, seq, vocab, seed=0):
    """Preallocate every operand and return a list of zero-argument callables
    that together perform one step's products with ``out=``."""
    rng = np.random.default_rng(seed)

    def rand(*shape):
        return rng.standard_normal(shape, dtype=np.float32) * np.float32(0.1)

    calls = []
    for m, k, n, count in gemm_shapes(cell, hidden, layers, batch, seq, vocab):
        b = rand(k, n)  # the weight-like operand, shared across time steps
        if count == 1:
            a, out = rand(m, k), np.empty((m, n), dtype=np.float32)
            calls.append(lambda a=a, b=b, out=out: np.matmul(a, b, out=out))
        else:
            # One (m,k) slice per time step, as a real sequence would have.
            a = rand(count, m, k)
            out = np.empty((count, m, n), dtype=np.float32)

            def per_step(a=a, b=b, out=out, count=count):
                for t in range(count):
                    np.matmul(a[t], b, out=out[t])

            calls.append(per_step)
    return calls


def gemm_limit_train(
    cell,
    hidden,
    layers,
    batch,
    seq,
    vocab,
    *,
    repeats=7,
    min_repeat_seconds=0.2,
    warmup=3,
    statistic="median",
    return_details=False,
):
    """Characters per second if one training step cost only its matrix products.

    Runs the products of one step (see ``gemm_shapes``) with NumPy float32,
    operands preallocated and results written with ``out=``.  After
    ``warmup`` steps, ``repeats`` timed repeats each run enough steps to last
    ``min_repeat_seconds``; the median (or, with ``statistic="min"``, the
    fastest) per-step time is used.  chars/s = batch·seq / that time.
    """
    calls = _gemm_step_calls(cell, hidden, layers, batch, seq, vocab)

    def step():
        for c in calls:
            c()

    for _ in range(warmup):
        step()
    # Calibrate the number of steps per repeat.
    t0 = time.perf_counter()
    step()
    one = max(time.perf_counter() - t0, 1e-6)
    n = max(1, int(min_repeat_seconds / one))
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(n):
            step()
        times.append((time.perf_counter() - t0) / n)
    t_step = _pick(times, statistic)
    cps = batch * seq / t_step
    if return_details:
        flops = gemm_flops(cell, hidden, layers, batch, seq, vocab)
        return {
            "chars_per_second": cps,
            "step_seconds": t_step,
            "step_times": times,
            "steps_per_repeat": n,
            "gflops": flops / t_step / 1e9,
            "flops_per_step": flops,
        }
    return cps


# --------------------------------------------------------------------------
# PyTorch references
# --------------------------------------------------------------------------


def _torch_model(cell, hidden, layers, vocab):
    import torch
    from torch import nn

    rnn_cls = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}[cell.lower()]

    class CharModel(nn.Module):
        # Sequence-first layout (T, B, ·), PyTorch's native RNN layout.
        def __init__(self):
            super().__init__()
            self.rnn = rnn_cls(vocab, hidden, num_layers=layers)
            self.decoder = nn.Linear(hidden, vocab)
            self.register_buffer("eye", torch.eye(vocab, dtype=torch.float32))

        def forward(self, x_ids, state):
            x = self.eye[x_ids]  # one-hot float32, (T, B, V)
            out, state = self.rnn(x, state)
            return self.decoder(out), state

    return CharModel()


def _detach(state):
    if state is None:
        return None
    if isinstance(state, tuple):
        return tuple(s.detach() for s in state)
    return state.detach()


class TorchLoop:
    """The conventional PyTorch char-rnn training loop, one step at a time.

    nn.RNN/LSTM/GRU (num_layers=layers, sequence-first) + nn.Linear decoder, one-hot float32
    input, cross-entropy, Adam at a constant ``lr``, clip_grad_norm_ ``clip``, truncated BPTT
    over ``batch`` contiguous streams of ``train_ids`` with the hidden state carried and
    detached between windows of ``seq`` characters (back to the start, and a blank state, when
    a stream runs out). Threads: PyTorch's default.
    """

    def __init__(self, cell, hidden, layers, batch, seq, train_ids, vocab, *, lr=2e-3, clip=5.0, seed=0):
        import torch

        torch.manual_seed(seed)
        self.model = _torch_model(cell, hidden, layers, vocab)
        self.opt = torch.optim.Adam(self.model.parameters(), lr=lr)
        self.batch, self.seq, self.vocab, self.clip = batch, seq, vocab, clip
        ids = np.asarray(train_ids)
        self.stream_len = len(ids) // batch
        if self.stream_len < seq + 1:
            raise ValueError("text too short for this batch and sequence length")
        # (stream_len, batch): column b is the b-th contiguous slice of the text.
        self.streams = torch.from_numpy(
            ids[: self.stream_len * batch].astype(np.int64).reshape(batch, self.stream_len).T.copy()
        )
        self.state, self.pos = None, 0

    def step(self) -> float:
        """One window: forward, loss, backward, clip, Adam. Returns the window's loss (nats/char)."""
        import torch
        import torch.nn.functional as F

        if self.pos + self.seq + 1 > self.stream_len:
            self.pos, self.state = 0, None
        x = self.streams[self.pos : self.pos + self.seq]
        y = self.streams[self.pos + 1 : self.pos + self.seq + 1]
        self.pos += self.seq
        logits, state = self.model(x, _detach(self.state))
        loss = F.cross_entropy(logits.reshape(-1, self.vocab), y.reshape(-1))
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.clip)
        self.opt.step()
        self.state = state
        return loss.item()

    def validation_bits(self, val_ids) -> float:
        """Mean bits per character over ``val_ids``, read as charrnn validates: min(batch, n-1)
        streams of (n-1) // streams characters each (the rest left out), in windows of
        ``seq`` with the state carried, every whole window scored."""
        import torch
        import torch.nn.functional as F

        ids = np.asarray(val_ids, dtype=np.int64)
        B = min(self.batch, len(ids) - 1)
        L = (len(ids) - 1) // B
        T = min(self.seq, L)
        x = torch.from_numpy(ids[: B * L].reshape(B, L).T.copy())  # (L, B)
        y = torch.from_numpy(ids[1 : B * L + 1].reshape(B, L).T.copy())
        total, state = 0.0, None
        self.model.eval()
        with torch.no_grad():
            for t in range(0, L // T * T, T):
                logits, state = self.model(x[t : t + T], state)
                total += float(F.cross_entropy(logits.reshape(-1, self.vocab), y[t : t + T].reshape(-1)))
        self.model.train()
        return total / (L // T) / np.log(2)


def torch_train(
    cell,
    hidden,
    layers,
    batch,
    seq,
    text_ids,
    vocab,
    seconds=5.0,
    *,
    warmup_steps=5,
    seed=0,
    statistic="median",
    return_details=False,
):
    """PyTorch training speed in chars/s, of ``TorchLoop`` (Adam lr 2e-3, clip 5).

    After ``warmup_steps`` steps, steps are timed one by one for ``seconds``;
    chars/s = batch·seq / median (or ``statistic="min"``: fastest) step time.
    """
    import torch

    loop = TorchLoop(cell, hidden, layers, batch, seq, text_ids, vocab, seed=seed)
    for _ in range(warmup_steps):
        loop.step()
    times = []
    t_end = time.perf_counter() + seconds
    while True:
        t0 = time.perf_counter()
        loss = loop.step()
        t1 = time.perf_counter()
        times.append(t1 - t0)
        if t1 >= t_end and len(times) >= 3:
            break
    t_step = _pick(times, statistic)
    cps = batch * seq / t_step
    if return_details:
        return {
            "chars_per_second": cps,
            "step_seconds": t_step,
            "steps": len(times),
            "mean_chars_per_second": batch * seq * len(times) / sum(times),
            "final_loss": loss,
            "threads": torch.get_num_threads(),
        }
    return cps


def torch_sample(
    cell,
    hidden,
    layers,
    vocab,
    n_chars=2000,
    *,
    temperature=1.0,
    block=50,
    warmup_chars=50,
    seed=0,
    statistic="median",
    return_details=False,
):
    """PyTorch sampling speed in chars/s: batch 1, one character at a time.

    A typical char-rnn loop under ``torch.no_grad()``: one-hot the last
    character, run the RNN one step carrying the state, decode, softmax with
    ``temperature``, ``torch.multinomial``, and ``.item()`` the result.  The
    weights are random (speed does not depend on them).  ``n_chars`` are timed
    in blocks of ``block`` characters; chars/s = 1 / median (or
    ``statistic="min"``: fastest) time per character over the blocks.
    """
    import torch

    torch.manual_seed(seed)
    model = _torch_model(cell, hidden, layers, vocab)
    model.eval()
    gen = torch.Generator().manual_seed(seed)
    inv_t = 1.0 / temperature

    with torch.no_grad():
        state = None
        char = 0

        def sample_one():
            nonlocal state, char
            x = torch.tensor([[char]], dtype=torch.long)  # (T=1, B=1)
            logits, state = model(x, state)
            probs = torch.softmax(logits[0, 0] * inv_t, dim=-1)
            char = torch.multinomial(probs, 1, generator=gen).item()

        for _ in range(warmup_chars):
            sample_one()
        times = []
        total = 0.0
        done = 0
        while done < n_chars:
            k = min(block, n_chars - done)
            t0 = time.perf_counter()
            for _ in range(k):
                sample_one()
            dt = time.perf_counter() - t0
            times.append(dt / k)
            total += dt
            done += k
    t_char = _pick(times, statistic)
    if return_details:
        return {
            "chars_per_second": 1.0 / t_char,
            "char_seconds": t_char,
            "mean_chars_per_second": done / total,
            "threads": torch.get_num_threads(),
        }
    return 1.0 / t_char


# --------------------------------------------------------------------------
# Driver
# --------------------------------------------------------------------------

ISSUE_FIGURES = {  # measured on this machine by the issue author
    "A": {"gemm": 263_000, "torch_train": 298_000},
    "B": {"gemm": 41_000, "torch_train": 51_000, "torch_sample": 1_200},
    "C": {"gemm": 12_100, "torch_train": 14_700},
}


def _gemm_only_json(configs, vocab, stat):
    """Print GEMM-limit figures as JSON lines (used for the subprocess run)."""
    import json

    for name in configs:
        cell, H, L, B, T = CONFIGS[name]
        d = gemm_limit_train(cell, H, L, B, T, vocab, statistic=stat, return_details=True)
        print(json.dumps({"config": name, "cps": d["chars_per_second"], "blas": blas_info()}))


def _gemm_clean_env(configs, vocab, stat):
    """GEMM limit measured in a subprocess with the OpenBLAS vars unset."""
    import json

    cmd = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--gemm-only-json",
        "--vocab",
        str(vocab),
        "--configs",
        ",".join(configs),
        "--stat",
        stat,
    ]
    res = subprocess.run(cmd, env=clean_blas_env(), capture_output=True, text=True, check=True)
    out = {}
    for line in res.stdout.splitlines():
        d = json.loads(line)
        out[d["config"]] = d
    return out


def _loadavg():
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "n/a"


def _fmt(x):
    return "-" if x is None else f"{x:,.0f}"


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--configs", default="A,B,C", help="comma-separated, from A,B,C")
    p.add_argument("--seconds", type=float, default=8.0, help="timed seconds of PyTorch training per config")
    p.add_argument("--sample-chars", type=int, default=3000)
    p.add_argument("--max-chars", type=int, default=None, help="use only the first N chars of the corpus")
    p.add_argument("--no-torch", action="store_true", help="skip the PyTorch figures")
    p.add_argument(
        "--stat", choices=("median", "min"), default="median", help="how repeated timings are reduced (default median)"
    )
    p.add_argument(
        "--clean-blas-env",
        action="store_true",
        help="add a GEMM-limit column measured in a subprocess with OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset",
    )
    p.add_argument("--gemm-only-json", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--vocab", type=int, default=None, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    configs = [c.strip().upper() for c in args.configs.split(",") if c.strip()]
    for c in configs:
        if c not in CONFIGS:
            p.error(f"unknown config {c!r}")

    if args.gemm_only_json:
        _gemm_only_json(configs, args.vocab or 65, args.stat)
        return 0

    ids, vocab = load_corpus_ids(max_chars=args.max_chars)
    use_torch = torch_available() and not args.no_torch
    info = thread_info()
    print(f"python {platform.python_version()}, numpy {info['numpy']}, cpus {info['cpus']}")
    for b in info["numpy_blas"]:
        print(
            f"numpy BLAS: {b['internal_api']} {b['version']} kernel "
            f"{b['architecture']}, {b['num_threads']} threads ({b['threading_layer']})"
        )
    if not info["numpy_blas"]:
        print("numpy BLAS: (install threadpoolctl for details; see numpy.show_config())")
    print(
        "env: " + ", ".join(f"{k}={v}" for k, v in info["env"].items() if v is not None)
        if any(v is not None for v in info["env"].values())
        else "env: no BLAS/OMP variables set"
    )
    if use_torch:
        print(
            f"torch {info['torch']}: {info['torch_threads']} intra-op threads, "
            f"{info['torch_interop_threads']} inter-op threads (defaults)"
        )
    else:
        print("torch: not available" if not args.no_torch else "torch: skipped")
    src = default_corpus_path() if default_corpus_path().is_file() else "synthetic"
    print(f"corpus: {src}, {len(ids):,} chars, vocab {vocab}")
    print(f"load average at start: {_loadavg()}")
    print()

    clean = _gemm_clean_env(configs, vocab, args.stat) if args.clean_blas_env else {}

    header = ["cfg", "shape", "GEMM limit", "(issue)"]
    if clean:
        kernels = {b.get("architecture") for d in clean.values() for b in d["blas"]}
        header += ["GEMM, BLAS vars unset" + (f" ({', '.join(map(str, kernels))})" if kernels else "")]
    if use_torch:
        header += ["torch train", "(issue)", "train/limit", "torch sample", "(issue)"]
    rows = []
    for name in configs:
        cell, H, L, B, T = CONFIGS[name]
        g = gemm_limit_train(cell, H, L, B, T, vocab, statistic=args.stat, return_details=True)
        row = [
            name,
            f"{cell} H{H} L{L} B{B} T{T}",
            f"{_fmt(g['chars_per_second'])} ({g['gflops']:.0f} GF/s)",
            _fmt(ISSUE_FIGURES[name].get("gemm")),
        ]
        if clean:
            row.append(_fmt(clean[name]["cps"]))
        if use_torch:
            tt = torch_train(cell, H, L, B, T, ids, vocab, seconds=args.seconds, statistic=args.stat)
            ts = torch_sample(cell, H, L, vocab, n_chars=args.sample_chars, statistic=args.stat)
            row += [
                _fmt(tt),
                _fmt(ISSUE_FIGURES[name].get("torch_train")),
                f"{tt / g['chars_per_second']:.2f}",
                _fmt(ts),
                _fmt(ISSUE_FIGURES[name].get("torch_sample")),
            ]
        rows.append(row)
        print("  ".join(row), flush=True)

    print()
    widths = [max(len(str(r[i])) for r in rows + [header]) for i in range(len(header))]
    line = lambda r: "  ".join(str(c).rjust(w) for c, w in zip(r, widths))  # noqa: E731
    print(f"load average at end: {_loadavg()}")
    print(f"chars/s ({args.stat} of repeats; '(issue)' = figure in the issue)")
    print(line(header))
    for r in rows:
        print(line(r))
    return 0


if __name__ == "__main__":
    sys.exit(main())
