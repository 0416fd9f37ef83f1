"""The time loop of every cell's forward pass over a window: a per-step product, then the step.

What differs between the cells is only which states they carry (h, or h and c), what each step
keeps for the backward pass, and the step itself; the loop that feeds h_{t-1} W_rec and the
states from one step to the next is this one.
"""

from __future__ import annotations

import numpy as np

from charrnn.nn.blas import per_step
from charrnn.nn.cells.weights import Weights
from charrnn.nn.workspace import Workspace, empty


def run(
    xw: np.ndarray,
    s0: np.ndarray,
    w: Weights,
    ws: Workspace | None,
    step,
    states: tuple[str, ...] = ("hs",),
    kept: tuple[str, ...] = (),
    spare: tuple[str, ...] = (),
) -> tuple[list[np.ndarray], list[np.ndarray], np.ndarray]:
    """Runs `step` over the T time steps of xw (T, B, G*H) from the states s0 (S, B, H), one
    state per name in `states` (the first is h). Each step gets, as its scratch, the arrays named
    in `kept` at t (T, B, H, what the backward pass reads) and then those in `spare` (B, H, reused).

    -> each state at 0..T (T+1, B, H), each kept array (T, B, H), the final states (S, B, H).
    """
    T, B, _ = xw.shape
    H, dt = s0.shape[-1], xw.dtype
    seq = [empty(ws, name, (T + 1, B, H), dt) for name in states]
    for s, first in zip(seq, s0):
        s[0] = first
    keep = [empty(ws, name, (T, B, H), dt) for name in kept]
    spares = tuple(empty(ws, name, (B, H), dt) for name in spare)
    at = [tuple(s[t] for s in seq) for t in range(T + 1)]  # each step's states, as views made once
    rec, multiply = per_step(w.W_rec, B, ws)  # rec = h_{t-1} W_rec, (B, G*H)
    for t in range(T):
        multiply(at[t][0])
        step(xw[t], rec, at[t], at[t + 1], w, (*(k[t] for k in keep), *spares))
    sT = np.empty((len(seq), B, H), dt)  # (np.stack costs several times more)
    for final, s in zip(sT, seq):
        final[...] = s[T]
    return seq, keep, sT
