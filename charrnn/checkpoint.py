"""Checkpoints: one self-contained `.npz` per model, written atomically, read without pickle.

Arrays in the file:
- `rnn.weight_ih_l0`, ..., `decoder.bias`: the best weights by validation loss, under PyTorch's
  state-dict names and shapes; these are what `sample` and `inspect` use.
- `last.<name>`: the latest weights, `optim.<slot>.<name>` and `optim.t`: the optimizer,
  `train.state`: the hidden state carried between windows. With the counters in `meta`, they let
  a resumed run continue exactly where training stopped.
- `meta`: one JSON string: format, version, configs, vocabulary, corpus, counters, history.

`np.load(..., allow_pickle=False)` refuses object arrays, so no checkpoint can run code on load.
"""

from __future__ import annotations

import contextlib
import json
import os
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from charrnn import __version__, files, metadata, npz
from charrnn.config import ModelConfig, TrainConfig, to_dict
from charrnn.errors import CheckpointError, CheckpointMissing, CheckpointWriteError, OutputError
from charrnn.metadata import FORMAT, FORMAT_VERSION
from charrnn.nn.functional import bits
from charrnn.nn.model import Params, num_params, param_shapes, zero_state_shape
from charrnn.nn.optim import SLOTS
from charrnn.vocab import Vocab


@dataclass
class Checkpoint:
    model: ModelConfig
    train: TrainConfig
    vocab: Vocab
    params: Params  # best weights
    progress: dict[str, Any] = field(default_factory=dict)  # the training record as the file holds it
    resume: dict[str, np.ndarray] = field(default_factory=dict)  # last.*, optim.*, train.state
    # read from the file by load(): its format and the charrnn that wrote it (None: not recorded);
    # a checkpoint not read from a file has neither, and save() writes this charrnn's
    format_version: int | None = None
    writer_version: str | None = None

    @cached_property
    def record(self) -> metadata.TrainingRecord:
        """The training record, typed: metadata.py parses it, and everything else reads its fields."""
        return metadata.parse_record(self.progress)

    def to_dict(self, path: str | Path) -> dict[str, Any]:
        """The facts `charrnn inspect` shows of the checkpoint read from `path`, as plain data (its
        JSON: docs/json.md)."""
        r = self.record
        return {
            "checkpoint": str(path),
            "format_version": self.format_version,  # the file's, and the charrnn that wrote it (None: unknown)
            "writer_version": self.writer_version,
            "model": {**model_fields(self.model), "parameters": num_params(self.params)},
            "vocab": {"size": len(self.vocab), "chars": self.vocab.to_json()},
            "corpus": r.corpus.to_dict(),
            "training": {
                "steps": r.step,
                "epochs": r.epoch,
                "elapsed_seconds": r.elapsed,
                "best_val_bits": None if r.best_val_loss is None else bits(r.best_val_loss),
                "best_step": r.best_step,
                "config": to_dict(self.train),
                "init_from": None if r.init_from is None else r.init_from.to_dict(),
            },
            "baselines": None if r.baselines is None else r.baselines.to_dict(),
            "history": [
                {
                    "step": h.step,
                    "elapsed": h.elapsed,
                    "train_bits": bits(h.train_loss),
                    "val_bits": bits(h.val_loss),
                    "lr": h.lr,
                }
                for h in r.history
            ],
        }

    def meta(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "charrnn_version": __version__,
            "model": to_dict(self.model),
            "train": to_dict(self.train),
            "vocab": self.vocab.to_json(),
            "progress": self.progress,
        }


def model_fields(cfg: ModelConfig) -> dict[str, Any]:
    """The model's configuration, without what does not apply to its cell (a nonlinearity is the vanilla RNN's)."""
    fields = to_dict(cfg)
    if cfg.cell != "rnn":
        del fields["nonlinearity"]
    return fields


LAST, OPTIM, CARRIED = "last.", "optim.", "train.state"  # the members that continue a run


def resume_arrays(last: Params, optim_state: dict[str, np.ndarray], carried: np.ndarray) -> dict[str, np.ndarray]:
    """The members that let a run continue exactly: latest weights, optimizer, carried state."""
    arrays = {LAST + k: p for k, p in last.items()}
    arrays.update({OPTIM + k: v for k, v in optim_state.items()})
    arrays[CARRIED] = carried
    return arrays


def from_resume(resume: dict[str, np.ndarray], names, slots) -> tuple[Params, dict[str, np.ndarray], np.ndarray]:
    """resume_arrays() read back: the latest weights under `names`, the optimizer's `slots` (its
    state's keys), the carried state. Raises KeyError for a member the checkpoint lacks."""
    last = {k: resume[LAST + k].astype(np.float32) for k in names}
    optim_state = {k: resume[OPTIM + k].copy() for k in slots}
    return last, optim_state, resume[CARRIED].astype(np.float32)


def check_writable(path: str | Path) -> None:
    """Fail now, not after hours of training, if a checkpoint cannot be written at `path`
    (files.check_target: also sweeps the temporary files of writers killed mid-save)."""
    with _checkpoint_errors():
        files.check_target(path)


