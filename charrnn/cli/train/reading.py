"""What `charrnn train` reads before it trains: the corpus (a file, standard input, or files and
folders read as documents), in the ids of the model it continues or starts from."""

from __future__ import annotations

import sys
from pathlib import Path

import click

NAMES_SHOWN = 3


def read(corpora, encoding, decode_errors, include, exclude, separator, val_fraction, quiet, boundary=None):
    """The corpus: one text as it is (a file, or - for standard input), or, for folders, several
    files, --include/--exclude or --document-separator, a corpus of documents."""
    from charrnn.cli import streams
    from charrnn.data.corpus import read_corpus

    corpora = tuple(corpora) or ("-",)
    stdin = "-" in corpora
    if stdin and len(corpora) > 1:
        raise click.UsageError("- (standard input) cannot be read with other files; give either")
    if stdin:
        _from_the_terminal(quiet)
    one_file = len(corpora) == 1 and (stdin or not Path(corpora[0]).is_dir())
    if one_file and not (separator or include or exclude):
        return read_corpus(streams.stdin_bytes() if stdin else corpora[0], encoding, decode_errors)
    return _read_documents(corpora, encoding, decode_errors, include, exclude, separator, val_fraction, quiet, boundary)


def _from_the_terminal(quiet: bool) -> None:
    """Say how to end a corpus typed at the terminal."""
    from charrnn.cli import streams

    if streams.stdin_bytes() and sys.stdin.isatty() and not quiet:
        from charrnn.cli import console

        console.message("Reading the corpus from the terminal: type or paste it, then press Ctrl-D")


def stdin_copy(quiet: bool):
    """Standard input as a file that can be read again from its start, for the workers of an MPI
    job: standard input itself when it is a regular file, else its copy (data/streams.py: bounded
    by the room of TMPDIR), as a descriptor of its own."""
    import os

    from charrnn.cli import streams
    from charrnn.data import streams as data_streams

    _from_the_terminal(quiet)
    with data_streams.twice_readable(streams.stdin_bytes()) as raw:
        if not data_streams.has_descriptor(raw):  # bytes in memory (a test's input)
            raw = data_streams.spool(raw, "standard input", None)
        return os.fdopen(os.dup(raw.fileno()), "rb")


def _read_documents(corpora, encoding, decode_errors, include, exclude, separator, val_fraction, quiet, boundary):
    from charrnn.cli import streams
    from charrnn.data import sources
    from charrnn.data.corpus import read_documents

    if corpora == ("-",):
        found = [sources.Source("<stdin>", stream=streams.stdin_bytes())]
    else:
        found = sources.select(corpora, include, exclude)
    name = corpora[0] if len(corpora) == 1 else None
    data, skipped = read_documents(
        found, encoding, decode_errors, separator, val_fraction, boundary=boundary, name=name
    )
    if not quiet:
        _say_read(data, skipped)
    return data


def _say_read(data, skipped) -> None:
    from charrnn.cli import console
    from charrnn.files import display

    n_files = data.provenance["files"]
    what = f"Read {n_files:,} file{'s' * (n_files != 1)} ({data.n_bytes:,} bytes) as {data.documents:,} documents"
    held = f"; validation holds out {data.held_out:,} characters of whole documents" if data.held_out else ""
    console.message(what + held)
    if skipped.files:
        parts = []
        for reason, names in skipped.files.items():
            shown = ", ".join(display(n) for n in names[:NAMES_SHOWN]) + (", ..." if len(names) > NAMES_SHOWN else "")
            parts.append(f"{len(names):,} {reason} file{'s' * (len(names) != 1)} ({shown})")
        hint = (
            "; --encoding or --decode-errors replace reads undecodable ones" if "undecodable" in skipped.files else ""
        )
        console.warning("skipped " + ", ".join(parts) + hint)


def in_model_ids(corpus: tuple[str, ...], how: dict, quiet: bool, setup):
    """The corpus, in the ids of the model continued (an error naming new characters) or
    fine-tuned (the joint vocabulary), marking documents with that model's boundary if it has one.
    `how`: read()'s options; `setup`: the run's configs.Setup."""
    from charrnn.cli.train import fine_tuning

    previous, init = setup.previous, setup.init
    model = previous or (init.ckpt if init is not None else None)
    boundary = model.progress.get("corpus", {}).get("boundary") if model is not None else None
    data = read(corpus, **how, val_fraction=setup.train.val_fraction, quiet=quiet, boundary=boundary)
    if previous is not None:
        return data.with_vocab(previous.vocab)  # the model's ids, or an error naming new characters
    return fine_tuning.adapt(data, init) if init is not None else data
