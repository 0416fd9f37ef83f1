"""The fast cell kernels compute exactly what the plain equations of cells/reference.py compute.

The reference is itself checked against finite differences, so the chain is: equations on one
line each -> numerically right -> the fused kernels give the same numbers, forward and backward,
over several steps, in float64: both kinds of kernels, NumPy's and numba's fused ones (the
`kernels` fixture; tests/test_fused_kernels.py compares the two in float32).
"""

from __future__ import annotations

import numpy as np
import pytest

from charrnn.config import ModelConfig
from charrnn.nn import blas, cells
from charrnn.nn.cells import reference
from charrnn.nn.workspace import Workspace
from tests.conftest import CELL_KINDS
from tests.gradcheck import numerical_grad, rel_error

T, B, H = 5, 3, 4


def kind_of(cell: str, act: str) -> str:
    return f"rnn_{act}" if cell == "rnn" else cell


def random_window(cell: str, act: str, seed: int = 0, kernels: str = "numpy"):
    """A cell, its inputs u (T, B, G*H), a start state, W_hh, b_hh and the loss's projections."""
    c = cells.get(ModelConfig(cell=cell, nonlinearity=act, hidden_size=H, num_layers=1), kernels)
    G = c.gates * H
    rng = np.random.default_rng(seed)
    u = rng.standard_normal((T, B, G))
    s0 = rng.standard_normal((c.states, B, H)) * 0.5
    W_hh, b_hh = rng.standard_normal((G, H)) * 0.5, rng.standard_normal(G) * 0.1
    proj, projT = rng.standard_normal((T, B, H)), rng.standard_normal((c.states, B, H))
    return c, u, s0, W_hh, b_hh, proj, projT


@pytest.mark.parametrize("cell,act", CELL_KINDS)
def test_reference_gradients_are_numerically_right(cell, act):
    _, u, s0, W_hh, b_hh, proj, projT = random_window(cell, act)
    kind = kind_of(cell, act)

    def loss():
        hs, sT, _ = reference.window_forward(kind, u, tuple(s0), W_hh, b_hh)
        return float((proj * hs).sum() + (projT * np.stack(sT)).sum())

    _, _, caches = reference.window_forward(kind, u, tuple(s0), W_hh, b_hh)
    du, ds0, dW, db = reference.window_backward(kind, proj, tuple(projT), caches)
    for analytic, wrt in [(du, u), (np.stack(ds0), s0), (dW, W_hh), (db, b_hh)]:
        assert rel_error(analytic, numerical_grad(loss, wrt)) < 1e-7


@pytest.fixture(params=["row-major", "feature-major"])
def orientation(request, monkeypatch):
    """Both ways of running the per-step products (blas.per_step), whatever this machine's BLAS."""
    monkeypatch.setattr(blas, "feature_major", lambda rows, W: request.param == "feature-major")
    return request.param


@pytest.mark.parametrize("cell,act", CELL_KINDS)
@pytest.mark.parametrize("workspace", [False, True])
def test_fast_kernels_match_the_reference(cell, act, workspace, orientation, kernels):
    """Outputs, final state and every gradient, with the per-step products in either orientation;
    with a workspace, also on its second use; NumPy's kernels and numba's fused ones."""
    c, u, s0, W_hh, b_hh, proj, projT = random_window(cell, act, kernels=kernels)
    kind = kind_of(cell, act)
    G = u.shape[-1]
    hs_ref, sT_ref, caches = reference.window_forward(kind, u, tuple(s0), W_hh, b_hh)
    du_ref, ds0_ref, dW_ref, db_ref = reference.window_backward(kind, proj, tuple(projT), caches)
    ws = Workspace() if workspace else None
    for _ in range(2 if workspace else 1):
        w = c.prepare(np.eye(G), W_hh, np.zeros(G), b_hh)  # W_ih = I: the input projection is u
        hs, sT, cache = c.forward(u @ w.W_in + w.b_in, s0, w, ws)
        np.testing.assert_allclose(hs, hs_ref, rtol=1e-12, atol=1e-13)
        np.testing.assert_allclose(sT, np.stack(sT_ref), rtol=1e-12, atol=1e-13)
        du, ds0, dW, db = c.backward(proj.copy(), projT.copy(), cache, W_hh, ws)
        np.testing.assert_allclose(du, du_ref, rtol=1e-11, atol=1e-12)
        np.testing.assert_allclose(ds0, np.stack(ds0_ref), rtol=1e-11, atol=1e-12)
        np.testing.assert_allclose(dW, dW_ref, rtol=1e-11, atol=1e-12)
        np.testing.assert_allclose(db, db_ref, rtol=1e-11, atol=1e-12)


@pytest.mark.parametrize("cell,act", CELL_KINDS)
def test_the_one_step_kernel_is_the_reference_step(cell, act, kernels):
    """`step`, which the sampler runs one character at a time, is the reference's step forward."""
    c, u, s0, W_hh, b_hh, _, _ = random_window(cell, act, kernels=kernels)
    kind = kind_of(cell, act)
    G = u.shape[-1]
    w = c.prepare(np.eye(G), W_hh, np.zeros(G), b_hh)
    a = u[0] @ w.W_in + w.b_in
    rec = s0[0] @ w.W_rec
    new = tuple(np.empty((B, H)) for _ in range(c.states))
    scratch = tuple(np.empty((B, H)) for _ in range(c.scratch))
    c.step(a, rec, tuple(s0), new, w, scratch)
    expected, _ = reference.STEPS[kind][0](u[0], tuple(s0), W_hh, b_hh)
    for got, want in zip(new, expected, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-13)


def test_every_registered_cell_has_the_whole_contract():
    for name, cell in cells.CELLS.items():
        assert isinstance(cell, cells.Cell), name
        assert (cell.gates, cell.states) == {"lstm": (4, 2), "gru": (3, 1)}.get(name, (1, 1)), name
