"""What `charrnn train` reads before it trains: the corpus (a file, standard input, or files and
folders read as documents), in the ids of the model it continues or starts from."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from charrnn.cli import console, streams
from charrnn.cli.train import fine_tuning
from charrnn.config import ReadConfig, SourceConfig
from charrnn.data import sources
from charrnn.data import streams as data_streams
from charrnn.data.corpus import Corpus, read_corpus, read_documents
from charrnn.files import display

if TYPE_CHECKING:
    from charrnn.cli.train.configs import Setup
    from charrnn.cli.train.job import Request

NAMES_SHOWN = 3


def read(
    corpora: tuple[str, ...],
    decoding: ReadConfig,
    source: SourceConfig,
    val_fraction: float,
    quiet: bool,
    boundary: str | None = None,
) -> Corpus:
    """The corpus: one text as it is (a file, or - for standard input), or, for folders, several
    files, --include/--exclude or --document-separator, a corpus of documents."""
    corpora = tuple(corpora) or ("-",)
    stdin = "-" in corpora
    if stdin and len(corpora) > 1:
        raise click.UsageError("- (standard input) cannot be read with other files; give either")
    if stdin:
        _from_the_terminal(quiet)
    one_file = len(corpora) == 1 and (stdin or not Path(corpora[0]).is_dir())
    if one_file and not (source.document_separator or source.include or source.exclude):
        return read_corpus(streams.stdin_bytes() if stdin else corpora[0], decoding.encoding, decoding.decode_errors)
    return _read_documents(corpora, decoding, source, val_fraction, quiet, boundary)


def _from_the_terminal(quiet: bool) -> None:
    """Say how to end a corpus typed at the terminal."""
    if streams.stdin_bytes() and sys.stdin.isatty() and not quiet:
        console.message("Reading the corpus from the terminal: type or paste it, then press Ctrl-D")


def stdin_copy(quiet: bool):
    """Standard input as a file that can be read again from its start, for the workers of an MPI
    job: standard input itself when it is a regular file, else its copy (data/streams.py: bounded
    by the room of TMPDIR), as a descriptor of its own."""
    _from_the_terminal(quiet)
    with data_streams.twice_readable(streams.stdin_bytes()) as raw:
        if not data_streams.has_descriptor(raw):  # bytes in memory (a test's input)
            raw = data_streams.spool(raw, "standard input", None)
        return os.fdopen(os.dup(raw.fileno()), "rb")


def _read_documents(
    corpora: tuple[str, ...],
    decoding: ReadConfig,
    source: SourceConfig,
    val_fraction: float,
    quiet: bool,
    boundary: str | None,
) -> Corpus:
    if corpora == ("-",):
        found = [sources.Source("<stdin>", stream=streams.stdin_bytes())]
    else:
        found = sources.select(corpora, source.include, source.exclude)
    name = corpora[0] if len(corpora) == 1 else None
    data, skipped = read_documents(
        found,
        decoding.encoding,
        decoding.decode_errors,
        source.document_separator,
        val_fraction,
        boundary=boundary,
        name=name,
    )
    _say_read(data, skipped, quiet)
    return data


def _say_read(data, skipped, quiet: bool) -> None:
    """What was read (not with -q), and what was skipped (always: a warning, as git and pip say theirs)."""
    n_files = data.provenance["files"]
    what = f"Read {n_files:,} file{'s' * (n_files != 1)} ({data.n_bytes:,} bytes) as {data.documents:,} documents"
    held = f"; validation holds out {data.held_out:,} characters of whole documents" if data.held_out else ""
    if not quiet:
        console.message(what + held)
    if skipped.files:
        parts = []
        for reason, names in skipped.files.items():
            shown = ", ".join(display(n) for n in names[:NAMES_SHOWN]) + (", ..." if len(names) > NAMES_SHOWN else "")
            noun = reason if reason in sources.FOUND_UNREAD else f"{reason} file"
            parts.append(f"{len(names):,} {noun}{'s' * (len(names) != 1)} ({shown})")
        hint = (
            "; --encoding or --decode-errors replace reads undecodable ones" if "undecodable" in skipped.files else ""
        )
        console.warning("skipped " + ", ".join(parts) + hint)


def in_model_ids(request: Request, setup: Setup) -> Corpus:
    """The corpus asked for, in the ids of the model continued (an error naming new characters)
    or fine-tuned (the joint vocabulary), marking documents with that model's boundary if it has one."""
    previous, init = setup.previous, setup.init
    model = previous or (init.ckpt if init is not None else None)
    boundary = model.record.corpus.boundary if model is not None else None
    val_fraction, quiet = setup.train.val_fraction, request.quiet
    data = read(request.corpus, request.read, request.source, val_fraction, quiet, boundary)
    if previous is not None:
        return data.with_vocab(previous.vocab)  # the model's ids, or an error naming new characters
    return fine_tuning.adapt(data, init) if init is not None else data
