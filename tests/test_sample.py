"""Sampling (seeds, argmax, temperature, top-k, top-p, batches of samples, the prime) and scoring."""

from __future__ import annotations

import numpy as np
import pytest

from charrnn.analysis import scoring
from charrnn.config import SampleConfig
from charrnn.errors import DataError
from charrnn.generation import sampling
from charrnn.nn import model
from charrnn.nn.functional import softmax
from tests.conftest import PATTERN


def generate(trained, prime="", num_samples=1, rng=None, **cfg) -> list[str]:
    """All samples as strings, one per stream."""
    t = trained
    steps = list(sampling.generate(t, SampleConfig(**cfg), prime, num_samples, rng))
    return ["".join(chars) for chars in zip(*steps)] if steps else [""] * num_samples


# -- log_weights on hand-made logits: the probabilities the draw uses --------------------------


def probabilities(logits: np.ndarray, cfg: SampleConfig) -> np.ndarray:
    """The next character's probabilities that `choose` draws from: its log-weights normalised."""
    return softmax(sampling.log_weights(logits, cfg))


def test_temperature_sharpens_and_flattens():
    logits = np.log([[1.0, 2.0, 1.0]])  # probabilities 1/4, 1/2, 1/4
    np.testing.assert_allclose(probabilities(logits, SampleConfig()), [[0.25, 0.5, 0.25]])
    # T = 0.5 squares the odds: 1 : 4 : 1
    np.testing.assert_allclose(probabilities(logits, SampleConfig(temperature=0.5)), [[1 / 6, 4 / 6, 1 / 6]])
    # T = 2 takes their square root: 1 : sqrt 2 : 1
    s = 2 + np.sqrt(2)
    p = probabilities(logits, SampleConfig(temperature=2.0))
    np.testing.assert_allclose(p, [[1 / s, np.sqrt(2) / s, 1 / s]])


def test_top_k_keeps_the_k_most_likely_renormalised():
    logits = np.log([[0.1, 0.4, 0.05, 0.3, 0.15], [0.3, 0.1, 0.2, 0.15, 0.25]])
    p = probabilities(logits, SampleConfig(top_k=2))
    np.testing.assert_allclose(p, [[0, 0.4 / 0.7, 0, 0.3 / 0.7, 0], [0.3 / 0.55, 0, 0, 0, 0.25 / 0.55]])
    p = probabilities(logits, SampleConfig(top_k=3))
    np.testing.assert_allclose(p[0], np.array([0, 0.4, 0, 0.3, 0.15]) / 0.85)
    np.testing.assert_allclose(probabilities(logits, SampleConfig(top_k=1)), [[0, 1, 0, 0, 0], [1, 0, 0, 0, 0]])
    # k at or above the vocabulary size keeps everything
    np.testing.assert_allclose(probabilities(logits, SampleConfig(top_k=9)), np.exp(logits))


@pytest.mark.parametrize(
    "top_p,kept",
    [
        (0.5, [0]),  # 0.6 alone reaches 0.5
        (0.6, [0]),  # ... and exactly 0.6
        (0.7, [0, 1]),  # 0.6 + 0.25 = 0.85
        (0.85, [0, 1]),
        (0.9, [0, 1, 2]),  # 0.95
        (0.99, [0, 1, 2, 3]),
        (1.0, [0, 1, 2, 3]),
    ],
)
def test_top_p_keeps_the_smallest_set_reaching_p(top_p, kept):
    probs = np.array([0.6, 0.25, 0.1, 0.05])
    order = [2, 0, 3, 1]  # shuffled columns: the filter must sort by probability, not by position
    logits = np.log(probs[order])[None]
    p = probabilities(logits, SampleConfig(top_p=top_p))
    expected = np.zeros(4)
    expected[kept] = probs[kept] / probs[kept].sum()
    np.testing.assert_allclose(p[0], expected[order], atol=1e-12)


def test_choose_draws_with_the_filtered_probabilities():
    logits = np.log(np.tile([[0.5, 0.3, 0.2, 1e-9]], (20_000, 1)))
    ids = sampling.choose(logits, SampleConfig(top_k=3), np.random.default_rng(0))
    freq = np.bincount(ids, minlength=4) / len(ids)
    np.testing.assert_allclose(freq, [0.5, 0.3, 0.2, 0.0], atol=0.015)
    assert freq[3] == 0  # outside the top 3: never drawn


