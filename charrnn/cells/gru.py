"""GRU, as torch.nn.GRU, gates in PyTorch's order r, z, n:

    r   = sigmoid(W_ir x + b_ir + W_hr h_{t-1} + b_hr)
    z   = sigmoid(W_iz x + b_iz + W_hz h_{t-1} + b_hz)
    n   = tanh(W_in x + b_in + r * (W_hn h_{t-1} + b_hn))
    h_t = (1 - z) * n + z * h_{t-1}  =  n + z * (h_{t-1} - n)

The reset gate multiplies W_hn h + b_hn, so b_hn cannot be folded into xw as the others are.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from charrnn.functional import sigmoid_


class GRUCache(NamedTuple):
    gates: np.ndarray  # (T, B, 3H) activated r, z, n
    hs: np.ndarray  # (T+1, B, H) h_0 .. h_T
    hn: np.ndarray  # (T, B, H) W_hn h_{t-1} + b_hn


def forward(xw, s0, W_hh, b_hh):
    """xw (T, B, 3H) -> hs (T, B, H), sT (1, B, H), cache."""
    T, B, G = xw.shape
    H = G // 3
    A = xw
    A[..., : 2 * H] += b_hh[: 2 * H]
    Wt, b_hn = W_hh.T, b_hh[2 * H :]
    hs = np.empty((T + 1, B, H), xw.dtype)
    hn = np.empty((T, B, H), xw.dtype)
    hs[0] = s0[0]
    rec = np.empty((B, G), xw.dtype)
    rhn = np.empty((B, H), xw.dtype)
    for t in range(T):
        a, h = A[t], hs[t + 1]
        np.matmul(hs[t], Wt, out=rec)
        rz, n = a[:, : 2 * H], a[:, 2 * H :]
        rz += rec[:, : 2 * H]
        sigmoid_(rz)
        np.add(rec[:, 2 * H :], b_hn, out=hn[t])
        np.multiply(rz[:, :H], hn[t], out=rhn)
        n += rhn
        np.tanh(n, out=n)
        np.subtract(hs[t], n, out=h)
        h *= rz[:, H:]
        h += n
    return hs[1:], hs[T][None].copy(), GRUCache(A, hs, hn)


def backward(dhs, dsT, cache: GRUCache, W_hh):
    """dhs (T, B, H) -> dxw (T, B, 3H), ds0 (1, B, H), dW_hh (3H, H), db_hh (3H,)."""
    A, hs, hn = cache
    T, B, G = A.shape
    H = G // 3
    r, z, n = (A[..., k * H : (k + 1) * H] for k in range(3))
    # Factors that do not depend on the incoming gradient, for all T at once:
    dan_dh = (1 - z) * (1 - n * n)  # d a_n / d h_t   (a_n: n's pre-activation)
    daz_dh = (hs[:-1] - n) * z * (1 - z)  # d a_z / d h_t
    dar_dan = hn * r * (1 - r)  # d a_r / d a_n
    dAh = np.empty_like(A)  # gradient of W_hh h + b_hh: (da_r, da_z, da_n * r)
    dan = np.empty((T, B, H), A.dtype)
    dh = dsT[0].copy()
    for t in reversed(range(T)):
        dh_t = dhs[t]
        dh_t += dh
        ah = dAh[t]
        np.multiply(dh_t, dan_dh[t], out=dan[t])
        np.multiply(dh_t, daz_dh[t], out=ah[:, H : 2 * H])
        np.multiply(dan[t], dar_dan[t], out=ah[:, :H])
        np.multiply(dan[t], r[t], out=ah[:, 2 * H :])
        np.matmul(ah, W_hh, out=dh)
        dh_t *= z[t]
        dh += dh_t
    dA = np.concatenate([dAh[..., : 2 * H], dan], axis=-1)
    flat = dAh.reshape(T * B, G)
    dW_hh = flat.T @ hs[:-1].reshape(T * B, H)
    return dA, dh[None], dW_hh, flat.sum(axis=0)
