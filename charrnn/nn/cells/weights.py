"""The weights of one layer in the form a cell computes with, prepared once per call of the model."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np


class Weights(NamedTuple):
    W_in: np.ndarray  # (In, G*H): xw = x W_in + b_in, for all T at once
    b_in: np.ndarray  # (G*H,) the biases that can be folded into the input projection
    W_rec: np.ndarray  # (H, G*H): the recurrent product is h_{t-1} W_rec
    b_rec: np.ndarray | None  # a bias that must stay inside the step (the GRU's b_hn), else None


def row_major(W_t: np.ndarray, scale: np.ndarray | float = 1.0) -> np.ndarray:
    """A transposed weight matrix (times a scale) copied to row-major order.

    The per-step product h_{t-1} W_rec runs T times a window; BLAS does it about a third faster
    with W_rec row-major than with a transposed view, far more than the copy costs.
    """
    return np.multiply(W_t, scale, out=np.empty(W_t.shape, W_t.dtype))
