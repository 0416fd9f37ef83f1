"""Training steps by the CPU time of one thread: a comparison that a loaded machine does not upset.

On a shared machine the wall-clock figures of scaling.py move with the other processes, most of
all those of the contenders with two threads (one worker on both cores, PyTorch), whose threads
wait for each other while another process holds a core. The CPU time one thread spends on a step
moves far less. Each contender here runs one thread (OPENBLAS_NUM_THREADS=1,
torch.set_num_threads(1)) in a process of its own, alternating in rounds, and the figure is the
median thread CPU time of its steps (time.thread_time):

- charrnn at the config's batch B and at B/2 (one of two workers' share), with numba's fused
  kernels and with NumPy's,
- PyTorch (reference.TorchLoop) at B.

It prints each one's milliseconds per step and, from them:
- one thread each: PyTorch's step / charrnn's step at B (above 1: charrnn does the step in less
  CPU time);
- two workers against PyTorch on two cores, estimated: PyTorch's one-thread step / 2 (its two
  threads taken to halve it, which favours PyTorch) against charrnn's step at B/2 (each worker's;
  the Allreduce, about a millisecond here, left out).

    python benchmarks/cpu_time.py                    # A, B, C; 3 rounds
    python benchmarks/cpu_time.py --configs B --rounds 5
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import isolated  # noqa: E402
import reference  # noqa: E402
import scaling  # noqa: E402

ONE_THREAD = dict.fromkeys(scaling.THREADS, "1")


def median_cpu_seconds(step, warmup: int, steps: int) -> float:
    """The median thread CPU time of `steps` calls of step(), after `warmup` untimed ones."""
    for _ in range(warmup):
        step()
    times = []
    for _ in range(steps):
        t = time.thread_time()
        step()
        times.append(time.thread_time() - t)
    return statistics.median(times)


def charrnn_step(config: str, batch: int, steps: int) -> dict:
    trainer = scaling._trainer(config, batch)
    return {"seconds": median_cpu_seconds(trainer.train_step, 2, steps), "kernels": trainer.kernels}


def torch_step(config: str, steps: int) -> dict:
    import torch

    torch.set_num_threads(1)
    cell, hidden, layers, B, T = reference.CONFIGS[config]
    ids, vocab = reference.load_corpus_ids()
    loop = reference.TorchLoop(cell, hidden, layers, B, T, ids, vocab)
    return {"seconds": median_cpu_seconds(loop.step, 3, steps)}


def measure_config(config: str, n_rounds: int, steps: int, env: dict, with_torch: bool) -> None:
    cell, hidden, layers, B, T = reference.CONFIGS[config]
    contenders = {}
    for kind in ("numba", "numpy"):
        for b in (B, B // 2):
            contenders[f"{kind} B={b}"] = (
                "cpu_time:charrnn_step",
                {"config": config, "batch": b, "steps": steps},
                {**env, scaling.KERNELS_VARIABLE: kind},
            )
    if with_torch:
        contenders["PyTorch"] = ("cpu_time:torch_step", {"config": config, "steps": steps}, env)
    names, rounds = list(contenders), []
    for r in range(n_rounds):
        order = names[r % len(names) :] + names[: r % len(names)]
        rounds.append({name: isolated.run(*contenders[name])["seconds"] for name in order})
    ms = {name: statistics.median(f[name] for f in rounds) * 1e3 for name in names}
    print(
        f"\nconfig {config} ({cell} {layers} x {hidden}, batch {B} x {T}), ms per step: "
        + ", ".join(f"{k} {v:.1f}" for k, v in ms.items()),
        flush=True,
    )

    def ratio(a: str, b: str) -> float:
        return statistics.median(f[a] / f[b] for f in rounds)

    for kind in ("numba", "numpy"):
        line = f"  {kind}: B/2 step / B step {ratio(f'{kind} B={B // 2}', f'{kind} B={B}'):.2f}"
        if with_torch:
            line += (
                f"; one thread each, PyTorch / charrnn {ratio('PyTorch', f'{kind} B={B}'):.2f}x"
                f"; 2 workers against PyTorch on 2 cores, estimated {ratio('PyTorch', f'{kind} B={B // 2}') / 2:.2f}x"
            )
        print(line, flush=True)
    print(
        f"  numba / numpy step time: B {ratio(f'numba B={B}', f'numpy B={B}'):.2f}, "
        f"B/2 {ratio(f'numba B={B // 2}', f'numpy B={B // 2}'):.2f}",
        flush=True,
    )


def main(argv=None) -> None:
    parser = scaling.configs_parser(__doc__)
    parser.add_argument("--steps", type=int, default=10, help="timed steps per contender and round")
    args = parser.parse_args(argv)
    env = {**os.environ, **ONE_THREAD}
    with_torch = reference.torch_available()
    print(f"charrnn CPU time per step, one thread each: load average {os.getloadavg()[0]:.1f}", flush=True)
    for config in args.configs:
        measure_config(config, args.rounds, args.steps, env, with_torch)
    print(f"\nload average at the end {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
