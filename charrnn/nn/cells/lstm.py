"""LSTM, as torch.nn.LSTM, gates in PyTorch's order i, f, g, o:

    a       = W_ih x_t + b_ih + W_hh h_{t-1} + b_hh           (4H: a_i, a_f, a_g, a_o)
    i, f, o = sigmoid(a_i), sigmoid(a_f), sigmoid(a_o)
    g       = tanh(a_g)
    c_t     = f * c_{t-1} + i * g
    h_t     = o * tanh(c_t)

All four nonlinearities are one tanh over the whole gate row, since
sigmoid(a) = 0.5 tanh(0.5 a) + 0.5: the sigmoid blocks are scaled by 0.5 before the tanh (that
scale is folded into the input weights and W_hh, so it costs nothing per step) and mapped back
with * 0.5 + 0.5 after it.

This is the fast kernel; the plain equations it computes are reference.lstm_step_forward / lstm_step_backward.
"""

from __future__ import annotations

from functools import lru_cache
from typing import NamedTuple

import numpy as np

from charrnn.nn.blas import per_step
from charrnn.nn.cells import window
from charrnn.nn.cells.weights import Weights, recurrent
from charrnn.nn.workspace import empty


class LSTMCache(NamedTuple):
    gates: np.ndarray  # (T, B, 4H) activated i, f, g, o
    hs: np.ndarray  # (T+1, B, H) h_0 .. h_T
    cs: np.ndarray  # (T+1, B, H) c_0 .. c_T
    tanh_cs: np.ndarray  # (T, B, H) tanh(c_1) .. tanh(c_T)


def init_recurrent(rng: np.random.Generator, hidden: int, dtype: np.dtype) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """W_hh, b_ih and b_hh at the start of training: uniform(+-1/sqrt(H)), as torch.nn.LSTM.

    Measured against the orthogonal W_hh and forget-gate bias 1 the other cells start from
    (benchmarks/same_start.py; docs/training.md): from the same data, both of those learned more
    slowly, 0.1 bits/char behind at 1,000 steps and 0.15 at 2,000 (1 x 128, tinyshakespeare).
    """
    k = 1.0 / np.sqrt(hidden)
    W_hh = rng.uniform(-k, k, (4 * hidden, hidden))
    b_ih, b_hh = rng.uniform(-k, k, 4 * hidden), rng.uniform(-k, k, 4 * hidden)
    return W_hh.astype(dtype), b_ih.astype(dtype), b_hh.astype(dtype)


@lru_cache(maxsize=16)
def _gate_scale(H: int, dtype) -> np.ndarray:
    """0.5 for the sigmoid blocks, 1 for g: folded into the weights by prepare."""
    scale = np.full(4 * H, 0.5, dtype)
    scale[2 * H : 3 * H] = 1.0  # g is a true tanh
    scale.flags.writeable = False
    return scale


