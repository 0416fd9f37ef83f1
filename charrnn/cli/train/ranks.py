"""`charrnn train` under mpiexec: rank 0 alone reads, prints and saves while every rank trains its
share of the batch.

An error that every worker meets at the same point (a corpus rank 0 cannot read, a diverged loss)
ends every worker with the same exit status, and only rank 0 says why. An error that one worker
meets alone (a checkpoint rank 0 cannot write, a worker out of memory) is said by that worker and
ends the whole job through MPI_Abort: the others would otherwise wait for it forever.
"""

from __future__ import annotations

import signal
import sys
from contextlib import contextmanager
from pathlib import Path

import click

from charrnn.cli.console import error_line
from charrnn.cli.errors import as_click, message, out_of_memory
from charrnn.cli.interrupts import SIGNAL_EXIT
from charrnn.cli.train.workers import checkpoint_left
from charrnn.errors import CharRNNError, one_line
from charrnn.training.parallel import share_corpus


def exit_status(e: BaseException) -> int:
    if isinstance(e, SystemExit):
        return e.code if isinstance(e.code, int) else 1
    if isinstance(e, click.exceptions.Exit):
        return e.exit_code
    if isinstance(e, click.ClickException):
        return e.exit_code

    if isinstance(e, KeyboardInterrupt):
        return SIGNAL_EXIT[getattr(e, "signum", signal.SIGINT)]
    return as_click(e).exit_code if isinstance(e, CharRNNError) else 1


def prepared_by_rank_0(comm, prepare):
    """Rank 0 runs prepare() -> (setup, corpus): the checks, the configs, reading the corpus; every
    rank gets both. When it fails, rank 0 says why and the others exit with its status, silently."""
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
def ending_together(comm, checkpoint: Path | None = None):
    """Training on every rank: errors all ranks meet together pass (rank 0's is shown, the others
    exit silently with its status); anything else is shown by its rank and ends the job."""
    try:
        yield
    except (click.ClickException, click.exceptions.Exit, CharRNNError, SystemExit) as e:
        if comm.rank:
            sys.exit(exit_status(e))
        raise
    except BaseException as e:
        _abort(comm, e, checkpoint)


@contextmanager
def rank_0_alone(comm):
    """Work that rank 0 does by itself while the others go on (saving): its failure ends the job."""
    try:
        yield
    except BaseException as e:
        if not comm.distributed:
            raise
        _abort(comm, e)


def _abort(comm, e: BaseException, checkpoint: Path | None = None) -> None:
    if type(e).__module__.startswith("mpi4py"):  # MPI returned an error: a peer is gone (killed, or its host)
        held = f"; {checkpoint_left(checkpoint)}" if checkpoint is not None else ""
        said = f"Error: a worker stopped answering (MPI: {one_line(e).split(',')[0]}), so the job was stopped{held}"
    elif isinstance(e, KeyboardInterrupt):
        said = "Interrupted."
    elif isinstance(e, (CharRNNError, click.ClickException)):
        said = f"Error: {one_line(e.format_message()) if isinstance(e, click.ClickException) else message(e)}"
    elif isinstance(e, MemoryError):
        said = f"Error: {out_of_memory('train')}"
    else:
        said = f"Error: internal error ({type(e).__name__}: {one_line(e)}); please report it"
    who = f"worker {comm.rank} of {comm.size}: " if comm.rank else ""
    error_line(f"{who}{said}")
    sys.stderr.flush()
    comm.abort(exit_status(e))
