"""The most and least surprising passages of a text, found as it is read, in bounded memory.

A passage is a line with its newline, or a MAX_CHARS piece of a longer line, so that a text
without newlines has passages too. Only passages of at least MIN_CHARS scored characters
compete: a short line's bits per character says little. `Passages.add` takes each window's
surprisal and characters as scoring.read produces them, holds no more of the text than the
passage being read, and keeps only the `count` best and worst passages in two heaps, so the
memory used does not grow with the text.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass

import numpy as np

MAX_CHARS = 160  # a longer line is cut into pieces of this many characters
MIN_CHARS = 20  # shorter passages are not ranked
COUNT = 3  # passages kept at each end


@dataclass(frozen=True)
class Passage:
    line: int  # the text's line it is in, counted from 1
    start: int  # position in the text of its first character
    stop: int  # one past its last
    surprisal_bits: np.ndarray  # of its scored characters: all of them, but for the text's first
    text: str

    @property
    def bits_per_char(self) -> float:
        return float(self.surprisal_bits.mean())

    def to_dict(self) -> dict:
        return {"line": self.line, "start": self.start, "text": self.text, "bits_per_char": self.bits_per_char}


class Passages:
    def __init__(self, count: int = COUNT):
        self.count = count
        self.open, self.line, self.pieces = 0, 1, []  # the passage being read: start, line, surprisal
        self.chars, self.end = "", 0  # the text from `open` to `end`, the end of what was read
        self._most: list[tuple[float, int, Passage]] = []  # min-heaps: (bits/char, start, passage)
        self._least: list[tuple[float, int, Passage]] = []  # (-bits/char, start, passage)

    def add(self, first: int, surprisal: np.ndarray, chars: str) -> None:
        """The surprisal of text[first], text[first + 1], ..., and `chars`, the text up to the last
        of them (one window of scoring.read: no more of the text than a passage is held here)."""
        end = first + len(surprisal)
        self.chars += chars[len(chars) - (end - self.end) :]  # what is new: text[self.end : end]
        self.end, pos = end, first
        while pos < end:
            newline = self.chars.find("\n", pos - self.open, end - self.open)
            line_end = self.open + newline + 1 if newline >= 0 else end + 1  # past `end`: the line goes on
            cut = min(end, line_end, self.open + MAX_CHARS)
            self.pieces.append(surprisal[pos - first : cut - first])
            pos = cut
            if cut in (line_end, self.open + MAX_CHARS):
                self._close(cut, ends_line=cut == line_end)

    def finish(self) -> None:
        """The text has ended (or its reading has): its last passage is whole."""
        self._close(self.end, ends_line=True)

    def _close(self, stop: int, ends_line: bool) -> None:
        bits = np.concatenate(self.pieces) if self.pieces else np.empty(0)
        if len(bits) >= MIN_CHARS:
            passage = Passage(self.line, self.open, stop, bits, self.chars[: stop - self.open])
            bpc = passage.bits_per_char
            for heap, key in ((self._most, bpc), (self._least, -bpc)):
                heapq.heappush(heap, (key, self.open, passage))
                if len(heap) > self.count:
                    heapq.heappop(heap)
        self.chars = self.chars[stop - self.open :]
        self.open, self.line, self.pieces = stop, self.line + ends_line, []

    @property
    def most(self) -> list[Passage]:
        """The most surprising passages, most first."""
        return [p for *_, p in sorted(self._most, key=lambda e: e[:2], reverse=True)]

    @property
    def least(self) -> list[Passage]:
        """The least surprising passages, least first."""
        return [p for *_, p in sorted(self._least, key=lambda e: e[:2], reverse=True)]

    def to_dict(self) -> dict:
        return {
            "most_surprising": [p.to_dict() for p in self.most],
            "least_surprising": [p.to_dict() for p in self.least],
        }
