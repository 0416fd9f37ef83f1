"""What `Trainer.run()` yields: a `StepEvent` after every optimizer step, an `EvalEvent` after
every validation. Losses are in nats per character, as the model computes them."""

from __future__ import annotations

from dataclasses import dataclass

from charrnn.nn.functional import bits


@dataclass(frozen=True)
class StepEvent:
    step: int  # optimizer steps done, in total
    epoch: float  # passes over the training text
    loss: float  # this window's mean loss, nats per character
    smooth_loss: float
    lr: float
    grad_norm: float  # before clipping
    chars_per_sec: float


@dataclass(frozen=True)
class EvalEvent:
    step: int
    train_loss: float  # smoothed, nats per character
    val_loss: float  # nats per character
    best: bool  # a new best: the checkpoint's weights are now these
    lr: float = 0.0  # the learning rate of the next step
    chars_per_sec: float = 0.0  # training characters per second since the last validation

    @property
    def val_bits(self) -> float:
        return bits(self.val_loss)
