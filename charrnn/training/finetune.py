"""Fine-tuning: a new run that starts from a trained model's weights, on another text.

The two texts' vocabularies differ in general, and ids are positions in a sorted list, so the
same id can mean another character in each (the index mix-up that garbles a fine-tuned model
silently). Weights are therefore matched by character: the new vocabulary is the union of the
two, each character the model knew keeps its input column and output row, and each character
it never saw gets the column and row a new model would have drawn.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np

from charrnn.config import ModelConfig, TrainConfig
from charrnn.errors import ShapeKept
from charrnn.nn.model import REVERSE, Params, layer_keys
from charrnn.vocab import Vocab

SHAPE = ("cell", "hidden_size", "num_layers", "nonlinearity", "bidirectional")  # what fine-tuning keeps from its model


def configs(
    model: ModelConfig, train: TrainConfig, model_given: dict[str, Any], train_given: dict[str, Any]
) -> tuple[ModelConfig, TrainConfig]:
    """A fine-tuning run's configs: its model's, with the settings given on top; a shape that
    differs from the model's is refused (ShapeKept)."""
    changed = {k: (getattr(model, k), v) for k, v in model_given.items() if k in SHAPE and getattr(model, k) != v}
    if changed:
        raise ShapeKept(changed)
    return replace(model, **model_given), replace(train, **train_given)


def joint_vocab(old: Vocab, text_chars: list[str]) -> tuple[Vocab, list[str]]:
    """The vocabulary to fine-tune with, and the characters in it that the model never saw."""
    new = old.missing("".join(text_chars))
    return (Vocab(old.chars + new) if new else old), new


def transplant(old: Params, old_vocab: Vocab, fresh: Params, new_vocab: Vocab) -> Params:
    """`fresh` (a new model's weights over new_vocab) with every weight of `old` copied in.

    The vocabulary-sized axes, the input columns of layer 0 and the decoder's rows, are matched
    by character; every other weight is the old one as it is.
    """
    at = new_vocab.encode("".join(old_vocab.chars)).astype(np.intp)  # old id -> new id
    inputs = [k for k in (layer_keys(0)[0], layer_keys(0, REVERSE)[0]) if k in old]  # each stack's layer 0
    params = {k: old[k].copy() for k in old}
    for key, axis in (*((k, 1) for k in inputs), ("decoder.weight", 0), ("decoder.bias", 0)):
        p = fresh[key].copy()
        if axis == 1:
            p[:, at] = old[key]
        else:
            p[at] = old[key]
        params[key] = p
    return params
