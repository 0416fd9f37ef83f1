"""Broken and hostile checkpoints, made from a good one, for the tests of every command that reads one."""

from __future__ import annotations

import json
import os
import zipfile
from pathlib import Path

import numpy as np

from tests.cli_helpers import checkpoint_arrays, checkpoint_meta


class PickleMarker:
    """Unpickling this creates the directory `path`: proof that loading a file ran code."""

    def __init__(self, path: Path | str):
        self.path = str(path)

    def __reduce__(self):
        return (os.mkdir, (self.path,))


def pickled_marker(path: Path | str) -> np.ndarray:
    """An object array that only `np.load(..., allow_pickle=True)` can read, and that creates `path` then."""
    evil = np.empty(1, dtype=object)
    evil[0] = PickleMarker(path)
    return evil


ERROR_LINE_MAX = 300  # characters of the one error line a bad checkpoint gets, its path included


def save_checkpoint(path: Path, arrays: dict, meta: dict | str) -> Path:
    """A checkpoint of these arrays and this metadata (a dict, or its JSON text as it is)."""
    np.savez(path, **arrays, meta=np.array(meta if isinstance(meta, str) else json.dumps(meta)))
    return path


def with_metadata(good: Path, path: Path, change) -> Path:
    """A copy at path of the checkpoint `good` whose metadata `change(meta)` altered in place."""
    meta = checkpoint_meta(good)
    change(meta)
    return save_checkpoint(path, checkpoint_arrays(good), meta)


def make_bad_checkpoint(kind: str, good: Path, path: Path) -> Path | None:
    """Write a broken checkpoint of the given kind at path; returns the marker for 'pickle'."""
    raw = good.read_bytes()
    arrays = {**checkpoint_arrays(good)}
    meta = checkpoint_meta(good)

    def save(arrays, meta):
        save_checkpoint(path, arrays, meta)

    if kind == "text":
        path.write_text("this is not a checkpoint\n")
    elif kind == "empty":
        path.write_bytes(b"")
    elif kind.startswith("truncated"):
        path.write_bytes(raw[: int(len(raw) * float(kind.split(":")[1]))])
    elif kind == "foreign npz":
        np.savez(path, x=np.arange(3), y=np.ones((2, 2)))
    elif kind == "foreign zip":
        with zipfile.ZipFile(path, "w") as z:
            z.writestr("meta", "{}")
            z.writestr("notes.txt", "hello")
    elif kind == "missing array":
        del arrays["decoder.weight"]
        save(arrays, meta)
    elif kind == "wrong shape":
        arrays["rnn.weight_hh_l0"] = arrays["rnn.weight_hh_l0"][:, :-1]
        save(arrays, meta)
    elif kind == "not floats":
        arrays["decoder.bias"] = np.array(["x"] * len(arrays["decoder.bias"]))
        save(arrays, meta)
    elif kind == "future version":
        save(arrays, {**meta, "format_version": 99, "charrnn_version": "9.0"})
    elif kind == "damaged meta":
        np.savez(path, **arrays, meta=np.array("{not json"))
    elif kind == "foreign meta":
        save(arrays, {**meta, "format": "something-else"})
    elif kind == "incomplete meta":
        del meta["model"]
        save(arrays, meta)
    elif kind == "pickle":
        marker = path.parent / "PWNED"
        evil = pickled_marker(marker)
        np.savez(path, **arrays, meta=np.array(json.dumps(meta)), **{"zz.evil": evil})
        bare = path.with_name("bare.npz")
        np.savez(bare, meta=evil)  # also when the pickled array is the metadata itself
        return marker
    else:
        raise AssertionError(kind)
    return None


# each kind of broken checkpoint and what the error line must say about it
BAD_CHECKPOINTS = {
    "text": "not an .npz",
    "empty": "not an .npz",
    "truncated:0.01": "truncated or damaged",
    "truncated:0.5": "truncated or damaged",
    "truncated:0.999": "truncated or damaged",
    "foreign npz": "not a charrnn checkpoint",
    "foreign zip": "not a charrnn checkpoint",
    "missing array": "missing weights: decoder.weight",
    "wrong shape": "rnn.weight_hh_l0 has shape",
    "not floats": "decoder.bias is not a floating-point array",
    "future version": "this charrnn 0.1.0 reads format 1",
    "damaged meta": "damaged metadata",
    "foreign meta": "not a charrnn checkpoint",
    "incomplete meta": "incomplete or invalid metadata",
    "pickle": "pickled Python objects",
}
