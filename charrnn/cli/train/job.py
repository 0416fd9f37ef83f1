"""What `charrnn train` does once its options are parsed: train in this process, start the MPI
job of --workers, or, under mpiexec, be one of its ranks."""

from __future__ import annotations

from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from charrnn import budget
from charrnn.cli import streams
from charrnn.cli.interrupts import deferred_signals
from charrnn.cli.options import given
from charrnn.cli.train import configs, ranks, reading, run
from charrnn.cli.train import workers as mpi_job
from charrnn.config import ReadConfig, SourceConfig
from charrnn.data.corpus import Corpus
from charrnn.training import parallel


@dataclass(frozen=True)
class Request:
    """What the user asked `train` for, each option by its name."""

    corpus: tuple[str, ...]  # the files and folders named, or - for standard input
    checkpoint: Path
    resume: bool
    force: bool
    options: dict[str, Any]  # the value of every ModelConfig and TrainConfig field
    init_from: Path | None  # the model a fine-tuning run starts from
    read: ReadConfig
    source: SourceConfig
    workers: int | str
    sample_length: int  # of the sample shown at the end
    quiet: bool
    log: Path | None


def train(ctx: click.Context, request: Request) -> None:
    """The run asked for, in this process, as the launcher of --workers, or as a rank."""
    # the closing sample is held whole before it is shown: refused now, not after the training
    budget.check_closing_sample(request.sample_length)
    if parallel.under_mpi() and given(ctx, ["workers"]):
        raise click.UsageError(
            "--workers starts an MPI job of its own; under mpiexec leave it out (mpiexec -n sets the workers)"
        )
    comm = parallel.world()
    if comm.distributed:
        _as_a_rank(comm, request)
        return
    if "-" in request.corpus:
        streams.stdin_bytes()  # a closed stdin is said here, not as an empty corpus by the workers
    setup = configs.configured(request)
    n = 1 if parallel.under_mpi() else mpi_job.count(request.workers, setup.train.batch_size)
    if n > 1:
        copy = reading.stdin_copy(request.quiet) if "-" in request.corpus else None
        mpi_job.launch(ctx, n, request.checkpoint, copy)
    data = reading.in_model_ids(request, setup)
    run.train_and_report(data, setup, request.sample_length, request.quiet, comm, None, request.log)


def _as_a_rank(comm: parallel.Comm, request: Request) -> None:
    """Under mpiexec: rank 0 alone checks, reads the corpus (ranks.prepared_by_rank_0), speaks and saves; every
    rank trains its share."""
    lead = comm.rank == 0
    # the others defer signals from the start: rank 0, which says when training starts, may be
    # stopped by a Ctrl-C that reaches them before they get there
    with nullcontext(None) if lead else deferred_signals() as caught:
        setup, data = ranks.prepared_by_rank_0(comm, lambda: _prepare(request))
        with ranks.ending_together(comm, request.checkpoint):
            shown = request.sample_length if lead else 0
            quiet = not lead or request.quiet
            run.train_and_report(data, setup, shown, quiet, comm, caught, request.log if lead else None)


def _prepare(request: Request) -> tuple[configs.Setup, Corpus]:
    """Rank 0's part before training: the checks and the Setup (which every worker gets), and the corpus."""
    setup = configs.configured(request)
    return setup, reading.in_model_ids(request, setup)
