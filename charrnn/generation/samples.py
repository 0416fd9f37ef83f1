"""The samples that are printed whole rather than streamed: beam search's best hypotheses, the
best of a batch, or a batch as drawn, each with its score (and, when asked, its novelty)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from charrnn.config import SampleConfig
from charrnn.generation import beam, best_of
from charrnn.generation.sampling import start_text

if TYPE_CHECKING:
    from charrnn.analysis.novelty import Novelty
    from charrnn.language_model import LanguageModel


@dataclass
class Sample:
    text: str | None  # after the prime (None: streamed and not kept)
    bits_per_char: float | None = None  # its score: by the writer (beam, best-of) or a judge
    logp: float | None = None  # beam search: the total log-probability, in nats
    drawn: int | None = None  # best-of: its place in the batch
    novelty: Novelty | None = None  # set by whoever checks it against the corpus

    def to_dict(self) -> dict:
        out = {"text": self.text, "bits_per_char": self.bits_per_char}
        if self.logp is not None:
            out["total_log_prob_nats"] = self.logp
        if self.drawn is not None:
            out["drawn"] = self.drawn
        if self.novelty is not None:
            out["novelty"] = self.novelty.to_dict()
        return out


def best_samples(
    model: LanguageModel, judge: LanguageModel | None, cfg: SampleConfig, prime: str, n: int, stop_at: str | None
) -> list[Sample]:
    """n samples, best first: beam search's best hypotheses (fewer when fewer texts differ), the
    best of a batch of cfg.best_of, or without either the batch of n as drawn, each scored by
    the writer or by `judge`."""
    if cfg.beam:
        text = start_text(model.vocab, prime, np.random.default_rng(cfg.seed))
        hyps = beam.search(model, text, cfg.beam, cfg.length, stop_at)[:n]
        return [Sample(model.vocab.decode(h.ids), _score(h.bits_per_char), h.logp) for h in hyps]
    kept = best_of.best_of(model, cfg, cfg.best_of or n, n, prime, stop_at, judge)
    if not cfg.best_of:  # the batch as drawn, each with its score
        kept = sorted(kept, key=lambda s: s.index)
    return [Sample(s.text, _score(s.bits_per_char), drawn=s.index + 1 if cfg.best_of else None) for s in kept]


def _score(bits_per_char: float) -> float | None:
    """A text of which no character could be scored (an empty one, or one the judge cannot read)
    has no score (None, JSON null) rather than NaN."""
    return None if math.isnan(bits_per_char) else bits_per_char
