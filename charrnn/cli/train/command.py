"""`charrnn train`: the command's options and what it does with them, in one process, as the
launcher of an MPI job (--workers) or as one of its ranks (under mpiexec)."""

from __future__ import annotations

from contextlib import nullcontext

import click

from charrnn.cli import streams
from charrnn.cli.common import Command, Whole, file_option
from charrnn.cli.interrupts import deferred_signals
from charrnn.cli.options import checkpoint_option, config_option, config_options, given, read_options
from charrnn.cli.train import configs, ranks, reading, run
from charrnn.cli.train import workers as mpi_job
from charrnn.config import ModelConfig, ParallelConfig, SourceConfig, TrainConfig


@click.command(cls=Command, short_help="Learn a text into a checkpoint.")
@click.argument("corpus", nargs=-1, required=True, type=click.Path(exists=True, readable=True, allow_dash=True))
@checkpoint_option("Checkpoint file to write (with --resume: to continue).")
@config_options(ModelConfig, TrainConfig)
@read_options
@config_option(SourceConfig, "include", multiple=True, show_default=False)
@config_option(SourceConfig, "exclude", multiple=True, show_default=False)
@config_option(SourceConfig, "document_separator")
@file_option(
    "--init-from",
    "OLD.npz",
    "Fine-tune: a new run that starts from this model's weights and settings (characters matched by character).",
)
@file_option(
    "--log", "FILE.jsonl", "Append one JSON line per validation to this file (step, elapsed, bits/char, lr, chars/s)."
)
@click.option("--resume", is_flag=True, help="Continue training the existing checkpoint.")
@click.option("--force", is_flag=True, help="Replace an existing checkpoint.")
@click.option(
    "--sample-length",
    type=Whole(min=0),
    default=300,
    show_default=True,
    help="Characters of sample shown at the end (0: none).",
)
@click.option("-q", "--quiet", is_flag=True, help="No progress bar or messages; errors only.")
@config_option(ParallelConfig, "workers")
@click.pass_context
def train(
    ctx,
    corpus,
    checkpoint,
    encoding,
    decode_errors,
    include,
    exclude,
    document_separator,
    init_from,
    log,
    resume,
    force,
    sample_length,
    quiet,
    workers: str | int,
    **options,
):
    """Train a model on CORPUS: a text file, - for standard input, or several files and folders.

    Several files, or a folder (read recursively, hidden files left out, --include/--exclude to
    choose), are read as documents: the model learns where each starts and ends, `charrnn sample
    --documents N` writes whole ones, and with ten or more, validation holds out whole documents.
    Binary and undecodable files are skipped and counted.

    Saves the checkpoint at every validation and when stopped with Ctrl-C, so that `charrnn
    sample` works on it at once; the weights it keeps are those with the best validation loss.
    Stops at --epochs, --max-steps or --max-time (10 minutes unless told), whichever comes first.

    \b
    Examples:
      charrnn train corpora/shakespeare.txt
      charrnn train notes.txt --model gru --hidden-size 128 --max-time 2m -c notes.npz
      cat *.py | charrnn train - --epochs 5 -c code.npz
      charrnn train corpora/shakespeare.txt --resume --max-time 20m
      charrnn train src/ --include '*.py' --max-time 5m -c code.npz
      charrnn train new.txt --init-from code.npz -c new.npz --max-time 2m
      charrnn train corpora/shakespeare.txt --workers 2
      mpiexec -n 4 -f hosts charrnn train corpora/shakespeare.txt
    """
    from charrnn import budget
    from charrnn.training import parallel

    # the closing sample is held whole before it is shown: refused now, not after the training
    budget.require(f"a sample of {sample_length:,} characters", 16 * sample_length, {"sample_length": sample_length})
    if parallel.under_mpi() and given(ctx, ["workers"]):
        raise click.UsageError(
            "--workers starts an MPI job of its own; under mpiexec leave it out (mpiexec -n sets the workers)"
        )
    SourceConfig(include, exclude, document_separator)  # its checks, before anything is read
    how = dict(encoding=encoding, decode_errors=decode_errors, include=include, exclude=exclude)
    how["separator"] = document_separator
    plan = (corpus, checkpoint, resume, force, {**options, "init_from": init_from})
    comm = parallel.world()
    if comm.distributed:
        _as_a_rank(comm, plan, how, sample_length, quiet, log)
        return
    if "-" in corpus:
        streams.stdin_bytes()  # a closed stdin is said here, not as an empty corpus by the workers
    setup = configs.configured(*plan)
    n = 1 if parallel.under_mpi() else mpi_job.count(workers, setup.train.batch_size)
    if n > 1:
        mpi_job.launch(ctx, n, checkpoint, reading.stdin_copy(quiet) if "-" in corpus else None)
    data = reading.in_model_ids(corpus, how, quiet, setup)
    run.train_and_report(data, setup, sample_length, quiet, comm, None, log)


def _as_a_rank(comm, plan: tuple, how: dict, sample_length: int, quiet: bool, log) -> None:
    """Under mpiexec: rank 0 alone checks, reads the corpus (ranks.lead), speaks and saves; every
    rank trains its share."""
    lead = comm.rank == 0
    # the others defer signals from the start: rank 0, which says when training starts, may be
    # stopped by a Ctrl-C that reaches them before they get there
    with nullcontext(None) if lead else deferred_signals() as caught:
        setup, data = ranks.lead(comm, lambda: _prepare(plan, how, quiet))
        with ranks.together(comm, plan[1]):
            shown = sample_length if lead else 0
            run.train_and_report(data, setup, shown, not lead or quiet, comm, caught, log if lead else None)


def _prepare(plan: tuple, how: dict, quiet: bool):
    """Rank 0's part before training: the checks and the Setup (which every worker gets), and the corpus."""
    setup = configs.configured(*plan)
    return setup, reading.in_model_ids(plan[0], how, quiet, setup)
