"""Sampling: draw text from a model one character at a time, carrying the hidden state.

`generate` is a generator that yields each step's characters as soon as they are drawn, so a
caller can stream them; N samples run as one batch of N streams.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

import numpy as np

from charrnn import budget
from charrnn.config import SampleConfig
from charrnn.generation.stepper import Stepper
from charrnn.nn.functional import softmax
from charrnn.nn.model import state_after, zero_state
from charrnn.vocab import Vocab

if TYPE_CHECKING:
    from charrnn.language_model import LanguageModel

# Lower temperatures count as this one: float32 logits divided by it stay finite in float64
# (below 1e239), and the differences between them are so large that the draw is the argmax.
TINY_TEMPERATURE = 1e-200


def log_weights(logits: np.ndarray, cfg: SampleConfig) -> np.ndarray:
    """(N, V) float32 logits -> (N, V) float64 log-weights of the next character after temperature,
    top-k and top-p (nucleus): log-probabilities up to a constant per row, -inf where filtered out."""
    z = np.divide(logits, max(cfg.temperature, TINY_TEMPERATURE), dtype=np.float64)
    if cfg.top_k is not None and cfg.top_k < z.shape[-1]:
        kth = np.partition(z, -cfg.top_k, axis=-1)[:, -cfg.top_k, None]
        z[z < kth] = -np.inf
    if cfg.top_p is not None and cfg.top_p < 1.0:
        p = softmax(z)
        order = np.argsort(-p, axis=-1, kind="stable")
        sorted_p = np.take_along_axis(p, order, axis=-1)
        # keep each character whose more likely predecessors sum to less than top_p: the
        # smallest set reaching top_p (the most likely character is always kept)
        keep_sorted = np.cumsum(sorted_p, axis=-1) - sorted_p < cfg.top_p
        keep = np.empty_like(keep_sorted)
        np.put_along_axis(keep, order, keep_sorted, axis=-1)
        z[~keep] = -np.inf
    return z


def choose(logits: np.ndarray, cfg: SampleConfig, rng: np.random.Generator) -> np.ndarray:
    """One character id per row of (N, V) logits.

    A draw is the argmax of the log-weights plus independent Gumbel noise (the Gumbel-max trick:
    that argmax falls on each character with exactly its probability). It needs no normalising,
    no cumulative sum and no search, which matters at one call per character.
    """
    if cfg.argmax:
        return logits.argmax(axis=-1)
    z = log_weights(logits, cfg)
    z += rng.gumbel(size=z.shape)
    return z.argmax(axis=-1)


def start_text(vocab: Vocab, prime: str, rng: np.random.Generator) -> str:
    """The text the model reads before it writes: the prime, or without one a newline (or, when the
    vocabulary has none, a random character), as if at the start of a line."""
    vocab.check(prime, "the prime text", "prime")
    if prime:
        return prime
    return "\n" if "\n" in vocab else vocab.chars[int(rng.integers(len(vocab)))]


def warmed_up(model: LanguageModel, text: str, streams: int) -> tuple[Stepper, np.ndarray]:
    """A Stepper for `streams` copies of the model that have read all of `text` but its last
    character, and that character's id per stream (N,): the next input."""
    params, cfg, vocab = model
    ids = np.tile(vocab.encode(text).astype(np.intp), (streams, 1))  # (N, P)
    state = state_after(params, cfg, ids[:, :-1], zero_state(cfg, streams))
    return Stepper(params, cfg, state), ids[:, -1]


def generate(
    model: LanguageModel,
    sample_cfg: SampleConfig,
    prime: str = "",
    num_samples: int = 1,
    rng: np.random.Generator | None = None,
) -> Iterator[list[str]]:
    """Yield, for each of `sample_cfg.length` steps, one new character per sample.

    The model is first warmed up on `start_text(prime)`.
    """
    budget.check_streams(model.cfg, len(model.vocab), num_samples)  # before a state for each is allocated
    rng = rng if rng is not None else np.random.default_rng(sample_cfg.seed)
    step, x = warmed_up(model, start_text(model.vocab, prime, rng), num_samples)
    chars = model.vocab.chars
    for _ in range(sample_cfg.length):
        x = choose(step(x), sample_cfg, rng)
        yield [chars[i] for i in x.tolist()]


def until_stopped(steps: Iterable[list[str | None]], n: int, stop_at: str | None) -> Iterator[list[str | None]]:
    """Each step's characters of n streams, each stream ended just after its first `stop_at` (or
    at a None: a document that has ended, generation/documents.py); an ended stream's place is
    None. The steps stop once every stream has ended."""
    done, tails = [False] * n, [""] * n  # tails: each stream's last characters, to see stop_at across steps
    for chars in steps:
        kept: list[str | None] = []
        for i, ch in enumerate(chars):
            done[i] = done[i] or ch is None
            kept.append(None if done[i] else ch)
            if stop_at and not done[i]:
                tails[i] = (tails[i] + ch)[-len(stop_at) :]
                done[i] = tails[i] == stop_at
        yield kept
        if all(done):
            return
