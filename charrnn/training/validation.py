"""Validation: the mean loss on the held-out text, the check that training has not blown up, and
how much of the text a validation reads and how often it comes (`plan`).

By default both follow from measured time, so that validation costs at most 5 % of a run: a
validation is due once the time trained since the last one is 20 times what that one cost (and a
50th of the run at least, so that a cheap validation of a small text does not come every few
steps, and patience counts validations far enough apart), and it reads as many characters as fit
in a 25th of that share of the run. A cadence set in steps
(eval_every) is kept exactly, for repeatable runs; a count set (eval_chars) too.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from charrnn.config import ModelConfig, TrainConfig
from charrnn.data.batching import Streams
from charrnn.errors import TrainingDiverged
from charrnn.nn import losses, model
from charrnn.nn.model import Params

DIVERGED = 10.0  # a loss this many times that of uniform guessing means training has blown up


def mean_loss(
    params: Params, cfg: ModelConfig, val_ids: np.ndarray, batch_size: int, seq_len: int, comm, kernels: str = "numpy"
) -> float:
    """Mean loss in nats per character over `val_ids`, in windows of at most `batch_size` streams
    with the state carried; each worker of `comm` validates its own streams and the sums are shared.
    `kernels` as in model.forward."""
    B = min(batch_size, len(val_ids) - 1)
    val = Streams(val_ids, B, seq_len)
    rows = comm.rows(B)
    n = rows.stop - rows.start
    total = 0.0
    if n:
        state = model.zero_state(cfg, n)
        for k in range(val.n_windows):
            loss, state = losses.of(cfg).loss(params, cfg, *val.window(k, rows), state, kernels)
            total += loss
    total *= n / B  # this worker's share of the batch's mean
    if comm.distributed:
        total = float(comm.sum_(np.array([total]))[0])
    return total / val.n_windows


def check_diverged(which: str, loss: float, step: int, vocab_size: int, cfg: TrainConfig) -> None:
    """Raise TrainingDiverged for a NaN loss or one far worse than guessing.

    Saturating cells (LSTM, GRU) stay finite when they blow up, so NaN alone is not enough;
    and an update can break the weights after its own loss was computed, which only the
    validation that follows shows: both losses are checked, before anything is saved.
    """
    untrained = float(np.log(vocab_size))
    if not loss <= DIVERGED * untrained:  # also true for NaN
        raise TrainingDiverged(which, loss, step, untrained, {"lr": cfg.lr, "grad_clip": cfg.grad_clip})


# -- how much and how often: by measured time, unless the config says -------------------------

SHARE = 0.05  # validation's largest share of a run's time when its cadence is measured
RATIO = 20  # seconds trained between validations per second the last one cost: 1 / 21 of the run
EVAL_CHARS = 100_000  # characters validated when the cadence is set in steps but the count is not
FEWEST_CHARS, MOST_CHARS = 20_000, 200_000  # the range a measured count is chosen in
VALIDATIONS = 25  # a measured count aims at this many validations a run: each costs SHARE / 25 of it
MOST_VALIDATIONS = 50  # however cheap a validation, at most this many a run
UNTIMED_RUN = 600.0  # seconds: the run a count is chosen for when the run has no time limit


@dataclass
class Cadence:
    """Validation by measured time: due once the time trained since the last validation ended is
    RATIO times what that validation cost, its saving included, so that validation takes at most
    1 / (RATIO + 1) of the run (before the first, the cost is the one estimated), and `least`
    seconds at least."""

    cost: float  # seconds the last validation took
    least: float = 0.0  # seconds at least between validations
    since: float = 0.0  # the run's elapsed time when it ended

    def due(self, elapsed: float) -> bool:
        return elapsed - self.since >= max(RATIO * self.cost, self.least)

    def validated(self, start: float, end: float) -> None:
        self.cost, self.since = end - start, end


def plan(
    params: Params,
    model_cfg: ModelConfig,
    cfg: TrainConfig,
    tail: np.ndarray,
    comm,
    clock,
    recorded: int | None = None,
    elapsed: float = 0.0,
    kernels: str = "numpy",
) -> tuple[np.ndarray, Cadence | None]:
    """The text each validation reads, and its Cadence (None: every eval_every steps), for a run
    `elapsed` seconds in (a resumed one was validated when it was saved).

    The count of characters is the config's, else the one a resumed run `recorded`, else, with the
    cadence in steps, EVAL_CHARS; else measured: as many as one validation reads in SHARE /
    VALIDATIONS of the run on this machine. Under several workers the first worker's count is
    every worker's."""
    count = cfg.eval_chars or recorded or (EVAL_CHARS if cfg.eval_every is not None else None)
    if count is not None and cfg.eval_every is not None:
        return tail[:count], None
    B, T = min(cfg.batch_size, len(tail) - 1), cfg.seq_len
    window = _window_seconds(params, model_cfg, tail[: 2 * B * T + 1], B, T, comm, clock, kernels)
    run = cfg.max_time or UNTIMED_RUN
    if count is None:
        budget = SHARE / VALIDATIONS * run
        count = comm.share(int(min(MOST_CHARS, max(FEWEST_CHARS, budget / max(window, 1e-9) * B * T))))
    val = tail[:count]
    cost = window * Streams(val, min(B, len(val) - 1), T).n_windows
    return val, Cadence(cost, least=run / MOST_VALIDATIONS, since=elapsed)


def _window_seconds(
    params: Params, cfg: ModelConfig, probe: np.ndarray, B: int, T: int, comm, clock, kernels: str
) -> float:
    """Seconds one validation window of B x T characters takes here: the second of two passes over
    `probe` (the first pays for warming up), per window."""
    n = Streams(probe, min(B, len(probe) - 1), T).n_windows
    for _ in range(2):
        start = clock()
        mean_loss(params, cfg, probe, B, T, comm, kernels)
        seconds = clock() - start
    return seconds / n
