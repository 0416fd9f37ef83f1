"""Learning-rate schedules (step decay, cosine with warm-up over the run's steps or time,
reduce-on-plateau) and early stopping."""

from __future__ import annotations

import dataclasses
import math

import pytest

from charrnn import checkpoint
from charrnn.config import TrainConfig
from charrnn.data.corpus import Corpus
from charrnn.errors import ConfigError
from charrnn.training.schedules import Schedule
from charrnn.training.trainer import EvalEvent, Trainer
from tests.conftest import TINY_TEXT, tiny_model_config, tiny_train_config
from tests.fake_time import FakeClock, steps_take


def lrs(cfg: TrainConfig, steps, windows: int = 10) -> list[float]:
    schedule = Schedule(cfg, windows)
    return [schedule.lr(s) for s in steps]


def test_step_decay_with_a_warm_up():
    cfg = TrainConfig(lr=1.0, lr_schedule="step", lr_decay=0.5, lr_decay_every=10, warmup_steps=4)
    assert lrs(cfg, [0, 1, 3, 9, 10, 25]) == pytest.approx([0.25, 0.5, 1.0, 1.0, 0.5, 0.25])


def test_cosine_warms_up_then_follows_half_a_cosine_to_the_minimum():
    cfg = TrainConfig(lr=1.0, lr_schedule="cosine", warmup_steps=10, max_steps=110, min_lr_ratio=0.1)
    got = lrs(cfg, [0, 4, 9, 10, 60, 110, 500])
    assert got == pytest.approx([0.1, 0.5, 1.0, 1.0, 0.55, 0.1, 0.1])
    quarter = lrs(cfg, [35])[0]
    assert quarter == pytest.approx(0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi / 4)))


def test_cosine_takes_its_length_from_epochs_or_its_own_setting():
    by_epochs = TrainConfig(lr=1.0, lr_schedule="cosine", epochs=2.5, max_time=None, min_lr_ratio=0.0)
    assert lrs(by_epochs, [25], windows=10) == pytest.approx([0.0])  # 2.5 epochs of 10 windows
    own = TrainConfig(lr=1.0, lr_schedule="cosine", cosine_steps=100, max_steps=1000, min_lr_ratio=0.0)
    assert lrs(own, [50]) == pytest.approx([0.5])


def test_cosine_with_only_a_time_limit_decays_over_the_time():
    cfg = TrainConfig(lr=1.0, lr_schedule="cosine", max_time=100.0, min_lr_ratio=0.1)
    schedule = Schedule(cfg, 10)
    got = [schedule.lr(step, elapsed) for step, elapsed in [(0, 0.0), (7, 50.0), (9, 99.0), (9, 100.0), (9, 250.0)]]
    assert got == pytest.approx([1.0, 0.55, 0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * 0.99)), 0.1, 0.1])
    assert schedule.lr(5, 25.0) == pytest.approx(0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi / 4)))
    warm = Schedule(dataclasses.replace(cfg, warmup_steps=4), 10)
    assert [warm.lr(s, 1.0) for s in range(3)] == pytest.approx([0.25, 0.5, 0.75])  # the warm-up is in steps


def test_a_run_with_only_a_time_limit_reaches_the_floor_as_its_end_nears():
    cfg = tiny_train_config(max_steps=None, max_time=20.0, lr=1e-2, lr_schedule="cosine", min_lr_ratio=0.1)
    trainer = Trainer(Corpus.from_text(TINY_TEXT), tiny_model_config(), cfg, clock=FakeClock())
    steps_take(trainer, 1.0)
    events = list(trainer.run())
    lrs = [e.lr for e in events if not isinstance(e, EvalEvent)]
    assert trainer.step == 20 and len(lrs) == 20
    # step i starts i seconds in: the rate follows the cosine of the time gone, down to the floor
    assert lrs == pytest.approx([1e-3 + 0.5 * (1 + math.cos(math.pi * i / 20)) * 9e-3 for i in range(20)])
    assert lrs[-1] < 1.1e-3 and trainer.history[-1]["lr"] == pytest.approx(1e-3)


