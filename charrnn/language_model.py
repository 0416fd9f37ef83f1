"""A trained model as one value: its weights, its shape and the characters it knows.

This is what the library hands around instead of three loose values, and what a user of the
library starts from:

    import charrnn
    model = charrnn.load("charrnn.npz")
    print(model.generate_text("ROMEO:", length=200, temperature=0.8))
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

import numpy as np

from charrnn import checkpoint
from charrnn.config import ModelConfig, SampleConfig
from charrnn.generation import sampling
from charrnn.nn.model import Params
from charrnn.vocab import Vocab


class LanguageModel(NamedTuple):
    params: Params  # weights under PyTorch's state-dict names (nn/model.py)
    cfg: ModelConfig
    vocab: Vocab

    @classmethod
    def load(cls, path: str | Path) -> LanguageModel:
        """The best weights of a checkpoint file (CheckpointError if it cannot be read)."""
        return cls.of(checkpoint.load(path))

    @classmethod
    def of(cls, ckpt: checkpoint.Checkpoint) -> LanguageModel:
        """The model a checkpoint holds: its best weights."""
        return cls(ckpt.params, ckpt.model, ckpt.vocab)

    def generate(
        self, sample_cfg: SampleConfig, prime: str = "", num_samples: int = 1, rng: np.random.Generator | None = None
    ) -> Iterator[list[str]]:
        """Each step's new character of every sample, as it is drawn (generation/sampling.py)."""
        return sampling.generate(self, sample_cfg, prime, num_samples, rng)

    def generate_text(self, prime: str = "", length: int = 200, **options) -> str:
        """The text written after `prime` (not including it), `length` characters. The options
        are SampleConfig's: temperature, top_k, top_p, argmax, seed."""
        return "".join(chars[0] for chars in self.generate(SampleConfig(length=length, **options), prime))


def load(path: str | Path) -> LanguageModel:
    """charrnn.load("m.npz"): the model in a checkpoint file."""
    return LanguageModel.load(path)
