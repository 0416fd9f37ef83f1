"""`charrnn train --init-from OLD.npz`: a new run that starts from a model's weights and settings,
its shape kept, over the joint vocabulary of the model and the text (training/finetune.py)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from charrnn import checkpoint as ckpt_io
from charrnn.chars import list_chars
from charrnn.checkpoint import Checkpoint
from charrnn.cli.common import checkpoint_given_by
from charrnn.training import finetune


@dataclass
class Start:
    """The model that --init-from starts from, and where it was read."""

    path: Path
    ckpt: Checkpoint


def start(path: Path, given_model: dict, given_train: dict):
    """The model --init-from starts from (a Start), and the run's configs: its shape, its training
    settings with the options given on top. Shape options that differ are refused."""
    with checkpoint_given_by("--init-from", "to start from"):
        old = ckpt_io.load(path)
    return Start(path, old), *finetune.configs(old.model, old.train, given_model, given_train)


def adapt(data, start: Start):
    """The corpus in the joint vocabulary of the model and the text (see training/finetune.py)."""
    return data.with_vocab(finetune.joint_vocab(start.ckpt.vocab, data.vocab.chars)[0])


def announce(start: Start, vocab) -> str:
    """The opening line of a fine-tuning run: from which model, and which characters are new to it."""
    old, path = start.ckpt, start.path
    new_chars = old.vocab.missing("".join(vocab.chars))
    record = old.record
    origin = f"{path} ({record.step:,} steps on {record.corpus.name or 'an unknown corpus'})"
    if not new_chars:
        return f"A new run from the weights of {origin}; every character of the text is one it knows"
    return (
        f"A new run from the weights of {origin}; {len(new_chars)} character"
        f"{'s' * (len(new_chars) != 1)} it never saw get new rows: {list_chars(new_chars, limit=20)}"
    )
