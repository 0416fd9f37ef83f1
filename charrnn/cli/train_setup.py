"""What `charrnn train` reads before it trains: the corpus (a file, standard input, or files and
folders read as documents), the model that --init-from starts from, and the --log it appends to."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, replace
from pathlib import Path

import click

SHAPE = ("cell", "hidden_size", "num_layers", "nonlinearity")  # what fine-tuning keeps from its model
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
    if stdin and streams.stdin_bytes() and sys.stdin.isatty() and not quiet:
        from charrnn.cli import console

        console.message("Reading the corpus from the terminal: type or paste it, then press Ctrl-D")
    one_file = len(corpora) == 1 and (stdin or not Path(corpora[0]).is_dir())
    if one_file and not (separator or include or exclude):
        return read_corpus(streams.stdin_bytes() if stdin else corpora[0], encoding, decode_errors)
    return _read_documents(corpora, encoding, decode_errors, include, exclude, separator, val_fraction, quiet, boundary)


def _read_documents(corpora, encoding, decode_errors, include, exclude, separator, val_fraction, quiet, boundary):
    from charrnn.cli import streams
    from charrnn.data import corpus as stream
    from charrnn.data import sources

    if corpora == ("-",):
        found = [sources.Source("<stdin>", stream=stream._open_twice_readable(streams.stdin_bytes(), None).__enter__())]
    else:
        found = sources.select(corpora, include, exclude)
    name = corpora[0] if len(corpora) == 1 else None
    data, skipped = sources.read_documents(
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


@dataclass
class Start:
    """The model that --init-from starts from, and where it was read."""

    path: Path
    ckpt: object  # checkpoint.Checkpoint


def fine_tuning(path: Path, given_model: dict, given_train: dict, resume: bool):
    """The model --init-from starts from (a Start), and the run's configs: its shape, its training
    settings with the options given on top. Shape options that differ are refused."""
    from charrnn import checkpoint as ckpt_io
    from charrnn.cli.options import flag

    if resume:
        raise click.UsageError("--init-from starts a new run from a model; --resume continues one: choose one")
    old = ckpt_io.load(path)
    changed = [
        f"{flag(k)} (it is {getattr(old.model, k)})"
        for k, v in given_model.items()
        if k in SHAPE and getattr(old.model, k) != v
    ]
    if changed:
        raise click.UsageError(f"--init-from keeps the model's shape; it cannot change {', '.join(changed)}")
    return Start(path, old), replace(old.model, **given_model), replace(old.train, **given_train)


def adapt(data, start: Start):
    """The corpus in the joint vocabulary of the model and the text (see training/finetune.py)."""
    from charrnn.training import finetune

    return data.with_vocab(finetune.joint_vocab(start.ckpt.vocab, data.vocab.chars)[0])


def announce_fine_tuning(start: Start, vocab) -> str:
    """The opening line of a fine-tuning run: from which model, and which characters are new to it."""
    from charrnn.vocab import list_chars

    old, path = start.ckpt, start.path
    new_chars = old.vocab.missing("".join(vocab.chars))
    corpus = old.progress.get("corpus", {})
    origin = f"{path} ({old.progress.get('step', 0):,} steps on {corpus.get('name', 'an unknown corpus')})"
    if not new_chars:
        return f"A new run from the weights of {origin}; every character of the text is one it knows"
    return (
        f"A new run from the weights of {origin}; {len(new_chars)} character"
        f"{'s' * (len(new_chars) != 1)} it never saw get new rows: {list_chars(new_chars, limit=20)}"
    )


class EvalLog:
    """--log FILE.jsonl: one JSON line per validation, appended and flushed as written."""

    def __init__(self, writer):
        self.writer = writer

    def record(self, event, elapsed: float) -> None:
        from charrnn.nn.functional import bits

        self.writer.line(
            json.dumps(
                {
                    "step": event.step,
                    "elapsed": round(elapsed, 3),
                    "train_bits": bits(event.train_loss),
                    "val_bits": event.val_bits,
                    "lr": event.lr,
                    "chars_per_sec": round(event.chars_per_sec, 1),
                }
            )
        )
