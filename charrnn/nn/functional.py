"""Numerically safe building blocks shared by the model, the sampler, scoring and inspect.

Every softmax in charrnn goes through here, with the maximum subtracted first so that exp never
overflows, whatever the logits or the temperature.
"""

from __future__ import annotations

import numpy as np

LOG2 = np.log(2.0)


def log_softmax(z: np.ndarray) -> np.ndarray:
    """log softmax over the last axis."""
    z = z - z.max(axis=-1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=-1, keepdims=True))


def softmax(z: np.ndarray) -> np.ndarray:
    """softmax over the last axis."""
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def cross_entropy(logits: np.ndarray, targets: np.ndarray) -> tuple[float, np.ndarray]:
    """Mean cross-entropy in nats and its gradient.

    logits (N, V), targets (N,) ints -> (loss, dlogits (N, V)).
    d loss / d logits = (softmax(logits) - onehot(targets)) / N.
    """
    logp = log_softmax(logits)
    loss = nll(logp, targets)
    dlogits = np.exp(logp, out=logp)
    dlogits[np.arange(len(targets)), targets] -= 1.0
    dlogits /= len(targets)
    return loss, dlogits


def nll(logp: np.ndarray, targets: np.ndarray) -> float:
    """Mean negative log-likelihood in nats of targets (N,) under log-probabilities logp (N, V)."""
    return -float(logp[np.arange(len(targets)), targets].sum(dtype=np.float64)) / len(targets)


def dropout_mask(rng: np.random.Generator, shape: tuple[int, ...], p: float, out: np.ndarray) -> np.ndarray:
    """Inverted-dropout mask into `out`: 0 with probability p, 1 / (1 - p) elsewhere."""
    u = rng.random(shape, dtype=np.float32)
    np.greater_equal(u, p, out=out)
    out *= 1.0 / (1.0 - p)
    return out


def bits(nats: float) -> float:
    """Nats per character to bits per character."""
    return nats / LOG2
