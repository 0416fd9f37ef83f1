"""The baselines that say whether a loss is good: uniform, unigram and a Kneser-Ney n-gram model,
checked on texts whose entropy the test knows in advance."""

from __future__ import annotations

import json
import re
import time

import numpy as np
import pytest

from charrnn.analysis import baselines
from charrnn.metadata import Baselines
from tests import cli_helpers


def markov_text(P: np.ndarray, n: int, seed: int = 0) -> np.ndarray:
    """n ids drawn from the first-order Markov chain with transition matrix P."""
    rng = np.random.default_rng(seed)
    cum = np.cumsum(P, axis=1)
    u = rng.random(n)
    x = np.zeros(n, np.int64)
    for t in range(1, n):
        x[t] = min(np.searchsorted(cum[x[t - 1]], u[t]), len(P) - 1)
    return x


P = np.array([[0.9, 0.05, 0.05], [0.1, 0.6, 0.3], [0.3, 0.3, 0.4]])


def test_a_markov_text_scores_its_own_cross_entropy_from_order_two():
    x = markov_text(P, 120_000)
    train, val = x[:100_000], x[100_000:]
    truth = float(-np.mean(np.log2(P[val[:-1], val[1:]])))  # the true model's bits/char on val[1:]
    by_order = baselines.ngram_bits(train, val, 3, max_order=5)
    # order 1 knows only the frequencies; order 2 is the true model's form; higher orders add nothing
    stationary = np.bincount(train, minlength=3) / len(train)
    assert by_order[0] == pytest.approx(float(-np.mean(np.log2(stationary[val]))), abs=0.01)
    assert by_order[1] == pytest.approx(truth, abs=0.01)
    assert all(b >= by_order[1] - 0.002 for b in by_order[2:])
    assert by_order[0] > truth + 0.3


def test_a_periodic_text_costs_almost_nothing_once_the_window_sees_the_period():
    x = np.tile(np.arange(5), 4000)
    by_order = baselines.ngram_bits(x[:15_000], x[15_000:], 5, max_order=4)
    assert by_order[0] == pytest.approx(np.log2(5), abs=1e-3)  # each character equally often
    assert max(by_order[1:]) < 0.01


def test_a_period_longer_than_the_window_is_not_learned():
    """abcab... with a repeated letter: 'a' is followed by 'b' or 'c', which a 2-gram cannot tell."""
    x = np.tile(np.array([0, 1, 0, 2]), 5000)  # a b a c: after 'a', b or c alternate
    by_order = baselines.ngram_bits(x[:16_000], x[16_000:], 3, max_order=3)
    assert by_order[1] == pytest.approx(0.5, abs=0.01)  # half the characters cost a bit
    assert by_order[2] < 0.01  # 'ba' -> c, 'ca' -> b


def test_measure_picks_the_best_order_and_reports_the_three_baselines():
    x = markov_text(P, 60_000, seed=1)
    b = baselines.measure(x[:50_000], x[50_000:], 4)  # a fourth character that never occurs
    assert b.uniform == pytest.approx(2.0)
    assert b.ngram == min(b.by_order) and b.by_order[b.order - 1] == b.ngram
    assert b.order >= 2 and len(b.by_order) == baselines.MAX_ORDER
    assert b.ngram < b.unigram < b.uniform
    assert (b.train_chars, b.train_total, b.val_chars) == (50_000, 50_000, 10_000)
    assert Baselines.from_dict(b.to_dict()) == b


def test_a_large_training_text_is_counted_on_a_bounded_head(monkeypatch):
    monkeypatch.setattr(baselines, "TRAIN_CHARS", 1000)
    x = markov_text(P, 5000)
    b = baselines.measure(x[:4000], x[4000:], 3)
    assert (b.train_chars, b.train_total) == (1000, 4000)


def test_a_megabyte_takes_seconds_not_minutes():
    x = np.random.default_rng(2).integers(0, 60, 1_000_000)  # 60 characters, like English text
    t0 = time.perf_counter()
    baselines.measure(x[:950_000], x[950_000:], 60)
    assert time.perf_counter() - t0 < 30  # about one second alone; the machine is shared


@pytest.mark.parametrize(
    "damage",
    [{"order": "5"}, {"ngram": float("inf")}, {"by_order": "x"}, {"extra": 1}, {"by_order": [1.0, True]}],
)
def test_a_damaged_record_is_refused(damage):
    good = Baselines(3.0, 2.0, 1.0, 2, (2.0, 1.0), 10, 10, 5).to_dict()
    with pytest.raises(ValueError):
        Baselines.from_dict({**good, **damage})


def test_train_shows_the_baselines_first_and_the_gap_at_the_end_and_inspect_keeps_them(tmp_path):
    corpus = cli_helpers.write(tmp_path / "c.txt", cli_helpers.TEXT)
    result = cli_helpers.train(corpus, tmp_path / "m.npz", "--sample-length", "0")
    assert result.exit_code == 0, result.output
    lines = result.stderr.splitlines()
    opening = next(i for i, line in enumerate(lines) if line.startswith("Baselines on the validation text"))
    assert opening <= 2 and re.search(r"uniform 4\.907, unigram \d\.\d{3}, n-gram \d\.\d{3} bits/char", lines[opening])
    done = next(line for line in lines if line.startswith("Done:"))
    assert re.search(
        r"\d\.\d{3} bits/char at step 5: \d\.\d\d (above|below) the best n-gram \(order \d, \d\.\d\d\)", done
    )
    facts = json.loads(cli_helpers.invoke(["inspect", "--json", "-c", tmp_path / "m.npz"]).stdout)
    b = facts["baselines"]
    assert b["uniform"] == pytest.approx(np.log2(len(facts["vocab"]["chars"])))
    assert b["ngram"] == min(b["by_order"]) < b["unigram"] < b["uniform"]
    assert b["val_chars"] == int(len(cli_helpers.TEXT) * 0.05)  # the validation tail the model is judged on
    table = cli_helpers.invoke(["inspect", "-c", tmp_path / "m.npz"]).stdout
    assert "baselines" in table and "the best n-gram" in table