def save(ckpt: Checkpoint, path: str | Path, expect: str | files.Identity | None = files.ANY) -> files.Identity:
    """Write atomically through files.write: a crash, signal or full disk at any moment leaves
    either the old file or the new one, never a mix. `expect` is the file the caller means to
    replace (files.NEW: none); returns the identity of the file written, for the next save.
    """
    arrays = {**ckpt.params, **ckpt.resume, "meta": np.array(json.dumps(ckpt.meta()))}
    with _checkpoint_errors():
        return files.write(path, lambda f: np.savez(f, **arrays), expect)


@contextlib.contextmanager
def _checkpoint_errors():
    try:
        yield
    except OutputError as e:
        message = str(e).replace("cannot write ", "cannot write the checkpoint ", 1)
        raise CheckpointWriteError(message, e.path, e.kind) from None


def is_npz(path: str | Path) -> bool:
    """Whether a file starts as every .npz does, as a zip archive. Raises OSError if unreadable."""
    with open(path, "rb") as f:
        return f.read(4) == b"PK\x03\x04"


def _check_file(path: Path) -> None:
    try:
        os.stat(path)
    except FileNotFoundError:
        pass
    except OSError as e:  # a name too long, a loop of links, a directory that cannot be searched
        raise CheckpointError(f"cannot read the checkpoint {files.display(path)}: {e.strerror}") from None
    if not path.exists():
        raise CheckpointMissing(path)
    if path.is_dir():
        raise CheckpointError(f"{path} is a directory, not a checkpoint file")
    try:
        zipped = is_npz(path)
    except OSError as e:
        raise CheckpointError(f"cannot read the checkpoint {path}: {e.strerror}") from None
    if not zipped:
        raise CheckpointError(f"{path} is not a charrnn checkpoint (not an .npz file)")


def load(path: str | Path, for_update: bool = False) -> Checkpoint:
    """Read and check a checkpoint, refusing a damaged or hostile one before it can cost memory.

    Only the members the format defines are read, and each only once the metadata (parsed
    strictly, within bounds) implies its dtype and shape and the zip directory declares exactly
    that size (npz.Archive); other members are never decompressed. Weights must be finite.
    `for_update`: the command will save over it (a resumed run), the one input it may write.
    """
    path = Path(path)
    files.reading(path, updatable=for_update)  # the running command's inputs (files/inputs.py says why implicit)
    _check_file(path)
    try:
        with npz.Archive(path) as archive:
            meta = metadata.parse(archive)
            model_cfg, train_cfg, vocab, record = metadata.configs(meta, len(archive.members))
            shapes = param_shapes(model_cfg, len(vocab))
            expected = _members(shapes, model_cfg, train_cfg)
            _check_present(archive, expected, shapes)
            arrays = {k: archive.read(k, kinds, shape) for k, (kinds, shape) in expected.items() if k in archive}
    except npz.ArchiveError as e:
        raise CheckpointError(f"{path}: {e}") from None
    except metadata.MetadataError as e:
        raise CheckpointError(f"{path} {e}") from None
    for key, a in arrays.items():
        if a.dtype.kind == "f" and not np.isfinite(a).all():
            raise CheckpointError(f"{path}: {key} holds NaN or infinite values; the checkpoint is damaged")
    params = {k: np.ascontiguousarray(arrays[k], dtype=np.float32) for k in shapes}
    resume = {k: a for k, a in arrays.items() if k not in shapes}
    writer = meta.get("charrnn_version")  # files before it was recorded have none
    versions = {"format_version": meta["format_version"], "writer_version": writer if isinstance(writer, str) else None}
    ckpt = Checkpoint(model_cfg, train_cfg, vocab, params, dict(meta.get("progress", {})), resume, **versions)
    ckpt.record = record  # parsed once, above
    return ckpt


def _members(shapes: dict, model_cfg: ModelConfig, train_cfg: TrainConfig) -> dict[str, tuple[str, tuple]]:
    """Every member the format defines for these configs: name -> (dtype kinds, shape)."""
    members = {k: ("f", shape) for k, shape in shapes.items()}
    members.update({LAST + k: ("f", shape) for k, shape in shapes.items()})
    for slot in SLOTS[train_cfg.optimizer]:
        members.update({f"{OPTIM}{slot}.{k}": ("f", shape) for k, shape in shapes.items()})
    members[OPTIM + "t"] = ("iu", ())
    members[CARRIED] = ("f", zero_state_shape(model_cfg, train_cfg.batch_size))
    return members


def _check_present(archive: npz.Archive, expected: dict, best: dict) -> None:
    """The best weights must all be there; a member holding pickled objects is refused by its
    header alone, wherever it is; members the format does not define are never read further."""
    for name in archive.members:
        if name not in expected and archive.header(name).dtype.hasobject:
            raise npz.ArchiveError(f"{name} holds pickled Python objects, which charrnn refuses to load")
    missing = [k for k in best if k not in archive]
    if missing:
        shown = ", ".join(missing[:6]) + (f" and {len(missing) - 6} more" if len(missing) > 6 else "")
        raise npz.ArchiveError(f"missing weights: {shown}")
