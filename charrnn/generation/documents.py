"""Whole documents: samples that start where a document starts and end where the model ends one.

A model trained on several documents (data/sources.py) has read each one after the boundary
symbol, with the memory that the end of the document before it left. The start-of-document state
is therefore the state after reading such an end and the boundary: the checkpoint keeps the last
characters of a training document before its boundary (the lead-in, see training/snapshot.lead_in). From a
blank memory and the boundary alone the model starts worse: it never saw that during training.
A document ends when the model draws the boundary, which is not part of it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import numpy as np

from charrnn.config import SampleConfig
from charrnn.errors import DataError
from charrnn.generation.sampling import generate

if TYPE_CHECKING:
    from charrnn.language_model import LanguageModel


def documents(
    model: LanguageModel,
    boundary: str | None,
    sample_cfg: SampleConfig,
    n: int,
    prime: str = "",
    lead_in: str = "",
    rng: np.random.Generator | None = None,
) -> Iterator[list[str | None]]:
    """Yield, step by step, one new character per document, or None once it has ended.

    Each document starts from the start-of-document state (`lead_in`, then the boundary; then
    `prime`, which it begins with), and is cut at `sample_cfg.length` characters if the model has not ended it.
    """
    if boundary is None or boundary not in model.vocab:
        raise DataError("the model was trained on a single text without document boundaries, so it cannot end one")
    done = [False] * n
    for chars in generate(model, sample_cfg, lead_in + boundary + prime, n, rng):
        for i, ch in enumerate(chars):
            done[i] = done[i] or ch == boundary
        yield [None if d else ch for d, ch in zip(done, chars)]
        if all(done):
            return