@pytest.mark.parametrize("temperature", [1.0, 0.5, 2.0])
def test_choose_draws_with_the_tempered_probabilities(temperature):
    logits = np.tile(np.array([[1.0, 0.2, -0.5, 0.9, -3.0]], np.float32), (40_000, 1))
    ids = sampling.choose(logits, SampleConfig(temperature=temperature), np.random.default_rng(1))
    z = logits[0].astype(float) / temperature
    expected = np.exp(z - z.max()) / np.exp(z - z.max()).sum()
    np.testing.assert_allclose(np.bincount(ids, minlength=5) / len(ids), expected, atol=0.01)


def test_choose_argmax_takes_the_largest_logit_per_row():
    logits = np.array([[0.0, 3.0, 1.0], [2.0, -1.0, 1.9]])
    ids = sampling.choose(logits, SampleConfig(argmax=True), np.random.default_rng(0))
    assert ids.tolist() == [1, 0]


# -- generate ----------------------------------------------------------------------------------


def test_same_seed_same_text_different_seed_different_text(trained_lstm):
    a = generate(trained_lstm, "h", length=200, temperature=2.0, seed=1)
    b = generate(trained_lstm, "h", length=200, temperature=2.0, seed=1)
    c = generate(trained_lstm, "h", length=200, temperature=2.0, seed=2)
    assert a == b
    assert a != c
    # an explicit generator is the same as the seed
    assert generate(trained_lstm, "h", rng=np.random.default_rng(1), length=200, temperature=2.0) == a


def test_generate_yields_one_character_per_step_and_per_sample(trained_lstm):
    t = trained_lstm
    steps = list(sampling.generate(t, SampleConfig(length=7, seed=0), "he", 3))
    assert len(steps) == 7
    assert all(len(s) == 3 and all(len(ch) == 1 and ch in t.vocab for ch in s) for s in steps)
    assert list(sampling.generate(t, SampleConfig(length=0))) == []


def test_argmax_is_deterministic_and_follows_the_pattern(trained_lstm):
    a = generate(trained_lstm, "hello", length=30, argmax=True, seed=1)
    b = generate(trained_lstm, "hello", length=30, argmax=True, seed=2)
    assert a == b == [(PATTERN * 4)[5:35]]


def test_a_prime_longer_than_the_warm_up_window(trained_lstm):
    prime = PATTERN * 30 + "hel"  # 363 characters: more than one 256-character warm-up window
    assert len(prime) > model.WINDOW
    assert generate(trained_lstm, prime, length=20, argmax=True) == [(PATTERN * 3)[3:23]]


def test_no_prime_starts_as_after_a_newline(trained_lstm):
    assert generate(trained_lstm, length=25, argmax=True) == generate(trained_lstm, "\n", length=25, argmax=True)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_very_low_temperature_top_k_1_and_tiny_top_p_equal_argmax(trained_lstm, seed):
    greedy = generate(trained_lstm, "w", length=60, argmax=True)
    assert generate(trained_lstm, "w", length=60, temperature=1e-3, seed=seed) == greedy
    assert generate(trained_lstm, "w", length=60, top_k=1, seed=seed) == greedy
    assert generate(trained_lstm, "w", length=60, top_p=1e-3, seed=seed) == greedy


def test_top_k_samples_stay_in_the_k_most_likely(trained_lstm, monkeypatch):
    """Every character drawn with top_k=2 is one of the two most likely at its step."""
    drawn = []
    real_choose = sampling.choose

    def spy(logits, cfg, rng):
        ids = real_choose(logits, cfg, rng)
        drawn.append((np.argsort(-logits, axis=-1)[:, :2], ids))
        return ids

    monkeypatch.setattr(sampling, "choose", spy)
    generate(trained_lstm, "o", num_samples=4, length=50, top_k=2, temperature=5.0, seed=0)
    assert len(drawn) == 50
    assert all((top2 == ids[:, None]).any(axis=1).all() for top2, ids in drawn)
    assert any((top2[:, 1] == ids).any() for top2, ids in drawn)  # the second choice does occur


