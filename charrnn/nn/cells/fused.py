"""The cells with each time step's element-wise work fused into one compiled pass (charrnn/nn/jit.py).

They keep the NumPy cells' prepare, buffers and window loop (window.py) and change
only what runs inside a step: forward, the NumPy cells' own forward loop with a fused `step`;
backward, one fused pass per step where the NumPy kernels make several over the whole window.
The per-step matrix products stay NumPy's (BLAS), in the orientation blas.per_step chooses; a
product written transposed is added to its row-major neighbour by NumPy first, since a compiled
loop reading it across its rows loses more than the fusion wins.
"""

from __future__ import annotations

from functools import partial

import numpy as np

from charrnn.nn import jit
from charrnn.nn.blas import per_step
from charrnn.nn.cells import gru, lstm, rnn
from charrnn.nn.cells.gru import GRUCache
from charrnn.nn.cells.lstm import LSTMCache
from charrnn.nn.workspace import empty

# -- LSTM ------------------------------------------------------------------------------------


def lstm_step(a, rec, prev, new, w, scratch) -> None:
    """lstm.step's contract: a (N, 4H) += rec, activated in place; new = (h, c); scratch[0] = tanh(c)."""
    (_, c_prev), (h, c), (tanh_c, _) = prev, new, scratch
    a += rec
    jit.lstm_step(a, c_prev, h, c, tanh_c)


def lstm_backward(dhs, dsT, cache: LSTMCache, W_hh, ws=None):
    """lstm.backward's contract, one fused pass per step."""
    A, hs, cs, tanh_cs = cache
    T, B, G = A.shape
    dA = empty(ws, "dA", A.shape, A.dtype)
    dh, multiply = per_step(W_hh, B, ws, "dh")  # dh = da_t W_hh, (B, H)
    dh[...], dc = dsT[0], dsT[1].copy()
    for t in reversed(range(T)):
        dh_t = dhs[t]
        dh_t += dh
        jit.lstm_step_back(dh_t, A[t], cs[t], tanh_cs[t], dc, dA[t])
        multiply(dA[t])
    flat = dA.reshape(T * B, G)
    return dA, np.stack([dh, dc]), flat.T @ hs[:-1].reshape(T * B, -1), flat.sum(axis=0)


# -- GRU -------------------------------------------------------------------------------------


def gru_step(a, rec, prev, new, w, scratch) -> None:
    """gru.step's contract: a (N, 3H) activated in place into r, z, n; new = (h,); scratch[0] = hn."""
    (h_prev,), (h,), (hn, _) = prev, new, scratch
    jit.gru_step(a, np.ascontiguousarray(rec), w.b_rec, h_prev, h, hn)


def gru_backward(dhs, dsT, cache: GRUCache, W_hh, ws=None):
    """gru.backward's contract, one fused pass per step."""
    A, hs, hn = cache
    T, B, G = A.shape
    dA, dAh = empty(ws, "dA", A.shape, A.dtype), empty(ws, "dAh", A.shape, A.dtype)
    dh, multiply = per_step(W_hh, B, ws, "dh")  # (gradient of W_hh h + b_hh) W_hh
    dh[...] = dsT[0]
    carry = np.zeros_like(dsT[0])  # z * the gradient at h_t: h_{t-1}'s direct path
    for t in reversed(range(T)):
        dh_t = dhs[t]
        dh_t += dh
        jit.gru_step_back(dh_t, carry, A[t], hs[t], hn[t], dA[t], dAh[t])
        multiply(dAh[t])
    ds0 = dh + carry
    flat = dAh.reshape(T * B, G)
    return dA, ds0[None], flat.T @ hs[:-1].reshape(T * B, -1), flat.sum(axis=0)


# -- vanilla RNN -----------------------------------------------------------------------------


def rnn_step(a, rec, prev, new, w, scratch, relu: bool = False) -> None:
    """rnn.step's contract: h_t = act(a + rec)."""
    (h,) = new
    np.add(a, rec, out=h)
    jit.rnn_step(h, relu)


def rnn_backward(dhs, dsT, cache, W_hh, ws=None, relu: bool = False):
    """rnn.backward's contract, one fused pass per step."""
    hs = cache.hs
    T = len(hs) - 1
    da = empty(ws, "da", hs[1:].shape, hs.dtype)
    dh, multiply = per_step(W_hh, len(dsT[0]), ws, "dh")
    dh[...] = dsT[0]
    for t in reversed(range(T)):
        dh_t = dhs[t]
        dh_t += dh
        jit.rnn_step_back(dh_t, hs[t + 1], da[t], relu)
        multiply(da[t])
    flat = da.reshape(-1, da.shape[-1])
    return da, dh[None], flat.T @ hs[:-1].reshape(flat.shape), flat.sum(axis=0)


def _rnn(relu: bool) -> dict:
    return dict(
        forward=partial(rnn.forward, relu=relu, step=rnn_step),
        backward=partial(rnn_backward, relu=relu),
        step=partial(rnn_step, relu=relu),
    )


# what each cell of cells.CELLS runs instead of its NumPy functions
KERNELS = {
    "rnn_tanh": _rnn(relu=False),
    "rnn_relu": _rnn(relu=True),
    "lstm": dict(forward=partial(lstm.forward, step=lstm_step), backward=lstm_backward, step=lstm_step),
    "gru": dict(forward=partial(gru.forward, step=gru_step), backward=gru_backward, step=gru_step),
}
