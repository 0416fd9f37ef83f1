"""Validation: the mean loss on the held-out text, and the check that training has not blown up."""

from __future__ import annotations

import numpy as np

from charrnn.config import ModelConfig, TrainConfig
from charrnn.data.batching import Streams
from charrnn.errors import TrainingDiverged
from charrnn.nn import losses, model
from charrnn.nn.model import Params

DIVERGED = 10.0  # a loss this many times that of uniform guessing means training has blown up


def mean_loss(
    params: Params, cfg: ModelConfig, val_ids: np.ndarray, batch_size: int, seq_len: int, comm, kernels: str = "numpy"
) -> float:
    """Mean loss in nats per character over `val_ids`, in windows of at most `batch_size` streams
    with the state carried; each worker of `comm` validates its own streams and the sums are shared.
    `kernels` as in model.forward."""
    B = min(batch_size, len(val_ids) - 1)
    val = Streams(val_ids, B, seq_len)
    rows = comm.rows(B)
    n = rows.stop - rows.start
    total = 0.0
    if n:
        state = model.zero_state(cfg, n)
        for k in range(val.n_windows):
            loss, state = losses.of(cfg).loss(params, cfg, *val.window(k, rows), state, kernels)
            total += loss
    total *= n / B  # this worker's share of the batch's mean
    if comm.distributed:
        total = float(comm.sum_(np.array([total]))[0])
    return total / val.n_windows


def check_diverged(which: str, loss: float, step: int, vocab_size: int, cfg: TrainConfig) -> None:
    """Raise TrainingDiverged for a NaN loss or one far worse than guessing.

    Saturating cells (LSTM, GRU) stay finite when they blow up, so NaN alone is not enough;
    and an update can break the weights after its own loss was computed, which only the
    validation that follows shows: both losses are checked, before anything is saved.
    """
    untrained = float(np.log(vocab_size))
    if not loss <= DIVERGED * untrained:  # also true for NaN
        raise TrainingDiverged(which, loss, step, untrained, {"lr": cfg.lr, "grad_clip": cfg.grad_clip})
