"""The one-character stepper that sampling runs must compute exactly what model.forward computes."""

from __future__ import annotations

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from charrnn.config import ModelConfig
from charrnn.generation import stepper
from charrnn.generation.stepper import Stepper
from charrnn.nn import blas, model
from tests.conftest import CELL_KINDS


def random_model(cell: str, act: str, layers: int, V: int = 11, H: int = 8):
    cfg = ModelConfig(cell=cell, nonlinearity=act, hidden_size=H, num_layers=layers, dropout=0.0)
    rng = np.random.default_rng(3)
    params = model.init_params(cfg, V, rng)
    # biases away from their zero start, so that a bias applied twice or not at all shows
    for name, p in params.items():
        if "bias" in name:
            p += rng.uniform(-0.5, 0.5, p.shape).astype(p.dtype)
    return cfg, params, rng


@pytest.mark.parametrize("cell,act", CELL_KINDS)
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


@pytest.mark.parametrize("cell,act", CELL_KINDS)
def test_stacks_padded_for_blas_threads_give_the_same_numbers(cell, act):
    cfg, params, rng = random_model(cell, act, 2)
    x = rng.integers(0, 11, (1, 6))
    state = rng.uniform(-0.9, 0.9, model.zero_state(cfg, 1).shape).astype(np.float32)
    logits, final, _ = model.forward(params, cfg, x, state)
    G = params["rnn.weight_hh_l0"].shape[0]
    # the top stack, [h | 1] (9) by decoder and W_hh (11 + G), just under the shared size
    step = Stepper(params, cfg, state, shared_size=9 * (11 + G + 5))
    assert step.layers[-1][-1][0].shape == (11 + G + 5, 9)  # padded
    for t in range(6):
        np.testing.assert_allclose(step(x[:, t]), logits[t : t + 1], rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(step.state(), final, rtol=1e-5, atol=1e-6)


def test_stack_width_pads_only_stacks_near_the_shared_size():
    assert stepper.stack_width(10, 40, 1, 1000) == 40  # under half: padding would cost too much
    assert stepper.stack_width(10, 50, 1, 1000) == 100  # half: padded to the shared size
    assert stepper.stack_width(7, 99, 1, 1000) == 143  # 7 x 143 = 1001, the first width at or past it
    assert stepper.stack_width(10, 100, 1, 1000) == 100  # already shared
    assert stepper.stack_width(10, 60, 4, 1000) == 60  # several streams: a matrix product, never padded
    assert stepper.stack_width(10, 50, 1, None) == 50  # BLAS shares no product: nothing to reach


def test_no_padding_when_blas_has_one_thread():
    """The thread count is the running library's, read through threadpoolctl, so a limit set
    while the process runs counts too."""
    with threadpool_limits(1):
        assert stepper.blas_shared_size() is None
    if blas.openblas() is not None:
        with threadpool_limits(2):
            assert stepper.blas_shared_size() == stepper.OPENBLAS_SHARED_GEMV
