"""Typos: the characters of a text that a model of both sides finds least likely where they stand,
each with the character it finds far more likely there.

Each character is predicted from everything else (nn/both_sides.py), so a wrong letter stands
out twice over: it is unlikely itself, and the model knows what should be there. A suspect is
ranked by how many bits the model's choice saves over the character that is there,
bits - suggestion_bits: a rare but fitting word scores low on both and is no suspect.

A wrong character also makes its neighbours look wrong (each is predicted from it), so of the
suspects within SPACING of each other only the most suspect is named: one slip, one suspect.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

import numpy as np

from charrnn.analysis import scoring
from charrnn.errors import ReadsOneSide
from charrnn.nn.functional import bits

if TYPE_CHECKING:
    from charrnn.language_model import LanguageModel

FAR = 3.0  # bits: the replacement must be at least 2**3 = 8 times as likely
SPACING = 3  # characters: a suspect this close to a more suspect one is its echo


@dataclass
class Suspect:
    position: int  # in the text, from 0
    char: str
    suggestion: str  # the model's likeliest character there
    bits: float  # -log2 p(char | both sides)
    suggestion_bits: float  # -log2 p(suggestion | both sides)

    def to_dict(self) -> dict:
        return asdict(self)


def suspects(model: LanguageModel, text: str, count: int, far: float = FAR) -> tuple[list[Suspect], scoring.Reading]:
    """The `count` most suspect characters, most suspect first, and the reading they come from
    (its predictions cover every character: for a page of the text)."""
    if not model.cfg.bidirectional:
        raise ReadsOneSide("find typos")
    reading = scoring.read(model, text, top=len(text), k=scoring.TOP_K)
    p = reading.predictions
    have, best = bits(-p.logp), bits(-p.top_logp[:, 0])
    saved = have - best
    candidates = np.flatnonzero((p.top_ids[:, 0] != model.vocab.encode(text)) & (saved >= far))
    order = _apart(candidates[np.argsort(-saved[candidates], kind="stable")], count)
    chars = model.vocab.chars
    found = [Suspect(int(i), text[i], chars[p.top_ids[i, 0]], float(have[i]), float(best[i])) for i in order]
    return found, reading


def _apart(ranked: np.ndarray, count: int) -> list[int]:
    """The first `count` positions of `ranked` (most suspect first) that stand at least SPACING
    from every one taken before them."""
    taken: list[int] = []
    for i in ranked.tolist():
        if all(abs(i - j) >= SPACING for j in taken):
            taken.append(i)
            if len(taken) == count:
                break
    return taken
