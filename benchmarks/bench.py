"""charrnn's speed against its GEMM-only limit and against PyTorch, each in a process of its own.

For configs A, B and C (see reference.CONFIGS) it times, in alternating rounds within one run:
- charrnn training: Trainer.train_step on tinyshakespeare (forward, backward, clip, Adam),
- the GEMM-only limit for the same shapes (reference.gemm_limit_train),
- PyTorch training on the same shapes, when torch is importable,
- sampling at batch 1 (and charrnn at batch 8, as `--num-samples 8` runs),
and prints chars/s, each round's ratios and the median of the ratios.

Every contender runs in a fresh Python (isolated.py), one after the other, and the order turns
every round: OpenBLAS's and OpenMP's worker threads keep spinning for a while after a call, so a
library timed in the same process right after another is slowed by the other's threads. The
machine may be shared: compare the ratios, measured seconds apart, rather than absolute figures.

    python benchmarks/bench.py                     # all configs, 3 rounds, the environment as it is
    python benchmarks/bench.py --configs B --rounds 5
    python benchmarks/bench.py --clean-blas-env    # also with OPENBLAS_CORETYPE/OPENBLAS_L2_SIZE unset
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import isolated  # noqa: E402
import reference  # noqa: E402

# -- what the child processes run -----------------------------------------------------------------


def _trainer(config: str):
    import numpy as np

    from charrnn.config import ModelConfig, TrainConfig
    from charrnn.data.corpus import Corpus, read_corpus
    from charrnn.training.trainer import Trainer

    cell, hidden, layers, batch, seq = reference.CONFIGS[config]
    path = reference.default_corpus_path()
    if path.is_file():
        corpus = read_corpus(str(path))
    else:  # the speed does not depend on the text
        rng = np.random.default_rng(0)
        corpus = Corpus.from_text("".join(rng.choice(list("abcdefghij klmnopqrstuvwxyz\n.,"), 1_000_000)))
    model_cfg = ModelConfig(cell=cell, hidden_size=hidden, num_layers=layers, dropout=0.0)
    return Trainer(
        corpus, model_cfg, TrainConfig(batch_size=batch, seq_len=seq, max_time=None, lr_schedule="step")
    )  # no limit: no cosine


def charrnn_train(config: str, seconds: float) -> dict:
    """Median chars/s of training steps run for about `seconds` (after two warm-up steps)."""
    trainer = _trainer(config)
    for _ in range(2):
        trainer.train_step()
    times, start = [], time.perf_counter()
    while time.perf_counter() - start < seconds or len(times) < 3:
        t = time.perf_counter()
        trainer.train_step()
        times.append(time.perf_counter() - t)
    return {"chars_per_sec": trainer.cfg.batch_size * trainer.cfg.seq_len / statistics.median(times)}


def charrnn_sample(config: str, n_chars: int, batch: int = 1) -> dict:
    """Characters per second drawn (all streams together) at temperature 1, untrained weights."""
    from charrnn.config import SampleConfig
    from charrnn.language_model import LanguageModel

    trainer = _trainer(config)
    model = LanguageModel(trainer.params, trainer.model_cfg, trainer.corpus.vocab)
    start = time.perf_counter()
    for _ in model.generate(SampleConfig(length=n_chars, seed=0), num_samples=batch):
        pass
    return {"chars_per_sec": n_chars * batch / (time.perf_counter() - start)}


def gemm(config: str) -> dict:
    cell, hidden, layers, batch, seq = reference.CONFIGS[config]
    return {"chars_per_sec": reference.gemm_limit_train(cell, hidden, layers, batch, seq, 65)}


def torch_train(config: str, seconds: float) -> dict:
    cell, hidden, layers, batch, seq = reference.CONFIGS[config]
    ids, vocab = reference.load_corpus_ids()
    return {"chars_per_sec": reference.torch_train(cell, hidden, layers, batch, seq, ids, vocab, seconds=seconds)}


def torch_sample(config: str, n_chars: int) -> dict:
    cell, hidden, layers, _, _ = reference.CONFIGS[config]
    return {"chars_per_sec": reference.torch_sample(cell, hidden, layers, 65, n_chars=n_chars)}


# -- the parent: rounds, ratios -------------------------------------------------------------------


def contenders(config: str, args, torch_ok: bool) -> dict:
    """name -> (function in this module, its arguments)."""
    jobs = {
        "charrnn": ("charrnn_train", {"config": config, "seconds": args.seconds}),
        "gemm": ("gemm", {"config": config}),
        "sample": ("charrnn_sample", {"config": config, "n_chars": args.sample_chars}),
        "sample8": ("charrnn_sample", {"config": config, "n_chars": args.sample_chars // 4, "batch": 8}),
    }
    if torch_ok:
        jobs["torch"] = ("torch_train", {"config": config, "seconds": args.seconds})
        jobs["torch_sample"] = ("torch_sample", {"config": config, "n_chars": args.sample_chars // 2})
    return jobs


def measure_round(jobs: dict, env: dict, turn: int) -> dict:
    names = list(jobs)
    order = names[turn % len(names) :] + names[: turn % len(names)]  # who goes first turns every round
    return {name: isolated.run(f"bench:{jobs[name][0]}", jobs[name][1], env)["chars_per_sec"] for name in order}


def format_figures(label: str, fig, torch_ok: bool) -> str:
    """One line of figures; fig(key) is a measurement, fig(key, over) a ratio of two."""
    line = f"  {label}: train {fig('charrnn'):,.0f} chars/s = {fig('charrnn', 'gemm'):.2f} of the GEMM-only limit ({fig('gemm'):,.0f})"
    if torch_ok:
        line += f" = {fig('charrnn', 'torch'):.2f} x PyTorch ({fig('torch'):,.0f})"
    line += f" | sample {fig('sample'):,.0f} chars/s (batch 8: {fig('sample8'):,.0f})"
    if torch_ok:
        line += f" = {fig('sample', 'torch_sample'):.1f} x PyTorch ({fig('torch_sample'):,.0f})"
    return line


def bench_config(name: str, args, envs: dict, torch_ok: bool) -> None:
    cell, hidden, layers, batch, seq = reference.CONFIGS[name]
    print(f"\nconfig {name}: {cell} hidden {hidden} x {layers} layers, batch {batch}, seq {seq}", flush=True)
    jobs = contenders(name, args, torch_ok)
    rows = {label: [] for label in envs}
    for r in range(args.rounds):
        for label, env in envs.items():  # the environments alternate too
            row = measure_round(jobs, env, r)
            rows[label].append(row)
            fig = lambda key, over=None, row=row: row[key] / (row[over] if over else 1)  # noqa: E731
            print(format_figures(f"round {r + 1}, {label}", fig, torch_ok), flush=True)
    for label, got in rows.items():

        def median(key, over=None, got=got):
            return statistics.median(r[key] / (r[over] if over else 1) for r in got)

        print(format_figures(f"{name} median, {label}", median, torch_ok), flush=True)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--configs", default="A,B,C")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--seconds", type=float, default=4.0, help="timing window per training measurement")
    ap.add_argument("--sample-chars", type=int, default=2000)
    ap.add_argument(
        "--clean-blas-env", action="store_true", help="also measure with OPENBLAS_CORETYPE/OPENBLAS_L2_SIZE unset"
    )
    ap.add_argument("--no-torch", action="store_true", help="leave PyTorch out")
    args = ap.parse_args(argv)
    envs = {"env as is": dict(os.environ)}
    if args.clean_blas_env:
        envs["BLAS vars unset"] = reference.clean_blas_env()
    torch_ok = not args.no_torch and reference.torch_available()
    info = reference.thread_info()
    print(f"numpy {info['numpy']}, BLAS {info['numpy_blas']}, cpus {info['cpus']}")
    print("environment: " + ", ".join(f"{k}={os.environ.get(k)}" for k in reference.BLAS_ENV_VARS))
    print(
        f"corpus: {reference.default_corpus_path()}{'' if reference.default_corpus_path().is_file() else ' (absent: random text)'}"
    )
    print("each contender in a process of its own, one after another, the order turning every round; figures are")
    print(f"medians over {args.rounds} rounds (ratios: median of each round's ratio); load average {os.getloadavg()}")
    for name in args.configs.split(","):
        bench_config(name.strip().upper(), args, envs, torch_ok)
    print(f"\nload average at the end: {os.getloadavg()}")


if __name__ == "__main__":
    main()
