"""`charrnn train --workers N|auto`: how many workers, their share of the cores, and the launcher
that starts the MPI job on this machine (its output is relayed by relay.py; under mpiexec, what
each rank does is ranks.py's).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import click

from charrnn.cli.common import ARGV
from charrnn.cli.console import TERMINAL_VARIABLE
from charrnn.cli.interrupts import SIGNAL_EXIT
from charrnn.cli.streams import STDIN_VARIABLE
from charrnn.cli.train.relay import relay
from charrnn.training import parallel

THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
LAUNCHER_VARIABLE = "CHARRNN_LAUNCHER_FD"  # the launcher's pipe; every worker variable: docs/parallel.md
# a worker training the default model: `benchmarks/memory.py --workers 2` peaks at about 215 MB a process
WORKER_BYTES = 200 << 20


def mpi_installed() -> bool:
    import importlib.util

    return importlib.util.find_spec("mpi4py") is not None and _mpiexec() is not None


def _mpiexec() -> str | None:
    """The mpiexec beside this Python (the mpich wheel's), else the first on PATH."""
    return shutil.which("mpiexec", path=str(Path(sys.executable).parent)) or shutil.which("mpiexec")


def count(workers, batch_size: int) -> int:
    """How many workers to run: auto (the default) is parallel.auto_workers with the mpi extra,
    one process without it."""
    if workers == "auto":
        return parallel.auto_workers(batch_size) if mpi_installed() else 1
    if workers > batch_size:
        raise click.UsageError(
            f"--workers {workers} is more than --batch-size {batch_size}, and each worker needs at least one stream: "
            "use fewer workers or a larger batch"
        )
    if workers > 1 and not mpi_installed():
        raise click.UsageError(
            f"--workers {workers} needs MPI, which is not installed: pip install 'charrnn[mpi]' (or train in one "
            "process without --workers)"
        )
    _check_room_for(workers)
    return workers


def _check_room_for(workers: int) -> None:
    """Refuse, before any process starts, more workers than this machine can run: one core each,
    and each its memory. More than one machine has is a job for mpiexec and a hostfile."""
    from charrnn import budget

    beyond = "; to train on several machines, start the job with mpiexec and a hostfile (mpiexec -n N -f hosts charrnn train ...)"
    if workers > (n := parallel.cores()):
        raise click.UsageError(
            f"--workers {workers} is more than the {n} cores of this machine, one for each worker{beyond}"
        )
    if workers * WORKER_BYTES > (total := budget.memory_total()):
        raise click.UsageError(
            f"--workers {workers} would need {workers * WORKER_BYTES / 2**30:,.1f} GiB of memory for the workers alone, "
            f"more than this machine's {total / 2**30:,.1f} GiB{beyond}"
        )


def share_cores() -> None:
    """Under mpiexec, share this host's cores among its workers' BLAS threads, unless the user chose
    a number (as torchrun does with OMP_NUM_THREADS). Must run before NumPy is imported."""
    if parallel.under_mpi() and not any(v in os.environ for v in THREAD_VARIABLES):
        n = str(max(1, parallel.cores() // max(1, parallel.local_size())))
        os.environ.update(dict.fromkeys(THREAD_VARIABLES, n))


# -- the launcher: --workers N --------------------------------------------------------------------

CHARRNN_STATUSES = (0, 1, 2, *SIGNAL_EXIT.values())  # the exit statuses charrnn itself gives


def argv_again(ctx: click.Context) -> list[str]:
    """This command's arguments as the user typed them, less --workers, for the workers."""
    typed = ctx.meta.get(ARGV, [])
    args = typed[typed.index(ctx.info_name) + 1 :] if ctx.info_name in typed else []
    kept, skip = [], False
    for a in args:
        if skip or a.startswith("--workers="):
            skip = False
        elif a == "--workers":
            skip = True
        else:
            kept.append(a)
    return kept


def launch(ctx: click.Context, n: int, checkpoint: Path, stdin=None) -> None:
    """Run this same training as an MPI job of n workers on this machine; exit with its status.

    `stdin`, a file (the copy of a corpus given on standard input), is handed to the workers as a
    descriptor of their own, and mpiexec reads nothing: it would pass standard input on to rank 0
    through a pipe, and stop the job when rank 0 reads it more slowly than it comes.
    """
    exe = _mpiexec()
    cmd = [exe, "-n", str(n), sys.executable, "-m", "charrnn", "train", *argv_again(ctx)]
    env = dict(os.environ)
    if sys.stderr.isatty():
        env[TERMINAL_VARIABLE] = "1"
        env.setdefault("COLUMNS", str(shutil.get_terminal_size().columns))
    fds = () if stdin is None else (stdin.fileno(),)
    if stdin is not None:
        env[STDIN_VARIABLE] = str(stdin.fileno())
    # a pipe whose write end this process alone holds (never inherited) and never writes: however
    # it ends, a SIGKILL included, the end closes with it, and rank 0, watching the read end
    # (launcher_watch), has every worker stop after the step, saved
    watched, held = os.pipe()
    env[LAUNCHER_VARIABLE] = str(watched)
    fds = (*fds, watched)
    try:  # a session of its own: a Ctrl-C at the terminal reaches mpiexec once, through us
        proc = subprocess.Popen(
            cmd,
            env=env,
            stdin=subprocess.DEVNULL if stdin is not None else None,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
            pass_fds=fds,
        )
    except OSError as e:
        os.close(held)
        raise click.ClickException(f"cannot start {exe}: {e.strerror or e}") from None
    finally:
        os.close(watched)
    forward = {s: signal.signal(s, lambda signum, frame: proc.send_signal(signum)) for s in SIGNAL_EXIT}
    try:
        death = relay(proc)
        status = proc.wait()
    finally:
        os.close(held)  # the job has ended
        for s, h in forward.items():
            signal.signal(s, h)
    if death is not None:
        raise click.ClickException(f"a worker {death}, so the whole MPI job was stopped; {checkpoint_left(checkpoint)}")
    if status not in CHARRNN_STATUSES:  # not one of ours: mpiexec's own failure
        raise click.ClickException(f"the MPI job failed (mpiexec exited with status {status}); see above")
    ctx.exit(status)


def checkpoint_left(path: Path) -> str:
    """What the checkpoint holds after the job failed: the step its weights were saved at."""
    from charrnn import checkpoint as ckpt_io
    from charrnn.errors import CharRNNError

    try:
        step = ckpt_io.load(path).record.step
    except (CharRNNError, OSError, ValueError):
        return f"no checkpoint is at {path}" if not path.exists() else f"{path} is as it was"
    return f"{path} holds the weights saved at step {step:,}"


def launcher_watch(caught: list[int]):
    """For rank 0 of a job that `--workers` launched: a function that says whether the launcher
    is gone (its pipe's write end closed), noting it in `caught` as the hangup it is, so that the
    stop is voted like a signal's. Under a job started otherwise, it is never gone."""
    import select

    fd = os.environ.get(LAUNCHER_VARIABLE, "")

    def gone() -> bool:
        try:
            ended = bool(select.select([int(fd)], [], [], 0)[0])  # no one writes: readable is its end
        except (OSError, ValueError):
            return False
        if ended and not caught:
            caught.append(signal.SIGHUP)
        return ended

    return gone if fd.isdigit() else (lambda: False)
