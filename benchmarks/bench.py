"""charrnn's speed against its GEMM-only limit and against PyTorch, measured side by side.

For configs A, B and C (see reference.CONFIGS) it times, in alternating rounds within one run:
- charrnn training: Trainer.train_step on tinyshakespeare (forward, backward, clip, Adam),
- the GEMM-only limit for the same shapes (reference.gemm_limit_train),
- PyTorch training on the same shapes, when torch is importable,
- sampling at batch 1 (and charrnn at batch 8, as `--num-samples 8` runs),
and prints chars/s, each round's ratios and the median ratio. Machines here are shared and
noisy: compare the ratios, which are measured seconds apart, rather than absolute figures.

    python benchmarks/bench.py                     # all configs, 3 rounds
    python benchmarks/bench.py --configs B --rounds 5
    python benchmarks/bench.py --clean-blas-env    # with OPENBLAS_CORETYPE/OPENBLAS_L2_SIZE unset
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import reference  # noqa: E402

from charrnn.config import ModelConfig, SampleConfig, TrainConfig  # noqa: E402
from charrnn.data.corpus import Corpus, read_corpus  # noqa: E402
from charrnn.generation.sampling import generate  # noqa: E402
from charrnn.training.trainer import Trainer  # noqa: E402


def charrnn_train(trainer: Trainer, seconds: float) -> float:
    """Median chars/s of training steps run for about `seconds` (after two warm-up steps)."""
    for _ in range(2):
        trainer.train_step()
    times, start = [], time.perf_counter()
    while time.perf_counter() - start < seconds or len(times) < 3:
        t = time.perf_counter()
        trainer.train_step()
        times.append(time.perf_counter() - t)
    return trainer.cfg.batch_size * trainer.cfg.seq_len / statistics.median(times)


def charrnn_sample(trainer: Trainer, n_chars: int, batch: int = 1) -> float:
    """Characters per second drawn (all streams together) at temperature 1."""
    cfg = SampleConfig(length=n_chars, seed=0)
    start = time.perf_counter()
    for _ in generate(trainer.params, trainer.model_cfg, trainer.corpus.vocab, cfg, num_samples=batch):
        pass
    return n_chars * batch / (time.perf_counter() - start)


def make_trainer(corpus: Corpus, cell: str, hidden: int, layers: int, batch: int, seq: int) -> Trainer:
    model_cfg = ModelConfig(cell=cell, hidden_size=hidden, num_layers=layers, dropout=0.0)
    train_cfg = TrainConfig(batch_size=batch, seq_len=seq, max_time=None)
    return Trainer(corpus, model_cfg, train_cfg)


def bench_config(name: str, corpus: Corpus, ids: np.ndarray, rounds: int, seconds: float, sample_chars: int) -> None:
    cell, hidden, layers, batch, seq = reference.CONFIGS[name]
    V = len(corpus.vocab)
    torch_ok = reference.torch_available()
    trainer = make_trainer(corpus, cell, hidden, layers, batch, seq)
    print(f"\nconfig {name}: {cell} hidden {hidden} x {layers} layers, batch {batch}, seq {seq}, vocab {V}", flush=True)
    rows = []
    for r in range(rounds):
        row = {
            "charrnn": charrnn_train(trainer, seconds),
            "gemm": reference.gemm_limit_train(cell, hidden, layers, batch, seq, V),
            "sample": charrnn_sample(trainer, sample_chars),
            "sample8": charrnn_sample(trainer, sample_chars // 4, batch=8),
        }
        if torch_ok:
            row["torch"] = reference.torch_train(cell, hidden, layers, batch, seq, ids, V, seconds=seconds)
            row["torch_sample"] = reference.torch_sample(cell, hidden, layers, V, n_chars=sample_chars // 2)
        rows.append(row)
        print(
            format_figures(
                f"round {r + 1}", lambda key, over=None, row=row: row[key] / (row[over] if over else 1), torch_ok
            )
        )

    def median(key, over=None):
        return statistics.median(r[key] / (r[over] if over else 1) for r in rows)

    print(format_figures(f"{name} median", median, torch_ok), flush=True)


def format_figures(label: str, fig, torch_ok: bool) -> str:
    """One line of figures; fig(key) is a measurement, fig(key, over) a ratio of two."""
    line = f"  {label}: train {fig('charrnn'):,.0f} chars/s = {fig('charrnn', 'gemm'):.2f} of the GEMM-only limit ({fig('gemm'):,.0f})"
    if torch_ok:
        line += f" = {fig('charrnn', 'torch'):.2f} x PyTorch ({fig('torch'):,.0f})"
    line += f" | sample {fig('sample'):,.0f} chars/s (batch 8: {fig('sample8'):,.0f})"
    if torch_ok:
        line += f" = {fig('sample', 'torch_sample'):.1f} x PyTorch ({fig('torch_sample'):,.0f})"
    return line


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--configs", default="A,B,C")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--seconds", type=float, default=4.0, help="timing window per training measurement")
    ap.add_argument("--sample-chars", type=int, default=2000)
    ap.add_argument("--clean-blas-env", action="store_true", help="rerun with OPENBLAS_CORETYPE/L2_SIZE unset")
    args = ap.parse_args(argv)
    if args.clean_blas_env:
        rest = [a for a in (argv if argv is not None else sys.argv[1:]) if a != "--clean-blas-env"]
        sys.exit(subprocess.call([sys.executable, __file__, *rest], env=reference.clean_blas_env()))
    path = reference.default_corpus_path()
    if path.exists():
        corpus = read_corpus(path)
    else:
        print(f"{path} not found: using a synthetic corpus", file=sys.stderr)
        rng = np.random.default_rng(0)
        corpus = Corpus.from_text("".join(rng.choice(list("abcdefghij klmnopqrstuvwxyz\n.,"), 1_000_000)))
    ids = np.asarray(corpus.ids)
    info = reference.thread_info()
    print(f"numpy {np.__version__}, BLAS {reference.blas_info() or 'see numpy.show_config()'}")
    print(f"threads: {info}")
    print("environment: " + ", ".join(f"{k}={os.environ.get(k)}" for k in reference.BLAS_ENV_VARS))
    for name in args.configs.split(","):
        bench_config(name, corpus, ids, args.rounds, args.seconds, args.sample_chars)


if __name__ == "__main__":
    main()
