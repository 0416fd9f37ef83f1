"""The recurrent cells, one module each, behind one small interface.

Every cell works on a whole window of T steps, time-major, with the input projection already
done (`xw = x W_ih^T + b_ih`, one matrix product for all T, computed by the model):

    forward(xw, s0, W_hh, b_hh)        -> hs (T, B, H), sT (S, B, H), cache
    backward(dhs, dsT, cache, W_hh)    -> dxw (T, B, G*H), ds0 (S, B, H), dW_hh, db_hh

S is the number of state arrays (h, or h and c) and G the number of gate blocks. `forward`
reuses `xw` as its gate buffer and `backward` accumulates into `dhs`: both are consumed.
Weights and gate order are exactly PyTorch's nn.RNN / nn.LSTM / nn.GRU.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np

from charrnn.cells import gru, lstm, rnn
from charrnn.config import ModelConfig


class Cell(NamedTuple):
    gates: int  # G: blocks of H rows in W_ih and W_hh
    states: int  # S: h only (1) or h and c (2)
    forward: Callable
    backward: Callable
    init_biases: Callable[[int, np.dtype], tuple[np.ndarray, np.ndarray]]


def zero_biases(gates: int) -> Callable[[int, np.dtype], tuple[np.ndarray, np.ndarray]]:
    def init(hidden: int, dtype: np.dtype) -> tuple[np.ndarray, np.ndarray]:
        return np.zeros(gates * hidden, dtype), np.zeros(gates * hidden, dtype)

    return init


CELLS = {
    "rnn_tanh": Cell(1, 1, rnn.forward_tanh, rnn.backward_tanh, zero_biases(1)),
    "rnn_relu": Cell(1, 1, rnn.forward_relu, rnn.backward_relu, zero_biases(1)),
    "lstm": Cell(4, 2, lstm.forward, lstm.backward, lstm.init_biases),
    "gru": Cell(3, 1, gru.forward, gru.backward, zero_biases(3)),
}


def get(cfg: ModelConfig) -> Cell:
    return CELLS[f"rnn_{cfg.nonlinearity}" if cfg.cell == "rnn" else cfg.cell]
