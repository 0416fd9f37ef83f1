"""Batching for truncated BPTT: a training/validation split and B contiguous streams of (B, T) windows."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np

from charrnn.errors import DataError, TooShort


def _least_length(need: int, val_fraction: float) -> int:
    """The shortest corpus whose split leaves `need` training and 2 validation characters.

    Found by bisection in exact arithmetic (the split keeps floor(n * f) characters, and both
    shares only grow with n), so any fraction, however small, takes about a thousand steps.
    """
    f = Fraction(val_fraction)

    def fits(n: int) -> bool:
        n_val = math.floor(n * f)
        return n - n_val >= need and n_val >= 2

    lo, hi = 1, math.ceil(2 / f) + math.ceil(need / (1 - f)) + 2  # hi fits: n f >= 2 and n (1 - f) >= need + 1
    while lo < hi:
        mid = (lo + hi) // 2
        lo, hi = (lo, mid) if fits(mid) else (mid + 1, hi)
    return lo


def split(
    ids: np.ndarray, val_fraction: float, batch_size: int, seq_len: int, held_out: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Split into a training head and a held-out validation tail, checking both are usable.

    The tail is `held_out` ids when the corpus says where its held-out documents start, else
    the `val_fraction` share.
    """
    n = len(ids)
    n_val = held_out or int(n * val_fraction)
    need = batch_size * seq_len + 1  # one (B, T) window and the target after it
    if n - n_val >= need and n_val >= 2:
        return ids[: n - n_val], ids[n - n_val :]
    minimum = _least_length(need, val_fraction)
    settings = {"batch_size": batch_size, "seq_len": seq_len, "val_fraction": val_fraction}
    if n >= need + 2 and n_val < 2:  # some other fraction would do
        raise TooShort(
            f"validation fraction {val_fraction} leaves {n_val} of the corpus's {n} characters for validation, "
            f"and at least 2 are needed (a text of at least {_count(minimum)} characters would do)",
            n,
            minimum,
            settings,
            "validation",
        )
    if n >= need + 2:
        raise TooShort(
            f"validation fraction {val_fraction} leaves {n - n_val} of the corpus's {n} characters for training, "
            f"and one batch of {batch_size} x {seq_len} needs {need}",
            n,
            minimum,
            settings,
            "training",
        )
    raise TooShort(
        f"the corpus has {n} characters, too few for batch size {batch_size} x sequence length {seq_len} "
        f"with validation fraction {val_fraction}: it needs at least {_count(minimum)}",
        n,
        minimum,
        settings,
    )


def _count(n: int) -> str:
    return str(n) if n < 10**15 else f"10^{len(str(n)) - 1}"


class Streams:
    """A text cut into B contiguous streams, read as consecutive (B, T) windows.

    Stream b is the b-th of B equal slices of the text, so window k of every stream continues
    where window k-1 ended, and the hidden state carried between windows is the right context.

    Given a `seed`, every epoch after the first starts the streams at another offset into the
    text, read as a circle (its end runs on into its start): the windows, the characters each
    stream starts from blank and the places where the gradient is cut all move, so the epochs are
    not the same windows over and over. The offset of epoch e is drawn from (seed, e) alone, so a
    run resumed at any step reads what the uninterrupted one would. Without a seed, and in the
    first epoch, the offset is 0.
    """

    def __init__(self, ids: np.ndarray, batch_size: int, seq_len: int, seed: int | None = None):
        length = (len(ids) - 1) // batch_size
        if length < 1:
            raise DataError(f"text of {len(ids)} characters is too short for {batch_size} streams")
        self.ids, self.seed, self.length = ids, seed, length
        self.seq_len = min(seq_len, length)
        self.x = ids[: batch_size * length].reshape(batch_size, length)
        self.y = ids[1 : batch_size * length + 1].reshape(batch_size, length)
        self.n_windows = length // self.seq_len

    def offset(self, epoch: int) -> int:
        """Where the first stream starts in `epoch`: 0, or drawn from the seed and the epoch."""
        if self.seed is None or epoch == 0:
            return 0
        return int(np.random.default_rng((self.seed, epoch)).integers(len(self.ids) - 1))

    def window(self, k: int, rows: slice = slice(None), epoch: int = 0) -> tuple[np.ndarray, np.ndarray]:
        """Inputs and targets of window k of `epoch`, both (B, T) intp; of some streams only, given `rows`."""
        T, at = self.seq_len, self.offset(epoch)
        if at == 0:
            s = slice(k * T, (k + 1) * T)
            return np.asarray(self.x[rows, s], dtype=np.intp), np.asarray(self.y[rows, s], dtype=np.intp)
        starts = at + self.length * np.arange(self.x.shape[0])[rows] + k * T
        p = (starts[:, None] + np.arange(T)) % (len(self.ids) - 1)  # (B, T): ids[p] -> ids[p + 1]
        return np.asarray(self.ids[p], dtype=np.intp), np.asarray(self.ids[p + 1], dtype=np.intp)
