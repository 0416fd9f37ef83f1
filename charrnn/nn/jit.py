"""The fused element-wise kernels, compiled by numba (the `fast` extra): each one pass over memory.

A NumPy kernel (cells/lstm.py, gru.py, rnn.py, optim.py) does a time step's element-wise work in
several calls, each a pass over its arrays; here each step's work, or one parameter's Adam update,
is one compiled loop that reads every input once and writes every output once. The numbers are
the NumPy kernels' up to float32 rounding (tests/test_fused_kernels.py).

numba calls the C library's tanh one element at a time, which is 30 times slower than NumPy's
vectorised tanh, so `tanh` here is written out in plain arithmetic that the compiler vectorises:
tanh(x) = -(e - 1) / (e + 1) with e = exp(-2|x|) = 2^-k exp(r), k whole, |r| <= ln 2 / 2, exp(r) - 1
a Taylor polynomial, 2^-k a product of powers of two chosen by the bits of k. In float32 it is
within 2.5 units in the last place of the true value (NumPy's: 1.4); in float64 within 1e-15,
relatively, so the float64 gradient checks hold for these kernels too.

Every kernel is compiled on its first call and cached on disk (numba's cache=True: in __pycache__
beside this file, or under NUMBA_CACHE_DIR, or the user's cache folder); where none of them can be
written, it is compiled afresh in every process instead.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, types
from numba.core.errors import TypingError
from numba.extending import overload

# Constants as float32: numba keeps float32 arithmetic in float32 only if every operand is
# float32 (a Python float is a float64); in float64 kernels they widen exactly.
f32 = np.float32
ZERO, HALF, ONE, TWO = f32(0), f32(0.5), f32(1), f32(2)

# float32: tanh(x) rounds to 1 from 9.01; k ln2_hi is exact for every k < 32 (ln2_hi has few bits)
CLAMP32, LOG2E2_32, LN2_HI32 = f32(9.5), f32(2 / math.log(2)), f32(0.693145751953125)
LN2_LO32 = f32(math.log(2) - 0.693145751953125)
C2, C3, C4, C5, C6, C7 = (f32(1 / math.factorial(n)) for n in range(2, 8))
# float64: tanh(x) rounds to 1 from 19.1; fdlibm's split of ln 2
CLAMP64, LOG2E2_64, LN2_HI64, LN2_LO64 = 20.0, 2 / math.log(2), 6.93147180369123816490e-01, 1.90821492927058770002e-10
D2, D3, D4, D5, D6, D7, D8, D9, D10, D11, D12 = (1 / math.factorial(n) for n in range(2, 13))
H1, H2, H4, H8, H16, H32 = (f32(2.0**-n) for n in (1, 2, 4, 8, 16, 32))  # exact in both widths


def tanh(x):
    """tanh of one number, inside compiled code only."""
    raise NotImplementedError("jit.tanh runs inside numba-compiled code only")


def _two_to_minus(k, one):
    """2^-k for a whole 0 <= k < 64, as a product of the powers its bits select (no table, no
    bit casts: plain selects, which vectorise)."""
    n = np.int32(k)
    return (
        (H1 if n & 1 else one)
        * (H2 if n & 2 else one)
        * (H4 if n & 4 else one)
        * (H8 if n & 8 else one)
        * (H16 if n & 16 else one)
        * (H32 if n & 32 else one)
    )


def _tanh32(x):
    ax = abs(x)
    ax = CLAMP32 if ax > CLAMP32 else ax  # (min() would turn a NaN into the clamp: NaN must stay NaN)
    k = np.floor(ax * LOG2E2_32 + HALF)
    r = (k * LN2_HI32 - TWO * ax) + k * LN2_LO32  # -2|x| = -k ln 2 + r, |r| <= ln 2 / 2
    em1_r = r * (ONE + r * (C2 + r * (C3 + r * (C4 + r * (C5 + r * (C6 + r * C7))))))  # exp(r) - 1
    s = _two_to_minus(k, ONE)
    em1 = (s - ONE) + s * em1_r  # e - 1 = 2^-k (exp(r) - 1) + 2^-k - 1, no cancellation near x = 0
    return np.float32(math.copysign(-em1 / (TWO + em1), x))


def _tanh64(x):
    ax = abs(x)
    ax = CLAMP64 if ax > CLAMP64 else ax
    k = np.floor(ax * LOG2E2_64 + 0.5)
    r = (k * LN2_HI64 - 2.0 * ax) + k * LN2_LO64
    p = D8 + r * (D9 + r * (D10 + r * (D11 + r * D12)))
    em1_r = r * (1.0 + r * (D2 + r * (D3 + r * (D4 + r * (D5 + r * (D6 + r * (D7 + r * p)))))))
    s = _two_to_minus(k, 1.0)
    em1 = (s - 1.0) + s * em1_r
    return math.copysign(-em1 / (2.0 + em1), x)


_two_to_minus = njit(inline="always")(_two_to_minus)
_TANH32 = njit(inline="always", error_model="numpy")(_tanh32)
_TANH64 = njit(inline="always", error_model="numpy")(_tanh64)


@overload(tanh, jit_options={"error_model": "numpy"})
def _tanh_overload(x):
    if x == types.float32:
        return lambda x: _TANH32(x)
    if x == types.float64:
        return lambda x: _TANH64(x)
    raise TypingError(f"jit.tanh takes float32 or float64, not {x}")


OPTIONS = dict(error_model="numpy", fastmath={"contract"})


def _compiled(fn):
    """fn compiled on its first call, and cached on disk where numba finds a place it can write.
    error_model numpy: a division is not checked for zero (that check stops vectorising)."""
    try:
        return njit(cache=True, **OPTIONS)(fn)
    except RuntimeError:  # numba found no folder it can write: a read-only install
        return njit(**OPTIONS)(fn)


@_compiled
def sigmoid_of_half(a):
    """sigmoid(2 a) = 0.5 tanh(a) + 0.5: the sigmoid gates' weights are pre-scaled by 0.5."""
    return HALF * tanh(a) + HALF


