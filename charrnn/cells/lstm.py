"""LSTM, as torch.nn.LSTM, gates in PyTorch's order i, f, g, o:

    i, f, o = sigmoid(a_i), sigmoid(a_f), sigmoid(a_o)      a = W_ih x_t + b_ih + W_hh h_{t-1} + b_hh
    g       = tanh(a_g)
    c_t     = f * c_{t-1} + i * g
    h_t     = o * tanh(c_t)

All four nonlinearities are one tanh over the whole gate row: sigmoid(a) = 0.5 tanh(0.5 a) + 0.5,
so scaling the sigmoid blocks by 0.5 before and after (and shifting them by 0.5) turns one tanh
into all four. The scale before is folded into xw (for all T at once) and into W_hh.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np


class LSTMCache(NamedTuple):
    gates: np.ndarray  # (T, B, 4H) activated i, f, g, o
    hs: np.ndarray  # (T+1, B, H) h_0 .. h_T
    cs: np.ndarray  # (T+1, B, H) c_0 .. c_T
    tanh_cs: np.ndarray  # (T, B, H) tanh(c_1) .. tanh(c_T)


def init_biases(hidden: int, dtype: np.dtype) -> tuple[np.ndarray, np.ndarray]:
    """Forget-gate bias 1 (Gers et al. 2000; Jozefowicz et al. 2015): remember by default."""
    b_ih = np.zeros(4 * hidden, dtype)
    b_ih[hidden : 2 * hidden] = 1.0
    return b_ih, np.zeros(4 * hidden, dtype)


def _gate_scale(H: int, dtype) -> np.ndarray:
    scale = np.full(4 * H, 0.5, dtype)
    scale[2 * H : 3 * H] = 1.0  # g is a true tanh
    return scale


def forward(xw, s0, W_hh, b_hh):
    """xw (T, B, 4H) -> hs (T, B, H), sT (2, B, H), cache."""
    T, B, G = xw.shape
    H = G // 4
    scale = _gate_scale(H, xw.dtype)
    shift = np.where(scale == 0.5, 0.5, 0.0).astype(xw.dtype)  # 0.5 for sigmoid gates, 0 for g
    A = xw
    A += b_hh
    A *= scale
    W = W_hh.T * scale  # (H, 4H), contiguous
    hs = np.empty((T + 1, B, H), xw.dtype)
    cs = np.empty((T + 1, B, H), xw.dtype)
    tanh_cs = np.empty((T, B, H), xw.dtype)
    hs[0], cs[0] = s0
    rec = np.empty((B, G), xw.dtype)
    ig = np.empty((B, H), xw.dtype)
    for t in range(T):
        a = A[t]
        np.matmul(hs[t], W, out=rec)
        a += rec
        np.tanh(a, out=a)
        a *= scale
        a += shift
        # c_t = f * c_{t-1} + i * g ;  h_t = o * tanh(c_t)
        np.multiply(a[:, H : 2 * H], cs[t], out=cs[t + 1])
        np.multiply(a[:, :H], a[:, 2 * H : 3 * H], out=ig)
        cs[t + 1] += ig
        np.tanh(cs[t + 1], out=tanh_cs[t])
        np.multiply(a[:, 3 * H :], tanh_cs[t], out=hs[t + 1])
    sT = np.stack([hs[T], cs[T]])
    return hs[1:], sT, LSTMCache(A, hs, cs, tanh_cs)


def backward(dhs, dsT, cache: LSTMCache, W_hh):
    """dhs (T, B, H) -> dxw (T, B, 4H), ds0 (2, B, H), dW_hh (4H, H), db_hh (4H,)."""
    A, hs, cs, tanh_cs = cache
    T, B, G = A.shape
    H = G // 4
    i, f, g, o = (A[..., k * H : (k + 1) * H] for k in range(4))
    # Everything that does not depend on the incoming gradient, for all T at once:
    # da_{i,f,g} = dc * K_{i,f,g} and da_o = dh * K_o, and dc gains dh * o (1 - tanh(c)^2).
    dA = np.empty_like(A)
    np.multiply(g, i * (1 - i), out=dA[..., :H])
    np.multiply(cs[:-1], f * (1 - f), out=dA[..., H : 2 * H])
    np.multiply(i, 1 - g * g, out=dA[..., 2 * H : 3 * H])
    np.multiply(tanh_cs, o * (1 - o), out=dA[..., 3 * H :])
    dc_dh = o * (1 - tanh_cs * tanh_cs)
    dh, dc = dsT[0].copy(), dsT[1].copy()
    tmp = np.empty((B, H), A.dtype)
    for t in reversed(range(T)):
        dh_t = dhs[t]
        dh_t += dh
        np.multiply(dh_t, dc_dh[t], out=tmp)
        dc += tmp
        da = dA[t].reshape(B, 4, H)
        da[:, :3] *= dc[:, None]
        da[:, 3] *= dh_t
        dc *= f[t]
        np.matmul(dA[t], W_hh, out=dh)
    flat = dA.reshape(T * B, G)
    dW_hh = flat.T @ hs[:-1].reshape(T * B, H)
    return dA, np.stack([dh, dc]), dW_hh, flat.sum(axis=0)
