"""The model run forward one character at a time, as sampling does.

model.forward is built for windows of many steps; called for a single character its fixed costs
(allocating, caching for the backward pass) outweigh the arithmetic. A Stepper prepares the
weights and every buffer once, so that a character costs little more than its matrix-vector
products, which at config B (2 x 256 LSTM) read 3 MB of weights per character and set the pace:

- the hidden states of all layers sit side by side in one array, [h_0 | h_1 | ...], updated in
  place, so that layer l >= 1 of a `summed` cell (RNN, LSTM) reads [h_{l-1} | h_l] as one slice
  and does its input and recurrent products as one, with [W_in ; W_rec] stacked: fewer, larger
  products, which OpenBLAS splits across cores where it would run small ones on one;
- for a single stream the products are matrix times vector with each weight in PyTorch's
  (out, in) order, the form BLAS does fastest; for N streams, (N, in) @ (in, out).

The numbers are model.forward's, step for step (the cells' own `step` does the arithmetic).
"""

from __future__ import annotations

import numpy as np

from charrnn import cells, model
from charrnn.config import ModelConfig
from charrnn.model import Params


class Stepper:
    def __init__(self, params: Params, cfg: ModelConfig, state: np.ndarray):
        """state (L, S, N, H) is the state to start from, as model.forward takes it."""
        self.cell = cell = cells.get(cfg)
        L, S, N, H = state.shape
        dt = state.dtype
        self.hidden = np.ascontiguousarray(state[:, 0].transpose(1, 0, 2).reshape(N, L * H))
        weights = model.prepare(params, cfg)
        self.table = np.ascontiguousarray(weights[0].W_in)  # (V, G): layer 0 input is a row lookup
        one = N == 1  # one stream: the step works on 1-D rows, a little cheaper than (1, X)
        row = (lambda u: u[0]) if one else (lambda u: u)
        self.layers = []
        for layer, w in enumerate(weights):
            h = self.hidden[:, layer * H : (layer + 1) * H]
            # h_l is updated in place: a cell's step reads each element before writing it
            states = tuple(map(row, (h, *(np.array(state[layer, s]) for s in range(1, S)))))
            a = np.empty((N, w.W_rec.shape[1]), dt)
            rec = None
            if layer == 0:
                rec = np.empty_like(a)
                products = [self._product(h, w.W_rec, rec)]
                self.table_out = a  # (N, G), as np.take writes it
            elif cell.summed:
                both = self.hidden[:, (layer - 1) * H : (layer + 1) * H]  # [h_{l-1} | h_l]
                products = [self._product(both, np.concatenate([w.W_in, w.W_rec]), a)]
            else:
                rec = np.empty_like(a)
                below = self.hidden[:, (layer - 1) * H : layer * H]
                products = [self._product(below, w.W_in, a), self._product(h, w.W_rec, rec)]
            scratch = tuple(row(np.empty((N, H), dt)) for _ in range(cell.scratch))
            self.layers.append((products, row(a), None if rec is None else row(rec), w, states, scratch))
        self.logits = np.empty((N, params["decoder.bias"].shape[0]), dt)
        top = self.hidden[:, (L - 1) * H :]
        self.decoder = self._product(top, params["decoder.weight"].T, self.logits)
        self.decoder_bias = params["decoder.bias"]

    @staticmethod
    def _product(u: np.ndarray, W: np.ndarray, out: np.ndarray) -> tuple:
        """Arguments for np.matmul that put u (N, In) @ W (In, Out) into out (N, Out)."""
        if len(u) == 1:
            return np.ascontiguousarray(W.T), u[0], out[0]
        return u, np.ascontiguousarray(W), out

    def __call__(self, x: np.ndarray) -> np.ndarray:
        """x (N,) ids -> logits (N, V) for the next character. The array is reused: read it
        before the next call."""
        step = self.cell.step
        for layer, (products, a, rec, w, states, scratch) in enumerate(self.layers):
            for lhs, rhs, out in products:
                np.matmul(lhs, rhs, out=out)
            if layer == 0:
                np.take(self.table, x, axis=0, out=self.table_out)
            else:
                a += w.b_in
            step(a, rec, states, states, w, scratch)
        np.matmul(*self.decoder[:2], out=self.decoder[2])
        self.logits += self.decoder_bias
        return self.logits

    def state(self) -> np.ndarray:
        """The current state, (L, S, N, H)."""
        N = len(self.logits)
        return np.stack([np.stack(states).reshape(-1, N, states[0].shape[-1]) for *_, states, _ in self.layers])
