"""Learning-rate schedules: step decay, cosine with warm-up, and reduce-on-plateau.

A schedule maps the step (and the time trained) to a learning rate; reduce-on-plateau also watches
the validation loss (`observe`), and keeps what it has seen in a small state that the checkpoint
saves, so that a resumed run continues the same schedule. Every schedule may start with a linear
warm-up.

The cosine knows the run's budget: it decays over its own length, or the run's step or epoch
limit, and a run that has only a time limit decays over that time, with progress measured as the
time trained over the time allowed. The time trained is in the checkpoint, so a resumed run
continues the curve where it was; a run with a step limit decays by steps and stays repeatable
bit for bit.
"""

from __future__ import annotations

import math
from fractions import Fraction

from charrnn.config import TrainConfig, finite_number
from charrnn.errors import ConfigError
from charrnn.nn import optim


def warmup(cfg: TrainConfig, step: int) -> float:
    """The warm-up factor: (step + 1) / warmup_steps during the warm-up, then 1."""
    return min(1.0, (step + 1) / cfg.warmup_steps) if cfg.warmup_steps else 1.0


def cosine(cfg: TrainConfig, step: int, progress: float) -> float:
    """Half a cosine from lr down to lr * min_lr_ratio as `progress` goes from 0 to 1, then flat at
    the minimum (nanoGPT's get_lr)."""
    low = cfg.lr * cfg.min_lr_ratio
    # 1) warm-up: linear, as for every schedule
    if step < cfg.warmup_steps:
        return cfg.lr * warmup(cfg, step)
    # 2) at the end of the budget and after it: the minimum
    if progress >= 1.0:
        return low
    # 3) in between: cosine, from 1 at the start (the warm-up's end) to 0 at the end
    return low + 0.5 * (1.0 + math.cos(math.pi * progress)) * (cfg.lr - low)


def by_steps(cfg: TrainConfig, step: int, horizon: int) -> float:
    """The share of a step budget of `horizon` steps gone at `step`, counted from the warm-up's end."""
    return (step - cfg.warmup_steps) / max(1, horizon - cfg.warmup_steps)


STEP_MAX = 2**62  # more steps than any run takes: an epoch limit beyond it is no limit


def step_limit(cfg: TrainConfig, windows_per_epoch: int) -> int | None:
    """The run's limit in steps from its step and epoch limits (None: neither is set). The
    epochs are multiplied exactly, so no epoch count can overflow."""
    limits = [cfg.max_steps] if cfg.max_steps is not None else []
    if cfg.epochs is not None:
        limits.append(min(STEP_MAX, math.ceil(Fraction(cfg.epochs) * windows_per_epoch)))
    return min(limits) if limits else None


def horizon(cfg: TrainConfig, windows_per_epoch: int) -> int | None:
    """The steps a cosine schedule decays over: its own length, or the run's step or epoch limit
    (None: it decays over the run's time)."""
    return cfg.cosine_steps or step_limit(cfg, windows_per_epoch)


class Schedule:
    """The learning rate of each step; `observe(val_loss)` after each validation."""

    def __init__(self, cfg: TrainConfig, windows_per_epoch: int, state: dict | None = None):
        self.cfg = cfg
        self.horizon = horizon(cfg, windows_per_epoch)
        if cfg.lr_schedule == "cosine" and self.horizon is None and cfg.max_time is None:
            raise ConfigError(
                "a cosine schedule needs to know how long it decays: give the run a step, epoch or time limit, "
                "or the schedule its own length in steps"
            )
        # reduce-on-plateau: the factor reached so far, the best loss and the evaluations since it
        self.state = {"scale": 1.0, "best": None, "bad": 0}
        if state is not None:
            self.state = _checked(state)

    def lr(self, step: int, elapsed: float = 0.0) -> float:
        """The rate of step `step` (counted from 0), `elapsed` seconds into the run (under several
        workers, a time they agree on: a rate that differed would part their weights)."""
        c = self.cfg
        if c.lr_schedule == "cosine":
            progress = by_steps(c, step, self.horizon) if self.horizon is not None else elapsed / c.max_time
            return cosine(c, step, progress)
        if c.lr_schedule == "plateau":
            return c.lr * self.state["scale"] * warmup(c, step)
        return optim.learning_rate(c, step) * warmup(c, step)

    def observe(self, val_loss: float) -> None:
        """Reduce-on-plateau: after plateau_patience evaluations without a better loss, lr *= plateau_factor."""
        if self.cfg.lr_schedule != "plateau":
            return
        s = self.state
        if s["best"] is None or val_loss < s["best"]:
            s["best"], s["bad"] = val_loss, 0
            return
        s["bad"] += 1
        if s["bad"] >= self.cfg.plateau_patience:
            s["scale"] *= self.cfg.plateau_factor
            s["bad"] = 0


def _checked(state) -> dict:
    """A saved schedule state, or ValueError if it is damaged."""

    number = finite_number
    ok = (
        isinstance(state, dict)
        and set(state) == {"scale", "best", "bad"}
        and number(state["scale"])
        and state["scale"] > 0
        and (state["best"] is None or number(state["best"]))
        and isinstance(state["bad"], int)
        and not isinstance(state["bad"], bool)
        and state["bad"] >= 0
    )
    if not ok:
        raise ValueError("the learning-rate schedule's state is damaged")
    return dict(state)
