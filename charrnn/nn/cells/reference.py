"""The cells as plain equations: one time step forward and backward, one line per equation.

Read this first. The fast kernels beside it (rnn.py, lstm.py, gru.py) compute exactly these
numbers, but fused into few NumPy calls that reuse buffers, over a whole window at a time, with
weights rearranged once beforehand. These functions are their test oracle (tests/test_cells.py
checks every output and gradient against them) and are checked numerically themselves.

Conventions (PyTorch's nn.RNN / nn.LSTM / nn.GRU, batch rows):
    u       (B, G*H)  the input part of the pre-activation, x W_ih^T + b_ih, done by the model
    h, c    (B, H)    the state at t-1
    W_hh    (G*H, H), b_hh (G*H,)   gate blocks in PyTorch's order
Each `*_step_forward` returns the new state and a cache; `*_step_backward` takes the gradients
arriving at the new state and the cache, and returns (du, the gradients of the old state,
dW_hh, db_hh). `window_forward` / `window_backward` run T steps of any of them.
"""

from __future__ import annotations

from functools import partial

import numpy as np


def sigmoid(a):
    return 1 / (1 + np.exp(-a))


def split(a, k):
    """The k gate blocks of a (B, k*H) row of pre-activations."""
    return np.split(a, k, axis=-1)


# -- vanilla RNN: h_t = act(u + W_hh h + b_hh) -------------------------------------------------


def rnn_step_forward(u, state, W_hh, b_hh, relu=False):
    (h,) = state
    a = u + h @ W_hh.T + b_hh
    h_new = np.maximum(a, 0) if relu else np.tanh(a)
    return (h_new,), (h, h_new, W_hh, relu)


def rnn_step_backward(dstate, cache):
    (dh_new,) = dstate
    h, h_new, W_hh, relu = cache
    da = dh_new * (h_new > 0) if relu else dh_new * (1 - h_new**2)  # through the nonlinearity
    dh = da @ W_hh  # through W_hh h
    return da, (dh,), da.T @ h, da.sum(axis=0)


# -- LSTM --------------------------------------------------------------------------------------


def lstm_step_forward(u, state, W_hh, b_hh):
    h, c = state
    a = u + h @ W_hh.T + b_hh
    a_i, a_f, a_g, a_o = split(a, 4)
    i, f, g, o = sigmoid(a_i), sigmoid(a_f), np.tanh(a_g), sigmoid(a_o)
    c_new = f * c + i * g
    h_new = o * np.tanh(c_new)
    return (h_new, c_new), (h, c, i, f, g, o, c_new, W_hh)


def lstm_step_backward(dstate, cache):
    dh_new, dc_new = dstate
    h, c, i, f, g, o, c_new, W_hh = cache
    tanh_c = np.tanh(c_new)
    do = dh_new * tanh_c  # h_new = o * tanh(c_new)
    dc = dc_new + dh_new * o * (1 - tanh_c**2)  # c_new reaches the loss directly and through h_new
    di, df, dg = dc * g, dc * c, dc * i  # c_new = f * c + i * g
    da = np.concatenate([di * i * (1 - i), df * f * (1 - f), dg * (1 - g**2), do * o * (1 - o)], axis=-1)
    dh = da @ W_hh
    dc_prev = dc * f
    return da, (dh, dc_prev), da.T @ h, da.sum(axis=0)


# -- GRU ---------------------------------------------------------------------------------------


def gru_step_forward(u, state, W_hh, b_hh):
    (h,) = state
    u_r, u_z, u_n = split(u, 3)
    hr, hz, hn = split(h @ W_hh.T + b_hh, 3)  # b_hn stays with W_hn h: r multiplies both
    r = sigmoid(u_r + hr)
    z = sigmoid(u_z + hz)
    n = np.tanh(u_n + r * hn)
    h_new = (1 - z) * n + z * h
    return (h_new,), (h, r, z, n, hn, W_hh)


def gru_step_backward(dstate, cache):
    (dh_new,) = dstate
    h, r, z, n, hn, W_hh = cache
    dn = dh_new * (1 - z)  # h_new = (1 - z) * n + z * h
    dz = dh_new * (h - n)
    da_n = dn * (1 - n**2)  # n = tanh(u_n + r * hn)
    dr = da_n * hn
    da_r, da_z = dr * r * (1 - r), dz * z * (1 - z)
    drec = np.concatenate([da_r, da_z, da_n * r], axis=-1)  # gradient of h W_hh^T + b_hh
    dh = dh_new * z + drec @ W_hh
    return np.concatenate([da_r, da_z, da_n], axis=-1), (dh,), drec.T @ h, drec.sum(axis=0)


STEPS = {
    "rnn_tanh": (rnn_step_forward, rnn_step_backward),
    "rnn_relu": (partial(rnn_step_forward, relu=True), rnn_step_backward),
    "lstm": (lstm_step_forward, lstm_step_backward),
    "gru": (gru_step_forward, gru_step_backward),
}


# -- a window of T steps -----------------------------------------------------------------------


def window_forward(kind, us, state, W_hh, b_hh):
    """us (T, B, G*H), state a tuple of (B, H) -> hs (T, B, H), the final state, the caches."""
    step_forward, _ = STEPS[kind]
    hs, caches = [], []
    for u in us:
        state, cache = step_forward(u, state, W_hh, b_hh)
        hs.append(state[0])
        caches.append(cache)
    return np.stack(hs), state, caches


def window_backward(kind, dhs, dstate, caches):
    """dhs (T, B, H) and the gradient of the final state -> dus (T, B, G*H), the gradient of the
    first state, dW_hh, db_hh."""
    _, step_backward = STEPS[kind]
    dus, dW_hh, db_hh = [], 0, 0
    for t in reversed(range(len(caches))):
        dstate = (dstate[0] + dhs[t], *dstate[1:])  # h_t goes to the output and to step t+1
        du, dstate, dW, db = step_backward(dstate, caches[t])
        dus.insert(0, du)
        dW_hh, db_hh = dW_hh + dW, db_hh + db
    return np.stack(dus), dstate, dW_hh, db_hh
