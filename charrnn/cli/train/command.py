"""`charrnn train`: the command's options and what it does with them, in one process, as the
launcher of an MPI job (--workers) or as one of its ranks (under mpiexec)."""

from __future__ import annotations

import click

from charrnn.cli.common import Command, Whole, file_option
from charrnn.cli.options import checkpoint_option, config_option, config_options, read_options
from charrnn.config import ModelConfig, ParallelConfig, ReadConfig, SourceConfig, TrainConfig


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
@click.option(
    "-q",
    "--quiet",
    is_flag=True,
    help="No progress bar or messages: only warnings (a skipped file, a setting that cannot work well) and errors.",
)
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
    from charrnn.cli.train import job

    source = SourceConfig(include, exclude, document_separator)  # its checks, before anything is read
    asked = job.Request(
        corpus=corpus,
        checkpoint=checkpoint,
        resume=resume,
        force=force,
        options=options,
        init_from=init_from,
        read=ReadConfig(encoding, decode_errors),
        source=source,
        workers=workers,
        sample_length=sample_length,
        quiet=quiet,
        log=log,
    )
    job.train(ctx, asked)
