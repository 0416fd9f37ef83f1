"""GRU, as torch.nn.GRU, gates in PyTorch's order r, z, n:

    r   = sigmoid(W_ir x + b_ir + W_hr h_{t-1} + b_hr)
    z   = sigmoid(W_iz x + b_iz + W_hz h_{t-1} + b_hz)
    n   = tanh(W_in x + b_in + r * (W_hn h_{t-1} + b_hn))
    h_t = (1 - z) * n + z * h_{t-1}  =  n + z * (h_{t-1} - n)

The reset gate multiplies W_hn h + b_hn, so b_hn stays inside the step while b_hr and b_hz are
folded into the input projection. As in the LSTM, sigmoid(a) = 0.5 tanh(0.5 a) + 0.5, with the
0.5 before the tanh folded into the weights of r and z.

This is the fast kernel; the plain equations it computes are reference.gru_step_forward / gru_step_backward.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from charrnn.nn.blas import per_step
from charrnn.nn.cells import window
from charrnn.nn.cells.weights import Weights, recurrent
from charrnn.nn.workspace import empty


class GRUCache(NamedTuple):
    gates: np.ndarray  # (T, B, 3H) activated r, z, n
    hs: np.ndarray  # (T+1, B, H) h_0 .. h_T
    hn: np.ndarray  # (T, B, H) W_hn h_{t-1} + b_hn


def _gate_scale(H: int, dtype) -> np.ndarray:
    scale = np.full(3 * H, 0.5, dtype)
    scale[2 * H :] = 1.0  # n is a true tanh
    return scale


def prepare(W_ih, W_hh, b_ih, b_hh) -> Weights:
    """b_hr, b_hz folded into the input projection, r and z pre-scaled by 0.5; b_hn kept apart."""
    H = len(b_ih) // 3
    bias = b_ih.copy()
    bias[: 2 * H] += b_hh[: 2 * H]
    scale = _gate_scale(H, W_ih.dtype)
    return Weights(W_ih.T * scale, bias * scale, recurrent(W_hh, scale), b_hh[2 * H :])


def step(a, rec, prev, new, w: Weights, scratch) -> None:
    """One time step, in place. a (N, 3H) is the input part of the pre-activation and becomes
    the activated gates; rec = h_{t-1} W_rec (N, 3H) is needed apart, as r multiplies its n
    block. prev = (h,) at t-1; writes new = (h,) and scratch = (W_hn h_{t-1} + b_hn, a spare)."""
    (h_prev,), (h,), (hn, rhn) = prev, new, scratch
    H = h.shape[-1]
    rz, n = a[..., : 2 * H], a[..., 2 * H :]
    rz += rec[..., : 2 * H]
    np.tanh(rz, out=rz)
    rz *= 0.5
    rz += 0.5
    np.add(rec[..., 2 * H :], w.b_rec, out=hn)
    np.multiply(rz[..., :H], hn, out=rhn)
    n += rhn
    np.tanh(n, out=n)
    np.subtract(h_prev, n, out=h)  # h may be h_prev itself: each element is read before written
    h *= rz[..., H:]
    h += n


def forward(xw, s0, w: Weights, ws=None, step=step):
    """xw (T, B, 3H) = x w.W_in + w.b_in -> hs (T, B, H), sT (1, B, H), cache. `step` is the time
    step's kernel (cells/fused.py passes its own); W_rec's r and z columns are pre-scaled."""
    (hs,), (hn,), sT = window.run(xw, s0, w, ws, step, kept=("hn",), spare=("rhn",))
    return hs[1:], sT, GRUCache(xw, hs, hn)


def backward(dhs, dsT, cache: GRUCache, W_hh, ws=None):
    """dhs (T, B, H) -> da (T, B, 3H), ds0 (1, B, H), dW_hh (3H, H), db_hh (3H,).

    da is the gradient of x W_ih^T + b_ih, the input part of the pre-activations.
    """
    A, hs, hn = cache
    T, B, G = A.shape
    H = G // 3
    dt = A.dtype
    r, z, n = (A[..., k * H : (k + 1) * H] for k in range(3))
    # Factors that do not depend on the incoming gradient, for all T at once:
    #   da_n = dh * (1-z)(1-n^2)    da_z = dh * (h_{t-1} - n) z (1-z)    da_r = da_n * hn r (1-r)
    dan_dh, daz_dh, dar_dan = (empty(ws, name, (T, B, H), dt) for name in ("dan_dh", "daz_dh", "dar_dan"))
    np.multiply(n, n, out=dan_dh)
    np.subtract(1, dan_dh, out=dan_dh)
    np.subtract(1, z, out=daz_dh)  # (1 - z), used twice before daz_dh is itself
    dan_dh *= daz_dh
    daz_dh *= z
    np.subtract(1, r, out=dar_dan)
    dar_dan *= r
    dar_dan *= hn
    h_minus_n = empty(ws, "h_minus_n", (T, B, H), dt)
    np.subtract(hs[:-1], n, out=h_minus_n)
    daz_dh *= h_minus_n
    dAh = empty(ws, "dAh", A.shape, dt)  # gradient of W_hh h + b_hh: (da_r, da_z, da_n * r)
    dA = empty(ws, "dA", A.shape, dt)  # gradient of the input part: (da_r, da_z, da_n)
    dh, multiply = per_step(W_hh, B, ws, "dh")  # dh = (gradient of W_hh h + b_hh) W_hh
    dh[...] = dsT[0]
    for t in reversed(range(T)):
        dh_t = dhs[t]
        dh_t += dh
        ah, an = dAh[t], dA[t, :, 2 * H :]
        np.multiply(dh_t, dan_dh[t], out=an)
        np.multiply(dh_t, daz_dh[t], out=ah[:, H : 2 * H])
        np.multiply(an, dar_dan[t], out=ah[:, :H])
        np.multiply(an, r[t], out=ah[:, 2 * H :])
        multiply(ah)
        dh_t *= z[t]
        dh += dh_t
    dA[..., : 2 * H] = dAh[..., : 2 * H]
    flat = dAh.reshape(T * B, G)
    dW_hh = flat.T @ hs[:-1].reshape(T * B, H)
    return dA, dh[None], dW_hh, flat.sum(axis=0)
