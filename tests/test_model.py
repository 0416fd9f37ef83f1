"""The model as a whole: its parameters, its starting loss, and that it can learn a pattern.

The per-parameter gradient checks live in test_gradients.py; these tests check what a user sees.
"""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from charrnn.config import ModelConfig, SampleConfig
from charrnn.generation import sampling
from charrnn.nn import model
from tests.conftest import CELL_KINDS, CELLS, PATTERN, TINY_TEXT, train_tiny


def unigram_entropy(text: str) -> float:
    """Entropy in nats of the character frequencies: the best loss without any context."""
    counts = np.array(list(Counter(text).values()), float)
    p = counts / counts.sum()
    return float(-(p * np.log(p)).sum())


@pytest.mark.parametrize("cell,act", CELL_KINDS)
@pytest.mark.parametrize("layers", [1, 2])
def test_initial_loss_is_about_log_vocab_size(cell, act, layers):
    rng = np.random.default_rng(0)
    V = 50
    cfg = ModelConfig(cell=cell, nonlinearity=act, hidden_size=16, num_layers=layers, dropout=0.0)
    params = model.init_params(cfg, V, rng)
    x = rng.integers(0, V, (4, 32))
    y = rng.integers(0, V, (4, 32))
    loss, _ = model.loss(params, cfg, x, y, model.zero_state(cfg, 4))
    assert loss == pytest.approx(np.log(V), abs=0.1)


@pytest.mark.parametrize("cell,act", CELL_KINDS)
def test_init_params_is_seeded_float32_and_finite(cell, act):
    cfg = ModelConfig(cell=cell, nonlinearity=act, hidden_size=8, num_layers=2)
    a = model.init_params(cfg, 11, np.random.default_rng(3))
    b = model.init_params(cfg, 11, np.random.default_rng(3))
    c = model.init_params(cfg, 11, np.random.default_rng(4))
    assert a.keys() == b.keys() == model.param_shapes(cfg, 11).keys()
    for k in a:
        assert a[k].dtype == np.float32 and a[k].shape == model.param_shapes(cfg, 11)[k]
        assert np.isfinite(a[k]).all()
        np.testing.assert_array_equal(a[k], b[k])
    assert not np.array_equal(a["rnn.weight_hh_l0"], c["rnn.weight_hh_l0"])


def test_the_lstm_starts_from_pytorchs_uniform_weights_and_the_gru_from_orthogonal_blocks():
    """The LSTM as torch.nn.LSTM: every recurrent weight and bias uniform in +-1/sqrt(H) (it
    learned faster from these than from orthogonal blocks and a forget bias of 1: docs/training.md);
    the GRU's W_hh an orthogonal matrix per gate block, its biases 0."""
    H, rng = 64, np.random.default_rng(0)
    lstm = model.init_params(ModelConfig(cell="lstm", hidden_size=H, num_layers=2), 7, rng)
    k = 1 / np.sqrt(H)
    for name in ("weight_hh", "bias_ih", "bias_hh"):
        for layer in range(2):
            p = lstm[f"rnn.{name}_l{layer}"]
            assert np.abs(p).max() <= k and p.std() == pytest.approx(k / np.sqrt(3), rel=0.1), name
    gru = model.init_params(ModelConfig(cell="gru", hidden_size=H, num_layers=1), 7, rng)
    for block in np.split(gru["rnn.weight_hh_l0"].astype(np.float64), 3):
        np.testing.assert_allclose(block @ block.T, np.eye(H), atol=1e-5)
    assert not gru["rnn.bias_ih_l0"].any() and not gru["rnn.bias_hh_l0"].any()


def test_forward_carries_state_between_windows():
    """Two windows with the state carried give the same logits as one long window."""
    cfg = ModelConfig(cell="gru", hidden_size=8, num_layers=2, dropout=0.0)
    rng = np.random.default_rng(1)
    params = model.init_params(cfg, 6, rng, dtype=np.float64)
    x = rng.integers(0, 6, (3, 10))
    s0 = model.zero_state(cfg, 3, np.float64)
    whole, s_whole, _ = model.forward(params, cfg, x, s0)
    first, s1, _ = model.forward(params, cfg, x[:, :4], s0)
    second, s2, _ = model.forward(params, cfg, x[:, 4:], s1)
    # logits are time-major: (T*B, V)
    np.testing.assert_allclose(np.concatenate([first, second]), whole, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(s2, s_whole, rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(s0, 0)  # the caller's state is not modified


def test_dropout_only_when_an_rng_is_given():
    cfg = ModelConfig(cell="lstm", hidden_size=8, num_layers=2, dropout=0.5)
    rng = np.random.default_rng(2)
    params = model.init_params(cfg, 6, rng)
    x = rng.integers(0, 6, (2, 5))
    s0 = model.zero_state(cfg, 2)
    eval1, _, _ = model.forward(params, cfg, x, s0)
    eval2, _, _ = model.forward(params, cfg, x, s0)
    train1, _, _ = model.forward(params, cfg, x, s0, np.random.default_rng(5))
    train2, _, _ = model.forward(params, cfg, x, s0, np.random.default_rng(5))
    np.testing.assert_array_equal(eval1, eval2)
    np.testing.assert_array_equal(train1, train2)  # the mask comes from the rng: seeded, repeatable
    assert not np.allclose(eval1, train1)


@pytest.mark.parametrize("cell", CELLS)
def test_model_learns_a_repetitive_text_and_argmax_reproduces_it(cell):
    trained = train_tiny(cell, steps=150)
    cfg, params, vocab = trained.cfg, trained.params, trained.vocab
    # loss over the whole text, one stream from a blank state
    ids = vocab.encode(TINY_TEXT).astype(np.intp)[None]
    loss, _ = model.loss(params, cfg, ids[:, :-1], ids[:, 1:], model.zero_state(cfg, 1))
    assert loss < 0.1 * unigram_entropy(TINY_TEXT)  # 2.09 nats without context
    text = "".join(c[0] for c in sampling.generate(trained, SampleConfig(length=47, argmax=True), prime="h"))
    assert "h" + text == (PATTERN * 4)[:48]
