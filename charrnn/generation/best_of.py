"""Best of N: draw N samples as one batch, keep the best by bits per character.

A sample's score is the mean surprisal, in bits, of its own characters, read after the text the
model read before writing it (the prime): under the model that wrote it, or under another
model, a judge (say, one trained on the text you want to imitate). A judge's vocabulary may
lack some characters; as when `inspect compare` ranks models (analysis/ranking.py, whose
scoring this is), it reads the text without them and is not scored on them. Fewer bits per
character is better: the text the judge finds most natural.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from charrnn import budget
from charrnn.analysis.ranking import score_known
from charrnn.config import SampleConfig
from charrnn.generation.sampling import generate, start_text, until_stopped

if TYPE_CHECKING:
    from charrnn.language_model import LanguageModel


class Scored(NamedTuple):
    text: str  # the sample, after the prime
    bits_per_char: float  # its score: NaN if no character of it could be scored
    index: int  # its place in the batch it was drawn in


def draw(
    model: LanguageModel, sample_cfg: SampleConfig, prime: str, n: int, stop_at: str | None, rng
) -> tuple[str, list[str]]:
    """(the text read first, n samples drawn as one batch), each ended after its first stop text."""
    context = start_text(model.vocab, prime, rng)
    texts = [[] for _ in range(n)]
    for chars in until_stopped(generate(model, sample_cfg, context, n, rng), n, stop_at):
        for text, ch in zip(texts, chars):
            if ch is not None:
                text.append(ch)
    return context, ["".join(t) for t in texts]


def bits_per_char(judge: LanguageModel, context: str, text: str) -> float:
    """Mean surprisal of the text's characters after the context, under the judge."""
    bits = score_known("judge", judge, context + text).bits[len(context) :]
    return float(np.nanmean(bits)) if np.isfinite(bits).any() else float("nan")


def best_of(
    model: LanguageModel,
    sample_cfg: SampleConfig,
    n: int,
    keep: int,
    prime: str = "",
    stop_at: str | None = None,
    judge: LanguageModel | None = None,
) -> list[Scored]:
    """The `keep` best of `n` samples, best first; by the writer's own score unless a judge is given."""
    drawn_by = "best_of" if sample_cfg.best_of else "num_samples"  # a batch drawn only to be scored
    budget.check_drawing(model.cfg, len(model.vocab), sample_cfg.length, n, drawn_by)  # before a text is kept
    rng = np.random.default_rng(sample_cfg.seed)
    context, texts = draw(model, sample_cfg, prime, n, stop_at, rng)
    scored = [Scored(t, bits_per_char(judge or model, context, t), i) for i, t in enumerate(texts)]
    return sorted(scored, key=lambda s: (np.isnan(s.bits_per_char), s.bits_per_char))[:keep]
