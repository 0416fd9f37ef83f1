"""Training: truncated BPTT over B contiguous streams, as a generator of events.

`Trainer.run()` yields a `StepEvent` after every optimizer step and an `EvalEvent` after every
validation; it prints nothing and saves nothing. The caller decides what to show and when to
write `trainer.checkpoint()`, which holds everything needed to continue exactly.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np

from charrnn import budget
from charrnn.analysis import baselines
from charrnn.analysis.baselines import Baselines
from charrnn.checkpoint import Checkpoint
from charrnn.config import ModelConfig, TrainConfig
from charrnn.data.batching import Streams, split
from charrnn.data.corpus import CHUNK_BYTES, Corpus, release_pages
from charrnn.errors import ConfigError, NotResumable, TrainingDiverged
from charrnn.nn import model, optim
from charrnn.nn.functional import bits
from charrnn.nn.workspace import Workspace
from charrnn.training import finetune
from charrnn.training.parallel import Solo, World
from charrnn.training.resume import check_resumable, other_corpus
from charrnn.training.schedules import Schedule

DIVERGED = 10.0  # a loss this many times that of uniform guessing means training has blown up
LEAD_IN = 64  # characters kept to reach the start-of-document state (generation/documents.py)
SMOOTHING = 0.98  # weight of the past in the displayed training loss (min-char-rnn's smooth_loss)


@dataclass(frozen=True)
class StepEvent:
    step: int  # optimizer steps done, in total
    epoch: float  # passes over the training text
    loss: float  # this window's mean loss, nats per character
    smooth_loss: float
    lr: float
    grad_norm: float  # before clipping
    chars_per_sec: float


@dataclass(frozen=True)
class EvalEvent:
    step: int
    train_loss: float  # smoothed, nats per character
    val_loss: float  # nats per character
    best: bool  # a new best: the checkpoint's weights are now these
    lr: float = 0.0  # the learning rate of the next step
    chars_per_sec: float = 0.0  # training characters per second since the last validation

    @property
    def val_bits(self) -> float:
        return bits(self.val_loss)


@dataclass(frozen=True)
class Caution:
    """A setting that cannot work well: `kind` names the case, `fields` the config fields that
    would mend it; str() states the facts."""

    kind: str  # few_windows | oversized | small_validation
    facts: str
    fields: tuple[str, ...]

    def __str__(self) -> str:
        return self.facts


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
    ):
        """A new run, or one continued exactly (`resume`), or a new run from a model's weights
        (`init_from`, over a vocabulary that holds the model's: see finetune.joint_vocab)."""
        self.model_cfg, self.cfg, self.corpus = model_cfg, train_cfg, corpus
        self.comm = comm or Solo()
        B = train_cfg.batch_size
        if B < self.comm.size:
            raise ConfigError(
                f"batch size {B} is smaller than the {self.comm.size} workers, and each worker needs at least one "
                f"stream: raise the batch size to {self.comm.size} or more, or use fewer workers"
            )
        self.rows = self.comm.rows(B)  # this worker's streams
        self.share = (self.rows.stop - self.rows.start) / B  # its weight in the batch's mean
        c = train_cfg
        budget.check_training(model_cfg, c, len(corpus.vocab))  # before anything is allocated
        train_ids, val_ids = split(corpus.ids, c.val_fraction, c.batch_size, c.seq_len, corpus.held_out)
        self.train_ids = train_ids
        self.windows = Streams(train_ids, train_cfg.batch_size, train_cfg.seq_len)
        self.val_ids = val_ids[: train_cfg.eval_chars]
        self.rng = np.random.default_rng(train_cfg.seed)
        self.params = model.init_params(model_cfg, len(corpus.vocab), self.rng)
        self.init_from, self.trained_on = None, None
        if init_from is not None:
            self.params = finetune.transplant(init_from.params, init_from.vocab, self.params, corpus.vocab)
            self.init_from = {"corpus": init_from.progress.get("corpus", {}), "steps": init_from.progress.get("step")}
        self.schedule = Schedule(train_cfg, self.windows.n_windows)
        self.baselines: Baselines | None = None
        self._since_eval = [0, 0.0]  # training characters and seconds since the last validation
        self.opt_state = optim.init_state(train_cfg.optimizer, self.params)
        self.state = model.zero_state(model_cfg, self.rows.stop - self.rows.start)
        self.stopped = False  # a stop was asked for: by stop_requested(), agreed by every worker
        self._time_vote = None  # under several workers: whether any worker's clock had run out
        self._stop_requested: Callable[[], bool] = lambda: False  # run()'s
        self.step, self.elapsed, self.smooth_loss = 0, 0.0, float(np.log(len(corpus.vocab)))
        self.best_val, self.best_step, self.best_params = float("inf"), 0, None
        self.history: list[dict] = []
        self.workspace = Workspace()
        if resume is not None:
            self._restore(resume)

    # -- checkpoints ---------------------------------------------------------------------------

    def checkpoint(self) -> Checkpoint | None:
        """Everything needed to continue exactly. Under several workers every worker must call it
        (the carried state is gathered from all of them); rank 0 gets the checkpoint, others None."""
        states = self.comm.gather(self.state)
        if self.comm.rank:
            return None
        progress = {
            "step": self.step,
            "epoch": self.epoch,
            "elapsed": self.elapsed,
            "smooth_loss": self.smooth_loss,
            "best_val_loss": self.best_val if np.isfinite(self.best_val) else None,
            "best_step": self.best_step,
            "history": self.history,
            "corpus": self.corpus.meta(),
            "rng": self.rng.bit_generator.state,
            "schedule": self.schedule.state,
            "baselines": self.baselines.to_dict() if self.baselines else None,
            "init_from": self.init_from,
            "lead_in": self.lead_in(),
        }
        resume = {f"last.{k}": p for k, p in self.params.items()}
        resume.update({f"optim.{k}": v for k, v in self.opt_state.items()})
        resume["train.state"] = states[0] if len(states) == 1 else np.concatenate(states, axis=2)
        best = self.best_params if self.best_params is not None else self.params
        return Checkpoint(self.model_cfg, self.cfg, self.corpus.vocab, best, progress, resume)

    def _restore(self, ckpt: Checkpoint) -> None:
        check_resumable(ckpt, self.model_cfg, self.cfg, self.corpus.vocab)
        r, p = ckpt.resume, ckpt.progress
        try:
            self.params = {k: r[f"last.{k}"].astype(np.float32) for k in self.params}
            self.opt_state = {k: r[f"optim.{k}"].copy() for k in self.opt_state}
            state = r["train.state"].astype(np.float32)
            self.rng.bit_generator.state = p["rng"]
            self.step, self.elapsed, self.smooth_loss = int(p["step"]), float(p["elapsed"]), float(p["smooth_loss"])
            self.best_step, self.history = int(p["best_step"]), list(p["history"])
            self.schedule = Schedule(self.cfg, self.windows.n_windows, p.get("schedule"))
            self.baselines = Baselines.from_dict(p["baselines"]) if p.get("baselines") else None
        except (KeyError, TypeError, ValueError, OverflowError) as e:
            raise NotResumable(str(e)) from None
        L, S, _, H = self.state.shape
        if state.shape == (L, S, self.cfg.batch_size, H):
            self.state = np.ascontiguousarray(state[:, :, self.rows])
        self.best_val = p["best_val_loss"] if p.get("best_val_loss") is not None else float("inf")
        self.best_params = dict(ckpt.params)
        self.init_from = p.get("init_from")
        self.trained_on = other_corpus(ckpt, self.corpus)
        if self.trained_on is not None:  # fine-tuning: what was judged on the old text starts afresh
            self.best_val, self.best_step, self.best_params, self.history = float("inf"), self.step, None, []
            self.baselines = None
            self.schedule.state.update(best=None, bad=0)  # the plateau's best loss was on the old text too
            self.init_from = {"corpus": self.trained_on, "steps": self.step}

    def lead_in(self, n: int = LEAD_IN) -> str | None:
        """The last n characters of the training text before its last boundary: how a document
        start was reached in training (see generation/documents.py); None without boundaries."""
        B = self.corpus.boundary
        if B is None:
            return None
        tail = np.asarray(self.train_ids[-CHUNK_BYTES:])
        at = np.flatnonzero(tail == self.corpus.vocab.encode(B)[0])
        end = at[-1] if len(at) and at[-1] > 0 else len(tail)
        return self.corpus.vocab.decode(tail[max(0, end - n) : end].tolist())

    def measure_baselines(self) -> Baselines:
        """Uniform, unigram and n-gram bits/char on the validation text (see analysis/baselines.py)."""
        if self.baselines is None:
            self.baselines = baselines.measure(self.train_ids, self.val_ids, len(self.corpus.vocab))
        return self.baselines

    def warnings(self) -> list[Caution]:
        """Settings that cannot work well, said before training starts."""
        said = []
        n_train = self.windows.x.size
        n_params = model.num_params(self.params)
        if self.windows.n_windows < 20:
            said.append(
                Caution(
                    "few_windows",
                    f"only {self.windows.n_windows} windows per epoch: the corpus is small for batch size "
                    f"{self.cfg.batch_size} x sequence length {self.cfg.seq_len}",
                    ("batch_size", "seq_len"),
                )
            )
        if n_params > 10 * n_train:
            said.append(
                Caution(
                    "oversized",
                    f"the model has {n_params:,} parameters for {n_train:,} training characters: it will "
                    "memorise rather than generalise",
                    ("hidden_size", "num_layers"),
                )
            )
        if self.trained_on is not None:
            said.append(
                Caution(
                    "other_corpus",
                    f"{self.corpus.name} is not the text the checkpoint was trained on "
                    f"({self.trained_on.get('name', 'another text')}): training goes on from its weights, with the "
                    f"validation set, the best weights and the learning curve started afresh on {self.corpus.name}",
                    (),
                )
            )
        if len(self.val_ids) < 5000:
            said.append(
                Caution(
                    "small_validation",
                    f"the validation text is only {len(self.val_ids):,} characters: its bits/char will be noisy",
                    ("val_fraction",),
                )
            )
        return said

    # -- the loop -------------------------------------------------------------------------------

    @property
    def epoch(self) -> float:
        return self.step / self.windows.n_windows

    def evaluate(self) -> float:
        """Mean validation loss in nats per character over the held-out tail, state carried."""
        B = min(self.cfg.batch_size, len(self.val_ids) - 1)
        val = Streams(self.val_ids, B, self.cfg.seq_len)
        rows = self.comm.rows(B)  # each worker validates its own streams
        n = rows.stop - rows.start
        total = 0.0
        if n:
            state = model.zero_state(self.model_cfg, n)
            for k in range(val.n_windows):
                loss, state = model.loss(self.params, self.model_cfg, *val.window(k, rows), state)
                total += loss
        total *= n / B
        if self.comm.distributed:
            total = float(self.comm.sum_(np.array([total]))[0])
        return total / val.n_windows

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
        t0 = time.perf_counter()
        k = self.step % self.windows.n_windows
        if k == 0:
            self.state[...] = 0  # each epoch starts from a blank memory
        x, y = self.windows.window(k, self.rows)
        rng = self.rng if self.model_cfg.dropout > 0 else None
        rows = (self.rows, self.cfg.batch_size) if self.comm.distributed else None
        loss, grads, new_state = model.loss_and_grads(
            self.params, self.model_cfg, x, y, self.state, rng, self.workspace, rows
        )
        if self.comm.distributed:
            loss, grads = self._sum_over_workers(loss, grads, self._stop_requested())
        norm = optim.clip_grad_norm(grads, self.cfg.grad_clip)
        self._check_diverged("training", loss if np.isfinite(norm) else float("nan"), self.step + 1)
        lr = self.schedule.lr(self.step)
        optim.step(
            self.cfg.optimizer, self.params, grads, self.opt_state, lr, self.cfg.momentum, self.workspace.child("optim")
        )
        self.state = new_state
        self.step += 1
        self.smooth_loss = SMOOTHING * self.smooth_loss + (1 - SMOOTHING) * loss
        dt = time.perf_counter() - t0
        chars = self.cfg.batch_size * x.shape[1]  # the whole batch's, on every worker
        self._since_eval[0] += chars
        self._since_eval[1] += dt
        return StepEvent(self.step, self.epoch, loss, self.smooth_loss, lr, norm, chars / dt)

    def _sum_over_workers(self, loss: float, grads: dict, stop: bool) -> tuple[float, dict]:
        """The batch's loss and gradient from every worker's share: ONE Allreduce of one flat
        buffer that holds each worker's gradient and loss weighted by its share of the streams,
        and its votes to stop (a signal) and that its time is up. Returns views into the sum."""
        n = model.num_params(grads)
        flat = self.workspace.get("flat", (n + 3,), np.float32)
        summed, at = {}, 0
        for k, g in grads.items():
            summed[k] = flat[at : at + g.size].reshape(g.shape)
            np.multiply(g, self.share, out=summed[k])
            at += g.size
        time_up = self.cfg.max_time is not None and self.elapsed >= self.cfg.max_time
        flat[n:] = loss * self.share, stop, time_up
        self.comm.sum_(flat)
        self.stopped, self._time_vote = bool(flat[n + 1]), bool(flat[n + 2])
        return float(flat[n]), summed

    def _check_diverged(self, which: str, loss: float, step: int) -> None:
        """Raise TrainingDiverged for a NaN loss or one far worse than guessing.

        Saturating cells (LSTM, GRU) stay finite when they blow up, so NaN alone is not enough;
        and an update can break the weights after its own loss was computed, which only the
        validation that follows shows: both losses are checked, before anything is saved.
        """
        untrained = float(np.log(len(self.corpus.vocab)))
        if not loss <= DIVERGED * untrained:  # also true for NaN
            raise TrainingDiverged(which, loss, step, untrained, {"lr": self.cfg.lr, "grad_clip": self.cfg.grad_clip})

    def eval_step(self) -> EvalEvent:
        release_pages(self.corpus.ids)  # keeps memory flat on corpora of any size
        val = self.evaluate()
        self._check_diverged("validation", val, self.step)
        self.schedule.observe(val)
        best = val < self.best_val
        if best:
            self.best_val, self.best_step = val, self.step
            self.best_params = {k: p.copy() for k, p in self.params.items()}
        lr = self.schedule.lr(self.step)
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
        """Whether run() validates before its next step: every eval_every steps, and when a limit
        ends the run, unless this step has been validated already or a stop was asked for."""
        if self.stopped and not self.finished():
            return False  # a stop was asked for: it validates only if the caller wants to
        validated = bool(self.history) and self.history[-1]["step"] == self.step
        return not validated and (self.step % self.cfg.eval_every == 0 or self.finished())

    def run(self, stop_requested: Callable[[], bool] = lambda: False) -> Iterator[StepEvent | EvalEvent]:
        """Train until a limit in the config is reached or stop_requested() says so.

        Validates every eval_every steps, and once more when a limit ends the run (unless the last
        step just did); a stop that stop_requested() asks for returns at once, between steps
        (under several workers, after the step that tells every worker, so all stop together),
        and sets `stopped`.
        `elapsed` counts wall time, evaluations and the caller's work between events included.
        """
        clock = time.perf_counter()

        def tick() -> None:
            nonlocal clock
            now = time.perf_counter()
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
                event = self.eval_step()
                tick()
                yield event
            elif self.stopped:  # a stop asked for at the end of the run still validates
                return
        if self.validation_due():  # a run whose limit was reached before its first step here
            yield self.eval_step()