def interrupted_and_resumed(tmp_path, cfg: TrainConfig, stop_at: int, seconds: float | None):
    """The run of `cfg` stopped (as by Ctrl-C) after `stop_at` steps, saved, loaded and continued
    to its end; with `seconds`, every step takes that long on a fake clock."""
    clock = {"clock": FakeClock()} if seconds else {}
    first = Trainer(Corpus.from_text(TINY_TEXT), tiny_model_config(), cfg, **clock)
    if seconds:
        steps_take(first, seconds)
    events = list(first.run(stop_requested=lambda: first.step >= stop_at))
    checkpoint.save(first.checkpoint(), tmp_path / "c.npz")
    clock = {"clock": FakeClock(1000.0)} if seconds else {}  # another process: its clock reads otherwise
    second = Trainer(
        Corpus.from_text(TINY_TEXT), tiny_model_config(), cfg, resume=checkpoint.load(tmp_path / "c.npz"), **clock
    )
    if seconds:
        steps_take(second, seconds)
    return second, events + list(second.run())


@pytest.mark.parametrize("limit", ["steps", "time"])
def test_a_resumed_run_continues_the_cosine_exactly(tmp_path, limit):
    by_time = limit == "time"
    cfg = tiny_train_config(
        max_steps=None if by_time else 12, max_time=12.0 if by_time else None, eval_every=3, lr_schedule="cosine"
    )
    full = Trainer(Corpus.from_text(TINY_TEXT), tiny_model_config(), cfg, **({"clock": FakeClock()} if by_time else {}))
    if by_time:
        steps_take(full, 1.0)
    full_events = list(full.run())
    resumed, events = interrupted_and_resumed(tmp_path, cfg, 5, 1.0 if by_time else None)
    assert resumed.step == full.step == 12
    lrs = [(e.step, e.lr) for e in events if not isinstance(e, EvalEvent)]
    assert lrs == [(e.step, e.lr) for e in full_events if not isinstance(e, EvalEvent)]
    assert len(set(lr for _, lr in lrs)) == 12  # the rate did change at every step
    for k in full.params:
        assert resumed.params[k].tobytes() == full.params[k].tobytes(), k


def test_cosine_in_a_run_without_any_limit_is_refused():
    with pytest.raises(ConfigError, match="cosine"):
        Schedule(TrainConfig(lr_schedule="cosine", max_time=None), 10)  # a run with no limit at all


def test_reduce_on_plateau_multiplies_after_patience_validations_without_a_better_loss():
    cfg = TrainConfig(lr=1.0, lr_schedule="plateau", plateau_patience=2, plateau_factor=0.5)
    schedule = Schedule(cfg, 10)
    seen = []
    for val in [3.0, 2.0, 2.5, 2.1, 1.9, 2.0, 2.0, 2.0, 2.0]:
        schedule.observe(val)
        seen.append(schedule.lr(100))
    assert seen == [1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.25, 0.25, 0.125]


def plateau_corpus() -> Corpus:
    """A training text the model can learn and a validation tail it cannot: validation soon stops improving."""
    return Corpus.from_text("abcd" * 300 + "dcbadbca" * 20)


def test_patience_stops_a_run_that_has_stopped_improving():
    cfg = tiny_train_config(max_steps=2000, eval_every=5, patience=3, val_fraction=0.12)
    trainer = Trainer(plateau_corpus(), tiny_model_config(), cfg)
    evals = [e for e in trainer.run() if isinstance(e, EvalEvent)]
    assert trainer.step < 2000 and trainer.out_of_patience
    assert [e.best for e in evals[-3:]] == [False, False, False] and evals[-4].best
    assert trainer.best_step == evals[-4].step


def test_no_patience_runs_to_the_limit():
    cfg = tiny_train_config(max_steps=200, eval_every=5, patience=None, val_fraction=0.12)
    trainer = Trainer(plateau_corpus(), tiny_model_config(), cfg)
    for _ in trainer.run():
        pass
    assert trainer.step == 200 and trainer.evals_since_best > 3


def test_a_resumed_run_continues_the_plateau_schedule(tmp_path):
    cfg = tiny_train_config(max_steps=60, eval_every=5, patience=None, lr_schedule="plateau", val_fraction=0.12)
    trainer = Trainer(plateau_corpus(), tiny_model_config(), cfg)
    for _ in trainer.run():
        pass
    assert trainer.schedule.state["scale"] < 1.0  # the precondition: it has reduced the rate
    checkpoint.save(trainer.checkpoint(), tmp_path / "c.npz")
    resumed = Trainer(plateau_corpus(), tiny_model_config(), cfg, resume=checkpoint.load(tmp_path / "c.npz"))
    assert resumed.schedule.state == trainer.schedule.state
    assert resumed.schedule.lr(resumed.step) == trainer.schedule.lr(trainer.step)
