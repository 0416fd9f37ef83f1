"""`charrnn train`: learn a text into a checkpoint, with a progress bar, saving as it goes and
on Ctrl-C; resuming and replacing are explicit."""

from __future__ import annotations

import os
import signal
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path

import click

from charrnn.cli import streams, train_setup
from charrnn.cli import workers as parallel_cli
from charrnn.cli.common import Command, command_line, file_option, output_to
from charrnn.cli.errors import caution, message
from charrnn.cli.interrupts import deferred_signals, interrupted
from charrnn.cli.options import checkpoint_option, config_option, config_options, given, read_options
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
    type=click.IntRange(min=0),
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
    workers,
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
    options["init_from"] = init_from  # for _configured
    reading = dict(encoding=encoding, decode_errors=decode_errors, include=include, exclude=exclude)
    reading["separator"] = document_separator
    SourceConfig(include, exclude, document_separator)  # its checks, before anything is read
    comm = parallel.world()
    if comm.distributed:
        lead = comm.rank == 0
        # the others defer signals from the start: rank 0, which says when training starts, may be
        # stopped by a Ctrl-C that reaches them before they get there
        with nullcontext(None) if lead else deferred_signals() as caught:
            prepare = lambda: _prepare(corpus, checkpoint, resume, force, options, reading, quiet)  # noqa: E731
            (model_cfg, train_cfg, previous, save, init), data = parallel_cli.lead(comm, prepare)
            with parallel_cli.together(comm, checkpoint):
                _train(
                    data,
                    model_cfg,
                    train_cfg,
                    previous,
                    save,
                    sample_length if lead else 0,
                    not lead or quiet,
                    comm,
                    caught,
                    init,
                    log if lead else None,
                )
        return
    if "-" in corpus:
        streams.stdin_bytes()  # a closed stdin is said here, not as an empty corpus by the workers
    model_cfg, train_cfg, previous, save, init = _configured(corpus, checkpoint, resume, force, options)
    n = 1 if parallel.under_mpi() else parallel_cli.count(workers, train_cfg.batch_size)
    if n > 1:
        parallel_cli.launch(ctx, n, checkpoint)
    data = _read(corpus, reading, quiet, train_cfg, previous, init)
    _train(data, model_cfg, train_cfg, previous, save, sample_length, quiet, comm, None, init, log)


def _prepare(corpus, checkpoint, resume, force, options, reading, quiet):
    """Rank 0's part before training: the checks and the configs (which every worker gets), and the corpus."""
    setup = _configured(corpus, checkpoint, resume, force, options)
    return setup, _read(corpus, reading, quiet, setup[1], setup[2], setup[4])


def _configured(corpus: tuple[str, ...], checkpoint: Path, resume: bool, force: bool, options: dict):
    """The checks on the checkpoint's path, and the configs: the model's, training's, the checkpoint
    continued (or None) and the Saver that writes the run."""
    from charrnn import checkpoint as ckpt_io
    from charrnn import files

    if resume and force:
        raise click.UsageError("--resume and --force contradict each other; choose one")
    if checkpoint.exists():
        _check_replaceable(corpus, checkpoint, resume, force)
    elif resume:
        raise click.ClickException(f"--resume: there is no checkpoint at {checkpoint} to continue")
    with output_to("-c"):
        ckpt_io.check_writable(checkpoint)
    # the file this run may replace: any (--force), the one there now (--resume), else none at all
    expect = files.ANY if force else files.identity(checkpoint) or files.NEW
    previous = ckpt_io.load(checkpoint, for_update=True) if resume else None
    ctx = click.get_current_context()
    _check_schedule(options, previous)
    init_from = options.pop("init_from")
    if init_from is None:
        return (*_configs(options, given(ctx, options), previous), previous, Saver(checkpoint, expect), None)
    stated = given(ctx, options)
    init, model_cfg, train_cfg = train_setup.fine_tuning(
        init_from,
        {k: v for k, v in stated.items() if k in _field_names(ModelConfig)},
        {k: v for k, v in stated.items() if k in _field_names(TrainConfig)},
        resume,
    )
    return model_cfg, train_cfg, None, Saver(checkpoint, expect), init


def _check_schedule(options: dict, previous) -> None:
    """A cosine schedule decays over a number of steps: the run must have one."""
    c = {k: options[k] for k in ("lr_schedule", "max_steps", "epochs", "cosine_steps")}
    if previous is not None:
        c = {
            k: v
            if click.get_current_context().get_parameter_source(k).name != "DEFAULT"
            else getattr(previous.train, k)
            for k, v in c.items()
        }
    if c["lr_schedule"] == "cosine" and c["max_steps"] is None and c["epochs"] is None and c["cosine_steps"] is None:
        raise click.UsageError(
            "--lr-schedule cosine decays over a number of steps: give --max-steps, --epochs or --cosine-steps"
        )


def _field_names(cls) -> set[str]:
    from dataclasses import fields

    return {f.name for f in fields(cls)}


