"""The facts `charrnn inspect` shows about a checkpoint, as plain data (also its JSON)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from charrnn.checkpoint import Checkpoint
from charrnn.config import ModelConfig, to_dict
from charrnn.nn.functional import bits
from charrnn.nn.model import num_params


def model_fields(cfg) -> dict[str, Any]:
    """The model's configuration, without what does not apply to its cell (a nonlinearity is the vanilla RNN's)."""
    fields = to_dict(cfg)
    if cfg.cell != "rnn":
        del fields["nonlinearity"]
    return fields


def describe(ckpt: Checkpoint, path: str | Path) -> dict[str, Any]:
    """The facts `charrnn inspect` shows (and prints as JSON), as plain data."""
    p = ckpt.progress
    best = p.get("best_val_loss")
    return {
        "checkpoint": str(path),
        "format_version": ckpt.format_version,  # the file's, and the charrnn that wrote it (None: unknown)
        "writer_version": ckpt.writer_version,
        "model": {**model_fields(ckpt.model), "parameters": num_params(ckpt.params)},
        "vocab": {"size": len(ckpt.vocab), "chars": ckpt.vocab.to_json()},
        "corpus": p.get("corpus", {}),
        "training": {
            "steps": int(p.get("step", 0)),
            "epochs": float(p.get("epoch", 0.0)),
            "elapsed_seconds": float(p.get("elapsed", 0.0)),
            "best_val_bits": None if best is None else bits(best),
            "best_step": int(p.get("best_step", 0)),
            "config": to_dict(ckpt.train),
            "init_from": p.get("init_from"),
        },
        "baselines": p.get("baselines"),
        "history": [
            {
                "step": h["step"],
                "elapsed": h["elapsed"],
                "train_bits": bits(h["train_loss"]),
                "val_bits": bits(h["val_loss"]),
                "lr": h.get("lr"),
            }
            for h in p.get("history", [])
        ],
    }


@dataclass
class Facts:
    """The facts view's result (`charrnn inspect` alone): describe()'s data, and the checkpoint's
    model, which the view names in one line."""

    data: dict[str, Any]
    model: ModelConfig

    def to_dict(self) -> dict[str, Any]:
        return self.data
