"""A clock the tests move by hand, so that what goes by time (the time limit, the cosine over a
run's time, the measured validation cadence) is tested without timing anything."""

from __future__ import annotations

from charrnn.data.batching import Streams
from charrnn.training import validation


class FakeClock:
    """Seconds that pass only when a test says: `clock()` reads them, `clock.now += s` moves them."""

    def __init__(self, now: float = 0.0):
        self.now = now

    def __call__(self) -> float:
        return self.now


def steps_take(trainer, seconds: float) -> None:
    """Every training step of `trainer` takes `seconds` of its FakeClock."""
    step, clock = trainer.train_step, trainer.clock

    def timed():
        clock.now += seconds
        return step()

    trainer.train_step = timed


def validation_windows_take(monkeypatch, clock: FakeClock, seconds: float) -> list[float]:
    """Every validation window takes `seconds` of `clock` (the measurement before training too);
    returns the list that each validation's seconds are appended to."""
    real, spent = validation.mean_loss, []

    def timed(params, cfg, val_ids, batch_size, seq_len, comm, *kernels):
        cost = seconds * Streams(val_ids, min(batch_size, len(val_ids) - 1), seq_len).n_windows
        clock.now += cost
        spent.append(cost)
        return real(params, cfg, val_ids, batch_size, seq_len, comm, *kernels)

    monkeypatch.setattr(validation, "mean_loss", timed)
    return spent
