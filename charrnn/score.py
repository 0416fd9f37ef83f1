"""Scoring: how probable a model finds a text, character by character."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from charrnn import model
from charrnn.config import ModelConfig
from charrnn.errors import DataError
from charrnn.functional import bits, log_softmax
from charrnn.model import Params
from charrnn.vocab import Vocab, list_chars


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
    for span, logp, targets in predictions(params, cfg, ids):
        out[span] = logp[np.arange(len(targets)), targets]
    return out


def predictions(params: Params, cfg: ModelConfig, ids: np.ndarray) -> Iterator[tuple[slice, np.ndarray, np.ndarray]]:
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
