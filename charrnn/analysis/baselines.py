"""Baselines that say whether a loss is good: uniform, unigram, and a Kneser-Ney character n-gram.

All three are measured in bits per character on the same validation text as the network, and
estimated from the training text (at most `TRAIN_CHARS` of it, its head, so that a large corpus
still costs seconds). The n-gram model is a window with no memory beyond n - 1 characters; what
the network does better than it is what its recurrent memory adds.

The n-gram model is interpolated Kneser-Ney (Chen & Goodman 1998, eq. for "interpolated KN"),
with one absolute discount per order, D = n1 / (n1 + 2 n2) (Ney et al. 1994):

    P_k(w | h) = max(c_k(hw) - D_k, 0) / c_k(h)  +  D_k T_k(h) / c_k(h) * P_{k-1}(w | h')

where h' is h without its first character, c_k(h) = sum_w c_k(hw), T_k(h) = #{w : c_k(hw) > 0},
and P_0 = 1 / V. The highest order counts occurrences; every lower order counts continuations,
c_k(hw) = #{a : c(a hw) > 0}, the number of distinct characters seen before hw. An unseen context
(c_k(h) = 0) leaves the lower order's probability as it is. The order is chosen on the
validation text, from 1 to `MAX_ORDER`.

n-grams are numbered without hashing: the k-grams' ids are the ranks of the keys
(id of the (k-1)-gram prefix) * V + last character, so the keys stay below N * V for any vocabulary.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields

import numpy as np

MAX_ORDER = 7  # longest n-gram tried (6 characters of context)
TRAIN_CHARS = 2_000_000  # at most this much training text is counted: a few seconds


@dataclass(frozen=True)
class Baselines:
    uniform: float  # bits/char of guessing: log2 V
    unigram: float  # bits/char of the add-one character frequencies
    ngram: float  # bits/char of the best Kneser-Ney order
    order: int  # that order (n characters: n - 1 of context)
    by_order: tuple[float, ...]  # bits/char of orders 1, 2, ..., MAX_ORDER
    train_chars: int  # training characters counted (the head of the training text)
    train_total: int  # the training text's length
    val_chars: int  # validation characters scored

    def to_dict(self) -> dict:
        return {**asdict(self), "by_order": list(self.by_order)}

    @classmethod
    def from_dict(cls, data: dict) -> Baselines:
        """Rebuild from to_dict(); a damaged record raises TypeError or ValueError."""
        if not isinstance(data, dict) or set(data) != {f.name for f in fields(cls)}:
            raise ValueError("the baselines record is not one")
        by_order = data["by_order"]
        numbers = [v for k, v in data.items() if k != "by_order"] + (by_order if isinstance(by_order, list) else [None])
        if not all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in numbers):
            raise ValueError("the baselines record holds a value that is not a finite number")
        return cls(**{**data, "by_order": tuple(by_order)})


@dataclass
class _Table:
    """The distinct k-grams of a text: keys sorted, and per k-gram its prefix and last character."""

    keys: np.ndarray  # (U,) int64: prefix id * V + last id
    at: np.ndarray  # (N - k + 1,) intp: the id of the k-gram starting at each position
    counts: np.ndarray  # (U,) occurrences
    prefix: np.ndarray  # (U,) id of the (k-1)-gram before the last character
    suffix: np.ndarray  # (U,) id of the (k-1)-gram after the first character (k > 1)


def _tables(x: np.ndarray, V: int, k_max: int) -> list[_Table]:
    """The k-gram tables of text x for k = 1 .. k_max (fewer when x is shorter)."""
    tables: list[_Table] = []
    prev_at = np.zeros(len(x) + 1, np.int64)  # every position starts the one empty 0-gram
    for k in range(1, min(k_max, len(x)) + 1):
        key = prev_at[: len(x) - k + 1] * V + x[k - 1 :]
        keys, first, at = np.unique(key, return_index=True, return_inverse=True)
        prefix = keys // V
        suffix = prev_at[first + 1] if k > 1 else np.zeros(len(keys), np.int64)
        tables.append(_Table(keys, at.ravel(), np.bincount(at.ravel(), minlength=len(keys)), prefix, suffix))
        prev_at = at.ravel()
    return tables


def _lookup(tables: list[_Table], v: np.ndarray, V: int) -> list[np.ndarray]:
    """For k = 1 .. len(tables): the id of each k-gram of v in the training table, -1 if unseen.

    Entry k-1 is indexed by the k-gram's start, (len(v) - k + 1,).
    """
    found, prev = [], np.zeros(len(v) + 1, np.int64)
    for k, t in enumerate(tables, start=1):
        key = prev[: len(v) - k + 1] * V + v[k - 1 :]
        i = np.minimum(np.searchsorted(t.keys, key), len(t.keys) - 1)
        ids = np.where((t.keys[i] == key) & (prev[: len(v) - k + 1] >= 0), i, -1)
        found.append(ids)
        prev = ids
    return found


def _discount(c: np.ndarray) -> float:
    n1, n2 = np.count_nonzero(c == 1), np.count_nonzero(c == 2)
    return float(n1 / (n1 + 2 * n2)) if n1 + 2 * n2 else 0.5


def _interpolate(
    lower: np.ndarray, c: np.ndarray, table: _Table, n_contexts: int, ctx: np.ndarray, gram: np.ndarray
) -> np.ndarray:
    """P_k at each scored position from P_{k-1} (`lower`), with counts c of the k-grams.

    ctx: (M,) the context's id among the (k-1)-grams (-1 unseen); gram: (M,) the k-gram's id (-1 unseen).
    """
    D = _discount(c[c > 0])
    total = np.bincount(table.prefix, weights=c, minlength=n_contexts)  # c_k(h)
    types = np.bincount(table.prefix, weights=c > 0, minlength=n_contexts)  # T_k(h)
    seen = ctx >= 0
    c_h = np.where(seen, total[np.maximum(ctx, 0)], 0.0)
    c_hw = np.where(gram >= 0, c[np.maximum(gram, 0)], 0.0)
    t_h = np.where(seen, types[np.maximum(ctx, 0)], 0.0)
    safe = np.where(c_h > 0, c_h, 1.0)
    p = np.maximum(c_hw - D, 0.0) / safe + D * t_h / safe * lower
    return np.where(c_h > 0, p, lower)


def ngram_bits(train: np.ndarray, val: np.ndarray, V: int, max_order: int = MAX_ORDER) -> list[float]:
    """Bits/char on `val` of the interpolated Kneser-Ney models of orders 1 .. max_order.

    Each character of val is predicted from the characters of val before it (at most order - 1).
    """
    x, v = np.asarray(train, np.int64), np.asarray(val, np.int64)
    tables = _tables(x, V, max_order)
    found = _lookup(tables, v, V)
    M = len(v)
    # continuation counts of the k-grams: distinct characters before them (from the (k+1)-grams)
    cont = [np.bincount(tables[k].suffix, minlength=len(tables[k - 1].keys)) for k in range(1, len(tables))]
    lower = np.full(M, 1.0 / V)  # P_0, the continuation chain so far
    result = []
    for k, table in enumerate(tables, start=1):
        # align by scored position t: the k-gram v[t-k+1 .. t] starts at t-k+1 (t >= k-1)
        gram = np.full(M, -1, np.int64)
        gram[k - 1 :] = found[k - 1]
        ctx = np.zeros(M, np.int64) if k == 1 else np.full(M, -1, np.int64)
        if k > 1:
            ctx[k - 1 :] = found[k - 2][: M - k + 1]
        n_contexts = 1 if k == 1 else len(tables[k - 2].keys)
        top = _interpolate(lower, table.counts, table, n_contexts, ctx, gram)
        result.append(float(-np.mean(np.log2(top))))
        if k < len(tables):
            lower = _interpolate(lower, cont[k - 1], table, n_contexts, ctx, gram)
    return result


def unigram_bits(train: np.ndarray, val: np.ndarray, V: int) -> float:
    """Bits/char on val of add-one smoothed character frequencies of train."""
    p = (np.bincount(np.asarray(train, np.intp), minlength=V) + 1.0) / (len(train) + V)
    return float(-np.mean(np.log2(p[np.asarray(val, np.intp)])))


def measure(train: np.ndarray, val: np.ndarray, V: int, max_order: int = MAX_ORDER) -> Baselines:
    """The three baselines of a model over V characters, on the validation ids `val`."""
    head = np.asarray(train[:TRAIN_CHARS])
    by_order = ngram_bits(head, val, V, max_order)
    best = int(np.argmin(by_order))
    return Baselines(
        uniform=float(np.log2(V)),
        unigram=unigram_bits(head, val, V),
        ngram=by_order[best],
        order=best + 1,
        by_order=tuple(by_order),
        train_chars=len(head),
        train_total=len(train),
        val_chars=len(val),
    )
