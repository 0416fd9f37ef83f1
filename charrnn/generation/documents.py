"""Whole documents: samples that start where a document starts and end where the model ends one.

A model trained on several documents (data/sources.py) has read each one after the boundary
symbol, with the memory that the end of the document before it left. The start-of-document state
is therefore the state after reading such an end and the boundary: the checkpoint keeps the last
characters of a training document before its boundary (the lead-in, see Trainer.lead_in). From a
blank memory and the boundary alone the model starts worse: it never saw that during training.
A document ends when the model draws the boundary, which is not part of it.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from charrnn.config import ModelConfig, SampleConfig
from charrnn.errors import DataError
from charrnn.generation.sampling import generate
from charrnn.nn.model import Params
from charrnn.vocab import Vocab


def documents(
    params: Params,
    cfg: ModelConfig,
    vocab: Vocab,
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
    if boundary is None or boundary not in vocab:
        raise DataError("the model was trained on a single text without document boundaries, so it cannot end one")
    done = [False] * n
    for chars in generate(params, cfg, vocab, sample_cfg, lead_in + boundary + prime, n, rng):
        for i, ch in enumerate(chars):
            done[i] = done[i] or ch == boundary
        yield [None if d else ch for d, ch in zip(done, chars)]
        if all(done):
            return
