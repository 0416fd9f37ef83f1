"""A model that reads both sides: its weights, exact gradients, and that it never sees the
character it predicts."""

from __future__ import annotations

import numpy as np
import pytest

from charrnn.config import ModelConfig
from charrnn.nn import both_sides, model
from charrnn.nn.workspace import Workspace
from tests.conftest import CELL_KINDS
from tests.gradcheck import numerical_grad, rel_error

TOL = 1e-6


def both_sides_model(cell="lstm", act="tanh", layers=1, H=4, V=6, seed=0, dropout=0.0):
    cfg = ModelConfig(
        cell=cell, nonlinearity=act, hidden_size=H, num_layers=layers, dropout=dropout, bidirectional=True
    )
    rng = np.random.default_rng(seed)
    params = model.init_params(cfg, V, rng, dtype=np.float64)
    for p in params.values():  # off the special init, so every term is exercised
        p += rng.standard_normal(p.shape) * 0.3
    return cfg, params, rng


def test_weights_are_named_as_pytorchs_bidirectional_network():
    cfg = ModelConfig(cell="gru", hidden_size=5, num_layers=2, bidirectional=True)
    shapes = model.param_shapes(cfg, 7)
    assert shapes["rnn.weight_ih_l0_reverse"] == (15, 7)
    assert shapes["rnn.weight_hh_l1_reverse"] == (15, 5)
    assert shapes["rnn.weight_ih_l1"] == shapes["rnn.weight_ih_l1_reverse"] == (15, 5)  # two separate stacks
    assert shapes["decoder.weight"] == (7, 10)
    assert len(shapes) == 2 * 2 * 4 + 2
    params = model.init_params(cfg, 7, np.random.default_rng(0))
    assert {k: p.shape for k, p in params.items()} == shapes


def test_a_one_directional_model_draws_the_weights_it_always_drew():
    """The bidirectional setting adds the reverse stack after everything a left-to-right model draws."""
    one = ModelConfig(cell="lstm", hidden_size=4, num_layers=2)
    a = model.init_params(one, 5, np.random.default_rng(1))
    assert "rnn.weight_ih_l0_reverse" not in a and a["decoder.weight"].shape == (5, 4)


@pytest.mark.parametrize("cell,act", CELL_KINDS)
@pytest.mark.parametrize("layers", [1, 2])
def test_training_window_gradients_match_central_differences(cell, act, layers):
    """Every weight of both stacks and the decoder, through the loss of a window (B=2, T=3)
    whose forward state is carried in; twice, since the second call reuses the workspace."""
    cfg, params, rng = both_sides_model(cell, act, layers)
    B, T, V = 2, 3, 6
    state = rng.standard_normal(model.zero_state(cfg, B, np.float64).shape) * 0.5
    x, y = rng.integers(0, V, (B, T)), rng.integers(0, V, (B, T))
    ws = Workspace()
    for _ in range(2):
        _, grads, _ = both_sides.loss_and_grads(params, cfg, x, y, state, ws=ws)
        for name, p in params.items():
            numeric = numerical_grad(lambda: both_sides.loss(params, cfg, x, y, state)[0], p)
            assert rel_error(grads[name], numeric) < TOL, name


def test_dropout_gradients_with_fixed_masks():
    cfg, params, rng = both_sides_model("lstm", layers=2, dropout=0.5)
    state = model.zero_state(cfg, 2, np.float64)
    x, y = rng.integers(0, 6, (2, 4)), rng.integers(0, 6, (2, 4))

    def f():
        return both_sides.loss_and_grads(params, cfg, x, y, state, np.random.default_rng(7))[0]

    _, grads, _ = both_sides.loss_and_grads(params, cfg, x, y, state, np.random.default_rng(7))
    for name, p in params.items():
        assert rel_error(grads[name], numerical_grad(f, p)) < TOL, name


def whole_text_logp(params, cfg, ids, window=model.WINDOW) -> np.ndarray:
    """(N, V) log-probabilities of every position of one text, from both_sides.read."""
    rows = [logits for _, logits in both_sides.read(params, cfg, ids[None], window)]
    logits = np.concatenate(rows)
    return logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))


@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn"])
def test_the_prediction_of_a_character_does_not_depend_on_it(cell):
    """Changing x_t changes every prediction but that of x_t itself."""
    cfg, params, rng = both_sides_model(cell, layers=2, V=8, seed=3)
    ids = rng.integers(0, 8, 12)
    base = whole_text_logp(params, cfg, ids)
    for t in (0, 5, 11):  # the first, one inside, the last
        changed = ids.copy()
        changed[t] = (ids[t] + 3) % 8
        other = whole_text_logp(params, cfg, changed)
        np.testing.assert_array_equal(other[t], base[t])
        moved = [i for i in range(12) if not np.allclose(other[i], base[i], rtol=0, atol=1e-12)]
        assert moved == [i for i in range(12) if i != t]  # every other prediction reads x_t


def test_the_edges_are_predicted_from_the_zero_state_on_their_missing_side():
    cfg, params, rng = both_sides_model("gru", V=5, seed=4)
    ids = rng.integers(0, 5, 7)
    logits = np.concatenate([lg for _, lg in both_sides.read(params, cfg, ids[None])])
    assert logits.shape == (7, 5)  # every character, the first and the last included
    W, b = params["decoder.weight"], params["decoder.bias"]
    # the first character: nothing on the left, the backward stack's state after x_6 .. x_1
    right, state = model.prepare(params, cfg, model.REVERSE), model.zero_state(cfg, 1, np.float64)
    after = model.run_stack(right, cfg, ids[:0:-1, None], state)[0][-1]  # (1, H)
    np.testing.assert_allclose(logits[0], W @ np.r_[np.zeros(4), after[0]] + b, rtol=1e-12)


def test_reading_in_windows_equals_reading_in_one():
    cfg, params, rng = both_sides_model("lstm", layers=2, V=6, seed=5)
    ids = rng.integers(0, 6, 23)
    np.testing.assert_allclose(whole_text_logp(params, cfg, ids, window=5), whole_text_logp(params, cfg, ids, 100))


def test_a_training_window_is_the_text_read_with_its_right_side_cut_at_the_window_end():
    """The loss of a window x, y (from a zero state) is the whole-text reading of x[0] + y,
    without its first character: the backward stack starts at the window's right end."""
    cfg, params, rng = both_sides_model("lstm", V=6, seed=6)
    text = rng.integers(0, 6, 9)
    x, y = text[None, :-1], text[None, 1:]
    logits, _, _ = both_sides.forward(params, cfg, x, y, model.zero_state(cfg, 1, np.float64))
    whole = np.concatenate([lg for _, lg in both_sides.read(params, cfg, text[None])])
    np.testing.assert_allclose(logits, whole[1:], rtol=1e-12)
