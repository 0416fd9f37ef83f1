"""A model that reads a text from both sides: each character predicted from the text before it
and the text after it, never from itself.

Two stacks of the same cell: the forward stack (weights `rnn.*_l{k}`) reads left to right, the
backward stack (`rnn.*_l{k}_reverse`) right to left, and the decoder (V, 2H) reads their top
states side by side:

    p(x_t | the rest) = softmax(W_dec [f_{t-1} ; b_{t+1}] + b_dec)

f_{t-1} is the forward stack's top state after x_0 .. x_{t-1}, b_{t+1} the backward stack's
after x_{N-1} .. x_{t+1}; at an edge the missing side is the zero state, so the first and the
last characters are predicted too. Neither state has read x_t.

One layer is exactly torch's nn.LSTM(V, H, 1, bidirectional=True) (or GRU, RNN), names and
shapes: its output at t is [f_t ; b_t], and the prediction takes the two halves one step to
each side. Deeper models stay two separate stacks, so `_l1` weights are (G, H), not PyTorch's
(G, 2H): PyTorch's layer k+1 reads both directions of layer k, so its forward half at t would
have read x_t through the backward half below it. Each stack loads into its own nn.LSTM(V, H, L).

Training takes the one-directional model's windows: x (B, T) and y (B, T), the characters after
them. The forward stack reads x from the state carried from the window before, as a left-to-right
model does. The backward stack reads y right to left from the zero state at the window's right
end: carrying it would need the next window read first, so a character near a window's end sees
little of what follows it (docs/bidirectional.md measures what that costs). Reading a whole
text (`read`) has no such cut: each direction carries its state across the whole text.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import NamedTuple

import numpy as np

from charrnn.config import ModelConfig
from charrnn.nn import model
from charrnn.nn.functional import cross_entropy, log_softmax, nll
from charrnn.nn.model import REVERSE, Params
from charrnn.nn.workspace import Workspace, child


class Cache(NamedTuple):
    forward: model.Cache  # the left-to-right stack over x
    backward: model.Cache  # the right-to-left stack over y, read from its end
    top: np.ndarray  # (T, B, 2H) the decoder's input for each target: [f ; b]


def _top_h(state: np.ndarray) -> np.ndarray:
    """The top layer's h of a state (L, S, B, H): what the stack passes up, (B, H)."""
    return state[-1, 0]


def _before(b: np.ndarray, right: np.ndarray) -> np.ndarray:
    """The backward state each target takes. b (T, B, H): the backward stack's outputs after
    reading y_{T-1}, then y_{T-2}, ... y_0; target j takes the state before it read y_j, which is
    b[T-2-j], and the last target the state it started from (`right`)."""
    aligned = np.empty_like(b)
    aligned[:-1] = b[: len(b) - 1][::-1]
    aligned[-1] = _top_h(right)
    return aligned


