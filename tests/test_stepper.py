"""The one-character stepper that sampling runs must compute exactly what model.forward computes."""

from __future__ import annotations

import numpy as np
import pytest

from charrnn import model
from charrnn.config import ModelConfig
from charrnn.stepper import Stepper

CELLS = [("rnn", "tanh"), ("rnn", "relu"), ("lstm", "tanh"), ("gru", "tanh")]


def random_model(cell: str, act: str, layers: int, V: int = 11, H: int = 8):
    cfg = ModelConfig(cell=cell, nonlinearity=act, hidden_size=H, num_layers=layers, dropout=0.0)
    rng = np.random.default_rng(3)
    params = model.init_params(cfg, V, rng)
    # biases away from their zero start, so that a bias applied twice or not at all shows
    for name, p in params.items():
        if "bias" in name:
            p += rng.uniform(-0.5, 0.5, p.shape).astype(p.dtype)
    return cfg, params, rng


@pytest.mark.parametrize("cell,act", CELLS)
@pytest.mark.parametrize("layers", [1, 3])
@pytest.mark.parametrize("streams", [1, 4])
def test_stepper_matches_the_window_forward(cell, act, layers, streams):
    cfg, params, rng = random_model(cell, act, layers)
    T = 9
    x = rng.integers(0, 11, (streams, T))
    state = rng.uniform(-0.9, 0.9, model.zero_state(cfg, streams).shape).astype(np.float32)
    logits, final, _ = model.forward(params, cfg, x, state)  # (T*N, V), time-major
    step = Stepper(params, cfg, state)
    for t in range(T):
        np.testing.assert_allclose(step(x[:, t]), logits[t * streams : (t + 1) * streams], rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(step.state(), final, rtol=1e-5, atol=1e-6)


def test_stepper_leaves_the_starting_state_alone():
    cfg, params, rng = random_model("lstm", "tanh", 2)
    state = rng.uniform(-0.9, 0.9, model.zero_state(cfg, 2).shape).astype(np.float32)
    before = state.copy()
    step = Stepper(params, cfg, state)
    step(np.array([1, 2]))
    np.testing.assert_array_equal(state, before)