def test_num_samples_run_as_one_batch(trained_lstm):
    many = generate(trained_lstm, "h", num_samples=4, length=80, temperature=2.0, seed=3)
    assert len(many) == 4 and all(len(s) == 80 for s in many)
    assert generate(trained_lstm, "h", num_samples=4, length=80, temperature=2.0, seed=3) == many
    assert len(set(many)) == 4  # each stream draws its own characters
    # with argmax every stream is the single-stream text
    one = generate(trained_lstm, "h", length=40, argmax=True)
    assert generate(trained_lstm, "h", num_samples=3, length=40, argmax=True) == one * 3


def test_prime_with_unknown_characters_is_refused(trained_lstm):
    with pytest.raises(DataError) as e:
        generate(trained_lstm, "hello Zürich", length=5)
    assert "'Z'" in str(e.value) and "'ü'" in str(e.value)


# -- scoring -----------------------------------------------------------------------------------

SCORED = (PATTERN * 60)[5:600] + "hello wrold\n"  # crosses score windows, ends in a surprise


def test_log_probs_match_the_models_mean_loss(trained_lstm):
    t = trained_lstm
    logp = scoring.log_probs(t, SCORED)
    assert logp.shape == (len(SCORED) - 1,)
    assert (logp <= 0).all()
    ids = t.vocab.encode(SCORED).astype(np.intp)[None]
    loss, _ = model.loss(t.params, t.cfg, ids[:, :-1], ids[:, 1:], model.zero_state(t.cfg, 1))
    assert -logp.mean() == pytest.approx(loss, rel=1e-5)
    # the typo is far less likely than the pattern
    assert logp[-5] < np.log(0.1) < np.median(logp)  # logp[i] scores SCORED[i + 1]: the "r" of "wrold"


def test_log_probs_do_not_depend_on_the_window_size(trained_lstm, monkeypatch):
    t = trained_lstm
    whole = scoring.log_probs(t, SCORED)
    monkeypatch.setattr(model, "WINDOW", 7)
    np.testing.assert_allclose(scoring.log_probs(t, SCORED), whole, rtol=1e-5, atol=1e-6)


def test_summary_in_bits():
    s = scoring.Score.of(np.log([0.5, 0.25, 0.125, 1.0])).summary()  # 1 + 2 + 3 + 0 bits
    assert s == {"chars": 4, "total_bits": pytest.approx(6.0), "bits_per_char": pytest.approx(1.5)}


def test_scoring_refuses_unknown_characters_and_too_short_texts(trained_lstm):
    t = trained_lstm
    with pytest.raises(DataError, match="'Q'"):
        scoring.log_probs(t, "hello Qorld")
    with pytest.raises(DataError, match="two characters"):
        scoring.log_probs(t, "h")


def _documented_sample_fields() -> set[str]:
    """The fields the table of docs/json.md's `charrnn sample --json` section names."""
    import re
    from pathlib import Path

    doc = (Path(__file__).parents[1] / "docs" / "json.md").read_text()
    section = doc.split("## `charrnn sample --json`")[1].split("\n## ")[0]
    rows = [line.split("|")[1] for line in section.splitlines() if line.startswith("| `")]
    return {name for row in rows for name in re.findall(r"`([\w\[\].]+)`", row)}


@pytest.mark.parametrize("how", [[], ["--best-of", "3"], ["--beam", "2"]])
def test_sample_json_gives_the_fields_docs_json_md_lists(trained, how):
    import json

    from tests.cli_helpers import invoke

    result = invoke(["sample", "-c", trained, "-n", "20", "--seed", "1", "--json", "--novelty", *how])
    assert result.exit_code == 0, result.stderr
    out = json.loads(result.stdout)
    given = set(out) - {"samples"} | {f"samples[].{key}" for s in out["samples"] for key in s}
    assert given <= _documented_sample_fields(), given - _documented_sample_fields()
    assert {"prime", "method", "scored_by", "samples[].text", "samples[].bits_per_char"} <= given


def test_each_stream_ends_just_after_its_first_stop_text_or_at_its_documents_end():
    from charrnn.generation.sampling import until_stopped

    steps = [["a", "x", "q"], ["b", "y", None], ["a", "a", "r"], ["b", "b", "s"], ["z", "z", "z"]]
    assert list(until_stopped(steps, 3, "ab")) == [
        ["a", "x", "q"],
        ["b", "y", None],  # stream 0 has written its stop text, stream 2's document has ended
        [None, "a", None],
        [None, "b", None],  # the last stream stops: no further step is read
    ]
    assert list(until_stopped(steps[:2], 3, None)) == [["a", "x", "q"], ["b", "y", None]]
