"""Optimizers against values worked out by hand, gradient clipping and the learning-rate schedule.

Every expected number below was computed from the published update rules (PyTorch's defaults:
Adam betas 0.9/0.999, eps 1e-8; RMSprop alpha 0.99, eps 1e-8; Adagrad eps 1e-10; SGD with
m = momentum * m + g), written out step by step in the comments, not from charrnn's code.
Two steps each, so that the optimizer state carried between steps matters too.
"""

from __future__ import annotations

import numpy as np
import pytest

from charrnn.config import TrainConfig
from charrnn.nn import optim

P0 = [1.0, -2.0]
G1 = [0.5, -0.25]
G2 = [-0.1, 0.4]

EXPECTED = {
    # Adam, lr 0.1.
    # t=1: m = 0.1 g1, v = 0.001 g1^2, m_hat = g1, v_hat = g1^2 -> p -= 0.1 * g1 / (|g1| + 1e-8)
    # t=2: m = 0.9 m + 0.1 g2 = [0.035, 0.0175]; v = 0.999 v + 0.001 g2^2 = [0.00025975, 0.0002224375]
    #      m_hat = m / (1 - 0.9^2) = m / 0.19; v_hat = v / (1 - 0.999^2) = v / 0.001999
    #      p -= 0.1 * m_hat / (sqrt(v_hat) + 1e-8) = [0.0511026063, 0.0276112984]
    "adam": (0.1, [0.900000002, -1.900000004], [0.8488973956993234, -1.9276113023756476]),
    # RMSprop, lr 0.01.
    # t=1: v = 0.01 g1^2 = [0.0025, 0.000625], sqrt = [0.05, 0.025] -> p -= 0.01 * g1 / (sqrt(v) + 1e-8)
    #      (about 0.01 * [10, -10]; eps is 2e-7 of sqrt(v) here, so it shows)
    # t=2: v = 0.99 v + 0.01 g2^2 = [0.002575, 0.00221875] -> p -= 0.01 * g2 / (sqrt(v) + 1e-8)
    "rmsprop": (0.01, [0.90000002, -1.90000004], [0.9197066016797875, -1.984919204761303]),
    # Adagrad, lr 0.1.
    # t=1: v = g1^2 -> p -= 0.1 * g1 / (|g1| + 1e-10), about 0.1 * sign(g1)
    # t=2: v = g1^2 + g2^2 = [0.26, 0.2225] -> p -= 0.1 * g2 / (sqrt(v) + 1e-10)
    "adagrad": (0.1, [0.90000000002, -1.90000000004], [0.9196116135299722, -1.9847998304225312]),
    # SGD, lr 0.1, momentum 0.9.
    # t=1: m = g1 -> p -= 0.1 g1 = [0.95, -1.975]
    # t=2: m = 0.9 g1 + g2 = [0.35, 0.175] -> p -= 0.1 m = [0.915, -1.9925]
    "sgd": (0.1, [0.95, -1.975], [0.915, -1.9925]),
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_two_steps_match_hand_computation(name):
    lr, after1, after2 = EXPECTED[name]
    params = {"w": np.array(P0)}
    state = optim.init_state(name, params)
    optim.step(name, params, {"w": np.array(G1)}, state, lr, momentum=0.9)
    np.testing.assert_allclose(params["w"], after1, rtol=0, atol=1e-12)
    optim.step(name, params, {"w": np.array(G2)}, state, lr, momentum=0.9)
    np.testing.assert_allclose(params["w"], after2, rtol=0, atol=1e-12)
    assert int(state["t"]) == 2


def test_updates_are_in_place_and_per_parameter():
    """Each parameter has its own state: a second parameter does not disturb the first."""
    a = {"w": np.array(P0)}
    b = {"w": np.array(P0), "u": np.array([[3.0]])}
    sa, sb = optim.init_state("adam", a), optim.init_state("adam", b)
    w = b["w"]
    for g in (G1, G2):
        optim.step("adam", a, {"w": np.array(g)}, sa, 0.1)
        optim.step("adam", b, {"w": np.array(g), "u": np.array([[-7.0]])}, sb, 0.1)
    assert b["w"] is w  # updated in place
    np.testing.assert_array_equal(b["w"], a["w"])
    np.testing.assert_allclose(b["u"], [[3.0 + 0.2]], atol=1e-7)  # constant gradient: Adam moves lr per step


@pytest.mark.parametrize("name,slots", [("adam", {"m", "v"}), ("rmsprop", {"v"}), ("adagrad", {"v"}), ("sgd", {"m"})])
def test_state_mirrors_the_parameters(name, slots):
    params = {"rnn.weight_hh_l0": np.ones((4, 2), np.float32), "decoder.bias": np.ones(3, np.float32)}
    state = optim.init_state(name, params)
    expected = {f"{s}.{k}" for s in slots for k in params} | {"t"}
    assert set(state) == expected
    for key, value in state.items():
        if key != "t":
            name_ = key.split(".", 1)[1]
            assert value.shape == params[name_].shape and value.dtype == np.float32
            assert not value.any()


def test_clip_grad_norm_scales_to_the_max_norm():
    grads = {"a": np.array([3.0, 0.0]), "b": np.array([[0.0], [4.0]])}  # global norm 5
    norm = optim.clip_grad_norm(grads, 1.0)
    assert norm == pytest.approx(5.0)
    total = np.sqrt(sum((g**2).sum() for g in grads.values()))
    assert total == pytest.approx(1.0, abs=1e-5)
    np.testing.assert_allclose(grads["a"], [0.6, 0.0], atol=1e-6)  # direction kept: (3, 4) / 5
    np.testing.assert_allclose(grads["b"], [[0.0], [0.8]], atol=1e-6)


@pytest.mark.parametrize("max_norm", [5.0, 10.0, 0.0])
def test_clip_grad_norm_leaves_small_gradients_alone(max_norm):
    """At or under the limit, or with clipping off (0), the gradients are untouched."""
    grads = {"a": np.array([3.0, 0.0]), "b": np.array([[0.0], [4.0]])}
    assert optim.clip_grad_norm(grads, max_norm) == pytest.approx(5.0)
    np.testing.assert_array_equal(grads["a"], [3.0, 0.0])
    np.testing.assert_array_equal(grads["b"], [[0.0], [4.0]])


def test_clip_grad_norm_reports_non_finite_norms():
    assert np.isnan(optim.clip_grad_norm({"a": np.array([np.nan, 1.0])}, 1.0))
    assert optim.clip_grad_norm({"a": np.array([np.inf, 1.0])}, 0.0) == np.inf


def test_learning_rate_step_decay():
    cfg = TrainConfig(lr=0.1, lr_decay=0.5, lr_decay_every=10)
    assert [optim.learning_rate(cfg, s) for s in (0, 9, 10, 19, 20, 35)] == pytest.approx(
        [0.1, 0.1, 0.05, 0.05, 0.025, 0.0125]
    )
    assert optim.learning_rate(TrainConfig(lr=0.3, lr_decay=1.0, lr_decay_every=1), 1000) == 0.3
