"""The vocabulary: the sorted characters of the training text and the map between them and ids.

Ids are positions in the sorted list, so the same text always gives the same vocabulary
(min-char-rnn's `list(set(data))` changes order between runs). Encoding works on whole chunks
of text at once through code points, which keeps it fast on corpora of hundreds of megabytes.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from charrnn.errors import DataError, UnknownCharacters


def _code_points(text: str) -> np.ndarray:
    return np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)


TABLE_POINTS = 1 << 16  # vocabularies below this code point encode through a table, one lookup a character


def characters(text: str) -> set[str]:
    """The distinct characters of `text`, as set(text) gives them, counted in arrays: a few times
    faster on the long chunks a corpus is read in."""
    if text.isascii():  # known to the string itself: its bytes are its code points
        points = np.frombuffer(text.encode("ascii"), np.uint8)
    else:
        points = _code_points(text)
        if len(points) and points.max() >= TABLE_POINTS:
            return {chr(p) for p in np.unique(points)}
    return {chr(p) for p in np.flatnonzero(np.bincount(points))}


class Vocab:
    """Sorted characters; `encode` and `decode` map text to ids and back."""

    def __init__(self, chars: Iterable[str]):
        self.chars: list[str] = sorted(set(chars))
        if not self.chars:
            raise DataError("the vocabulary is empty: the text has no characters")
        self._points = _code_points("".join(self.chars))  # sorted, so searchsorted finds ids
        self._index = {ch: i for i, ch in enumerate(self.chars)}
        self._table = None  # code point -> id, or -1 for none (see _lookup)

    def __len__(self) -> int:
        return len(self.chars)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Vocab) and self.chars == other.chars

    def __contains__(self, ch: str) -> bool:
        return ch in self._index

    @property
    def dtype(self) -> np.dtype:
        """The smallest unsigned integer type that holds every id (one byte for most texts)."""
        return np.dtype(np.uint8 if len(self) <= 256 else np.uint16 if len(self) <= 65536 else np.uint32)

    def missing(self, text: str) -> list[str]:
        """The distinct characters of `text` that are not in the vocabulary, sorted."""
        return sorted(set(text) - self._index.keys())

    def check(self, text: str, what: str = "the text", role: str = "text") -> None:
        """Raise UnknownCharacters (naming them) unless every character of `text` is in the vocabulary."""
        if missing := self.missing(text):
            raise UnknownCharacters(missing, what, role)

    def encode(self, text: str) -> np.ndarray:
        """Text -> ids (len(text),), in `self.dtype`. Unknown characters raise UnknownCharacters."""
        points = _code_points(text)
        if self._points[-1] < TABLE_POINTS:
            ids = np.take(self._lookup(), points, mode="clip")  # beyond the table: its last entry, -1
            if len(ids) and ids.min() < 0:
                self.check(text)
            return ids.astype(self.dtype)
        ids = np.searchsorted(self._points, points)
        ids = np.minimum(ids, len(self) - 1)
        if not np.array_equal(self._points[ids], points):
            self.check(text)
        return ids.astype(self.dtype)

    def _lookup(self) -> np.ndarray:
        """(largest code point + 2,) the id of each code point, -1 for those not in the vocabulary."""
        if self._table is None:
            self._table = np.full(int(self._points[-1]) + 2, -1, np.int32)
            self._table[self._points] = np.arange(len(self))
        return self._table

    def decode(self, ids: Iterable[int]) -> str:
        if isinstance(ids, np.ndarray):  # in arrays: a window of a long text at a time
            return self._points[ids].tobytes().decode("utf-32-le", "surrogatepass")
        return "".join(self.chars[i] for i in ids)

    def to_json(self) -> list[str]:
        return list(self.chars)