# -- LSTM ------------------------------------------------------------------------------------


@_compiled
def lstm_step(a, c_prev, h, c, tanh_c):
    """One time step from the whole pre-activation a (B, 4H), activated in place; c_t, tanh(c_t)
    and h_t written. c may be c_prev (each element is read before it is written)."""
    B, H = c.shape
    for b in range(B):
        # one row's gate blocks as views: indices from range() need no wrap-around check, which
        # keeps the loop vectorised
        a_i, a_f, a_g, a_o = a[b, :H], a[b, H : 2 * H], a[b, 2 * H : 3 * H], a[b, 3 * H :]
        c_p, c_b, tc_b, h_b = c_prev[b], c[b], tanh_c[b], h[b]
        for j in range(H):
            i, f, g, o = sigmoid_of_half(a_i[j]), sigmoid_of_half(a_f[j]), tanh(a_g[j]), sigmoid_of_half(a_o[j])
            a_i[j], a_f[j], a_g[j], a_o[j] = i, f, g, o
            c_t = f * c_p[j] + i * g  # c_t = f * c_{t-1} + i * g
            tc = tanh(c_t)
            c_b[j], tc_b[j], h_b[j] = c_t, tc, o * tc  # h_t = o * tanh(c_t)


@_compiled
def lstm_step_back(dh, gates, c_prev, tanh_c, dc, da):
    """One step back from dh (B, H), the whole gradient at h_t; dc (B, H) carries the gradient
    at c_t in and leaves with the one at c_{t-1}; writes da (B, 4H), the gradient of the
    pre-activation."""
    B, H = dc.shape
    for b in range(B):
        i_, f_, g_, o_ = gates[b, :H], gates[b, H : 2 * H], gates[b, 2 * H : 3 * H], gates[b, 3 * H :]
        d_i, d_f, d_g, d_o = da[b, :H], da[b, H : 2 * H], da[b, 2 * H : 3 * H], da[b, 3 * H :]
        dh_b, c_p, tc_b, dc_b = dh[b], c_prev[b], tanh_c[b], dc[b]
        for j in range(H):
            i, f, g, o, tc = i_[j], f_[j], g_[j], o_[j], tc_b[j]
            d_c = dc_b[j] + dh_b[j] * o * (ONE - tc * tc)  # c_t reaches the loss directly and through h_t
            d_i[j] = d_c * g * i * (ONE - i)
            d_f[j] = d_c * c_p[j] * f * (ONE - f)
            d_g[j] = d_c * i * (ONE - g * g)
            d_o[j] = dh_b[j] * tc * o * (ONE - o)
            dc_b[j] = d_c * f


# -- GRU -------------------------------------------------------------------------------------


