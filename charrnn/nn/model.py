"""The language model: one-hot characters -> stacked recurrent layers -> linear decoder -> softmax.

Parameters are a flat dict under PyTorch's state-dict names for `rnn = nn.LSTM(V, H, L)` (or
GRU, RNN) plus `decoder = nn.Linear(H, V)`, with PyTorch's shapes, so the arrays load into
PyTorch as they are. Gradients use the same keys and shapes.

Arrays are time-major inside: x (B, T) from the data becomes ids (T, B), and a window's hidden
states are (T, B, H), so each time step is one contiguous (B, H) slab.

Weight initialisation:
- W_hh and the cell's biases: the cell's own (cells/): the RNN and GRU start from an orthogonal
  matrix per gate block and biases 0, the LSTM from PyTorch's uniform(+-1/sqrt(H)), which it
  learns faster from (cells/lstm.py says by how much).
- W_ih and decoder.weight: uniform(+-1/sqrt(H)), PyTorch's default; for a one-hot input a column
  of W_ih is a character's embedding, so its scale does not depend on the vocabulary size.
- decoder bias 0 makes the first prediction nearly uniform, a loss of about log(V).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import NamedTuple

import numpy as np

from charrnn.config import ModelConfig
from charrnn.errors import ReadsBothSides
from charrnn.nn import cells
from charrnn.nn.cells.weights import Weights
from charrnn.nn.functional import cross_entropy, dropout_mask, log_softmax, nll
from charrnn.nn.workspace import Workspace, child, empty

Params = dict[str, np.ndarray]
ONE_HOT_GEMM_MAX_VOCAB = 512  # above this, the embedding gradient is a scatter-add
WINDOW = 256  # characters per forward call when reading a long text (see read)


REVERSE = "_reverse"  # PyTorch's suffix for the weights of a bidirectional network's right-to-left stack


def layer_keys(layer: int, side: str = "") -> tuple[str, str, str, str]:
    """The names of one layer's weights; side REVERSE for the right-to-left stack's."""
    return tuple(f"rnn.{name}_l{layer}{side}" for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"))


def sides(cfg: ModelConfig) -> tuple[str, ...]:
    """The stacks a model has: the left-to-right one, and the right-to-left one if it reads both sides."""
    return ("", REVERSE) if cfg.bidirectional else ("",)


def param_shapes(cfg: ModelConfig, vocab_size: int) -> dict[str, tuple[int, ...]]:
    G = cells.get(cfg).gates * cfg.hidden_size
    H, V = cfg.hidden_size, vocab_size
    shapes = {}
    for side in sides(cfg):
        for layer in range(cfg.num_layers):
            w_ih, w_hh, b_ih, b_hh = layer_keys(layer, side)
            shapes.update({w_ih: (G, V if layer == 0 else H), w_hh: (G, H), b_ih: (G,), b_hh: (G,)})
    shapes.update({"decoder.weight": (V, H * len(sides(cfg))), "decoder.bias": (V,)})
    return shapes


def init_params(cfg: ModelConfig, vocab_size: int, rng: np.random.Generator, dtype=np.float32) -> Params:
    cell, H = cells.get(cfg), cfg.hidden_size
    k = 1.0 / np.sqrt(H)
    params: Params = {}
    shapes = param_shapes(cfg, vocab_size)
    for side in sides(cfg):
        for layer in range(cfg.num_layers):
            w_ih, w_hh, b_ih, b_hh = layer_keys(layer, side)
            params[w_ih] = rng.uniform(-k, k, shapes[w_ih])
            params[w_hh], params[b_ih], params[b_hh] = cell.init_recurrent(rng, H, np.dtype(dtype))
    params["decoder.weight"] = rng.uniform(-k, k, shapes["decoder.weight"])
    params["decoder.bias"] = np.zeros(vocab_size)
    return {name: np.ascontiguousarray(p, dtype=dtype) for name, p in params.items()}


def check_left_to_right(cfg: ModelConfig, use: str) -> None:
    """ReadsBothSides if the model reads both sides: `use` needs one that reads left to right."""
    if cfg.bidirectional:
        raise ReadsBothSides(use)


def num_params(params: Params) -> int:
    return int(sum(p.size for p in params.values()))


def vocab_size(params: Params) -> int:
    return params["decoder.bias"].shape[0]


def zero_state(cfg: ModelConfig, batch: int, dtype=np.float32) -> np.ndarray:
    """Hidden (and cell) state for every layer: (L, S, B, H)."""
    return np.zeros(zero_state_shape(cfg, batch), dtype)


def zero_state_shape(cfg: ModelConfig, batch: int) -> tuple[int, int, int, int]:
    return cfg.num_layers, cells.get(cfg).states, batch, cfg.hidden_size


class Cache(NamedTuple):
    ids: np.ndarray  # (T, B) input characters
    inputs: list  # per layer: its input (T, B, H) after dropout; None for the one-hot layer 0
    layers: list  # per layer: the cell's cache
    masks: list  # per layer: dropout mask applied to its output, or None
    top: np.ndarray  # (T, B, H) the last layer's output, the decoder's input


def prepare(params: Params, cfg: ModelConfig, side: str = "") -> list[Weights]:
    """Each layer's weights (of the stack `side`) in the form its cell computes with. Layer 0's
    input weights become a lookup table, one row per character with the biases included: one-hot
    x times W_in + b_in is that row."""
    cell = cells.get(cfg)
    weights = [cell.prepare(*(params[k] for k in layer_keys(layer, side))) for layer in range(cfg.num_layers)]
    # row-major, since each step gathers its rows (W_ih^T scaled comes out column-major)
    weights[0] = weights[0]._replace(W_in=np.add(weights[0].W_in, weights[0].b_in, order="C"), b_in=None)
    return weights


@dataclass(frozen=True)
class Run:
    """How a pass through the stack runs, beside what it computes (forward's arguments of the same names)."""

    rng: np.random.Generator | None = None  # dropout between layers when given (training), never otherwise
    ws: Workspace | None = None  # arrays reused from call to call
    rows: tuple[slice, int] | None = None  # (these rows, of a batch this wide): one worker's share
    kernels: str = "numpy"  # the cells' element-wise kernels (nn/kernels.py)

    def within(self, name: str) -> Run:
        """The same run in the part `name` of the workspace."""
        return replace(self, ws=child(self.ws, name))


def forward(
    params: Params,
    cfg: ModelConfig,
    x: np.ndarray,
    state: np.ndarray,
    rng=None,
    ws: Workspace | None = None,
    weights: list[Weights] | None = None,
    rows: tuple[slice, int] | None = None,
    kernels: str = "numpy",
):
    """x (B, T) ids, state (L, S, B, H) -> logits (T*B, V) time-major, new state, cache.

    Dropout between layers is applied when an rng is given (training) and never otherwise.
    `weights` from prepare() can be passed by a caller that runs many windows (see read).
    `rows` = (these rows, of a batch this wide) when x is one worker's share of a larger batch:
    each dropout mask is then drawn for the whole batch and cut to these rows, so the random
    stream, and the masks, are those of one process running the whole batch.
    `kernels`: the cells' element-wise kernels, "numpy" or "numba" (nn/kernels.py).
    """
    weights = weights or prepare(params, cfg)
    h, new_state, cache = run_stack(weights, cfg, np.ascontiguousarray(x.T), state, Run(rng, ws, rows, kernels))
    T, B = cache.ids.shape
    logits = h.reshape(T * B, -1) @ params["decoder.weight"].T
    logits += params["decoder.bias"]
    return logits, new_state, cache


def run_stack(
    weights: list[Weights],
    cfg: ModelConfig,
    ids: np.ndarray,
    state: np.ndarray,
    run: Run = Run(),
) -> tuple[np.ndarray, np.ndarray, Cache]:
    """The stacked layers without the decoder: ids (T, B), state (L, S, B, H) -> the top layer's
    output (T, B, H) after dropout, the new state, the cache (as forward's)."""
    cell = cells.get(cfg, run.kernels)
    T, B = ids.shape
    new_state = np.empty_like(state)
    inputs, caches, masks = [], [], []
    h = None
    for layer, w in enumerate(weights):
        lws = child(run.ws, f"l{layer}")
        xw = empty(lws, "xw", (T, B, w.W_in.shape[1]), w.W_in.dtype)
        if layer == 0:
            np.take(w.W_in, ids, axis=0, out=xw, mode="clip")  # the one-hot product is a row gather
        else:
            np.matmul(h.reshape(T * B, -1), w.W_in, out=xw.reshape(T * B, -1))  # all T at once
            xw += w.b_in
        inputs.append(h)
        h, new_state[layer], cache = cell.forward(xw, state[layer], w, lws)
        caches.append(cache)
        mask = None
        if run.rng is not None and cfg.dropout > 0 and layer < cfg.num_layers - 1:
            mask = _mask(run.rng, h, cfg.dropout, lws, run.rows)
            h = np.multiply(h, mask, out=empty(lws, "dropped", h.shape, h.dtype))
        masks.append(mask)
    return h, new_state, Cache(ids, inputs, caches, masks, h)


def _mask(rng, h: np.ndarray, p: float, ws: Workspace | None, rows: tuple[slice, int] | None) -> np.ndarray:
    """A dropout mask for h (T, B, H); drawn for the whole batch when these B are some of its rows."""
    mask = empty(ws, "mask", h.shape, h.dtype)
    if rows is None:
        return dropout_mask(rng, h.shape, p, mask)
    (T, _, H), (mine, batch) = h.shape, rows
    whole = dropout_mask(rng, (T, batch, H), p, empty(ws, "whole_mask", (T, batch, H), h.dtype))
    mask[...] = whole[:, mine]
    return mask


def _given_or_zero(params: Params, cfg: ModelConfig, batch: int, state: np.ndarray | None) -> np.ndarray:
    return zero_state(cfg, batch, params["decoder.weight"].dtype) if state is None else state


def read(params: Params, cfg: ModelConfig, ids: np.ndarray, state: np.ndarray | None = None):
    """Run ids (B, N) through the model WINDOW characters at a time, carrying the state, from
    `state` or, when there is none, from zeros.

    Yields (start, logits (T*B, V), state after the window, cache) per window: the numbers of one
    forward over all N, in bounded memory. Sampling warms up on its prime text this way, and
    scoring and inspect read their texts this way.
    """
    state = _given_or_zero(params, cfg, ids.shape[0], state)
    weights = prepare(params, cfg)
    for start in range(0, ids.shape[1], WINDOW):
        logits, state, cache = forward(params, cfg, ids[:, start : start + WINDOW], state, weights=weights)
        yield start, logits, state, cache


def state_after(params: Params, cfg: ModelConfig, ids: np.ndarray, state: np.ndarray | None = None) -> np.ndarray:
    """The state after reading ids (B, N) on from `state` (zeros if None), in windows (N may be 0)."""
    after = _given_or_zero(params, cfg, ids.shape[0], state)
    for window in read(params, cfg, ids, after):
        after = window[2]
    return after


def states_along(cfg: ModelConfig, cache: Cache) -> np.ndarray:
    """Every state a read of T steps (NumPy's kernels) passed through, from its cache ->
    (L, S, T + 1, B, H): at t, the state after the first t characters (at 0, the one it began from)."""
    lstm = cells.get(cfg).states == 2
    return np.stack([np.stack([c.hs, c.cs]) if lstm else c.hs[None] for c in cache.layers])


def _embedding_grad(ids: np.ndarray, da: np.ndarray, vocab: int, ws: Workspace | None, kernels: str) -> np.ndarray:
    """d W_ih for one-hot inputs, (G, V): column v sums the rows of da where the input was v.

    numba's kernels add each row into its column in one compiled pass (a pass over da: V times
    fewer operations than the product below, 1.5 ms less a step at 2 x 256 and 16 streams).
    Otherwise, for a small vocabulary that is one product with the one-hot matrix, da^T onehot,
    which BLAS does several times faster than np.add.at's scatter; a large vocabulary would make
    that product too big, so there the rows are scattered with np.add.at.
    """
    rows = da.reshape(-1, da.shape[-1])  # (T*B, G)
    if kernels == "numba":
        from charrnn.nn import jit  # imports numba: only when it is used

        grad_t = np.zeros((vocab, rows.shape[1]), da.dtype)
        jit.add_rows_at(grad_t, ids.ravel(), rows)
        return np.ascontiguousarray(grad_t.T)
    if vocab <= ONE_HOT_GEMM_MAX_VOCAB:
        onehot = empty(ws, "onehot", (len(rows), vocab), da.dtype)
        onehot[...] = 0
        onehot[np.arange(len(rows)), ids.ravel()] = 1
        return rows.T @ onehot
    grad_t = np.zeros((vocab, rows.shape[1]), da.dtype)
    np.add.at(grad_t, ids.ravel(), rows)
    return np.ascontiguousarray(grad_t.T)


def backward(
    params: Params,
    cfg: ModelConfig,
    dlogits: np.ndarray,
    cache: Cache,
    dstate=None,
    ws: Workspace | None = None,
    input_grads: list | None = None,
    kernels: str = "numpy",
):
    """dlogits (T*B, V) -> (grads keyed like params, d loss / d initial state (L, S, B, H)).

    dstate is the gradient arriving at the final state; truncated BPTT passes none (zero).
    A list passed as input_grads receives, per layer from the bottom, the gradient of its input
    projection at every step, (T, B, G*H): how much each step's input mattered (`inspect gradients`).
    """
    T, B = cache.ids.shape
    top = cache.top.reshape(T * B, -1)
    grads: Params = {
        "decoder.weight": dlogits.T @ top,
        "decoder.bias": dlogits.sum(axis=0),
    }
    dh = empty(ws, "dtop", cache.top.shape, dlogits.dtype)
    np.matmul(dlogits, params["decoder.weight"], out=dh.reshape(T * B, -1))
    dstate0 = stack_backward(params, cfg, dh, cache, grads, dstate, ws, input_grads, kernels=kernels)
    return {k: grads[k] for k in params}, dstate0


def stack_backward(
    params: Params,
    cfg: ModelConfig,
    dh: np.ndarray,
    cache: Cache,
    grads: Params,
    dstate=None,
    ws: Workspace | None = None,
    input_grads: list | None = None,
    side: str = "",
    kernels: str = "numpy",
) -> np.ndarray:
    """The stacked layers' part of backward: dh (T, B, H), the gradient at the top layer's output
    (consumed), into grads under the names of the stack `side`; returns d loss / d initial state."""
    cell = cells.get(cfg, kernels)
    T, B = cache.ids.shape
    dstate0 = np.empty((cfg.num_layers, cell.states, B, cfg.hidden_size), dh.dtype)
    for layer in reversed(range(cfg.num_layers)):
        w_ih, w_hh, b_ih, b_hh = layer_keys(layer, side)
        lws = child(ws, f"l{layer}")
        if cache.masks[layer] is not None:
            dh *= cache.masks[layer]
        dsT = np.zeros_like(dstate0[layer]) if dstate is None else dstate[layer].copy()
        da, dstate0[layer], grads[w_hh], grads[b_hh] = cell.backward(dh, dsT, cache.layers[layer], params[w_hh], lws)
        grads[b_ih] = da.sum(axis=(0, 1))
        if input_grads is not None:
            input_grads.insert(0, da if ws is None else da.copy())
        if layer == 0:
            grads[w_ih] = _embedding_grad(cache.ids, da, vocab_size(params), ws, kernels)
        else:
            flat = da.reshape(T * B, -1)
            grads[w_ih] = flat.T @ cache.inputs[layer].reshape(T * B, -1)
            dh = empty(lws, "dx", cache.inputs[layer].shape, da.dtype)
            np.matmul(flat, params[w_ih], out=dh.reshape(T * B, -1))
    return dstate0


def loss_and_grads(
    params: Params, cfg: ModelConfig, x, y, state, rng=None, ws: Workspace | None = None, rows=None, kernels="numpy"
):
    """One truncated-BPTT window: x, y (B, T) -> (mean loss in nats, grads, final state).

    `rows` and `kernels` as in forward: x and y are these rows of a wider batch (one worker's share).
    """
    logits, new_state, cache = forward(params, cfg, x, state, rng, ws, rows=rows, kernels=kernels)
    loss, dlogits = cross_entropy(logits, np.ascontiguousarray(y.T).ravel())
    grads, _ = backward(params, cfg, dlogits, cache, ws=ws, kernels=kernels)
    return loss, grads, new_state


def loss(params: Params, cfg: ModelConfig, x, y, state, kernels: str = "numpy") -> tuple[float, np.ndarray]:
    """Mean loss in nats of one window without gradients (evaluation), and the final state."""
    logits, new_state, _ = forward(params, cfg, x, state, kernels=kernels)
    return nll(log_softmax(logits), np.ascontiguousarray(y.T).ravel()), new_state
