"""The recurrent cells, one module each, behind one small interface.

Read reference.py first: it states each cell's step forward and backward as plain equations,
one per line. The modules rnn.py, lstm.py and gru.py are the fast kernels that compute the same
numbers (tests/test_cells.py checks them against it): fused NumPy calls on reused buffers, a whole
window at a time, with the weights rearranged once per call of the model.

Every cell works on a whole window of T steps, time-major, with the input projection done
beforehand for all T at once by the model (one matrix product, or a row gather for one-hot
input), using the weights the cell asks for. The contract is the Protocol `Cell` below; S is the
number of state arrays (h, or h and c), G*H the width of the gate blocks. Weights and gate
order are exactly PyTorch's nn.RNN / nn.LSTM / nn.GRU.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache, partial
from typing import Any, NamedTuple, Protocol, runtime_checkable

import numpy as np

from charrnn.config import ModelConfig
from charrnn.nn.cells import gru, lstm, rnn
from charrnn.nn.cells.weights import Weights
from charrnn.nn.workspace import Workspace

Array = np.ndarray


@runtime_checkable
class Cell(Protocol):
    gates: int  # G: blocks of H rows in W_ih and W_hh
    states: int  # S: h only (1) or h and c (2)
    scratch: int  # (N, H) scratch arrays that step needs

    def prepare(self, W_ih: Array, W_hh: Array, b_ih: Array, b_hh: Array) -> Weights:
        """The weights in the form the cell computes with, once per call of the model: biases
        and constant scales folded in (once per sample, not once per character)."""

    def forward(self, xw: Array, s0: Array, weights: Weights, ws: Workspace | None = None) -> tuple[Array, Array, Any]:
        """xw (T, B, G*H) = x W_in + b_in, s0 (S, B, H) -> hs (T, B, H), sT (S, B, H), cache.
        May overwrite xw (the LSTM and GRU use it as their gate buffer)."""

    def backward(
        self, dhs: Array, dsT: Array, cache: Any, W_hh: Array, ws: Workspace | None = None
    ) -> tuple[Array, Array, Array, Array]:
        """-> da (T, B, G*H), ds0 (S, B, H), dW_hh, db_hh. da is the gradient of x W_ih^T + b_ih,
        from which the model gets dW_ih, db_ih and dx. Accumulates into dhs (consumed)."""

    def step(self, a: Array, rec: Array, prev: tuple, new: tuple, weights: Weights, scratch: tuple) -> None:
        """One time step in place, forward's loop body, shared with the one-character sampler
        (stepper.py): a is the input part of the pre-activation, rec = h_{t-1} W_rec, prev and new
        are tuples of S (N, H) state arrays (they may be the same arrays: a step reads each element
        before writing it), scratch a tuple of `scratch` (N, H) arrays."""

    def init_recurrent(self, rng: np.random.Generator, hidden: int, dtype: np.dtype) -> tuple[Array, Array, Array]:
        """W_hh, b_ih and b_hh at the start of training."""


class Kernels(NamedTuple):
    """A Cell made of a module's functions."""

    gates: int
    states: int
    scratch: int
    prepare: Callable
    forward: Callable
    backward: Callable
    step: Callable
    init_recurrent: Callable


def _orthogonal(rng: np.random.Generator, n: int) -> np.ndarray:
    q, r = np.linalg.qr(rng.standard_normal((n, n)))
    return q * np.sign(np.diag(r))  # the sign fix makes q uniformly distributed


def orthogonal_zero_biases(gates: int) -> Callable[[np.random.Generator, int, np.dtype], tuple[Array, Array, Array]]:
    """An orthogonal W_hh per gate block (Saxe et al. 2014) and biases 0: all the block's singular
    values are 1, so at the start a gradient sent back through the recurrence neither shrinks nor
    grows from the matrix itself, which for the RNN decides vanishing and exploding gradients."""

    def init(rng: np.random.Generator, hidden: int, dtype: np.dtype) -> tuple[Array, Array, Array]:
        W_hh = np.concatenate([_orthogonal(rng, hidden) for _ in range(gates)]).astype(dtype)
        return W_hh, np.zeros(gates * hidden, dtype), np.zeros(gates * hidden, dtype)

    return init


def _kernels_of(module, **shape) -> Cell:
    """A module's prepare, forward, backward and step, with its sizes and initial recurrent weights."""
    kernels = {name: getattr(module, name) for name in ("prepare", "forward", "backward", "step")}
    return Kernels(**shape, **kernels)


def _rnn(relu: bool) -> Cell:
    act = {name: partial(getattr(rnn, name), relu=relu) for name in ("forward", "backward", "step")}
    return Kernels(gates=1, states=1, scratch=0, prepare=rnn.prepare, init_recurrent=orthogonal_zero_biases(1), **act)


CELLS: dict[str, Cell] = {
    "rnn_tanh": _rnn(relu=False),
    "rnn_relu": _rnn(relu=True),
    "lstm": _kernels_of(lstm, gates=4, states=2, scratch=2, init_recurrent=lstm.init_recurrent),
    "gru": _kernels_of(gru, gates=3, states=1, scratch=2, init_recurrent=orthogonal_zero_biases(3)),
}


def get(cfg: ModelConfig, kernels: str = "numpy") -> Cell:
    """The cell of cfg, with NumPy's element-wise kernels or numba's fused ones (nn/kernels.py)."""
    name = f"rnn_{cfg.nonlinearity}" if cfg.cell == "rnn" else cfg.cell
    return _fused(name) if kernels == "numba" else CELLS[name]


@cache
def _fused(name: str) -> Cell:
    from charrnn.nn.cells import fused  # imports numba: only when it is used

    return CELLS[name]._replace(**fused.KERNELS[name])
