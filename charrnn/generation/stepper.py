"""The model run forward one character at a time, as sampling does.

model.forward is built for windows of many steps; called for a single character its fixed costs
(allocating, caching for the backward pass) outweigh the arithmetic. A Stepper prepares the
weights and every buffer once, so that a character costs little more than its matrix products,
which at config B (2 x 256 LSTM) read 3 MB of weights per character and set the pace.

Each layer does one product per character: as soon as its new state h_t is known, h_t is
multiplied by every matrix that reads it, stacked side by side, with a 1 after h_t for the bias:

    [h_t | 1] @ [ W_in of the layer above (or the decoder)   W_rec of this layer ]
                [ its bias                                    0                   ]
      = [ the layer above's input at t | this layer's h_t W_rec, for step t+1 ]

Fewer, larger products than one per matrix: less overhead, and OpenBLAS splits a large
matrix-vector product across cores where it runs a small one on one. For a single stream the
products are matrix times vector with the stack in PyTorch's (out, in) order, the form BLAS does
fastest; for N streams, (N, in) @ (in, out).

OpenBLAS (NumPy's BLAS as shipped) shares a matrix-vector product between threads only from
OPENBLAS_SHARED_GEMV elements on. A stack a little smaller than that (at config B, the top
layer's [decoder | W_hh]) would run on one core, whose cache then cannot hold its share of the
weights; padding it with zeros up to the threshold makes every core share it: more bytes, but
each core's share fits in its cache. Where BLAS has one thread the padding only costs, so it is
left out. benchmarks/README.md has the measurements behind both choices.

The numbers are model.forward's, step for step: the cells' own `step` does the arithmetic.
"""

from __future__ import annotations

from typing import Literal, NamedTuple

import numpy as np

from charrnn.config import ModelConfig
from charrnn.nn import blas, cells, model
from charrnn.nn.cells.weights import Weights
from charrnn.nn.model import Params

# OpenBLAS runs a matrix-vector product on one thread below 2304 * GEMM_MULTITHREAD_THRESHOLD
# elements (its interface/gemv.c), 2304 * 200 in NumPy's wheels.
OPENBLAS_SHARED_GEMV = 2304 * 200


def blas_shared_size() -> int | None:
    """The size from which BLAS shares a matrix-vector product between threads, if it is
    OpenBLAS running more than one thread (now: a limit set while the process runs counts);
    None otherwise."""
    lib = blas.openblas()
    return OPENBLAS_SHARED_GEMV if lib is not None and (lib.get("num_threads") or 1) > 1 else None


def stack_width(rows: int, cols: int, streams: int, shared: int | None) -> int:
    """Columns to give a (rows, cols) stack: cols, or more (zeros) to reach the shared size
    when it has at least half of it (beyond that, padding would cost more than it saves)."""
    if streams > 1:  # N streams: a matrix product, which BLAS shares whatever its size
        return cols
    if shared is None or not shared / 2 <= rows * cols < shared:
        return cols
    return -(-shared // rows)


class _Layer(NamedTuple):
    a: np.ndarray  # its input part of the pre-activation, (N, G): written by the product below
    rec: np.ndarray  # h_{t-1} W_rec, (N, G): written by its own product at the step before
    weights: Weights
    states: tuple  # h (a view into the product's input) and, for an LSTM, c; updated in place
    scratch: tuple
    product: tuple  # np.matmul's arguments: [h_t | 1] @ stack -> [input above | next rec]


class Stepper:
    def __init__(
        self, params: Params, cfg: ModelConfig, state: np.ndarray, shared_size: int | None | Literal["blas"] = "blas"
    ):
        """state (L, S, N, H) is the state to start from, as model.forward takes it. shared_size:
        the size from which a matrix-vector product runs on several threads (None: never), which
        one stream's stacks are padded to reach; "blas" asks the running library (blas_shared_size)."""
        model.check_left_to_right(cfg, "write text")
        shared = blas_shared_size() if shared_size == "blas" else shared_size
        self.cell = cell = cells.get(cfg)
        L, S, N, H = state.shape
        dt = state.dtype
        weights = model.prepare(params, cfg)
        G = weights[0].W_rec.shape[1]
        self.table = np.ascontiguousarray(weights[0].W_in)  # (V, G): layer 0's input is a row of it
        self.table_row = np.empty((N, G), dt)
        # what each layer's h_t feeds: the next layer's input projection, the decoder at the top
        above = [(w.W_in, w.b_in) for w in weights[1:]] + [(params["decoder.weight"].T, params["decoder.bias"])]
        row = (lambda u: u[0]) if N == 1 else (lambda u: u)  # one stream: 1-D rows, a little cheaper
        self.layers = []
        a = self.table_row
        for layer, w in enumerate(weights):
            W_up, b_up = above[layer]
            up = W_up.shape[1]
            stacked = np.zeros((H + 1, stack_width(H + 1, up + G, N, shared)), dt)  # [h_t | 1] @ stacked
            stacked[:H, :up], stacked[H, :up], stacked[:H, up : up + G] = W_up, b_up, w.W_rec
            h1 = np.ones((N, H + 1), dt)  # [h_t | 1]
            h1[:, :H] = state[layer, 0]
            # [input of the layer above at t | h_t W_rec for t+1 | padding, if any]
            out = np.empty((N, stacked.shape[1]), dt)
            product = (np.ascontiguousarray(stacked.T), h1[0], out[0]) if N == 1 else (h1, stacked, out)
            # h_t is updated in place: a cell's step reads each element before writing it
            states = tuple(map(row, (h1[:, :H], *(np.array(state[layer, s]) for s in range(1, S)))))
            scratch = tuple(row(np.empty((N, H), dt)) for _ in range(cell.scratch))
            self.layers.append(_Layer(row(a), row(out[:, up : up + G]), w, states, scratch, product))
            np.matmul(*product[:2], out=product[2])  # the first step's h W_rec, from the given state
            a = out[:, :up]
        self.logits = a

    def __call__(self, x: np.ndarray) -> np.ndarray:
        """x (N,) ids -> logits (N, V) for the next character. The array is reused: read it
        before the next call."""
        np.take(self.table, x, axis=0, out=self.table_row)
        step = self.cell.step
        for a, rec, w, states, scratch, (lhs, rhs, out) in self.layers:
            step(a, rec, states, states, w, scratch)
            np.matmul(lhs, rhs, out=out)
        return self.logits

    def reorder(self, parents: np.ndarray) -> None:
        """Stream i continues from stream parents[i]: every buffer that carries over to the next
        character (h_t, an LSTM's c_t and the product holding h_t W_rec) is gathered by parent, as
        beam search needs when it keeps the best continuations of its hypotheses."""
        if len(self.logits) == 1:
            return  # 1-D rows: the one stream is its own parent
        for layer in self.layers:
            lhs, _, out = layer.product
            lhs[...] = lhs[parents]  # holds h_t
            out[...] = out[parents]  # holds h_t W_rec (and the layer above's input, rewritten first)
            for c in layer.states[1:]:
                c[...] = c[parents]

    def state(self) -> np.ndarray:
        """The current state, (L, S, N, H)."""
        N = len(self.logits)
        return np.stack([np.stack(layer.states).reshape(-1, N, layer.states[0].shape[-1]) for layer in self.layers])
