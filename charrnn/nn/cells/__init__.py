"""The recurrent cells, one module each, behind one small interface.

Read reference.py first: it states each cell's step forward and backward as plain equations,
one per line. The modules rnn.py, lstm.py and gru.py are the fast kernels that compute the same
numbers (tests/test_cells.py checks them against it): fused NumPy calls on reused buffers, a whole
window at a time, with the weights rearranged once per call of the model.

Every cell works on a whole window of T steps, time-major, with the input projection done
beforehand for all T at once by the model (one matrix product, or a row gather for one-hot
input), using the weights the cell asks for:

    prepare(W_ih, W_hh, b_ih, b_hh)        -> Weights: W_in, b_in, W_rec, b_rec
    forward(xw, s0, weights, ws)           -> hs (T, B, H), sT (S, B, H), cache
    backward(dhs, dsT, cache, W_hh, ws)    -> da (T, B, G*H), ds0 (S, B, H), dW_hh, db_hh
    step(a, rec, prev, new, weights, scratch)   one time step in place, as forward runs it

where xw = x W_in + b_in. `prepare` lets a cell fold biases and constant scales into its
weights once per call of the model (once per sample, not once per character). `da` is the
gradient of x W_ih^T + b_ih, from which the model gets dW_ih, db_ih and dx. S is the number of
state arrays (h, or h and c), G the number of gate blocks. `forward` may overwrite `xw` (the
LSTM and GRU use it as their gate buffer) and `backward` accumulates into `dhs`: both are
consumed. `ws` is an optional Workspace for the scratch arrays. `step` is forward's loop body,
shared with the one-character-at-a-time sampler (stepper.py): `a` is the input part of the
pre-activation, `rec` = h_{t-1} W_rec, `prev` and `new` are tuples of S (N, H) state arrays
(they may be the same arrays: a step reads each element before writing it) and `scratch` a
tuple of `scratch` (N, H) arrays. Each cell also says how its biases start (`init_biases`).
Weights and gate order are exactly PyTorch's nn.RNN / nn.LSTM / nn.GRU.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np

from charrnn.config import ModelConfig
from charrnn.nn.cells import gru, lstm, rnn


class Cell(NamedTuple):
    gates: int  # G: blocks of H rows in W_ih and W_hh
    states: int  # S: h only (1) or h and c (2)
    prepare: Callable
    forward: Callable
    backward: Callable
    step: Callable
    scratch: int  # (N, H) scratch arrays that step needs
    init_biases: Callable[[int, np.dtype], tuple[np.ndarray, np.ndarray]]


def zero_biases(gates: int) -> Callable[[int, np.dtype], tuple[np.ndarray, np.ndarray]]:
    def init(hidden: int, dtype: np.dtype) -> tuple[np.ndarray, np.ndarray]:
        return np.zeros(gates * hidden, dtype), np.zeros(gates * hidden, dtype)

    return init


CELLS = {
    "rnn_tanh": Cell(1, 1, rnn.prepare, rnn.forward_tanh, rnn.backward_tanh, rnn.step_tanh, 0, zero_biases(1)),
    "rnn_relu": Cell(1, 1, rnn.prepare, rnn.forward_relu, rnn.backward_relu, rnn.step_relu, 0, zero_biases(1)),
    "lstm": Cell(4, 2, lstm.prepare, lstm.forward, lstm.backward, lstm.step, 2, lstm.init_biases),
    "gru": Cell(3, 1, gru.prepare, gru.forward, gru.backward, gru.step, 2, zero_biases(3)),
}


def get(cfg: ModelConfig) -> Cell:
    return CELLS[f"rnn_{cfg.nonlinearity}" if cfg.cell == "rnn" else cfg.cell]
