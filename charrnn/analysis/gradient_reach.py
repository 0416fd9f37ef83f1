"""Memory: how strongly the loss at one step depends on the input k steps earlier.

For a position t of a text, with the model in its true state (having read everything before
the window), the loss of predicting text[t+1] is differentiated with respect to each of the
K one-hot inputs x_t, x_{t-1}, ..., x_{t-K+1}. The curve is the norm of that gradient against k,
averaged over many positions. Theory predicts its shape: in a vanilla RNN the gradient is
multiplied at every step by W_hh^T diag(tanh'), so it usually shrinks geometrically (Bengio
et al. 1994; Pascanu et al. 2013); an LSTM's cell state carries it along through the forget
gate, so it can persist for as long as the forget gate stays open (Hochreiter & Schmidhuber 1997).

All positions are measured at once: N windows of K characters form one batch, the loss sits
only at the last step of each, and one forward and one backward pass give every gradient.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from charrnn import budget
from charrnn.analysis import scoring
from charrnn.config import ReachConfig
from charrnn.errors import TooShort
from charrnn.nn import cells
from charrnn.nn.functional import softmax
from charrnn.nn.model import backward, check_left_to_right, forward, state_after

if TYPE_CHECKING:
    from charrnn.language_model import LanguageModel

SPAN, POSITIONS = ReachConfig.span, ReachConfig.positions  # K steps back, averaged over N positions
THRESHOLD = 0.01  # "forgotten": the gradient is below 1% of its size at k = 0


@dataclass
class GradientCurve:
    norms: np.ndarray  # (K,) mean over positions of |d loss_t / d x_{t-k}|, k = 0 .. K-1
    positions: int  # N, the positions averaged over
    asked: int  # the positions asked for: more than N where the text has room for only N

    @property
    def relative(self) -> np.ndarray:
        """The curve divided by its value at k = 0."""
        return self.norms / self.norms[0] if self.norms[0] > 0 else np.zeros_like(self.norms)

    def k_below(self, fraction: float = THRESHOLD) -> int | None:
        """The first k at which the gradient is below `fraction` of its start; None if it never is."""
        below = np.flatnonzero(self.relative < fraction)
        return int(below[0]) if len(below) else None

    def far_factor(self) -> float | None:
        """How much the gradient shrinks per step far back: the geometric mean of norms[k+1] / norms[k]
        over the far half of the curve (k >= K/2), where the first steps' transients have passed."""
        far = self.norms[len(self.norms) // 2 :]
        if len(far) < 2 or far.min() <= 0:
            return None
        return float((far[-1] / far[0]) ** (1 / (len(far) - 1)))

    def to_dict(self) -> dict:
        return {
            "span": len(self.norms),
            "positions": self.positions,
            "positions_asked": self.asked,
            "threshold": THRESHOLD,
            "k_below_threshold": self.k_below(),
            "far_factor_per_step": self.far_factor(),
            "norms": self.norms.tolist(),
            "relative": self.relative.tolist(),
        }


def window_starts(n_chars: int, span: int, positions: int) -> np.ndarray:
    """Up to `positions` evenly spaced window starts s, each with a full window and a target."""
    last = n_chars - 1 - span  # the window text[s : s + span] predicts text[s + span]
    if last < 0:
        raise TooShort(
            f"the text has {n_chars} characters; measuring {span} steps back needs at least {span + 1}",
            n_chars,
            span + 1,
            {"span": span},
        )
    return np.unique(np.linspace(0, last, min(positions, last + 1)).round().astype(np.intp))


def states_at(model: LanguageModel, ids: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """The model's state after reading ids[:p], for each p in sorted `positions`: (L, S, N, H)."""
    states, state, done = [], None, 0
    for p in positions:
        state = state_after(model.params, model.cfg, ids[None, done:p], state)
        states.append(state[:, :, 0])
        done = p
    return np.stack(states, axis=2)


def gradient_curve(model: LanguageModel, text: str, span: int = SPAN, positions: int = POSITIONS) -> GradientCurve:
    """Mean norm of the loss's gradient with respect to the input k = 0 .. span-1 steps back."""
    check_left_to_right(model.cfg, "measure how far back its gradients reach")
    # in float64: tiny gradients must not underflow
    model = model._replace(params={k: v.astype(np.float64) for k, v in model.params.items()})
    params, cfg, vocab = model
    scoring.check_text(vocab, text)
    ids = vocab.encode(text).astype(np.intp)
    starts = window_starts(len(ids), span, positions)
    # float64 activations of every layer at every step of every window, forward and backward,
    # and the gradient with respect to every one-hot input
    G, L, H, V = cells.get(cfg).gates, cfg.num_layers, cfg.hidden_size, len(vocab)
    per_step = 8 * (2 * L * (G + 3) * H + 4 * V)
    budget.require("measuring the gradients", len(starts) * span * per_step, {"span": span, "positions": positions})
    x = ids[starts[:, None] + np.arange(span)]  # (N, K) the windows
    y = ids[starts + span]  # (N,) what each window's last step predicts
    logits, _, cache = forward(params, cfg, x, states_at(model, ids, starts))
    N = len(starts)
    dlogits = np.zeros_like(logits)  # (K*N, V), time-major: the last N rows are the last step
    last = dlogits[-N:]
    last[...] = softmax(logits[-N:])
    last[np.arange(N), y] -= 1.0  # d (-ln p(y)) / d logits, one loss per row, not averaged
    input_grads: list[np.ndarray] = []
    backward(params, cfg, dlogits, cache, input_grads=input_grads)
    dx = input_grads[0] @ params["rnn.weight_ih_l0"]  # (K, N, V): the gradient with respect to the one-hot input
    norms = np.linalg.norm(dx, axis=2).mean(axis=1)  # (K,) indexed by window step j
    return GradientCurve(norms[::-1].copy(), N, positions)  # k = K-1-j steps back from the last input