def _read(corpus: tuple[str, ...], reading: dict, quiet: bool, train_cfg, previous, init):
    """The corpus, in the ids of the model continued (an error naming new characters) or
    fine-tuned (the joint vocabulary), marking documents with that model's boundary if it has one."""
    model = previous or (init.ckpt if init is not None else None)
    boundary = model.progress.get("corpus", {}).get("boundary") if model is not None else None
    data = train_setup.read(corpus, **reading, val_fraction=train_cfg.val_fraction, quiet=quiet, boundary=boundary)
    if previous is not None:
        return data.with_vocab(previous.vocab)  # the model's ids, or an error naming new characters
    return train_setup.adapt(data, init) if init is not None else data


@dataclass
class Saver:
    """Saves the run to `path`, replacing only the file it last saw there (files.write's expect):
    a checkpoint another run wrote meanwhile is refused, not overwritten. Under several workers
    every worker calls it (the checkpoint gathers from all); rank 0 alone writes."""

    path: Path
    expect: object

    def __call__(self, trainer) -> None:
        from charrnn import checkpoint as ckpt_io
        from charrnn import files

        ckpt = trainer.checkpoint()
        if ckpt is None:
            return
        with parallel_cli.alone(trainer.comm), output_to("-c"):
            written = ckpt_io.save(ckpt, self.path, self.expect)
        self.expect = files.ANY if self.expect == files.ANY else written


def _check_replaceable(corpus: tuple[str, ...], path: Path, resume: bool, force: bool) -> None:
    """A file exists where the checkpoint goes: continue it, replace it, or refuse to touch it."""
    from charrnn import checkpoint as ckpt_io

    if not path.is_file():  # -c /dev/null must not replace /dev/null
        raise click.ClickException(f"{path} is not a regular file; choose a checkpoint file with -c")
    if any(c != "-" and os.path.isfile(c) and os.path.samefile(c, path) for c in corpus):
        raise click.UsageError(f"-c {path} is the corpus itself; choose another file for the checkpoint")
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


def _configs(options: dict, given: dict, previous):
    """Model and training configs: from all the options for a new model; for a resumed one, the
    checkpoint's, with the options `given` on top (ResumeMismatch for those it may not change)."""
    from dataclasses import fields, replace

    from charrnn.training.resume import check_resumable

    model_fields = [f.name for f in fields(ModelConfig)]
    train_fields = [f.name for f in fields(TrainConfig)]
    if previous is None:
        model_cfg = ModelConfig(**{k: options[k] for k in model_fields})
        return model_cfg, TrainConfig(**{k: options[k] for k in train_fields})
    model_cfg = replace(previous.model, **{k: v for k, v in given.items() if k in model_fields})
    train_cfg = replace(previous.train, **{k: v for k, v in given.items() if k in train_fields})
    check_resumable(previous, model_cfg, train_cfg)
    return model_cfg, train_cfg


def _train(
    data, model_cfg, train_cfg, previous, save: Saver, sample_length, quiet, comm, caught=None, init=None, log=None
):
    """Train and report; signals are deferred from the announcement on (or already, into `caught`).

    `init`: the model a fine-tuning run starts from (train_setup.Start); `log`: the --log path."""
    import numpy as np

    from charrnn import files
    from charrnn.cli import console, render
    from charrnn.nn.functional import bits
    from charrnn.nn.model import num_params
    from charrnn.training.trainer import Trainer

    path = save.path
    trainer = Trainer(data, model_cfg, train_cfg, resume=previous, comm=comm, init_from=init and init.ckpt)
    if trainer.finished():
        raise click.ClickException(
            f"{path} has already trained {trainer.step:,} steps ({console.format_duration(trainer.elapsed)}); "
            "raise --max-steps, --epochs or --max-time to train it further"
        )
    say = (lambda *a, **k: None) if quiet else console.message
    if not quiet:
        for w in trainer.warnings():
            console.warning(caution(w))
    n_params = num_params(trainer.params)
    # numpy warnings: a blown-up loss is reported once, in words; signals: from the moment training
    # is announced, Ctrl-C saves before it stops
    with np.errstate(all="ignore"), deferred_signals() if caught is None else nullcontext(caught) as caught:
        say(
            f"{'Resuming' if previous else 'Fine-tuning' if init else 'Training'} a model "
            f"({model_cfg.describe(n_params)}) "
            f"on {data.name}: {len(data.ids):,} characters, "
            f"{len(data.vocab)} distinct; {_workers(trainer)}{_limits(train_cfg, console)}"
        )
        if init is not None:
            say(train_setup.announce_fine_tuning(init, data.vocab))
        say(_baselines_line(trainer))
        with output_to("--log"), files.appending(log) if log else nullcontext() as writer:
            stopped_by = _run(trainer, save, quiet, caught, writer and train_setup.EvalLog(writer))
    if stopped_by is not None:
        again = command_line(without=("--force",), adding=("--resume",))
        stdin = " (with the same text on standard input)" if data.name == "<stdin>" else ""
        if comm.rank == 0:  # the others stop with it, silently
            console.message(f"Interrupted at step {trainer.step:,}: saved {path}; continue with `{again}`{stdin}")
        interrupted(stopped_by, said=None)
    if trainer.out_of_patience:
        say(
            f"Stopped early at step {trainer.step:,}: no better validation loss in the last "
            f"{trainer.evals_since_best} validations (--patience {train_cfg.patience})"
        )
    best = bits(trainer.best_val)
    say(
        f"Done: {trainer.step:,} steps, {console.format_duration(trainer.elapsed)}; best validation "
        f"{best:.3f} bits/char at step {trainer.best_step:,}: {render.below_baseline(best, trainer.baselines.to_dict())}"
        f"; checkpoint: {path}",
        style="bold",
    )
    if sample_length and not quiet:
        _show_sample(trainer, sample_length, console)