@lru_cache(maxsize=16)
def _gate_affine(shape: tuple[int, ...], dtype) -> tuple[np.ndarray, np.ndarray]:
    """(scale, shift) that map tanh back to the sigmoid blocks (0.5, 0.5; g: 1, 0), as whole
    arrays of the step's shape: NumPy multiplies two arrays of one shape several times faster
    than it broadcasts a row over them. Cached read-only, since every step uses them."""
    scale = np.broadcast_to(_gate_scale(shape[-1] // 4, dtype), shape).copy()
    shift = np.where(scale == 0.5, 0.5, 0.0).astype(dtype)
    scale.flags.writeable = shift.flags.writeable = False
    return scale, shift


def prepare(W_ih, W_hh, b_ih, b_hh) -> Weights:
    """Both biases folded into the input projection; sigmoid blocks pre-scaled by 0.5."""
    scale = _gate_scale(len(b_ih) // 4, W_ih.dtype)
    return Weights(W_ih.T * scale, (b_ih + b_hh) * scale, recurrent(W_hh, scale), None)


def step(a, rec, prev, new, w: Weights, scratch) -> None:
    """One time step, in place. a (N, 4H) is the input part of the pre-activation and becomes
    the activated gates; rec = h_{t-1} W_rec is added to it first.
    prev = (h, c) at t-1; writes new = (h, c) and scratch = (tanh(c_t), a spare (N, H))."""
    (_, c_prev), (h, c), (tanh_c, ig) = prev, new, scratch
    H = c.shape[-1]
    a += rec
    np.tanh(a, out=a)
    scale, shift = _gate_affine(a.shape, a.dtype)
    a *= scale
    a += shift
    # c_t = f * c_{t-1} + i * g ;  h_t = o * tanh(c_t)
    np.multiply(a[..., H : 2 * H], c_prev, out=c)
    np.multiply(a[..., :H], a[..., 2 * H : 3 * H], out=ig)
    c += ig
    np.tanh(c, out=tanh_c)
    np.multiply(a[..., 3 * H :], tanh_c, out=h)


def forward(xw, s0, w: Weights, ws=None, step=step):
    """xw (T, B, 4H) = x w.W_in + w.b_in -> hs (T, B, H), sT (2, B, H), cache. `step` is the time
    step's kernel (cells/fused.py passes its own)."""
    (hs, cs), (tanh_cs,), sT = window.run(xw, s0, w, ws, step, ("hs", "cs"), kept=("tanh_cs",), spare=("ig",))
    return hs[1:], sT, LSTMCache(xw, hs, cs, tanh_cs)


def backward(dhs, dsT, cache: LSTMCache, W_hh, ws=None):
    """dhs (T, B, H) -> da (T, B, 4H), ds0 (2, B, H), dW_hh (4H, H), db_hh (4H,).

    da is the gradient of the raw pre-activation a, so it is also d/d(x W_ih^T + b_ih).
    """
    A, hs, cs, tanh_cs = cache
    T, B, G = A.shape
    H = G // 4
    i, f, g, o = (A[..., k * H : (k + 1) * H] for k in range(4))
    # Everything that does not depend on the incoming gradient, for all T at once:
    #   da_i = dc * g i (1-i)    da_f = dc * c_{t-1} f (1-f)    da_g = dc * i (1-g^2)
    #   da_o = dh * tanh(c) o (1-o)                             dc  += dh * o (1 - tanh(c)^2)
    dA = empty(ws, "dA", A.shape, A.dtype)
    np.subtract(1, A, out=dA)
    dA *= A  # s (1 - s): right for i, f and o
    dg = dA[..., 2 * H : 3 * H]
    np.multiply(g, g, out=dg)
    np.subtract(1, dg, out=dg)
    dA[..., :H] *= g
    dA[..., H : 2 * H] *= cs[:-1]
    dg *= i
    dA[..., 3 * H :] *= tanh_cs
    dc_dh = empty(ws, "dc_dh", (T, B, H), A.dtype)
    np.multiply(tanh_cs, tanh_cs, out=dc_dh)
    np.subtract(1, dc_dh, out=dc_dh)
    dc_dh *= o
    dh, multiply = per_step(W_hh, B, ws, "dh")  # dh = da_t W_hh, (B, H)
    dh[...], dc = dsT[0], dsT[1].copy()
    tmp = empty(ws, "tmp", (B, H), A.dtype)
    for t in reversed(range(T)):
        dh_t = dhs[t]
        dh_t += dh
        np.multiply(dh_t, dc_dh[t], out=tmp)
        dc += tmp
        da = dA[t].reshape(B, 4, H)
        da[:, :3] *= dc[:, None]
        da[:, 3] *= dh_t
        dc *= f[t]
        multiply(dA[t])
    flat = dA.reshape(T * B, G)
    dW_hh = flat.T @ hs[:-1].reshape(T * B, H)
    return dA, np.stack([dh, dc]), dW_hh, flat.sum(axis=0)
