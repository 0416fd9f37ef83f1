"""Vanilla RNN, as torch.nn.RNN:  h_t = act(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh),  act = tanh or relu.

The fast kernel of reference.rnn_step_forward / rnn_step_backward (the plain equations).
"""

from __future__ import annotations

from functools import partial
from typing import NamedTuple

import numpy as np

from charrnn.nn.blas import per_step
from charrnn.nn.cells import window
from charrnn.nn.cells.weights import Weights, recurrent
from charrnn.nn.workspace import empty


class RNNCache(NamedTuple):
    hs: np.ndarray  # (T+1, B, H): h_0 .. h_T


def prepare(W_ih, W_hh, b_ih, b_hh) -> Weights:
    """Both biases folded into the input projection."""
    return Weights(W_ih.T, b_ih + b_hh, recurrent(W_hh), None)


def step(a, rec, prev, new, w: Weights, scratch, relu: bool = False) -> None:
    """One time step: h_t = act(a + rec), with rec = h_{t-1} W_rec."""
    (h,) = new
    np.add(a, rec, out=h)
    if relu:
        np.maximum(h, 0, out=h)
    else:
        np.tanh(h, out=h)


def forward(xw, s0, w: Weights, ws=None, relu: bool = False, step=step):
    """xw (T, B, H) = x w.W_in + w.b_in -> hs (T, B, H), sT (1, B, H), cache. `step` is the time
    step's kernel (cells/fused.py passes its own)."""
    (hs,), _, sT = window.run(xw, s0, w, ws, partial(step, relu=relu))
    return hs[1:], sT, RNNCache(hs)


def backward(dhs, dsT, cache: RNNCache, W_hh, ws=None, relu: bool = False):
    """dhs (T, B, H) -> da (T, B, H), ds0 (1, B, H), dW_hh (H, H), db_hh (H,)."""
    hs = cache.hs
    T = len(hs) - 1
    # d h_t / d a_t depends on h_t alone, so it is computed for all T at once
    da = empty(ws, "da", hs[1:].shape, hs.dtype)
    if relu:
        np.greater(hs[1:], 0, out=da)
    else:
        np.multiply(hs[1:], hs[1:], out=da)
        np.subtract(1, da, out=da)
    dh, multiply = per_step(W_hh, len(dsT[0]), ws, "dh")
    dh[...] = dsT[0]
    for t in reversed(range(T)):
        dh += dhs[t]
        da[t] *= dh
        multiply(da[t])
    flat = da.reshape(-1, da.shape[-1])
    dW_hh = flat.T @ hs[:-1].reshape(flat.shape)
    return da, dh[None], dW_hh, flat.sum(axis=0)
