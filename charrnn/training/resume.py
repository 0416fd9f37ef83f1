"""What continuing a run may not change, checked in one place: by the command line before it
reads the corpus, and by the Trainer when it restores a checkpoint.

The model's shape cannot change (the weights would not fit). Neither can the settings that
decide the data windows, the validation set or the random stream: the run would no longer
continue exactly, and its "best" weights would be judged on another set.
"""

from __future__ import annotations

import dataclasses

from charrnn.checkpoint import Checkpoint
from charrnn.config import ModelConfig, TrainConfig
from charrnn.data.corpus import Corpus
from charrnn.errors import ResumeMismatch
from charrnn.vocab import Vocab

FIXED = ("seq_len", "batch_size", "optimizer", "val_fraction", "eval_chars", "seed", "epoch_offsets")  # of TrainConfig


def check_resumable(ckpt: Checkpoint, model_cfg: ModelConfig, train_cfg: TrainConfig, vocab: Vocab | None = None):
    """Raise ResumeMismatch, with each setting's two values, if continuing `ckpt` would change one."""
    changes = {
        f.name: (getattr(ckpt.model, f.name), getattr(model_cfg, f.name))
        for f in dataclasses.fields(ModelConfig)
        if getattr(ckpt.model, f.name) != getattr(model_cfg, f.name)
    }
    changes.update(
        {
            k: (getattr(ckpt.train, k), getattr(train_cfg, k))
            for k in FIXED
            if getattr(ckpt.train, k) != getattr(train_cfg, k)
        }
    )
    other_vocab = vocab is not None and vocab != ckpt.vocab
    if changes or other_vocab:
        raise ResumeMismatch(changes, other_vocab)


def other_corpus(ckpt: Checkpoint, corpus: Corpus) -> dict | None:
    """The corpus `ckpt` records, if `corpus` is another text (by SHA-256; a checkpoint that
    recorded none is not judged), else None. Continuing on another text is fine-tuning: its
    validation set is another, so the best weights, their loss and the learning curve, which were
    judged on the old one, cannot carry over."""
    recorded = ckpt.record.corpus
    return recorded.to_dict() if recorded.sha256 and recorded.sha256 != corpus.sha256 else None
