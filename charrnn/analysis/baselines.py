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

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from charrnn.metadata import Baselines

MAX_ORDER = 7  # longest n-gram tried (6 characters of context)
TRAIN_CHARS = 1_000_000  # at most this much training text is counted: seconds, and under 200 MB
MIN_DISCOUNT = 0.05


@dataclass
class _Table:
    """The distinct k-grams of the training text, and where the validation text has them."""

    keys: np.ndarray  # (U,) int64 sorted: prefix id * V + last id
    counts: np.ndarray  # (U,) occurrences
    prefix: np.ndarray  # (U,) id of the (k-1)-gram before the last character
    suffix: np.ndarray  # (U,) id of the (k-1)-gram after the first character (k > 1)
    found: np.ndarray  # (M - k + 1,) id of the validation k-gram starting at each position, -1 unseen


def _tables(x: np.ndarray, v: np.ndarray, V: int, k_max: int) -> Iterator[_Table]:
    """The k-gram tables of training text x, looked up in validation text v, for k = 1, 2, ...

    One at a time: the keys of order k are built from the ids of order k - 1, so only two
    orders' arrays are alive at once, whatever k_max.
    """
    at = np.zeros(len(x) + 1, np.int64)  # every position starts the one empty 0-gram
    found = np.zeros(len(v) + 1, np.int64)
    for k in range(1, min(k_max, len(x), len(v)) + 1):
        key = at[: len(x) - k + 1] * V + x[k - 1 :]
        keys, first, inverse = np.unique(key, return_index=True, return_inverse=True)
        suffix = at[first + 1] if k > 1 else np.zeros(len(keys), np.int64)
        at = inverse.ravel()
        vkey = found[: len(v) - k + 1] * V + v[k - 1 :]
        i = np.minimum(np.searchsorted(keys, vkey), len(keys) - 1)
        found = np.where((keys[i] == vkey) & (found[: len(v) - k + 1] >= 0), i, -1)
        yield _Table(keys, np.bincount(at, minlength=len(keys)), keys // V, suffix, found)


def _discount(c: np.ndarray) -> float:
    """Ney's D = n1 / (n1 + 2 n2), kept above MIN_DISCOUNT: with no count of 1 it would be 0, and
    a character never seen in a context would get no probability at all."""
    n1, n2 = np.count_nonzero(c == 1), np.count_nonzero(c == 2)
    return max(MIN_DISCOUNT, float(n1 / (n1 + 2 * n2)) if n1 + 2 * n2 else 0.5)


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


def _aligned(found: np.ndarray, k: int, M: int) -> np.ndarray:
    """(M,) by scored position t: the id of the k-gram v[t-k+1 .. t] (-1 where t < k-1 or unseen)."""
    out = np.full(M, -1, np.int64)
    out[k - 1 :] = found[: M - k + 1]
    return out


def ngram_bits(train: np.ndarray, val: np.ndarray, V: int, max_order: int = MAX_ORDER) -> list[float]:
    """Bits/char on `val` of the interpolated Kneser-Ney models of orders 1 .. max_order.

    Each character of val is predicted from the characters of val before it (at most order - 1).
    """
    x, v = np.asarray(train, np.int64), np.asarray(val, np.int64)
    M = len(v)
    lower = np.full(M, 1.0 / V)  # P_0, then the continuation-count chain up to the order before
    result = []
    tables = _tables(x, v, V, max_order)
    table, ctx, n_contexts = next(tables), np.zeros(M, np.int64), 1  # the one empty context
    for k in range(1, max_order + 1):
        gram = _aligned(table.found, k, M)
        result.append(float(-np.mean(np.log2(_interpolate(lower, table.counts, table, n_contexts, ctx, gram)))))
        above = next(tables, None)
        if above is None:
            break
        # continuation counts of the k-grams: distinct characters seen before them
        cont = np.bincount(above.suffix, minlength=len(table.keys))
        lower = _interpolate(lower, cont, table, n_contexts, ctx, gram)
        # the context of the (k+1)-gram ending at t is the k-gram ending at t - 1
        table, ctx, n_contexts = above, np.concatenate([[-1], gram[:-1]]), len(table.keys)
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
