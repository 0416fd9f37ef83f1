"""Learning-rate schedules (step decay, cosine with warm-up, reduce-on-plateau) and early stopping."""

from __future__ import annotations

import math

import pytest

from charrnn import checkpoint
from charrnn.config import TrainConfig
from charrnn.data.corpus import Corpus
from charrnn.errors import ConfigError
from charrnn.training.schedules import Schedule
from charrnn.training.trainer import EvalEvent, Trainer
from tests.conftest import tiny_model_config, tiny_train_config


def lrs(cfg: TrainConfig, steps, windows: int = 10) -> list[float]:
    schedule = Schedule(cfg, windows)
    return [schedule.lr(s) for s in steps]


def test_step_decay_with_a_warm_up():
    cfg = TrainConfig(lr=1.0, lr_decay=0.5, lr_decay_every=10, warmup_steps=4)
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


def test_cosine_without_a_length_is_refused():
    with pytest.raises(ConfigError, match="cosine"):
        Schedule(TrainConfig(lr_schedule="cosine"), 10)


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
