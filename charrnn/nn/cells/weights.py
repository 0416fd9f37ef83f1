"""The weights of one layer in the form a cell computes with, prepared once per call of the model."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np


class Weights(NamedTuple):
    W_in: np.ndarray  # (In, G*H): xw = x W_in + b_in, for all T at once
    b_in: np.ndarray  # (G*H,) the biases that can be folded into the input projection
    W_rec: np.ndarray  # (H, G*H): the recurrent product is h_{t-1} W_rec
    b_rec: np.ndarray | None  # a bias that must stay inside the step (the GRU's b_hn), else None


def recurrent(W_hh: np.ndarray, scale: np.ndarray | float = 1.0) -> np.ndarray:
    """W_rec = (scale * W_hh)^T, (H, G*H), with the scale on W_hh's rows: a transposed view of a
    row-major product, so that making it copies nothing across the rows (a transposing copy of a
    2 x 256 LSTM's W_hh costs about 0.35 ms, several times the scaling). blas.per_step, which runs
    the product T times a window, takes either orientation and copies at most once, only where
    its BLAS runs the other one faster."""
    scaled = np.multiply(W_hh, np.reshape(scale, (-1, 1)) if np.ndim(scale) else scale)
    return scaled.T
