"""`charrnn train` on several workers: `--workers N|auto` starts the MPI job on this machine, and
under mpiexec rank 0 alone reads, prints and saves while every rank trains its share of the batch.

An error that every worker meets at the same point (a corpus rank 0 cannot read, a diverged loss)
ends every worker with the same exit status, and only rank 0 says why. An error that one worker
meets alone (a checkpoint rank 0 cannot write, a worker out of memory) is said by that worker and
ends the whole job through MPI_Abort: the others would otherwise wait for it forever.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

import click

from charrnn.cli.common import ARGV
from charrnn.cli.console import TERMINAL_VARIABLE
from charrnn.cli.interrupts import SIGNAL_EXIT
from charrnn.errors import one_line

THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def mpi_installed() -> bool:
    import importlib.util

    return importlib.util.find_spec("mpi4py") is not None and _mpiexec() is not None


def _mpiexec() -> str | None:
    """The mpiexec beside this Python (the mpich wheel's), else the first on PATH."""
    return shutil.which("mpiexec", path=str(Path(sys.executable).parent)) or shutil.which("mpiexec")


def count(workers, batch_size: int) -> int:
    """How many workers to run: auto (the default) is parallel.auto_workers with the mpi extra,
    one process without it."""
    from charrnn.training import parallel

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
    return workers


def share_cores() -> None:
    """Under mpiexec, share this host's cores among its workers' BLAS threads, unless the user chose
    a number (as torchrun does with OMP_NUM_THREADS). Must run before NumPy is imported."""
    from charrnn.training import parallel

    if parallel.under_mpi() and not any(v in os.environ for v in THREAD_VARIABLES):
        n = str(max(1, parallel.cores() // max(1, parallel.local_size())))
        os.environ.update(dict.fromkeys(THREAD_VARIABLES, n))


# -- the launcher: --workers N --------------------------------------------------------------------

BANNER = re.compile(
    r"^(=+\s*$|=   |YOUR APPLICATION TERMINATED|This typically refers to a problem|Please see the FAQ page"
    r"|\[mpiexec@[^\]]*\] (Sending Ctrl-C|Press Ctrl-C again)|application called MPI_Abort)"
)
# MPICH's report of an MPI_Abort, or of a fatal error with its stack: "Abort(1) on node 0 ...",
# "MPIR_Wait(745)....: message"
MPI_REPORT = re.compile(r"^(Abort\(\d+\) on node \d+|[A-Za-z_]\w*\(\d+\)\.*:)")
CHARRNN_STATUSES = (0, 1, 2, *SIGNAL_EXIT.values())
KILLED = re.compile(r"EXIT STRING: .*\(signal (\d+)\)|EXIT CODE: (\d+)")


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


def launch(ctx: click.Context, n: int, checkpoint: Path) -> None:
    """Run this same training as an MPI job of n workers on this machine; exit with its status."""
    exe = _mpiexec()
    cmd = [exe, "-n", str(n), sys.executable, "-m", "charrnn", "train", *argv_again(ctx)]
    env = dict(os.environ)
    if sys.stderr.isatty():
        env[TERMINAL_VARIABLE] = "1"
        env.setdefault("COLUMNS", str(shutil.get_terminal_size().columns))
    try:  # a session of its own: a Ctrl-C at the terminal reaches mpiexec once, through us
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    except OSError as e:
        raise click.ClickException(f"cannot start {exe}: {e.strerror or e}") from None
    forward = {s: signal.signal(s, lambda signum, frame: proc.send_signal(signum)) for s in SIGNAL_EXIT}
    try:
        death = _relay(proc)
        status = proc.wait()
    finally:
        for s, h in forward.items():
            signal.signal(s, h)
    if death is not None:
        raise click.ClickException(f"a worker {death}, so the whole MPI job was stopped; {_kept(checkpoint)}")
    if status not in CHARRNN_STATUSES:  # not one of ours: mpiexec's own failure
        raise click.ClickException(f"the MPI job failed (mpiexec exited with status {status}); see above")
    ctx.exit(status)


class _Relay:
    """One of the job's output streams copied to ours as it comes (the progress bar redraws with
    \\r), leaving out mpiexec's multi-line banners, and noting how a worker died when one says so."""

    def __init__(self, source, target):
        self.source, self.target = source, target
        self.pending, self.held_blank, self.death, self.aborted, self.lost = b"", False, None, False, None

    def _emit(self, data: bytes) -> None:
        out = getattr(self.target, "buffer", None)
        if out is None:  # a text stream without bytes under it (click's test runner)
            self.target.write(data.decode(errors="replace"))
        else:
            out.write(data)
        self.target.flush()

    def _line(self, raw: bytes) -> None:
        line = raw.decode(errors="replace")
        if m := KILLED.search(line):  # the signal's name says more than the exit code before it
            self.death = _how(m) if m.group(1) or self.death is None else self.death
        if MPI_REPORT.match(line):
            if "application called MPI_Abort" in line:  # charrnn's own: its rank said why
                self.aborted = True
            elif said := line.split(":", 1)[1].strip():  # the stack's last line says most
                self.lost = said
        if BANNER.match(line) or MPI_REPORT.match(line) or m:
            self.held_blank = False  # the blank line before a banner is part of it
            return
        if self.held_blank:
            self._emit(b"\n")
        self.held_blank = not raw.strip()
        if not self.held_blank:
            self._emit(raw + b"\n")

    def read(self) -> bool:
        """Relay what is there; False at the end of the stream."""
        chunk = os.read(self.source.fileno(), 1 << 16)
        self.pending += chunk
        *lines, self.pending = self.pending.split(b"\n")
        for raw in lines:
            self._line(raw)
        if b"\r" in self.pending:  # a redraw of the bar: show it now
            cut = self.pending.rindex(b"\r") + 1
            self._emit(self.pending[:cut])
            self.pending = self.pending[cut:]
        if not chunk:
            if self.held_blank:
                self._emit(b"\n")
            if self.pending:
                self._emit(self.pending)
        return bool(chunk)


def _relay(proc) -> str | None:
    """Relay the job's stdout and stderr until both end; how a worker died, if one did (and did
    not end the job itself through MPI_Abort, after saying why)."""
    import selectors

    relays = [_Relay(proc.stdout, sys.stdout), _Relay(proc.stderr, sys.stderr)]
    with selectors.DefaultSelector() as sel:
        for r in relays:
            sel.register(r.source, selectors.EVENT_READ, r)
        while sel.get_map():
            for key, _ in sel.select():
                if not key.data.read():
                    sel.unregister(key.fileobj)
    if any(r.aborted for r in relays):
        return None
    lost = next((f"stopped answering (MPI: {r.lost})" for r in relays if r.lost), None)
    return next((r.death for r in relays if r.death), lost)


def _how(m: re.Match) -> str:
    if m.group(1):
        number = int(m.group(1))
        try:
            return f"was killed by {signal.Signals(number).name} (signal {number})"
        except ValueError:
            return f"was killed by signal {number}"
    return f"exited with status {m.group(2)}"


def _kept(path: Path) -> str:
    from charrnn import checkpoint as ckpt_io
    from charrnn.errors import CharRNNError

    try:
        step = ckpt_io.load(path).progress.get("step")
    except (CharRNNError, OSError, ValueError):
        return f"no checkpoint is at {path}" if not path.exists() else f"{path} is as it was"
    return f"{path} holds the weights saved at step {step:,}"


# -- under mpiexec --------------------------------------------------------------------------------


def exit_status(e: BaseException) -> int:
    if isinstance(e, SystemExit):
        return e.code if isinstance(e.code, int) else 1
    if isinstance(e, click.exceptions.Exit):
        return e.exit_code
    if isinstance(e, click.ClickException):
        return e.exit_code
    from charrnn.cli.errors import as_click
    from charrnn.errors import CharRNNError

    if isinstance(e, KeyboardInterrupt):
        return SIGNAL_EXIT[getattr(e, "signum", signal.SIGINT)]
    return as_click(e).exit_code if isinstance(e, CharRNNError) else 1


def lead(comm, prepare):
    """Rank 0 runs prepare() -> (setup, corpus): the checks, the configs, reading the corpus; every
    rank gets both. When it fails, rank 0 says why and the others exit with its status, silently."""
    from charrnn.training.parallel import share_corpus

    if comm.rank == 0:
        try:
            setup, data = prepare()
        except BaseException as e:
            comm.share(("failed", exit_status(e)))
            raise
        comm.share(("ok", setup))
        return setup, share_corpus(comm, data)
    told, said = comm.share(None)
    if told == "failed":
        sys.exit(said)
    return said, share_corpus(comm, None)


@contextmanager
def together(comm, checkpoint: Path | None = None):
    """Training on every rank: errors all ranks meet together pass (rank 0's is shown, the others
    exit silently with its status); anything else is shown by its rank and ends the job."""
    from charrnn.errors import CharRNNError

    try:
        yield
    except (click.ClickException, click.exceptions.Exit, CharRNNError, SystemExit) as e:
        if comm.rank:
            sys.exit(exit_status(e))
        raise
    except BaseException as e:
        _abort(comm, e, checkpoint)


@contextmanager
def alone(comm):
    """Work that rank 0 does by itself while the others go on (saving): its failure ends the job."""
    try:
        yield
    except BaseException as e:
        if not comm.distributed:
            raise
        _abort(comm, e)


def _abort(comm, e: BaseException, checkpoint: Path | None = None) -> None:
    from charrnn.errors import CharRNNError

    if type(e).__module__.startswith("mpi4py"):  # MPI returned an error: a peer is gone (killed, or its host)
        kept = f"; {_kept(checkpoint)}" if checkpoint is not None else ""
        said = f"Error: a worker stopped answering (MPI: {one_line(e).split(',')[0]}), so the job was stopped{kept}"
    elif isinstance(e, KeyboardInterrupt):
        said = "Interrupted."
    elif isinstance(e, (CharRNNError, click.ClickException)):
        from charrnn.cli.errors import message

        said = f"Error: {one_line(e.format_message()) if isinstance(e, click.ClickException) else message(e)}"
    elif isinstance(e, MemoryError):
        from charrnn.cli.errors import OUT_OF_MEMORY

        said = f"Error: {OUT_OF_MEMORY}"
    else:
        said = f"Error: internal error ({type(e).__name__}: {one_line(e)}); please report it"
    who = f"worker {comm.rank} of {comm.size}: " if comm.rank else ""
    click.echo(f"{who}{said}", err=True)
    sys.stderr.flush()
    comm.abort(exit_status(e))
