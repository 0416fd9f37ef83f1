"""Configuration: frozen dataclasses that are checked on creation and saved in every checkpoint.

`ModelConfig` fixes the network's shape, `TrainConfig` how it learns, `SampleConfig` how text is
drawn from it. Each field's comment gives its unit or the reason for its default. The CLI maps its
options one to one onto these fields; a checkpoint stores `to_dict()` of the first two.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, TypeVar

from charrnn.errors import ConfigError

CELLS = ("rnn", "lstm", "gru")
OPTIMIZERS = ("adam", "rmsprop", "adagrad", "sgd")
NONLINEARITIES = ("tanh", "relu")
SCHEDULES = ("step", "cosine", "plateau")


def _require(ok: bool, message: str) -> None:
    if not ok:
        raise ConfigError(message)


@dataclass(frozen=True)
class ModelConfig:
    cell: str = "lstm"  # rnn | lstm | gru
    hidden_size: int = 256  # units per layer
    num_layers: int = 2  # stacked recurrent layers
    dropout: float = 0.1  # between layers while training only, as torch.nn.LSTM(dropout=...)
    nonlinearity: str = "tanh"  # vanilla RNN only: tanh | relu

    def __post_init__(self) -> None:
        _require(self.cell in CELLS, f"cell must be one of {', '.join(CELLS)}, not {self.cell!r}")
        _require(self.hidden_size >= 1, f"hidden size must be at least 1, not {self.hidden_size}")
        _require(self.num_layers >= 1, f"number of layers must be at least 1, not {self.num_layers}")
        _require(0.0 <= self.dropout < 1.0, f"dropout must be in [0, 1), not {self.dropout}")
        _require(
            self.nonlinearity in NONLINEARITIES,
            f"nonlinearity must be tanh or relu, not {self.nonlinearity!r}",
        )


@dataclass(frozen=True)
class TrainConfig:
    seq_len: int = 64  # characters per truncated-BPTT window
    batch_size: int = 32  # parallel contiguous streams through the corpus
    optimizer: str = "adam"  # adam | rmsprop | adagrad | sgd
    lr: float = 2e-3  # Adam's sweet spot for char models of this size
    momentum: float = 0.9  # sgd only
    lr_decay: float = 0.9  # multiply the learning rate by this ...
    lr_decay_every: int = 2000  # ... every this many steps (step decay)
    grad_clip: float = 5.0  # global gradient norm cap; 0 disables clipping
    val_fraction: float = 0.05  # held-out tail of the corpus
    eval_every: int = 250  # steps between validations (and checkpoint saves)
    eval_chars: int = 100_000  # at most this many validation characters per evaluation
    epochs: float | None = None  # stop after this many passes over the training text
    max_steps: int | None = None  # stop after this many optimizer steps
    max_time: float | None = 600.0  # stop after this many seconds of training
    seed: int = 0  # weights, dropout and anything else random
    lr_schedule: str = "step"  # step (decay) | cosine (to min_lr_ratio) | plateau (reduce on plateau)
    warmup_steps: int = 0  # linear warm-up to lr over this many steps, before any schedule
    min_lr_ratio: float = 0.1  # cosine ends at lr * this (nanoGPT's min_lr = lr / 10)
    cosine_steps: int | None = None  # steps the cosine decays over; default: the step or epoch limit
    plateau_factor: float = 0.5  # plateau: multiply the learning rate by this ...
    plateau_patience: int = 2  # ... after this many validations without a better loss
    patience: int | None = 10  # stop after this many validations without a better loss (None: never)

    def __post_init__(self) -> None:
        _require(self.seq_len >= 1, f"sequence length must be at least 1, not {self.seq_len}")
        _require(self.batch_size >= 1, f"batch size must be at least 1, not {self.batch_size}")
        _require(
            self.optimizer in OPTIMIZERS,
            f"optimizer must be one of {', '.join(OPTIMIZERS)}, not {self.optimizer!r}",
        )
        _require(self.lr > 0, f"learning rate must be positive, not {self.lr}")
        _require(0.0 <= self.momentum < 1.0, f"momentum must be in [0, 1), not {self.momentum}")
        _require(0.0 < self.lr_decay <= 1.0, f"lr decay must be in (0, 1], not {self.lr_decay}")
        _require(self.lr_decay_every >= 1, "lr decay interval must be at least 1 step")
        _require(self.grad_clip >= 0, f"gradient clip must be 0 (off) or positive, not {self.grad_clip}")
        _require(
            0.0 < self.val_fraction < 1.0,
            f"validation fraction must be between 0 and 1 (exclusive), not {self.val_fraction}",
        )
        _require(self.eval_every >= 1, f"evaluation interval must be at least 1, not {self.eval_every}")
        _require(self.eval_chars >= 2, f"evaluation size must be at least 2, not {self.eval_chars}")
        _require(self.epochs is None or self.epochs > 0, f"epochs must be positive, not {self.epochs}")
        _require(
            self.max_steps is None or self.max_steps >= 1,
            f"max steps must be at least 1, not {self.max_steps}",
        )
        _require(
            self.max_time is None or self.max_time > 0,
            f"max time must be positive, not {self.max_time}",
        )
        _require(
            self.lr_schedule in SCHEDULES,
            f"learning-rate schedule must be one of {', '.join(SCHEDULES)}, not {self.lr_schedule!r}",
        )
        _require(self.warmup_steps >= 0, f"warm-up steps must be 0 or more, not {self.warmup_steps}")
        _require(0.0 <= self.min_lr_ratio <= 1.0, f"minimum lr ratio must be in [0, 1], not {self.min_lr_ratio}")
        _require(
            self.cosine_steps is None or self.cosine_steps >= 1,
            f"cosine steps must be at least 1, not {self.cosine_steps}",
        )
        _require(0.0 < self.plateau_factor < 1.0, f"plateau factor must be in (0, 1), not {self.plateau_factor}")
        _require(self.plateau_patience >= 1, f"plateau patience must be at least 1, not {self.plateau_patience}")
        _require(self.patience is None or self.patience >= 1, f"patience must be at least 1, not {self.patience}")


@dataclass(frozen=True)
class SampleConfig:
    length: int = 1000  # characters to generate after the prime text
    temperature: float = 1.0  # softmax(logits / temperature); lower is more conservative
    top_k: int | None = None  # keep only the k most likely characters
    top_p: float | None = None  # keep the smallest set whose probability reaches p (nucleus)
    argmax: bool = False  # always take the most likely character
    seed: int | None = None  # None draws fresh entropy
    beam: int | None = None  # beam search with this many hypotheses: the most probable text, not a draw
    best_of: int | None = None  # draw this many samples as one batch and keep the best by bits per character
    # novelty: spans of the sample found verbatim in the training corpus count as copied from
    # this length on; about four English words, which text that copies nothing rarely reaches
    # (1 % of README prose against the Shakespeare corpus, against 20 % at 10 characters)
    min_copy: int = 20

    def __post_init__(self) -> None:
        _require(self.length >= 0, f"length must be 0 or more, not {self.length}")
        _require(self.temperature > 0, f"temperature must be positive, not {self.temperature}")
        _require(self.min_copy >= 1, f"min-copy must be at least 1, not {self.min_copy}")
        _require(self.beam is None or self.beam >= 1, f"beam width must be at least 1, not {self.beam}")
        _require(self.best_of is None or self.best_of >= 1, f"best-of must be at least 1, not {self.best_of}")
        if self.beam is not None:  # a search, not a draw: nothing here shapes a distribution to draw from
            drawn = [
                n
                for n, v in [
                    ("temperature", self.temperature != 1.0),
                    ("top-k", self.top_k),
                    ("top-p", self.top_p),
                    ("argmax", self.argmax),
                    ("best-of", self.best_of),
                ]
                if v
            ]
            _require(
                not drawn, f"beam search takes the model's own probabilities and draws nothing: drop {', '.join(drawn)}"
            )
        _require(not (self.best_of and self.argmax), "best-of compares draws; argmax draws the same text every time")
        _require(self.top_k is None or self.top_k >= 1, f"top-k must be at least 1, not {self.top_k}")
        _require(
            self.top_p is None or 0.0 < self.top_p <= 1.0,
            f"top-p must be in (0, 1], not {self.top_p}",
        )


C = TypeVar("C", ModelConfig, TrainConfig, SampleConfig)


def to_dict(cfg: Any) -> dict[str, Any]:
    return dataclasses.asdict(cfg)


def from_dict(cls: type[C], data: dict[str, Any]) -> C:
    """Rebuild a config, rejecting unknown keys so a foreign or future checkpoint is noticed."""
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - names)
    _require(not unknown, f"unknown {cls.__name__} fields: {', '.join(unknown)}")
    return cls(**data)
