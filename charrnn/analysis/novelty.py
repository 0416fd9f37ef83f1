"""Novelty: how much of a text is copied verbatim from the training corpus.

For every position i of a text, the longest span text[i : i + m_i] that occurs somewhere in the
corpus (its matching statistics). From them: the longest copied span and where the corpus has
it, and the share of the text's characters inside spans of at least `min_copy` characters.

The index is a suffix array: the start positions of all suffixes of the corpus in sorted order.
Every substring of the corpus is a prefix of some suffix, and the suffixes that share the
longest prefix with a query sit next to where a binary search would insert the query, so one
search of log2(n) comparisons per position finds m_i. A comparison costs as much as the prefix
the two share, so a span is measured up to MAX_SPAN characters only: a text copied whole from the
corpus would otherwise cost time quadratic in its length (hours for 100,000 characters). A
longer copy is reported as at least MAX_SPAN characters; the share copied stays exact, since
every character of a longer copy lies in a span of MAX_SPAN that starts within it. It is built by prefix doubling (Manber and
Myers): suffixes sorted by their first k characters are re-sorted by the pair (rank of the first
k, rank of the next k), which orders them by 2k characters. The first sort keys pack as many
characters as fit in 63 bits, and each round re-sorts only the groups still tied, so a corpus
without long repeats is sorted in a few rounds over a shrinking set.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from charrnn.config import MAX_COPY_SPAN, SampleConfig
from charrnn.data.corpus import Corpus, read_corpus
from charrnn.errors import ConfigError, DataError, NotTheTrainingCorpus
from charrnn.metadata import CorpusRecord

MAX_INDEX_CHARS = 32_000_000  # the build's peak: about 30 bytes per character (benchmarks/novelty.py), 1 GB here
MIN_COPY = SampleConfig.min_copy  # see there why
MAX_SPAN = MAX_COPY_SPAN  # the longest span measured (the module's text says why); at least min_copy


def suffix_array(ids: np.ndarray) -> np.ndarray:
    """The positions (n,) int32/int64 of the suffixes of ids (n,) non-negative ints, sorted."""
    n = len(ids)
    index = np.int32 if n < 2**31 - 1 else np.int64
    if n == 0:
        return np.empty(0, index)
    bits = int(ids.max()).bit_length() + 1 if n else 1  # + 1: 0 stands for "past the end"
    width = max(1, 63 // bits)
    padded = np.zeros(n + width, np.int64)
    padded[:n] = np.asarray(ids, np.int64) + 1
    key = np.zeros(n, np.int64)
    for j in range(width):  # the first `width` characters, packed, shorter suffixes first
        key <<= bits
        key |= padded[j : j + n]
    sa = np.argsort(key, kind="stable").astype(index)
    sorted_key = key[sa]
    del key, padded
    new_group = np.empty(n, bool)
    new_group[0] = True
    np.not_equal(sorted_key[1:], sorted_key[:-1], out=new_group[1:])
    del sorted_key
    # rank of a suffix: the SA position where its group (suffixes tied so far) starts
    rank = np.empty(n + 1, index)
    rank[n] = -1  # past the end: before every suffix
    rank[sa] = np.maximum.accumulate(np.where(new_group, np.arange(n, dtype=index), 0))
    k = width
    while True:
        tied = ~new_group
        tied[:-1] |= ~new_group[1:]  # a position is tied if its group has another member
        at = np.flatnonzero(tied)
        if len(at) == 0:
            return sa
        s = sa[at]
        first, second = rank[s], rank[np.minimum(s + k, n)]
        order = np.lexsort((second, first))
        s, first, second = s[order], first[order], second[order]
        sa[at] = s
        starts = np.ones(len(at), bool)
        starts[1:] = (first[1:] != first[:-1]) | (second[1:] != second[:-1])
        new_group[at] = starts
        rank[s] = np.maximum.accumulate(np.where(starts, at, 0)).astype(index)
        k *= 2


@dataclass
class Novelty:
    chars: int  # characters of the text
    longest: int  # the longest span of the text found verbatim in the corpus
    longest_at: int  # where it starts in the text
    span: str  # that span
    corpus_at: int  # where its first occurrence starts in the corpus (character offset)
    corpus_line: int  # the corpus line it starts on, from 1
    occurrences: int  # how many times the corpus has it
    copied_chars: int  # characters of the text inside copied spans of at least min_copy
    min_copy: int
    copied: np.ndarray = field(repr=False)  # (chars,) bool: the characters inside those spans
    longest_at_least: bool = False  # the longest span reached MAX_SPAN, where measuring stops: it may go on

    @property
    def copied_share(self) -> float:
        return self.copied_chars / self.chars if self.chars else 0.0

    def to_dict(self) -> dict:
        fields = {k: v for k, v in self.__dict__.items() if k != "copied"}
        return {**fields, "copied_share": self.copied_share}


class CorpusIndex:
    """A corpus's ids and their suffix array; `novelty` measures a text against them."""

    def __init__(self, ids: np.ndarray, chars: list[str]):
        self.check_size(len(ids))
        self.ids = np.asarray(ids)
        self.chars = chars
        self.sa = suffix_array(self.ids)
        self._code = {ch: i for i, ch in enumerate(chars)}

    @staticmethod
    def check_size(n: int) -> None:
        if n > MAX_INDEX_CHARS:
            raise DataError(
                f"the corpus has {n:,} characters; the novelty index holds at most {MAX_INDEX_CHARS:,} "
                "(building it takes about 30 bytes per character), so copying from it cannot be checked"
            )

    def encode(self, text: str) -> np.ndarray:
        """The text's ids in the corpus's numbering; -1 for a character the corpus never has."""
        return np.array([self._code.get(ch, -1) for ch in text], np.int64)

    def _compare(self, p: int, q: np.ndarray) -> tuple[bool, int]:
        """(suffix at p sorts before q, length of their common prefix)."""
        a = self.ids[p : p + len(q)]
        n, lo, size = len(a), 0, 64
        while lo < n:  # most comparisons end in the first chunk; a long common prefix in ever larger ones
            diff = np.flatnonzero(a[lo : lo + size] != q[lo : min(lo + size, n)])
            if len(diff):
                common = lo + int(diff[0])
                return bool(a[common] < q[common]), common
            lo, size = lo + size, 2 * size
        return n < len(q), n  # a proper prefix of q sorts before it; q's extensions after

    def _search(self, q: np.ndarray, upper: bool = False) -> int:
        """The first SA position whose suffix is not before q (upper: nor starts with q)."""
        lo, hi = 0, len(self.sa)
        while lo < hi:
            mid = (lo + hi) // 2
            before, common = self._compare(int(self.sa[mid]), q)
            if before or (upper and common == len(q)):
                lo = mid + 1
            else:
                hi = mid
        return lo

    def matches(self, q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """For each position i of q: the length of the longest prefix of q[i:] in the corpus (up to
        MAX_SPAN) and the SA position of a suffix that has it (one of the two beside where it would go)."""
        m, n = len(q), len(self.sa)
        length, where = np.zeros(m, np.int64), np.zeros(m, np.int64)
        for i in range(m):
            if q[i] < 0:
                continue
            qi = q[i : i + MAX_SPAN]
            lo = self._search(qi)
            at = self._compare(int(self.sa[lo]), qi)[1] if lo < n else 0
            below = self._compare(int(self.sa[lo - 1]), qi)[1] if lo > 0 else 0
            length[i], where[i] = (at, lo) if at >= below else (below, lo - 1)
        return length, where

    def novelty(self, text: str, min_copy: int = MIN_COPY) -> Novelty:
        if min_copy > MAX_SPAN:  # a longer copy would not be seen whole (SampleConfig bounds it)
            raise ConfigError.invalid("min_copy", min_copy, f"at most {MAX_SPAN:,}, the longest span measured")
        q = self.encode(text)
        length, _ = self.matches(q)
        m = len(q)
        cover = np.zeros(m + 1, np.int64)
        long_enough = np.flatnonzero(length >= min_copy)
        np.add.at(cover, long_enough, 1)
        np.add.at(cover, long_enough + length[long_enough], -1)
        copied = np.cumsum(cover[:m]) > 0
        i = int(length.argmax()) if m else 0
        best = int(length[i]) if m else 0
        corpus_at, occurrences, line = -1, 0, 0
        if best:
            lo, hi = self._search(q[i : i + best]), self._search(q[i : i + best], upper=True)
            corpus_at, occurrences = int(self.sa[lo:hi].min()), hi - lo
            newline = self._code.get("\n")
            line = 1 + (int(np.count_nonzero(self.ids[:corpus_at] == newline)) if newline is not None else 0)
        span = text[i : i + best]
        copied_chars = int(copied.sum())
        return Novelty(m, best, i, span, corpus_at, line, occurrences, copied_chars, min_copy, copied, best == MAX_SPAN)


def training_corpus(record: CorpusRecord, path: str | Path | None = None) -> Corpus:
    """The corpus a checkpoint records (`ckpt.record.corpus`), read from `path` or else from the
    path it records, and checked to be that very file: the same size and SHA-256."""
    name = record.name if record.name is not None else "?"
    if record.manifest or record.documents > 1:
        raise NotTheTrainingCorpus(
            f"the training corpus {name} was {record.files or 'several'} files or documents; copying can be "
            "checked only against a corpus of one file read whole"
        )
    if path is None:
        path = record.path
        if path is None:
            raise NotTheTrainingCorpus(
                f"the checkpoint does not record where its training corpus {name} is (it was read from "
                "standard input, or trained by an older charrnn)"
            )
    path = Path(path)
    if not path.exists():
        raise NotTheTrainingCorpus(f"the training corpus {name} is not at {path}")
    if not path.is_file():
        raise NotTheTrainingCorpus(f"{path} is not a regular file, so it cannot be the training corpus {name}")
    CorpusIndex.check_size(record.chars)  # before reading a corpus too large to index
    size, want = os.path.getsize(path), record.bytes
    if want is not None and size != want:
        raise NotTheTrainingCorpus(
            f"{path} is not the training corpus {name}: it has {size:,} bytes, the checkpoint records {want:,}"
        )
    corpus = read_corpus(path, record.encoding, record.decode_errors)
    if record.sha256 is not None and corpus.sha256 != record.sha256:
        raise NotTheTrainingCorpus(
            f"{path} is not the training corpus {name}: its SHA-256 is {corpus.sha256[:12]}..., "
            f"the checkpoint records {record.sha256[:12]}... (same size, other content)"
        )
    return corpus
