"""How often a run validates and how much it reads: by default from measured time, so that
validation costs at most 5 % of the run; as set, in steps and characters, when the config says.
Time is a fake clock here, and the costs are faked on it: nothing is timed."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from charrnn import checkpoint
from charrnn.data.batching import Streams
from charrnn.data.corpus import Corpus
from charrnn.training import validation
from charrnn.training.parallel import split_rows
from charrnn.training.trainer import EvalEvent, Trainer
from tests.conftest import TINY_TEXT, tiny_model_config, tiny_train_config
from tests.fake_time import FakeClock, steps_take, validation_windows_take

LONG_TEXT = "".join(np.random.default_rng(0).choice(list("abcdefgh \n"), 400_000))  # 40,000 held out


def timed_trainer(monkeypatch, text: str, window: float, step: float, **cfg) -> tuple[Trainer, list[float]]:
    """A Trainer on a fake clock whose steps take `step` seconds and validation windows `window`."""
    clock = FakeClock()
    spent = validation_windows_take(monkeypatch, clock, window)
    cfg = tiny_train_config(**{"eval_every": None, "max_steps": None, **cfg})
    trainer = Trainer(Corpus.from_text(text), tiny_model_config(), cfg, clock=clock)
    steps_take(trainer, step)
    return trainer, spent


@pytest.mark.parametrize("window", [0.04, 0.5, 2.0])
def test_the_measured_cadence_keeps_validation_under_five_percent_of_the_run(monkeypatch, window):
    trainer, spent = timed_trainer(monkeypatch, TINY_TEXT, window, 1.0, max_time=200.0)
    del spent[:]  # the measurement before the run is not in its time
    events = list(trainer.run())
    evals = [e for e in events if isinstance(e, EvalEvent)]
    assert sum(spent) <= validation.SHARE * trainer.elapsed
    assert len(evals) == len(spent) >= 3 and evals[-1].step == trainer.step  # and once at the end
    gaps = np.diff([h["elapsed"] for h in trainer.history])[:-1]  # the last: when the time was up
    assert np.all(gaps >= validation.RATIO * window)  # each came 20 of its costs after the one before


def test_cheap_validations_of_a_small_text_come_at_most_fifty_times_a_run(monkeypatch):
    trainer, spent = timed_trainer(monkeypatch, TINY_TEXT, 1e-4, 1.0, max_time=200.0)
    list(trainer.run())
    assert validation.MOST_VALIDATIONS <= len(trainer.history) <= validation.MOST_VALIDATIONS + 1  # + the end's
    gaps = np.diff([h["elapsed"] for h in trainer.history])[:-1]  # the history rounds to milliseconds
    assert np.all(gaps >= 200.0 / validation.MOST_VALIDATIONS - 1e-3)


def test_a_cadence_set_in_steps_is_kept_and_reads_the_set_count(monkeypatch):
    trainer, _ = timed_trainer(monkeypatch, TINY_TEXT, 3.0, 0.5, max_time=None, max_steps=12, eval_every=4)
    assert trainer.cadence is None
    list(trainer.run())
    assert [h["step"] for h in trainer.history] == [4, 8, 12]
    longer = Trainer(Corpus.from_text(LONG_TEXT * 3), tiny_model_config(), tiny_train_config(eval_every=4))
    assert len(longer.val_ids) == validation.EVAL_CHARS  # of the 120,000 held out
    cfg = tiny_train_config(eval_every=4, eval_chars=777)
    assert len(Trainer(Corpus.from_text(LONG_TEXT), tiny_model_config(), cfg).val_ids) == 777


@pytest.mark.parametrize(
    "window,expected",
    [
        # a 25th of 5 % of a 300 s run is 0.6 s: 375 windows of 4 x 16 characters at 1.6 ms each
        (0.0016, 375 * 64),
        (10.0, validation.FEWEST_CHARS),  # too slow to read even the fewest: the fewest, validated less often
        (1e-4, 40_000),  # fast enough for more than the text holds: all of it
    ],
)
def test_the_measured_count_of_characters_fits_the_time(monkeypatch, window, expected):
    trainer, _ = timed_trainer(monkeypatch, LONG_TEXT, window, 0.5, max_time=300.0)
    assert abs(len(trainer.val_ids) - expected) <= 1
    windows = Streams(trainer.val_ids, 4, 16).n_windows
    assert trainer.cadence.cost == pytest.approx(window * windows)  # the first validation's, estimated


def test_a_resumed_run_validates_the_characters_it_measured(monkeypatch, tmp_path):
    trainer, _ = timed_trainer(monkeypatch, LONG_TEXT, 0.2, 0.5, max_time=300.0)
    list(trainer.run(stop_requested=lambda: trainer.step >= 3))
    checkpoint.save(trainer.checkpoint(), tmp_path / "c.npz")
    validation_windows_take(monkeypatch, FakeClock(), 100.0)  # the machine is slower now: the set stays
    resumed = Trainer(
        Corpus.from_text(LONG_TEXT), trainer.model_cfg, trainer.cfg, resume=checkpoint.load(tmp_path / "c.npz")
    )
    assert len(resumed.val_ids) == len(trainer.val_ids) < 40_000
    assert resumed.cadence.since == resumed.elapsed > 0  # it was validated when saved: the next comes later
    np.testing.assert_array_equal(resumed.val_ids, trainer.val_ids)


class Pair:
    """Two workers in two threads of one process, as parallel.World is to them: the rows each
    owns, sums over both (in rank order, the same on both), rank 0's objects shared."""

    def __init__(self):
        self.size, self.distributed = 2, True
        self.barrier = threading.Barrier(2, timeout=20)  # a worker that disagrees breaks it, not hangs
        self.slots: list = [None, None]

    def worker(self, rank: int) -> Worker:
        return Worker(self, rank)


