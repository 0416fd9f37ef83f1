"""Checkpoints: one self-contained `.npz` per model, written atomically, read without pickle.

Arrays in the file:
- `rnn.weight_ih_l0`, ..., `decoder.bias`: the best weights by validation loss, under PyTorch's
  state-dict names and shapes; these are what `sample` and `inspect` use.
- `last.<name>`: the latest weights, `optim.<slot>.<name>` and `optim.t`: the optimizer,
  `train.state`: the hidden state carried between windows. With the counters in `meta`, they let
  `--resume` continue exactly where training stopped.
- `meta`: one JSON string: format, version, configs, vocabulary, corpus, counters, history.

`np.load(..., allow_pickle=False)` refuses object arrays, so no checkpoint can run code on load.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from charrnn import __version__, files
from charrnn.analysis.baselines import Baselines
from charrnn.config import ModelConfig, TrainConfig, from_dict, to_dict
from charrnn.errors import CharRNNError, CheckpointError, CheckpointWriteError, OutputError
from charrnn.nn.model import Params, param_shapes
from charrnn.vocab import Vocab

FORMAT = "charrnn-checkpoint"
FORMAT_VERSION = 1


@dataclass
class Checkpoint:
    model: ModelConfig
    train: TrainConfig
    vocab: Vocab
    params: Params  # best weights
    progress: dict[str, Any] = field(default_factory=dict)  # counters, history, corpus, rng state
    resume: dict[str, np.ndarray] = field(default_factory=dict)  # last.*, optim.*, train.state
    # read from the file by load(): its format and the charrnn that wrote it (None: not recorded);
    # a checkpoint not read from a file has neither, and save() writes this charrnn's
    format_version: int | None = None
    writer_version: str | None = None

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


STALE_SECONDS = files.STALE_SECONDS  # a temporary file older than this is swept


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


def _read_arrays(path: Path) -> dict[str, np.ndarray]:
    if not path.exists():
        raise CheckpointError(f"no checkpoint at {path}; train one with `charrnn train CORPUS` or pass -c PATH")
    if path.is_dir():
        raise CheckpointError(f"{path} is a directory, not a checkpoint file")
    try:
        npz = is_npz(path)
    except OSError as e:
        raise CheckpointError(f"cannot read the checkpoint {path}: {e.strerror}") from None
    if not npz:
        raise CheckpointError(f"{path} is not a charrnn checkpoint (not an .npz file)")
    try:
        with np.load(path, allow_pickle=False) as npz:
            arrays = {name: npz[name] for name in npz.files}
    except ValueError as e:
        if "allow_pickle" in str(e):
            raise CheckpointError(
                f"{path} holds pickled Python objects, which charrnn refuses to load (they could run code)"
            ) from None
        raise CheckpointError(f"{path} is not a readable checkpoint (damaged): {_one_line(e)}") from None
    except (OSError, zipfile.BadZipFile, EOFError, KeyError) as e:
        raise CheckpointError(f"{path} is not a readable checkpoint (truncated or damaged): {_one_line(e)}") from None
    except MemoryError:  # a damaged header can declare an array of any size
        raise CheckpointError(f"{path} is damaged: it declares arrays larger than memory") from None
    if not all(isinstance(a, np.ndarray) for a in arrays.values()):  # np.load gives bytes for non-.npy members
        raise CheckpointError(f"{path} is a zip archive but not a charrnn checkpoint")
    return arrays


def _one_line(e: Exception) -> str:
    return " ".join(str(e).split())


def _parse_meta(path: Path, arrays: dict[str, np.ndarray]) -> dict[str, Any]:
    raw = arrays.get("meta")
    if raw is None or raw.dtype.kind != "U" or raw.shape != ():
        raise CheckpointError(f"{path} is an .npz file but not a charrnn checkpoint (no metadata)")
    try:
        meta = json.loads(str(raw))
    except json.JSONDecodeError:
        raise CheckpointError(f"{path} has damaged metadata") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise CheckpointError(f"{path} is an .npz file but not a charrnn checkpoint")
    version = meta.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise CheckpointError(
            f"{path} has checkpoint format {version}, written by a newer charrnn "
            f"({meta.get('charrnn_version')}); this charrnn {__version__} reads format {FORMAT_VERSION}: upgrade charrnn"
        )
    return meta


def load(path: str | Path, for_update: bool = False) -> Checkpoint:
    """Read and check a checkpoint: every weight present with the shape its config implies.

    `for_update`: the command will save over it (--resume), the one input it may write.
    """
    path = Path(path)
    files.reading(path, updatable=for_update)
    arrays = _read_arrays(path)
    meta = _parse_meta(path, arrays)
    try:
        model_cfg = from_dict(ModelConfig, _typed(ModelConfig, meta["model"]))
        train_cfg = from_dict(TrainConfig, _typed(TrainConfig, meta["train"]))
        vocab = _vocab(meta["vocab"])
        progress = _progress(meta.get("progress", {}))
    except (KeyError, TypeError, ValueError, CharRNNError) as e:
        raise CheckpointError(f"{path} has incomplete or invalid metadata: {e}") from None
    shapes = param_shapes(model_cfg, len(vocab))
    missing = [k for k in shapes if k not in arrays]
    if missing:
        raise CheckpointError(f"{path} is missing weights: {', '.join(missing)}")
    for name, shape in shapes.items():
        # the best weights, the latest ones and every optimizer slot have the parameter's shape
        for key in [name, f"last.{name}", *(k for k in arrays if k.startswith("optim.") and k.endswith(f".{name}"))]:
            if key in arrays and arrays[key].shape != shape:
                raise CheckpointError(
                    f"{path}: {key} has shape {arrays[key].shape}, but its configuration needs {shape}"
                )
        if not np.issubdtype(arrays[name].dtype, np.floating):
            raise CheckpointError(f"{path}: {name} is not a floating-point array")
    resume = {k: v for k, v in arrays.items() if k.split(".")[0] in ("last", "optim", "train")}
    for key, a in resume.items():  # what --resume will compute with: numbers of the right kind
        if key == "optim.t" and not (a.shape == () and np.issubdtype(a.dtype, np.integer)):
            raise CheckpointError(f"{path}: optim.t is not a step count")
        if key != "optim.t" and not np.issubdtype(a.dtype, np.floating):
            raise CheckpointError(f"{path}: {key} is not a floating-point array")
    params = {k: np.ascontiguousarray(arrays[k], dtype=np.float32) for k in shapes}
    writer = meta.get("charrnn_version")  # files before it was recorded have none
    versions = {"format_version": meta["format_version"], "writer_version": writer if isinstance(writer, str) else None}
    return Checkpoint(model_cfg, train_cfg, vocab, params, progress, resume, **versions)


ANNOTATION_TYPES = {"int": (int,), "float": (int, float), "str": (str,), "bool": (bool,), "None": (type(None),)}


def _typed(cls: type, data: dict[str, Any]) -> dict[str, Any]:
    """Config values of their field's annotated type (a number for a float, an int for an int):
    a damaged or foreign file must not build a model of 8.5 units."""
    if not isinstance(data, dict):
        raise TypeError(f"{cls.__name__} is not a JSON object")
    annotations = {f.name: str(f.type) for f in dataclasses.fields(cls)}
    for key, value in data.items():
        names = [t.strip() for t in annotations.get(key, "").split("|")]
        if not all(n in ANNOTATION_TYPES for n in names):
            continue  # unknown fields are from_dict's to refuse
        want = tuple(t for n in names for t in ANNOTATION_TYPES[n])
        if (isinstance(value, bool) and bool not in want) or not isinstance(value, want):
            raise TypeError(f"{cls.__name__}.{key} is {value!r}")
    return data


def _vocab(chars: Any) -> Vocab:
    if not isinstance(chars, list) or not all(isinstance(c, str) and len(c) == 1 for c in chars):
        raise TypeError("the vocabulary is not a list of single characters")
    if len(set(chars)) != len(chars):
        raise ValueError("the vocabulary repeats characters")
    return Vocab(chars)


PROGRESS_NUMBERS = ("step", "epoch", "elapsed", "smooth_loss", "best_step")
HISTORY_NUMBERS = ("step", "elapsed", "train_loss", "val_loss")


def _progress(progress: Any) -> dict[str, Any]:
    """The training record, checked just enough that inspect and --resume can read it."""

    def number(x: Any) -> bool:
        return isinstance(x, (int, float)) and not isinstance(x, bool)

    if not isinstance(progress, dict):
        raise TypeError("the training record is not a JSON object")
    bad = [k for k in PROGRESS_NUMBERS if k in progress and not number(progress[k])]
    if progress.get("best_val_loss") is not None and not number(progress["best_val_loss"]):
        bad.append("best_val_loss")
    history = progress.get("history", [])
    if not isinstance(history, list) or not all(
        isinstance(h, dict) and all(number(h.get(k)) for k in HISTORY_NUMBERS) for h in history
    ):
        bad.append("history")
    corpus = progress.get("corpus", {})
    if not isinstance(corpus, dict) or not (
        all(number(corpus.get(k, 0)) for k in ("bytes", "chars"))
        and all(isinstance(corpus.get(k, ""), str) for k in ("name", "sha256"))
    ):
        bad.append("corpus")
    if progress.get("baselines") is not None:
        try:
            Baselines.from_dict(progress["baselines"])
        except (TypeError, ValueError):
            bad.append("baselines")
    if not isinstance(progress.get("init_from"), (dict, type(None))):
        bad.append("init_from")
    if not isinstance(progress.get("lead_in"), (str, type(None))):
        bad.append("lead_in")
    boundary = corpus.get("boundary") if isinstance(corpus, dict) else None
    if boundary is not None and not (isinstance(boundary, str) and len(boundary) == 1):
        bad.append("corpus")
    if bad:
        raise ValueError(f"damaged training record: {', '.join(bad)}")
    return dict(progress)
