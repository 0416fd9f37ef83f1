"""The training loss of a model of either kind, under one name: model.py's for a model that
reads left to right, both_sides.py's (which builds on model.py) for one that reads both sides.
Both give loss_and_grads(params, cfg, x, y, state, rng, ws, rows, kernels) and
loss(params, cfg, x, y, state, kernels)."""

from __future__ import annotations

from types import ModuleType

from charrnn.config import ModelConfig
from charrnn.nn import both_sides, model


def of(cfg: ModelConfig) -> ModuleType:
    """The module whose loss_and_grads and loss train and validate a model of this kind."""
    return both_sides if cfg.bidirectional else model