class Worker:
    def __init__(self, pair: Pair, rank: int):
        self.pair, self.rank, self.size, self.distributed = pair, rank, 2, True

    def rows(self, batch: int) -> slice:
        return split_rows(batch, 2, self.rank)

    def _exchange(self, obj) -> list:
        self.pair.slots[self.rank] = obj
        self.pair.barrier.wait()
        both = list(self.pair.slots)
        self.pair.barrier.wait()
        return both

    def sum_(self, buf: np.ndarray) -> np.ndarray:
        a, b = self._exchange(buf.copy())
        assert a.shape == b.shape, "the workers are in different collectives"
        buf[...] = a + b
        return buf

    def share(self, obj):
        return self._exchange(obj)[0]

    def gather(self, obj) -> list | None:
        both = self._exchange(obj)
        return both if self.rank == 0 else None


def test_workers_whose_clocks_differ_validate_at_the_same_steps_and_learn_at_one_rate(monkeypatch):
    """Each worker's clock runs at its own pace (one worker's steps take longer): they still validate
    together (by the vote their steps carry) and take the same rate (the mean of their times),
    so they keep the same weights."""
    pair = Pair()
    clocks = [FakeClock(), FakeClock()]
    real = validation.mean_loss

    def timed(params, cfg, val_ids, batch_size, seq_len, comm, *kernels):
        clocks[comm.rank].now += 0.3 * (1 + comm.rank)
        return real(params, cfg, val_ids, batch_size, seq_len, comm, *kernels)

    monkeypatch.setattr(validation, "mean_loss", timed)
    cfg = tiny_train_config(eval_every=None, max_steps=None, max_time=40.0, lr_schedule="cosine", batch_size=4)
    results: list = [None, None]

    def work(rank: int) -> None:
        trainer = Trainer(
            Corpus.from_text(TINY_TEXT), tiny_model_config(), cfg, comm=pair.worker(rank), clock=clocks[rank]
        )
        steps_take(trainer, 0.2 + 0.1 * rank)
        events = list(trainer.run())
        results[rank] = (trainer, events)

    threads = [threading.Thread(target=work, args=(r,)) for r in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert all(r is not None for r in results), "a worker failed"
    (a, a_events), (b, b_events) = results
    assert clocks[0].now != clocks[1].now
    assert [(type(e).__name__, e.step, e.lr) for e in a_events] == [(type(e).__name__, e.step, e.lr) for e in b_events]
    assert len(a.history) >= 3
    for k in a.params:
        assert a.params[k].tobytes() == b.params[k].tobytes(), k