def _baselines_line(trainer) -> str:
    """The baselines, measured now (or kept from the run resumed): what the model's figure means."""
    from charrnn.cli import render

    return "Baselines on the validation text: " + render.baselines_line(trainer.measure_baselines().to_dict())


def _run(trainer, save: Saver, quiet: bool, caught: list[int], log=None) -> int | None:
    """The loop: save at every validation (and append it to the `log`); stop between steps once a
    signal is `caught`, saving first.

    Returns the signal that stopped training, or None when it reached its limit.
    """
    from charrnn.errors import TrainingDiverged
    from charrnn.nn.functional import bits
    from charrnn.training.trainer import EvalEvent

    path = save.path
    bar, by_steps = _progress_bar(trainer, quiet)
    shown = {"loss": "-", "val": "-", "speed": "-"}  # the bar's figures

    def saving() -> None:
        bar.show(status="saving")
        save(trainer)
        bar.show(status="")

    saved_step = None
    with bar:
        try:
            for event in trainer.run(stop_requested=lambda: bool(caught)):
                if isinstance(event, EvalEvent):
                    if log is not None:
                        log.record(event, trainer.elapsed)
                    saved_step, shown["val"] = event.step, f"{event.val_bits:.3f}"
                    bar.show(figures=_figures(shown))
                    saving()
                    continue
                bar.update(1 if by_steps else min(trainer.elapsed, bar.total) - bar.n)
                shown.update(loss=f"{bits(event.smooth_loss):.3f}", speed=f"{event.chars_per_sec / 1000:.1f}k")
                bar.show(figures=_figures(shown), status="validating" if trainer.validation_due() else None)
            if trainer.stopped and not trainer.finished():
                if trainer.best_params is None:  # stopped before the first validation: judge the weights first
                    bar.show(status="validating")
                    trainer.eval_step()
                saving()
                return caught[0] if caught else signal.SIGINT  # a worker told of a signal sent to another
        except TrainingDiverged as e:
            raise click.ClickException(_diverged_message(e, path, saved_step)) from None
    return None


def _figures(shown: dict) -> list[str]:
    """The bar's figures, the one to keep longest first."""
    return [f"loss {shown['loss']} bpc", f"val {shown['val']}", f"{shown['speed']} char/s"]


def _progress_bar(trainer, quiet: bool):
    """A bar over steps when a step or epoch limit is set, else over seconds of --max-time."""
    from charrnn.cli import console
    from charrnn.training.schedules import step_limit

    steps = step_limit(trainer.cfg, trainer.windows.n_windows)
    desc = f"train on {trainer.comm.size} workers" if trainer.comm.distributed else "train"
    if steps is not None:
        return console.progress_bar(steps, trainer.step, " steps", quiet, desc), True
    return console.progress_bar(round(trainer.cfg.max_time), trainer.elapsed, "s", quiet, desc), False


def _workers(trainer) -> str:
    if not trainer.comm.distributed:
        return ""
    each = trainer.rows.stop - trainer.rows.start
    per = f"{each} streams each" if trainer.cfg.batch_size % trainer.comm.size == 0 else "the streams shared unevenly"
    return f"{trainer.comm.size} workers, {per}; "


def _diverged_message(e: Exception, path: Path, saved_step: int | None) -> str:
    if saved_step is not None:
        kept = f"{path} holds the weights saved at step {saved_step:,}"
    else:
        kept = f"{path} is unchanged" if path.exists() else "no checkpoint was written"
    return f"{message(e)} ({kept})"


def _limits(cfg, console) -> str:
    limits = []
    if cfg.max_steps is not None:
        limits.append(f"{cfg.max_steps:,} steps")
    if cfg.epochs is not None:
        limits.append(f"{cfg.epochs:g} epochs")
    if cfg.max_time is not None:
        limits.append(console.format_duration(cfg.max_time))
    return "stopping after " + " or ".join(limits) + (", whichever comes first" if len(limits) > 1 else "")


def _show_sample(trainer, length: int, console) -> None:
    from charrnn.language_model import LanguageModel

    model = LanguageModel(trainer.best_params or trainer.params, trainer.model_cfg, trainer.corpus.vocab)
    text = model.generate_text(length=length, temperature=0.8, seed=0)
    console.message("A sample at temperature 0.8 (charrnn sample for more):", style="bold")
    console.console(stderr=True).print(text, style="cyan", soft_wrap=True)
