"""Numerical gradient checks (float64, central differences) for every cell, layer count and input.

The loss is a fixed random projection of the outputs, so every output and time step matters.
"""

import numpy as np
import pytest

from charrnn.config import ModelConfig
from charrnn.nn import cells, model
from charrnn.nn.functional import cross_entropy
from charrnn.nn.workspace import Workspace
from tests.conftest import CELL_KINDS
from tests.gradcheck import numerical_grad, rel_error

TOL = 1e-6


@pytest.mark.parametrize("kind,act", CELL_KINDS)
def test_cell_window_gradients(kind, act):
    """One cell over T=4 steps: d/d its input, W_hh, b_hh, the carried-in state and the final state.

    The input is a (T, B, G) array `u` standing for x W_ih^T + b_ih; the cell's own
    prepare (with W_ih the identity) turn it into what forward expects.
    """
    rng = np.random.default_rng(1)
    cfg = ModelConfig(cell=kind, nonlinearity=act, hidden_size=5, num_layers=1, dropout=0.0)
    cell = cells.get(cfg)
    T, B, H = 4, 2, 5
    G = cell.gates * H
    u = rng.standard_normal((T, B, G))
    s0 = rng.standard_normal((cell.states, B, H)) * 0.5
    W = rng.standard_normal((G, H)) * 0.5
    b = rng.standard_normal(G) * 0.1
    proj = rng.standard_normal((T, B, H))  # loss = sum(proj * hs) + sum(projT * sT)
    projT = rng.standard_normal((cell.states, B, H))

    def run():
        w = cell.prepare(np.eye(G), W, np.zeros(G), b)
        return cell.forward(u @ w.W_in + w.b_in, s0, w)

    def f():
        hs, sT, _ = run()
        return float((proj * hs).sum() + (projT * sT).sum())

    _, _, cache = run()
    du, ds0, dW, db = cell.backward(proj.copy(), projT.copy(), cache, W)
    for analytic, wrt in [(du, u), (ds0, s0), (dW, W), (db, b)]:
        assert rel_error(analytic, numerical_grad(f, wrt)) < TOL


@pytest.mark.parametrize("kind,act", CELL_KINDS)
@pytest.mark.parametrize("layers", [1, 3])
def test_model_loss_gradients(kind, act, layers):
    """Full model: every parameter and the carried-in state, through the decoder and softmax."""
    rng = np.random.default_rng(2)
    cfg = ModelConfig(cell=kind, nonlinearity=act, hidden_size=4, num_layers=layers, dropout=0.0)
    V, B, T = 6, 2, 3
    params = model.init_params(cfg, V, rng, dtype=np.float64)
    for p in params.values():  # move off the special init so every term is exercised
        p += rng.standard_normal(p.shape) * 0.1
    state = rng.standard_normal(model.zero_state(cfg, B, np.float64).shape) * 0.5
    x = rng.integers(0, V, (B, T))
    y = rng.integers(0, V, (B, T))

    def f():
        return model.loss(params, cfg, x, y, state)[0]

    logits, _, cache = model.forward(params, cfg, x, state)
    _, dlogits = cross_entropy(logits, y.T.ravel())
    grads, dstate = model.backward(params, cfg, dlogits, cache)
    for name, p in params.items():
        assert rel_error(grads[name], numerical_grad(f, p)) < TOL, name
    assert rel_error(dstate, numerical_grad(f, state)) < TOL


def test_dropout_gradients_with_fixed_mask():
    """Dropout between layers: with the mask held fixed, the gradient is still exact."""
    cfg = ModelConfig(cell="lstm", hidden_size=4, num_layers=2, dropout=0.5)
    V, B = 5, 2
    params = model.init_params(cfg, V, np.random.default_rng(3), dtype=np.float64)
    state = model.zero_state(cfg, B, np.float64)
    x = np.array([[0, 1, 2], [3, 4, 0]])
    y = np.array([[1, 2, 3], [4, 0, 1]])

    def f():
        logits, _, _ = model.forward(params, cfg, x, state, np.random.default_rng(7))
        return cross_entropy(logits, y.T.ravel())[0]

    logits, _, cache = model.forward(params, cfg, x, state, np.random.default_rng(7))
    assert any(m is not None and (m == 0).any() for m in cache.masks)
    _, dlogits = cross_entropy(logits, y.T.ravel())
    grads, _ = model.backward(params, cfg, dlogits, cache)
    for name, p in params.items():
        assert rel_error(grads[name], numerical_grad(f, p)) < TOL, name


def test_cross_entropy_gradient_and_value():
    rng = np.random.default_rng(4)
    logits = rng.standard_normal((5, 7)) * 3
    targets = rng.integers(0, 7, 5)
    loss, dlogits = cross_entropy(logits.copy(), targets)
    p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    assert loss == pytest.approx(-np.log(p[np.arange(5), targets]).mean(), rel=1e-12)
    assert rel_error(dlogits, numerical_grad(lambda: cross_entropy(logits, targets)[0], logits)) < TOL


@pytest.mark.parametrize("kind,act", CELL_KINDS)
def test_training_path_gradients(kind, act):
    """loss_and_grads, the training path (a workspace reuses its arrays from call to call),
    gives the numerically checked gradients, and still does on the second call."""
    rng = np.random.default_rng(5)
    cfg = ModelConfig(cell=kind, nonlinearity=act, hidden_size=4, num_layers=2, dropout=0.0)
    V, B, T = 6, 2, 3
    params = model.init_params(cfg, V, rng, dtype=np.float64)
    state = rng.standard_normal(model.zero_state(cfg, B, np.float64).shape) * 0.5
    x, y = rng.integers(0, V, (B, T)), rng.integers(0, V, (B, T))
    ws = Workspace()
    for _ in range(2):  # the second call reuses the workspace's arrays
        _, grads, _ = model.loss_and_grads(params, cfg, x, y, state, ws=ws)
        for name, p in params.items():
            numeric = numerical_grad(lambda: model.loss(params, cfg, x, y, state)[0], p)
            assert rel_error(grads[name], numeric) < TOL, name