@_compiled
def gru_step(a, rec, b_hn, h_prev, h, hn):
    """One time step: a (B, 3H), the input part, activated in place into r, z, n, with
    rec = h_{t-1} W_rec (B, 3H); hn = W_hn h_{t-1} + b_hn and h_t written. h may be h_prev (each
    element is read before it is written)."""
    B, H = h.shape
    for b in range(B):
        a_r, a_z, a_n = a[b, :H], a[b, H : 2 * H], a[b, 2 * H :]
        r_r, r_z, r_n = rec[b, :H], rec[b, H : 2 * H], rec[b, 2 * H :]
        h_p, h_b, hn_b = h_prev[b], h[b], hn[b]
        for j in range(H):
            r = sigmoid_of_half(a_r[j] + r_r[j])
            z = sigmoid_of_half(a_z[j] + r_z[j])
            hn_t = r_n[j] + b_hn[j]
            n = tanh(a_n[j] + r * hn_t)
            a_r[j], a_z[j], a_n[j], hn_b[j] = r, z, n, hn_t
            h_b[j] = n + z * (h_p[j] - n)  # (1 - z) n + z h_{t-1}


@_compiled
def gru_step_back(dh, carry, gates, h_prev, hn, da, da_rec):
    """One step back: the gradient at h_t is dh (B, H) + carry, and carry leaves as z * that
    (h_{t-1}'s direct path); writes da (B, 3H), the gradient of the input part, and da_rec, that
    of W_hh h + b_hh."""
    B, H = carry.shape
    for b in range(B):
        r_, z_, n_ = gates[b, :H], gates[b, H : 2 * H], gates[b, 2 * H :]
        d_r, d_z, d_n = da[b, :H], da[b, H : 2 * H], da[b, 2 * H :]
        e_r, e_z, e_n = da_rec[b, :H], da_rec[b, H : 2 * H], da_rec[b, 2 * H :]
        dh_b, carry_b, h_p, hn_b = dh[b], carry[b], h_prev[b], hn[b]
        for j in range(H):
            d = dh_b[j] + carry_b[j]
            r, z, n = r_[j], z_[j], n_[j]
            da_n = d * (ONE - z) * (ONE - n * n)
            da_z = d * (h_p[j] - n) * z * (ONE - z)
            da_r = da_n * hn_b[j] * r * (ONE - r)
            d_r[j], d_z[j], d_n[j] = da_r, da_z, da_n
            e_r[j], e_z[j], e_n[j] = da_r, da_z, da_n * r
            carry_b[j] = d * z


# -- vanilla RNN -----------------------------------------------------------------------------


@_compiled
def rnn_step(h, relu):
    """h = act(h) in place, h (B, H) holding the pre-activation."""
    B, H = h.shape
    for b in range(B):
        h_b = h[b]
        for j in range(H):
            h_b[j] = (ZERO if h_b[j] < ZERO else h_b[j]) if relu else tanh(h_b[j])  # NaN stays NaN


@_compiled
def rnn_step_back(dh, h, da, relu):
    """da = dh * act'(the pre-activation), from h_t = act(it)."""
    B, H = h.shape
    for b in range(B):
        dh_b, h_b, da_b = dh[b], h[b], da[b]
        for j in range(H):
            da_b[j] = (dh_b[j] if h_b[j] > ZERO else ZERO) if relu else dh_b[j] * (ONE - h_b[j] * h_b[j])


# -- the one-hot layer's input weights ---------------------------------------------------------


@_compiled
def add_rows_at(out, ids, rows):
    """out[ids[r]] += rows[r] for every r, as np.add.at; an id outside out's rows counts as the
    nearest one, as the forward pass's gather (np.take, mode clip) reads it."""
    last = out.shape[0] - 1
    for r in range(rows.shape[0]):
        v = ids[r]
        v = 0 if v < 0 else (last if v > last else v)
        out_v, row = out[v], rows[r]
        for j in range(row.shape[0]):
            out_v[j] += row[j]


# -- Adam ------------------------------------------------------------------------------------


@_compiled
def adam(p, g, m, v, beta1, beta2, lr_hat, bias2, eps):
    """One Adam update of a flat parameter p, in place, as optim._adam in one pass: m, v the
    moments, lr_hat = lr / (1 - beta1^t), bias2 = 1 / (1 - beta2^t)."""
    one = beta1 / beta1
    for k in range(p.size):
        m_k = beta1 * m[k] + (one - beta1) * g[k]
        v_k = beta2 * v[k] + (one - beta2) * (g[k] * g[k])
        m[k], v[k] = m_k, v_k
        p[k] -= lr_hat * m_k / (np.sqrt(v_k * bias2) + eps)