def _decoded(params: Params, f: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """f, b (T, B, H) aligned to the targets -> the decoder's input (T, B, 2H), logits (T*B, V)."""
    T, B, H = f.shape
    top = np.concatenate([f, b], axis=2)
    logits = top.reshape(T * B, 2 * H) @ params["decoder.weight"].T
    logits += params["decoder.bias"]
    return top, logits


def forward(
    params: Params,
    cfg: ModelConfig,
    x: np.ndarray,
    y: np.ndarray,
    state: np.ndarray,
    rng=None,
    ws: Workspace | None = None,
    rows: tuple[slice, int] | None = None,
    kernels: str = "numpy",
):
    """x, y (B, T): a window and the characters after it; state (L, S, B, H): the forward stack's,
    carried in -> logits (T*B, V) for y, time-major; the forward stack's new state; the cache.
    Dropout, `rows` and `kernels` as in model.forward, for both stacks."""
    x_in, y_back = np.ascontiguousarray(x.T), np.ascontiguousarray(y.T[::-1])
    fw, bw = model.prepare(params, cfg), model.prepare(params, cfg, REVERSE)
    run = model.Run(rng, ws, rows, kernels)
    f, new_state, forward_cache = model.run_stack(fw, cfg, x_in, state, run.within("forward"))
    right = np.zeros_like(state)  # each window's backward stack starts at its right end
    b, _, backward_cache = model.run_stack(bw, cfg, y_back, right, run.within("back"))
    top, logits = _decoded(params, f, _before(b, right))
    return logits, new_state, Cache(forward_cache, backward_cache, top)


def backward(
    params: Params, cfg: ModelConfig, dlogits: np.ndarray, cache: Cache, ws: Workspace | None = None, kernels="numpy"
):
    """dlogits (T*B, V) -> grads keyed like params (truncated BPTT: nothing flows past the window)."""
    T, B = cache.forward.ids.shape
    H = cfg.hidden_size
    grads: Params = {
        "decoder.weight": dlogits.T @ cache.top.reshape(T * B, 2 * H),
        "decoder.bias": dlogits.sum(axis=0),
    }
    dtop = (dlogits @ params["decoder.weight"]).reshape(T, B, 2 * H)
    df = np.ascontiguousarray(dtop[:, :, :H])
    db = np.zeros_like(df)  # the state after y_0 predicts nothing
    db[: T - 1] = dtop[: T - 1, :, H:][::-1]  # _before's rows, put back where the stack made them
    model.stack_backward(params, cfg, df, cache.forward, grads, ws=child(ws, "forward"), kernels=kernels)
    model.stack_backward(params, cfg, db, cache.backward, grads, ws=child(ws, "back"), side=REVERSE, kernels=kernels)
    return {k: grads[k] for k in params}


def loss_and_grads(
    params: Params, cfg: ModelConfig, x, y, state, rng=None, ws: Workspace | None = None, rows=None, kernels="numpy"
):
    """One window: x, y (B, T) -> (mean loss in nats of y given both sides, grads, the forward stack's state)."""
    logits, new_state, cache = forward(params, cfg, x, y, state, rng, ws, rows, kernels)
    loss, dlogits = cross_entropy(logits, np.ascontiguousarray(y.T).ravel())
    return loss, backward(params, cfg, dlogits, cache, ws, kernels), new_state


def loss(params: Params, cfg: ModelConfig, x, y, state, kernels: str = "numpy") -> tuple[float, np.ndarray]:
    """Mean loss in nats of one window without gradients (evaluation), and the forward stack's state."""
    logits, new_state, _ = forward(params, cfg, x, y, state, kernels=kernels)
    return nll(log_softmax(logits), np.ascontiguousarray(y.T).ravel()), new_state


def read(
    params: Params,
    cfg: ModelConfig,
    ids: np.ndarray,
    window: int = model.WINDOW,
    left: np.ndarray | None = None,
    right: np.ndarray | None = None,
) -> Iterator[tuple]:
    """Every character of ids (B, N) predicted from both sides, `window` characters at a time:
    yields (start, logits (T*B, V) for ids[:, start : start + T]), the numbers of one pass over
    the whole text in each direction; returns the forward stack's state after ids.

    left, right (L, S, B, H): the forward stack's state after what stands left of ids and the
    backward stack's after what stands right of it (zeros: ids is the text's edge on that side).
    The backward stack is read first, right to left, keeping only its state at each window's
    right end; then each window is read in both directions from those states. Memory grows with
    the text by one state per window, not by its logits.
    """
    B, N = ids.shape
    bw = model.prepare(params, cfg, REVERSE)
    zero = model.zero_state(cfg, B, params["decoder.weight"].dtype)
    state = zero if right is None else right
    starts = range(0, N, window)
    rights = []
    for start in reversed(starts):
        rights.append(state)
        state = model.run_stack(bw, cfg, _reversed(ids[:, start : start + window]), state)[1]
    left = zero if left is None else left
    for start, right in zip(starts, reversed(rights)):
        chunk = ids[:, start : start + window]
        logits, left = stretch_logits(params, cfg, chunk, left, right)
        yield start, logits
    return left


def _reversed(chunk: np.ndarray) -> np.ndarray:
    """ids (B, T) -> (T, B) time-major, last character first: the backward stack's input."""
    return np.ascontiguousarray(chunk.T[::-1])


def state_after(params: Params, cfg: ModelConfig, ids: np.ndarray, state: np.ndarray, side: str = "") -> np.ndarray:
    """A stack's state after reading ids (B, N) on from `state`, `window` characters at a time
    (side REVERSE: the backward stack, which reads ids in the order given: reverse them first)."""
    weights = model.prepare(params, cfg, side)
    for start in range(0, ids.shape[1], model.WINDOW):
        state = model.run_stack(weights, cfg, np.ascontiguousarray(ids[:, start : start + model.WINDOW].T), state)[1]
    return state


def next_logits(params: Params, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """The prediction of the one character between two states (L, S, B, H): the forward stack's
    after what stands left of it and the backward stack's after what stands right -> (B, V)."""
    return _decoded(params, _top_h(left)[None], _top_h(right)[None])[1]


def stretch_logits(params: Params, cfg: ModelConfig, ids: np.ndarray, left: np.ndarray, right: np.ndarray):
    """The prediction of each character of a stretch ids (B, T) between two known states (L, S,
    B, H), the stretch read in both directions -> logits (T*B, V), time-major, and the forward
    stack's state after the stretch."""
    f, after, _ = model.run_stack(model.prepare(params, cfg), cfg, np.ascontiguousarray(ids.T), left)
    b = model.run_stack(model.prepare(params, cfg, REVERSE), cfg, _reversed(ids), right)[0]
    before = np.concatenate([_top_h(left)[None], f[:-1]])  # character j takes the state after j - 1
    return _decoded(params, before, _before(b, right))[1], after
