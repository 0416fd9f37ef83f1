"""Scoring: reading a text through a model, and what it predicted at every character.

The analysis views (neurons.py, gradient_reach.py, ranking.py, page.py) all start here. A text is
read once, window by window with the state carried across, through the core's own
`model.forward`; nothing in these modules writes a forward pass of its own.

Alignment, used throughout: position i of a text is the character text[i]. The model's state
"at i" is its state after reading text[i]; its prediction "at i" (for i >= 1) is the
distribution it gave text[i] after reading text[:i]. The first character is never predicted.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from charrnn.config import ModelConfig
from charrnn.errors import DataError
from charrnn.nn import model
from charrnn.nn.functional import bits, log_softmax
from charrnn.nn.model import Params
from charrnn.vocab import Vocab, list_chars

TOP_K = 5  # alternatives kept per position


def encode(vocab: Vocab, text: str, min_chars: int = 2) -> np.ndarray:
    """The text's ids (N,), or a DataError that names the characters the model never saw."""
    if missing := vocab.missing(text):
        shown = list_chars(missing)
        raise DataError(
            f"the text has characters the model never saw: {shown}; this view needs a text written in "
            "the model's own characters (remove them, or compare checkpoints with several -c, which skips them)"
        )
    if len(text) < min_chars:
        raise DataError(f"the text has {len(text)} characters; this view needs at least {min_chars}")
    return vocab.encode(text).astype(np.intp)


def read(params: Params, cfg: ModelConfig, ids: np.ndarray) -> Iterator[tuple[int, np.ndarray, model.Cache]]:
    """Run ids (N,) through the model from a zero state: yield (start, logits (T, V), cache) per window.

    Row j of a window's logits is the prediction after reading ids[start + j], i.e. for
    ids[start + j + 1]; its cache holds every layer's states for those T steps (batch of one).
    """
    state = model.zero_state(cfg, 1, params["decoder.weight"].dtype)
    for start, logits, _, cache in model.read(params, cfg, ids[None], state):
        yield start, logits, cache


@dataclass
class Predictions:
    """What the model expected at positions 1 .. N-1 of a text."""

    logp: np.ndarray  # (N-1,) ln p(text[i] | text[:i])
    top_ids: np.ndarray  # (N-1, k) the k most likely characters at each position, best first
    top_logp: np.ndarray  # (N-1, k) and their log-probabilities

    @property
    def bits(self) -> np.ndarray:
        """Surprisal -log2 p of each predicted character, (N-1,)."""
        return bits(-self.logp)

    @property
    def bits_per_char(self) -> float:
        return float(self.bits.mean()) if len(self.logp) else float("nan")


def predictions(params: Params, cfg: ModelConfig, vocab: Vocab, text: str, k: int = TOP_K) -> Predictions:
    """Each character's log-probability under the model and the model's top-k alternatives."""
    ids = encode(vocab, text)
    k = min(k, len(vocab))
    n = len(ids) - 1
    logp, top_ids, top_logp = np.empty(n), np.empty((n, k), np.intp), np.empty((n, k))
    for span, rows, targets in windows(params, cfg, ids):
        logp[span] = rows[np.arange(len(rows)), targets]
        best = np.argpartition(-rows, k - 1, axis=1)[:, :k]  # the k largest, unordered
        best_logp = np.take_along_axis(rows, best, axis=1)
        order = np.argsort(-best_logp, axis=1, kind="stable")
        top_ids[span] = np.take_along_axis(best, order, axis=1)
        top_logp[span] = np.take_along_axis(best_logp, order, axis=1)
    return Predictions(logp, top_ids, top_logp)


def log_probs(params: Params, cfg: ModelConfig, vocab: Vocab, text: str) -> np.ndarray:
    """ln p(text[i] | text[:i]) for i = 1 .. len(text)-1, in nats, shape (len(text) - 1,).

    The first character has no context and is not scored.
    """
    if missing := vocab.missing(text):
        raise DataError(f"the text has characters the model never saw: {list_chars(missing)}")
    if len(text) < 2:
        raise DataError("the text needs at least two characters to be scored")
    ids = vocab.encode(text).astype(np.intp)
    out = np.empty(len(text) - 1)
    for span, logp, targets in windows(params, cfg, ids):
        out[span] = logp[np.arange(len(targets)), targets]
    return out


def windows(params: Params, cfg: ModelConfig, ids: np.ndarray) -> Iterator[tuple[slice, np.ndarray, np.ndarray]]:
    """Read ids (N,) from a zero state, a window at a time. Yields, per window, the positions it
    predicts (a slice of 0 .. N-2, position i standing for ids[i + 1]), the log-probabilities
    (T, V) float64 the model gave them and the ids that came there."""
    state = model.zero_state(cfg, 1, params["decoder.weight"].dtype)
    for start, logits, _, _ in model.read(params, cfg, ids[None, :-1], state):  # the last predicts nothing
        logp = log_softmax(logits.astype(np.float64))
        yield slice(start, start + len(logp)), logp, ids[start + 1 : start + 1 + len(logp)]


def summary(logp: np.ndarray) -> dict[str, float]:
    """Total bits and bits per character of scored log-probabilities."""
    total = float(surprisal_bits(logp).sum())
    return {"chars": int(len(logp)), "total_bits": total, "bits_per_char": total / max(len(logp), 1)}


def surprisal_bits(logp: np.ndarray) -> np.ndarray:
    """-log2 p of each scored character."""
    return bits(-logp)
