"""What `charrnn train` will do, settled before anything is read: the checks on the checkpoint's
path (continue it, replace it, or refuse), and the run's configs from the options, the checkpoint
resumed or the model fine-tuned."""

from __future__ import annotations

import os
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import TYPE_CHECKING

import click

from charrnn import checkpoint as ckpt_io
from charrnn import files
from charrnn.checkpoint import Checkpoint
from charrnn.cli import options as opts
from charrnn.cli.common import command_line, output_to, refuse_same_files
from charrnn.cli.train import fine_tuning
from charrnn.cli.train.run import Saver
from charrnn.config import ModelConfig, TrainConfig
from charrnn.training.resume import check_resumable

if TYPE_CHECKING:
    from charrnn.cli.train.job import Request


@dataclass
class Setup:
    """A run's configs, the checkpoint it continues (or None), the Saver that writes it, and the
    model a fine-tuning run starts from (a fine_tuning.Start, or None)."""

    model: ModelConfig
    train: TrainConfig
    previous: Checkpoint | None
    save: Saver
    init: fine_tuning.Start | None


def configured(request: Request) -> Setup:
    """The checks on the paths (no output may be an input or another output) and on the
    checkpoint's, and the run's Setup."""
    corpus, checkpoint, resume, force = request.corpus, request.checkpoint, request.resume, request.force
    options, init_from, log = request.options, request.init_from, request.log

    if resume and force:
        raise click.UsageError("--resume and --force contradict each other; choose one")
    if resume and init_from is not None:
        raise click.UsageError("--init-from starts a new run from a model; --resume continues one: choose one")
    inputs = [*(("the corpus", c) for c in corpus if not os.path.isdir(c)), ("the --init-from model", init_from)]
    refuse_same_files(inputs, [("-c", "the -c checkpoint", checkpoint), ("--log", "the --log file", log)])
    if log is not None:
        with output_to("--log"):
            files.check_target(log, in_place=True)
    if checkpoint.exists():
        check_replaceable(checkpoint, resume, force)
    elif resume:
        raise click.ClickException(f"--resume: there is no checkpoint at {checkpoint} to continue")
    with output_to("-c"):
        ckpt_io.check_writable(checkpoint)
    # the file this run may replace: any (--force), the one there now (--resume), else none at all
    save = Saver(checkpoint, files.ANY if force else files.identity(checkpoint) or files.NEW)
    previous = ckpt_io.load(checkpoint, for_update=True) if resume else None
    stated = opts.given(click.get_current_context(), options)
    if init_from is None:
        return Setup(*configs(options, stated, previous), previous, save, None)
    model_given, train_given = (
        {k: v for k, v in stated.items() if k in field_names(c)} for c in (ModelConfig, TrainConfig)
    )
    init, model_cfg, train_cfg = fine_tuning.start(init_from, model_given, train_given)
    return Setup(model_cfg, train_cfg, None, save, init)


def check_replaceable(path: Path, resume: bool, force: bool) -> None:
    """A file exists where the checkpoint goes: continue it, replace it, or refuse to touch it."""
    if not path.is_file():  # -c /dev/null must not replace /dev/null
        raise click.ClickException(f"{path} is not a regular file; choose a checkpoint file with -c")
    if path.stat().st_size and not ckpt_io.is_npz(path):
        raise click.ClickException(
            f"{path} is not a charrnn checkpoint (not an .npz file), and charrnn replaces only its own "
            "checkpoints; choose another file with -c"
        )
    if not (resume or force):
        raise click.ClickException(
            f"{path} already exists; continue training it with `{command_line(adding=('--resume',))}`, "
            f"replace it with `{command_line(adding=('--force',))}`, or choose another file with -c"
        )


def field_names(cls) -> set[str]:
    return {f.name for f in fields(cls)}


def configs(options: dict, given: dict, previous: Checkpoint | None) -> tuple[ModelConfig, TrainConfig]:
    """Model and training configs: from all the options for a new model; for a resumed one, the
    checkpoint's, with the options `given` on top (ResumeMismatch for those it may not change)."""
    model_fields, train_fields = field_names(ModelConfig), field_names(TrainConfig)
    if previous is None:
        return opts.config_from(ModelConfig, options), opts.config_from(TrainConfig, options)
    model_cfg = replace(previous.model, **{k: v for k, v in given.items() if k in model_fields})
    train_cfg = replace(previous.train, **{k: v for k, v in given.items() if k in train_fields})
    check_resumable(previous, model_cfg, train_cfg)
    return model_cfg, train_cfg
