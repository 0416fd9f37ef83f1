"""Training speed on several workers: charrnn on 1 and 2 workers beside PyTorch, and a projection.

For configs A, B and C (reference.CONFIGS) it measures, in alternating rounds within one run and
each contender in a process of its own (isolated.py):
- charrnn on 1 worker: one process, NumPy's BLAS on every core (`charrnn train --workers 1`),
- charrnn on 2 workers: an MPI job of two processes, one BLAS thread each, half the streams each
  (`charrnn train --workers 2`),
- PyTorch on the same shapes (reference.torch_train), with its default threads,
and prints training chars/s, each round's ratios and their medians. Then it projects 4 to 64
workers, on one host and on several, from what it measured: a single-core step at batch B/N
(one process, one BLAS thread) and the Allreduce of the gradient between two workers here:

    chars/s(N) = B T / (t_step(B/N) + t_allreduce(N))

On one host the Allreduce is taken to cost 2 (N-1)/N of the measured two-worker one (a ring
moves 2 (N-1)/N of the buffer per worker); across hosts it is a ring at the network bandwidth
and latency given (default 10 Gbit/s, 25 us per message), hosts of two workers like this one.
Memory-bandwidth contention between workers on one host is not modelled. The machine here is
shared: compare the ratios, measured seconds apart in the same round, rather than absolute figures.

    python benchmarks/scaling.py                      # A, B, C; 3 rounds of 3 s per contender
    python benchmarks/scaling.py --configs B --rounds 5
    python benchmarks/scaling.py --clean-blas-env     # OPENBLAS_CORETYPE/OPENBLAS_L2_SIZE unset
    python benchmarks/scaling.py --kernels numba numpy  # both kinds of element-wise kernels, same rounds

The element-wise kernels are the default ones (numba's fused kernels where numba is installed,
see docs/speed.md) unless --kernels names them: each kind named is a contender of its own, its
workers started with CHARRNN_KERNELS set to it. The startup of a run (numba loading its compiled
kernels) is outside the timed steps; benchmarks/startup.py measures it.
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import sys
import time
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import isolated  # noqa: E402
import reference  # noqa: E402

WORKER_COUNTS = (1, 2, 4, 8, 16, 32, 64)
THREADS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
KERNELS_VARIABLE = "CHARRNN_KERNELS"  # charrnn/nn/kernels.py


# -- what the child processes run -----------------------------------------------------------------


VALIDATION_CHARS = 8192  # one validation's size when timing it (the default is 100,000, or the tail)


def _trainer(config: str, batch: int | None = None, comm=None):
    from charrnn.config import ModelConfig, TrainConfig
    from charrnn.data.corpus import Corpus, read_corpus
    from charrnn.training.trainer import Trainer

    cell, hidden, layers, B, T = reference.CONFIGS[config]
    path = reference.default_corpus_path()
    if path.is_file():
        corpus = read_corpus(str(path))
    else:  # the speed does not depend on the text
        ids, _ = reference.load_corpus_ids(path)
        corpus = Corpus.from_text("".join(chr(65 + i) for i in ids))
    model_cfg = ModelConfig(cell=cell, hidden_size=hidden, num_layers=layers, dropout=0.0)
    # no limit, so no cosine (it needs one to decay over); the rate does not change the speed
    train_cfg = TrainConfig(
        batch_size=batch or B,
        seq_len=T,
        max_time=None,
        lr_schedule="step",
        eval_every=10**9,
        eval_chars=VALIDATION_CHARS,
        patience=None,
    )
    return Trainer(corpus, model_cfg, train_cfg, comm=comm)


def _step_speeds(trainer, seconds: float) -> list[float]:
    """chars/s of every step for about `seconds`, after two warm-up steps; every worker stops
    after the same step (the stop rides with the gradient's Allreduce)."""
    from charrnn.training.trainer import StepEvent

    for _ in range(2):
        trainer.train_step()
    end = time.perf_counter() + seconds
    events = trainer.run(stop_requested=lambda: time.perf_counter() > end)
    return [e.chars_per_sec for e in events if isinstance(e, StepEvent)]


def charrnn_speed(config: str, seconds: float) -> dict | None:
    """Median training chars/s of this process or MPI job, and one validation's seconds."""
    from charrnn.training.parallel import world

    comm = world()
    trainer = _trainer(config, comm=comm)
    speeds = _step_speeds(trainer, seconds)
    t = time.perf_counter()
    trainer.evaluate()
    validation = time.perf_counter() - t
    return {"chars_per_sec": statistics.median(speeds), "validation_s": validation} if comm.rank == 0 else None


def step_seconds(config: str, batches: list[int], seconds: float) -> dict:
    """Median seconds of one training step at each batch size, in this (single-core) process."""
    cell, hidden, layers, B, T = reference.CONFIGS[config]
    return {str(b): b * T / statistics.median(_step_speeds(_trainer(config, b), seconds)) for b in batches}


def allreduce_seconds(n: int, seconds: float) -> dict | None:
    """Median seconds of a sum of n float32 over the MPI job: the gradient's one Allreduce."""
    import numpy as np

    from charrnn.training.parallel import World

    comm = World()
    buf, times = np.ones(n, np.float32), []
    for _ in range(5):
        comm.sum_(buf)
    end = time.perf_counter() + seconds
    while True:  # every rank runs the same number of sums: rank 0's clock decides
        t = time.perf_counter()
        comm.sum_(buf)
        times.append(time.perf_counter() - t)
        if comm.share(time.perf_counter() > end):
            break
    return {"seconds": statistics.median(times), "bytes": 4 * n} if comm.rank == 0 else None


def torch_speed(config: str, seconds: float) -> dict:
    cell, hidden, layers, B, T = reference.CONFIGS[config]
    ids, vocab = reference.load_corpus_ids()
    return {"chars_per_sec": reference.torch_train(cell, hidden, layers, B, T, ids, vocab, seconds=seconds)}


# -- the parent: rounds, ratios, projection -------------------------------------------------------


def threads(env: dict, n: int) -> dict:
    return {**env, **dict.fromkeys(THREADS, str(n))}


def measure_round(config: str, seconds: float, env: dict, with_torch: bool, turn: int, kernels: list) -> dict:
    cores = len(os.sched_getaffinity(0))
    contenders = {}
    for kind in kernels:
        named = env if kind is None else {**env, KERNELS_VARIABLE: kind}
        suffix = "" if kind is None else f" ({kind})"
        contenders[f"1 worker{suffix}"] = partial(
            isolated.run, "scaling:charrnn_speed", {"config": config, "seconds": seconds}, named
        )
        contenders[f"2 workers{suffix}"] = partial(
            isolated.run,
            "scaling:charrnn_speed",
            {"config": config, "seconds": seconds},
            threads(named, max(1, cores // 2)),
            2,
        )
    if with_torch:
        contenders["PyTorch"] = lambda: isolated.run("scaling:torch_speed", {"config": config, "seconds": seconds}, env)
    names = list(contenders)
    order = names[turn % len(names) :] + names[: turn % len(names)]  # who goes first changes every round
    return {name: contenders[name]() for name in order}


def ring_seconds(n_workers: int, n_bytes: float, bandwidth: float, latency: float) -> float:
    """A ring Allreduce: 2 (N-1) messages of 1/N of the buffer each, per worker."""
    return 2 * (n_workers - 1) * (latency + n_bytes / n_workers / bandwidth)


def projection(config: str, seconds: float, env: dict, gbits: float, latency_us: float) -> list[str]:
    import numpy as np

    from charrnn.config import ModelConfig
    from charrnn.nn.model import num_params, param_shapes

    cell, hidden, layers, B, T = reference.CONFIGS[config]
    counts = [n for n in WORKER_COUNTS if n <= B]
    batches = sorted({math.ceil(B / n) for n in counts})
    steps = isolated.run(
        "scaling:step_seconds", {"config": config, "batches": batches, "seconds": seconds}, threads(env, 1)
    )
    shapes = param_shapes(ModelConfig(cell=cell, hidden_size=hidden, num_layers=layers), 65)
    n_floats = num_params({k: np.empty(s) for k, s in shapes.items()}) + 3
    ar = isolated.run("scaling:allreduce_seconds", {"n": n_floats, "seconds": seconds}, threads(env, 1), 2)
    bandwidth, latency = gbits * 1e9 / 8, latency_us * 1e-6
    lines = [
        f"  projection, config {config}: single-core step at batch B/N measured here; Allreduce of {ar['bytes'] / 1e6:.2f} MB "
        f"measured between 2 workers here: {ar['seconds'] * 1e3:.2f} ms; several hosts: {gbits:g} Gbit/s, "
        f"{latency_us:g} us per message, 2 workers per host",
        "  | workers | streams each | step at B/N (1 core) | Allreduce one host | chars/s one host | "
        "Allreduce several hosts | chars/s several hosts |",
        "  |---|---|---|---|---|---|---|",
    ]
    for n in counts:
        b = math.ceil(B / n)
        t_step = steps[str(b)]
        local = 0.0 if n == 1 else ar["seconds"] * 2 * (n - 1) / n
        hosts = 0.0 if n <= 2 else ring_seconds(n, ar["bytes"], bandwidth, latency)
        lines.append(
            f"  | {n} | {b} | {t_step * 1e3:.1f} ms | {local * 1e3:.2f} ms | {B * T / (t_step + local):,.0f} | "
            + (f"{hosts * 1e3:.2f} ms | {B * T / (t_step + hosts):,.0f} |" if n > 2 else "- | - |")
        )
    return lines


def bench_config(config: str, args, env: dict, with_torch: bool) -> None:
    cell, hidden, layers, B, T = reference.CONFIGS[config]
    print(f"\nconfig {config}: {cell} {layers} x {hidden}, batch {B} x seq {T}", flush=True)
    rounds = []
    kernels = args.kernels or [None]
    for r in range(args.rounds):
        figures = measure_round(config, args.seconds, env, with_torch, r, kernels)
        rounds.append(figures)
        shown = ", ".join(f"{k} {v['chars_per_sec']:,.0f}" for k, v in figures.items())
        ratios = "".join(
            f"; {name} / PyTorch {figures[name]['chars_per_sec'] / figures['PyTorch']['chars_per_sec']:.2f}x"
            for name in figures
            if with_torch and name.startswith("2 workers")
        )
        print(f"  round {r + 1}: {shown} chars/s{ratios}", flush=True)
    for kind in kernels:
        summarise(config, rounds, with_torch, "" if kind is None else f" ({kind})")
    if len(kernels) > 1:
        one, two = (f" ({kind})" for kind in kernels[:2])
        ratio = lambda a, b: statistics.median(f[a]["chars_per_sec"] / f[b]["chars_per_sec"] for f in rounds)  # noqa: E731
        print(
            f"  config {config}: {kernels[0]} / {kernels[1]} kernels: 1 worker {ratio('1 worker' + one, '1 worker' + two):.2f}x, "
            f"2 workers {ratio('2 workers' + one, '2 workers' + two):.2f}x",
            flush=True,
        )
    if not args.no_projection:
        print("\n".join(projection(config, args.seconds, env, args.gbits, args.latency_us)), flush=True)


def summarise(config: str, rounds: list, with_torch: bool, suffix: str) -> None:
    """The medians of one kind of kernels' contenders ('' for the default kind)."""

    one, two = "1 worker" + suffix, "2 workers" + suffix

    def median(name: str, key: str = "chars_per_sec") -> float:
        return statistics.median(f[name][key] for f in rounds)

    def ratio(a: str, b: str) -> float:
        return statistics.median(f[a]["chars_per_sec"] / f[b]["chars_per_sec"] for f in rounds)

    line = f"  config {config}{suffix} medians: 1 worker {median(one):,.0f}, 2 workers {median(two):,.0f}"
    line += f" chars/s; 2 workers / 1 worker {ratio(two, one):.2f}x"
    if with_torch:
        line += f"; PyTorch {median('PyTorch'):,.0f} chars/s; 1 worker / PyTorch {ratio(one, 'PyTorch'):.2f}x"
        line += f"; 2 workers / PyTorch {ratio(two, 'PyTorch'):.2f}x"
    print(line)
    print(
        f"  one validation of {VALIDATION_CHARS:,} chars: split over 2 workers {median(two, 'validation_s'):.2f} s, "
        f"one process on both cores {median(one, 'validation_s'):.2f} s",
        flush=True,
    )


def configs_parser(doc: str) -> argparse.ArgumentParser:
    """A script's arguments of --configs (of reference.CONFIGS) and --rounds; its docstring's first
    paragraph is the description."""
    parser = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    parser.add_argument("--configs", nargs="+", default=list(reference.CONFIGS), choices=list(reference.CONFIGS))
    parser.add_argument("--rounds", type=int, default=3)
    return parser


def main(argv=None) -> None:
    parser = configs_parser(__doc__)
    parser.add_argument("--seconds", type=float, default=3.0, help="timed seconds per contender and round")
    parser.add_argument("--clean-blas-env", action="store_true", help="unset OPENBLAS_CORETYPE/OPENBLAS_L2_SIZE")
    parser.add_argument("--no-torch", action="store_true")
    parser.add_argument("--no-projection", action="store_true")
    parser.add_argument(
        "--kernels", nargs="+", choices=["numba", "numpy"], help="element-wise kernels to measure, each a contender"
    )
    parser.add_argument("--gbits", type=float, default=10.0, help="network bandwidth between hosts, Gbit/s")
    parser.add_argument("--latency-us", type=float, default=25.0, help="network latency per message, microseconds")
    args = parser.parse_args(argv)
    from charrnn.nn import kernels  # the environment's choice, which the contenders inherit

    env = reference.clean_blas_env() if args.clean_blas_env else dict(os.environ)
    with_torch = not args.no_torch and reference.torch_available()
    blas = {k: env.get(k) for k in reference.BLAS_ENV_VARS}
    load = os.getloadavg()
    print(
        f"charrnn scaling: {len(os.sched_getaffinity(0))} cores, load average {load[0]:.1f}, {blas}; every contender "
        f"in its own process, alternating in {args.rounds} rounds of {args.seconds:g} s; PyTorch "
        f"{'included' if with_torch else 'not installed'}; element-wise kernels: "
        f"{' and '.join(args.kernels) if args.kernels else kernels.kernels_in_use()}",
        flush=True,
    )
    for config in args.configs:
        bench_config(config, args, env, with_torch)


if __name__ == "__main__":
    main()
