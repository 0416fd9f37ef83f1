"""Beam search: an approximation of the most probable continuation of a text.

Sampling draws from p(text); argmax takes the likeliest character at each step, which is the
most probable text only if no early sacrifice ever pays off later. Beam search keeps the K
likeliest continuations found so far (the beam). At each step every one of them is extended by
every character, and the K with the highest total log-probability

    ln p(c_1 .. c_t | prime) = sum_i ln p(c_i | prime, c_1 .. c_{i-1})

survive. The K hypotheses are K streams of one Stepper; after each step the streams are
reordered by parent, so that stream k carries the state of the hypothesis now in slot k. K = 1
is argmax exactly.

With a stop text, a hypothesis that ends with it is finished and leaves the beam, whose freed
slot the next step refills. Finished texts have different lengths, and a total log-probability
favours the shortest, so they are compared length-normalised: by the mean log-probability per
character (bits per character, the normalisation with exponent 1). The search ends when K
hypotheses have finished or at the length limit; a finished hypothesis ranks before one that
was cut off at the limit.

Beam search uses the model's own probabilities: temperature, top-k and top-p shape draws, and
there is nothing drawn here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from charrnn import budget
from charrnn.generation.sampling import warmed_up
from charrnn.nn.functional import LOG2, log_softmax

if TYPE_CHECKING:
    from charrnn.language_model import LanguageModel


@dataclass
class Hypothesis:
    ids: np.ndarray  # (n,) the characters written after the text read first
    logp: float  # their total log-probability in nats
    finished: bool  # ends with the stop text

    @property
    def bits_per_char(self) -> float:
        return -self.logp / LOG2 / len(self.ids) if len(self.ids) else float("nan")  # nothing to score

    def rank_key(self) -> tuple[bool, float]:
        """Finished before cut off, then the larger mean log-probability per character."""
        return (not self.finished, self.bits_per_char)


def search(model: LanguageModel, text: str, width: int, length: int, stop_at: str | None = None) -> list[Hypothesis]:
    """The hypotheses left when the beam of `width` stops, best first (see the module's text).
    `text` is read first, as sampling.start_text gives it."""
    budget.check_drawing(model.cfg, len(model.vocab), length, width, "beam")  # before a stream is allocated
    step, x = warmed_up(model, text, width)
    vocab = model.vocab
    V = len(vocab)
    stop = vocab.encode(stop_at).astype(np.intp) if stop_at and not vocab.missing(stop_at) else None
    score = np.full(width, -np.inf)
    score[0] = 0.0  # the K streams are one hypothesis until the first step spreads them
    tails = np.full((width, 0 if stop is None else len(stop)), -1, np.intp)  # last characters, to spot stop
    history: list[tuple[np.ndarray, np.ndarray]] = []  # per step: (parent, character) of each slot
    finished: list[tuple[int, int, float]] = []  # (step, slot, total log-probability)
    for t in range(length):
        cand = (score[:, None] + log_softmax(step(x).astype(np.float64))).ravel()  # (K * V,)
        best = np.argsort(-cand, kind="stable")[:width]  # ties to the lower slot, then character
        parent, x = np.divmod(best, V)
        score = cand[best]
        step.reorder(parent)
        history.append((parent, x))
        if stop is not None:
            tails = np.concatenate([tails[parent, 1:], x[:, None]], axis=1)
            done = np.flatnonzero((tails == stop).all(axis=1) & np.isfinite(score))
            finished += [(t, int(k), float(score[k])) for k in done]
            score[done] = -np.inf  # the slot is free for the next step
            if len(finished) >= width or not np.isfinite(score).any():
                break
    ends = finished + [(len(history) - 1, k, float(s)) for k, s in enumerate(score) if np.isfinite(s)]
    hyps = [Hypothesis(_trace(history, t, k), s, i < len(finished)) for i, (t, k, s) in enumerate(ends)]
    return sorted(hyps, key=Hypothesis.rank_key)[:width]


def _trace(history: list[tuple[np.ndarray, np.ndarray]], t: int, k: int) -> np.ndarray:
    """The characters of the hypothesis in slot k after step t, followed back through its parents."""
    ids = np.empty(t + 1, np.intp)
    for s in range(t, -1, -1):
        parent, chars = history[s]
        ids[s], k = chars[k], parent[k]
    return ids
