"""`charrnn train`'s run: the Trainer driven with a progress bar, saved at every validation (and
appended to the --log), stopped between steps by a signal after saving; what it says is messages.py's."""

from __future__ import annotations

import json
import signal
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path

import click
import numpy as np

from charrnn import checkpoint as ckpt_io
from charrnn import files
from charrnn.cli import console
from charrnn.cli.common import output_to
from charrnn.cli.errors import caution
from charrnn.cli.interrupts import deferred_signals, interrupted
from charrnn.cli.train import fine_tuning, messages, ranks
from charrnn.cli.train.workers import launcher_watch
from charrnn.errors import TrainingDiverged
from charrnn.nn.functional import bits
from charrnn.training.events import EvalEvent
from charrnn.training.schedules import step_limit
from charrnn.training.trainer import Trainer


@dataclass
class Saver:
    """Saves the run to `path`, replacing only the file it last saw there (files.write's expect):
    a checkpoint another run wrote meanwhile is refused, not overwritten. Under several workers
    every worker calls it (the checkpoint gathers from all); rank 0 alone writes."""

    path: Path
    expect: str | files.Identity  # files.ANY, files.NEW or the identity of the file last written

    def __call__(self, trainer) -> None:
        ckpt = trainer.checkpoint()
        if ckpt is None:
            return
        with ranks.rank_0_alone(trainer.comm), output_to("-c"):
            written = ckpt_io.save(ckpt, self.path, self.expect)
        self.expect = files.ANY if self.expect == files.ANY else written


class EvalLog:
    """--log FILE.jsonl: one JSON line per validation, appended and flushed as written."""

    def __init__(self, writer):
        self.writer = writer

    def record(self, event, elapsed: float) -> None:
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


def train_and_report(data, setup, sample_length: int, quiet: bool, comm, caught=None, log=None) -> None:
    """Train and report; signals are deferred from the announcement on (or already, into `caught`).

    `setup`: the run's configs.Setup; `log`: the --log path (or None)."""
    path, init = setup.save.path, setup.init
    trainer = Trainer(data, setup.model, setup.train, resume=setup.previous, comm=comm, init_from=init and init.ckpt)
    if trainer.finished():
        raise click.ClickException(messages.already_trained(trainer, path))
    say = (lambda *a, **k: None) if quiet else console.message
    for w in trainer.warnings() if comm.rank == 0 else ():  # -q hides progress and messages, never a warning
        console.warning(caution(w))
    # numpy warnings: a blown-up loss is reported once, in words; signals: from the moment training
    # is announced, Ctrl-C saves before it stops
    with np.errstate(all="ignore"), deferred_signals() if caught is None else nullcontext(caught) as caught:
        say(messages.opening(trainer, data, setup.previous is not None, init is not None))
        if init is not None:
            say(fine_tuning.announce(init, data.vocab))
        say(messages.baselines(trainer))  # measured even when quiet: the checkpoint keeps them
        with output_to("--log"), files.appending(log) if log else nullcontext() as writer:
            stopped_by = Loop(trainer, setup.save, quiet).run(caught, writer and EvalLog(writer))
    if stopped_by is not None:
        if comm.rank == 0:  # the others stop with it, silently
            console.message(messages.stopped_here(trainer, data, path))
        interrupted(stopped_by, said=None)
    if trainer.out_of_patience:
        say(messages.stopped_early(trainer))
    say(messages.done(trainer, path), style="bold")
    if sample_length and not quiet and not trainer.model_cfg.bidirectional:  # a model of both sides cannot write
        messages.show_sample(trainer, sample_length)


class Loop:
    """The run under a progress bar: its figures updated at every event, the run saved at every
    validation (the step saved last is what a diverged loss leaves in the checkpoint)."""

    def __init__(self, trainer, save: Saver, quiet: bool):
        self.trainer, self.save = trainer, save
        self.bar, self.by_steps = progress_bar(trainer, quiet)
        self.shown = {"loss": "-", "val": "-", "speed": "-"}  # the bar's figures
        self.saved_step = None

    def run(self, caught: list[int], log=None) -> int | None:
        """Train, stopping between steps once a signal is `caught`, saving first. Returns the
        signal that stopped training, or None when it reached its limit."""
        trainer = self.trainer
        # rank 0 of a job that --workers launched also stops, as on a hangup, once its launcher is gone
        gone = launcher_watch(caught) if trainer.comm.distributed and trainer.comm.rank == 0 else lambda: False
        with self.bar:
            try:
                for event in trainer.run(stop_requested=lambda: bool(caught) or gone()):
                    self._on_event(event, log)
                if trainer.stopped and not trainer.finished():
                    self._stopped()
                    return caught[0] if caught else signal.SIGINT  # a worker told of a signal sent to another
            except TrainingDiverged as e:
                raise click.ClickException(messages.diverged(e, self.save.path, self.saved_step)) from None
        return None

    def _on_event(self, event, log) -> None:
        bar, shown = self.bar, self.shown
        if isinstance(event, EvalEvent):
            if log is not None:
                log.record(event, self.trainer.elapsed)
            self.saved_step, shown["val"] = event.step, f"{event.val_bits:.3f}"
            bar.show(figures=figures(shown))
            self._saving()
            return
        bar.update(1 if self.by_steps else min(self.trainer.elapsed, bar.total) - bar.n)
        shown.update(loss=f"{bits(event.smooth_loss):.3f}", speed=f"{event.chars_per_sec / 1000:.1f}k")
        bar.show(figures=figures(shown), status="validating" if self.trainer.validation_due() else None)

    def _stopped(self) -> None:
        if self.trainer.best_params is None:  # stopped before the first validation: judge the weights first
            self.bar.show(status="validating")
            self.trainer.eval_step()
        self._saving()

    def _saving(self) -> None:
        self.bar.show(status="saving")
        self.save(self.trainer)
        self.bar.show(status="")


def figures(shown: dict) -> list[str]:
    """The bar's figures, the one to keep longest first."""
    return [f"loss {shown['loss']} bpc", f"val {shown['val']}", f"{shown['speed']} char/s"]


def progress_bar(trainer, quiet: bool):
    """A bar over steps when a step or epoch limit is set, else over seconds of --max-time."""
    steps = step_limit(trainer.cfg, trainer.windows.n_windows)
    desc = f"train on {trainer.comm.size} workers" if trainer.comm.distributed else "train"
    if steps is not None:
        return console.progress_bar(steps, trainer.step, " steps", quiet, desc), True
    return console.progress_bar(round(trainer.cfg.max_time), trainer.elapsed, "s", quiet, desc), False
