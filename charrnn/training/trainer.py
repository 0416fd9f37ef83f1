"""Training: truncated BPTT over B contiguous streams, as a generator of events.

`Trainer.run()` yields a `StepEvent` after every optimizer step and an `EvalEvent` after every
validation (events.py); it prints nothing and saves nothing. The caller decides what to show and
when to write `trainer.checkpoint()`, which holds everything needed to continue exactly
(snapshot.py). Validation and the divergence check are validation.py's; the cautions said before
a run starts, cautions.py's.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import numpy as np

from charrnn import budget
from charrnn.analysis import baselines
from charrnn.checkpoint import Checkpoint
from charrnn.config import ModelConfig, TrainConfig
from charrnn.data.batching import Streams, split
from charrnn.data.corpus import Corpus
from charrnn.data.mapped import release_pages
from charrnn.errors import ConfigError
from charrnn.metadata import Baselines
from charrnn.nn import kernels, losses, model, optim
from charrnn.nn.workspace import Workspace
from charrnn.training import finetune, snapshot, validation
from charrnn.training.cautions import Caution, cautions
from charrnn.training.events import EvalEvent, StepEvent
from charrnn.training.parallel import Solo, World
from charrnn.training.schedules import Schedule

__all__ = ["EvalEvent", "StepEvent", "Trainer"]

SMOOTHING = 0.98  # weight of the past in the displayed training loss (min-char-rnn's smooth_loss)


class Trainer:
    """Owns the weights, optimizer, data windows and counters of one training run.

    With a communicator of several workers (see parallel.py), each worker runs the same Trainer
    on its own rows of the batch; the gradients are summed after every backward pass, so every
    worker takes the same steps as one process running the whole batch would.
    """

    def __init__(
        self,
        corpus: Corpus,
        model_cfg: ModelConfig,
        train_cfg: TrainConfig,
        resume: Checkpoint | None = None,
        init_from: Checkpoint | None = None,
        comm: Solo | World | None = None,
        clock: Callable[[], float] = time.perf_counter,
    ):
        """A new run, or one continued exactly (`resume`), or a new run from a model's weights
        (`init_from`, over a vocabulary that holds the model's: see finetune.joint_vocab).
        `clock` is the run's time in seconds, which the time limit, the cosine without a step
        limit and the measured validation cadence go by."""
        self.model_cfg, self.cfg, self.corpus = model_cfg, train_cfg, corpus
        self.comm = comm or Solo()
        c = train_cfg
        self.rows = self._own_rows(c.batch_size)  # this worker's streams
        self.share = (self.rows.stop - self.rows.start) / c.batch_size  # its weight in the batch's mean
        budget.check_training(model_cfg, c, len(corpus.vocab))  # before anything is allocated
        self.train_ids, val_tail = split(corpus.ids, c.val_fraction, c.batch_size, c.seq_len, corpus.held_out)
        self.windows = Streams(self.train_ids, c.batch_size, c.seq_len, c.seed if c.epoch_offsets == "random" else None)
        self.clock = clock
        self.rng = np.random.default_rng(c.seed)
        self.params = model.init_params(model_cfg, len(corpus.vocab), self.rng)
        self.init_from, self.trained_on = None, None
        if init_from is not None:
            self._start_from(init_from)
        self.schedule = Schedule(c, self.windows.n_windows)
        self.baselines: Baselines | None = None
        self._since_eval = [0, 0.0]  # training characters and seconds since the last validation
        self.opt_state = optim.init_state(c.optimizer, self.params)
        self.state = model.zero_state(model_cfg, self.rows.stop - self.rows.start)
        self.stopped = False  # a stop was asked for: by stop_requested(), agreed by every worker
        self._time_vote = None  # under several workers: whether any worker's clock had run out
        self._eval_vote = False  # under several workers: whether any worker's validation was due by time
        self._shared_elapsed = 0.0  # under several workers: their mean elapsed time at the last step
        self._stop_requested: Callable[[], bool] = lambda: False  # run()'s
        self.step, self.elapsed, self.smooth_loss = 0, 0.0, float(np.log(len(corpus.vocab)))
        self.best_val, self.best_step, self.best_params = float("inf"), 0, None
        self.history: list[dict] = []
        self.workspace = Workspace()
        self.kernels = kernels.kernels_in_use()  # the element-wise kernels of its steps and validations
        recorded = None
        if resume is not None:
            recorded = snapshot.restore(self, resume)
        self.val_ids, self.cadence = validation.plan(
            self.params, model_cfg, c, val_tail, self.comm, clock, recorded, self.elapsed, self.kernels
        )

    def _own_rows(self, B: int) -> slice:
        if B < self.comm.size:
            raise ConfigError(
                f"batch size {B} is smaller than the {self.comm.size} workers, and each worker needs at least one "
                f"stream: raise the batch size to {self.comm.size} or more, or use fewer workers"
            )
        return self.comm.rows(B)

    def _start_from(self, ckpt: Checkpoint) -> None:
        """Fine-tuning: the model's weights, its characters' rows matched by character."""
        self.params = finetune.transplant(ckpt.params, ckpt.vocab, self.params, self.corpus.vocab)
        self.init_from = {"corpus": ckpt.record.corpus.to_dict(), "steps": ckpt.record.step}

    # -- what is saved and said -----------------------------------------------------------------

    def checkpoint(self) -> Checkpoint | None:
        """Everything needed to continue exactly (snapshot.to_checkpoint): under several workers
        every worker must call it; rank 0 gets the checkpoint, others None."""
        return snapshot.to_checkpoint(self)

    def measure_baselines(self) -> Baselines:
        """Uniform, unigram and n-gram bits/char on the validation text (see analysis/baselines.py)."""
        if self.baselines is None:
            self.baselines = baselines.measure(self.train_ids, self.val_ids, len(self.corpus.vocab))
        return self.baselines

    def warnings(self) -> list[Caution]:
        """Settings that cannot work well, said before training starts (cautions.py)."""
        return cautions(self)

    # -- the loop -------------------------------------------------------------------------------

    @property
    def epoch(self) -> float:
        return self.step / self.windows.n_windows

    def evaluate(self) -> float:
        """Mean validation loss in nats per character over the held-out tail, state carried."""
        return validation.mean_loss(
            self.params, self.model_cfg, self.val_ids, self.cfg.batch_size, self.cfg.seq_len, self.comm, self.kernels
        )

    @property
    def evals_since_best(self) -> int:
        return sum(1 for h in self.history if h["step"] > self.best_step)

    @property
    def out_of_patience(self) -> bool:
        """Validation has not improved for `patience` evaluations: stopped early."""
        return self.cfg.patience is not None and self.evals_since_best >= self.cfg.patience

    def finished(self) -> bool:
        c = self.cfg
        return (
            (c.max_steps is not None and self.step >= c.max_steps)
            or (c.epochs is not None and self.epoch >= c.epochs)
            or (c.max_time is not None and self._time_is_up())
            or self.out_of_patience
        )

    def _time_is_up(self) -> bool:
        # workers' clocks differ, so after the first step they go by the vote every step carries
        return self.elapsed >= self.cfg.max_time if self._time_vote is None else self._time_vote

    def train_step(self) -> StepEvent:
        """One window: forward, backward, clip, update. Raises TrainingDiverged on NaN/inf.

        Under several workers each worker says whether run()'s stop_requested() is true for it:
        if it is for any, `self.stopped` becomes true on every worker after this same step.
        """
        t0 = self.clock()
        epoch, k = divmod(self.step, self.windows.n_windows)
        if k == 0:
            self.state[...] = 0  # each epoch starts from a blank memory
        x, y = self.windows.window(k, self.rows, epoch)
        rng = self.rng if self.model_cfg.dropout > 0 else None
        rows = (self.rows, self.cfg.batch_size) if self.comm.distributed else None
        loss, grads, new_state = losses.of(self.model_cfg).loss_and_grads(
            self.params, self.model_cfg, x, y, self.state, rng, self.workspace, rows, self.kernels
        )
        if self.comm.distributed:
            loss, grads = self._sum_over_workers(loss, grads, self._stop_requested())
        norm = optim.clip_grad_norm(grads, self.cfg.grad_clip)
        self._check_diverged("training", loss if np.isfinite(norm) else float("nan"), self.step + 1)
        lr = self.schedule.lr(self.step, self._agreed_elapsed())
        optim.step(
            self.cfg.optimizer,
            self.params,
            grads,
            self.opt_state,
            lr,
            self.cfg.momentum,
            self.workspace.child("optim"),
            self.kernels,
        )
        self.state = new_state
        self.step += 1
        self.smooth_loss = SMOOTHING * self.smooth_loss + (1 - SMOOTHING) * loss
        dt = self.clock() - t0
        chars = self.cfg.batch_size * x.shape[1]  # the whole batch's, on every worker
        self._since_eval[0] += chars
        self._since_eval[1] += dt
        return StepEvent(self.step, self.epoch, loss, self.smooth_loss, lr, norm, chars / dt if dt > 0 else 0.0)

    def _sum_over_workers(self, loss: float, grads: dict, stop: bool) -> tuple[float, dict]:
        """The batch's loss and gradient from every worker's share: ONE Allreduce of one flat
        buffer that holds each worker's gradient and loss weighted by its share of the streams,
        its votes to stop (a signal), that its time is up and that its validation is due by time,
        and its elapsed time (the schedule goes by their mean). Returns views into the sum."""
        n = model.num_params(grads)
        flat = self.workspace.get("flat", (n + 5,), np.float32)
        summed, at = {}, 0
        for k, g in grads.items():
            summed[k] = flat[at : at + g.size].reshape(g.shape)
            np.multiply(g, self.share, out=summed[k])
            at += g.size
        time_up = self.cfg.max_time is not None and self.elapsed >= self.cfg.max_time
        eval_due = self.cadence is not None and self.cadence.due(self.elapsed)
        flat[n:] = loss * self.share, stop, time_up, eval_due, self.elapsed
        self.comm.sum_(flat)
        self.stopped, self._time_vote, self._eval_vote = bool(flat[n + 1]), bool(flat[n + 2]), bool(flat[n + 3])
        self._shared_elapsed = float(flat[n + 4]) / self.comm.size
        return float(flat[n]), summed

    def _agreed_elapsed(self) -> float:
        """The time trained, as every worker takes it (under several workers, their mean at the last step)."""
        return self.elapsed if self._time_vote is None else self._shared_elapsed

    def _check_diverged(self, which: str, loss: float, step: int) -> None:
        validation.check_diverged(which, loss, step, len(self.corpus.vocab), self.cfg)

    def eval_step(self) -> EvalEvent:
        release_pages(self.corpus.ids)  # keeps memory flat on corpora of any size
        val = self.evaluate()
        self._check_diverged("validation", val, self.step)
        self.schedule.observe(val)
        best = val < self.best_val
        if best:
            self.best_val, self.best_step = val, self.step
            self.best_params = {k: p.copy() for k, p in self.params.items()}
        lr = self.schedule.lr(self.step, self._agreed_elapsed())
        self.history.append(
            {
                "step": self.step,
                "elapsed": round(self.elapsed, 3),
                "train_loss": self.smooth_loss,
                "val_loss": val,
                "lr": lr,
            }
        )
        (chars, seconds), self._since_eval = self._since_eval, [0, 0.0]
        return EvalEvent(self.step, self.smooth_loss, val, best, lr, chars / seconds if seconds else 0.0)

    def validation_due(self) -> bool:
        """Whether run() validates before its next step: every eval_every steps, or when the
        measured cadence says (validation.Cadence), and when a limit ends the run, unless this
        step has been validated already or a stop was asked for."""
        if self.stopped and not self.finished():
            return False  # a stop was asked for: it validates only if the caller wants to
        validated = bool(self.history) and self.history[-1]["step"] == self.step
        return not validated and (self._cadence_due() or self.finished())

    def _cadence_due(self) -> bool:
        if self.cadence is None:
            return self.step % self.cfg.eval_every == 0
        # workers' clocks differ, so they go by the vote their last step carried
        return self.cadence.due(self.elapsed) if self._time_vote is None else self._eval_vote

    def run(self, stop_requested: Callable[[], bool] = lambda: False) -> Iterator[StepEvent | EvalEvent]:
        """Train until a limit in the config is reached or stop_requested() says so.

        Validates every eval_every steps, and once more when a limit ends the run (unless the last
        step just did); a stop that stop_requested() asks for returns at once, between steps
        (under several workers, after the step that tells every worker, so all stop together),
        and sets `stopped`.
        `elapsed` counts wall time, evaluations and the caller's work between events included.
        """
        clock = self.clock()

        def tick() -> None:
            nonlocal clock
            now = self.clock()
            self.elapsed += now - clock
            clock = now

        self._stop_requested = stop_requested
        while not self.finished():
            if not self.comm.distributed and stop_requested():
                self.stopped = True
                return
            event = self.train_step()
            tick()
            yield event
            if self.validation_due():
                start = self.elapsed
                event = self.eval_step()
                tick()
                yield event
                tick()  # the caller saves the run at a validation: that is validation's cost too
                if self.cadence is not None:
                    self.cadence.validated(start, self.elapsed)
            elif self.stopped:  # a stop asked for at the end of the run still validates
                return
        if self.validation_due():  # a run whose limit was reached before its first step here
            yield self.eval_step()
