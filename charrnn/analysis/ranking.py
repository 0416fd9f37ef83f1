"""Which model wrote it: one text scored under several checkpoints, ranked by bits per character.

Models trained on different texts have different vocabularies, and a character a model never
saw has no probability under it at all. Such characters are skipped for that model: it reads
the text without them and is not scored on them, and how many it skipped is reported. The
ranking uses only the comparable characters, those that every model scored, so that no model
wins by having been excused the hard ones.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from charrnn.analysis import scoring
from charrnn.errors import DataError
from charrnn.nn.model import check_left_to_right

if TYPE_CHECKING:
    from charrnn.language_model import LanguageModel


@dataclass
class ModelScore:
    name: str
    bits: np.ndarray  # (N,) surprisal of each character of the text; NaN where not scored
    missing: list[str]  # distinct characters of the text that the model never saw
    skipped: int  # characters of the text it skipped for that reason

    @property
    def scored(self) -> int:
        return int(np.isfinite(self.bits).sum())

    @property
    def own_bits_per_char(self) -> float:
        """Bits per character over every character this model scored."""
        return float(np.nanmean(self.bits)) if self.scored else float("nan")


def score_known(name: str, model: LanguageModel, text: str) -> ModelScore:
    """Score the characters of `text` that the model knows, reading the text without the others.
    Only left-to-right models are compared: one that reads both sides needs far fewer bits."""
    check_left_to_right(model.cfg, "be compared with models that read from the left")
    vocab = model.vocab
    known = np.array([ch in vocab for ch in text], dtype=bool)
    bits = np.full(len(text), np.nan)
    kept = np.flatnonzero(known)
    if len(kept) >= 2:  # the first known character has no context and is not scored
        kept_text = "".join(text[i] for i in kept)
        bits[kept[1:]] = scoring.read(model, kept_text).score.surprisal_bits
    return ModelScore(name, bits, vocab.missing(text), int((~known).sum()))


@dataclass
class Ranking:
    scores: list[ModelScore]  # best (fewest bits per comparable character) first
    common: np.ndarray  # (N,) bool: the characters every model scored
    chars: int  # characters in the text

    @property
    def comparable_chars(self) -> int:
        return int(self.common.sum())

    def bits_per_char(self, s: ModelScore) -> float:
        """Bits per character over the comparable characters: the ranking's measure."""
        return float(s.bits[self.common].mean())

    def to_dict(self) -> dict:
        return {
            "chars": self.chars,
            "comparable_chars": self.comparable_chars,
            "models": [
                {
                    "rank": rank,
                    "name": s.name,
                    "bits_per_char": self.bits_per_char(s),
                    "own_bits_per_char": s.own_bits_per_char,
                    "scored_chars": s.scored,
                    "skipped_chars": s.skipped,
                    "missing": s.missing,
                }
                for rank, s in enumerate(self.scores, 1)
            ],
        }


def rank(scores: list[ModelScore]) -> Ranking:
    """Order models by bits per character on the characters all of them scored."""
    common = np.logical_and.reduce([np.isfinite(s.bits) for s in scores])
    if not common.any():
        raise DataError(
            "no character of the text is scored by every model (a model scores only the characters it "
            "knows, and never the first); compare models on a text written in characters they share"
        )
    ordered = sorted(scores, key=lambda s: float(s.bits[common].mean()))
    return Ranking(ordered, common, len(scores[0].bits))
