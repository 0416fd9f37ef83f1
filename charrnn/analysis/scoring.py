"""Scoring: reading a text through a model, and what it predicted at every character.

The analysis views (neurons.py, gradient_reach.py, ranking.py, and the page, web/text_page.py)
all start here. A text is read through a model (a LanguageModel: weights, config, vocabulary)
once by `windows`, window by window with the state carried across as training carries it, through the core's own `read`
(nn/model.py); nothing in these modules writes a forward pass of its own. `read` is that one
pass with what the views keep of it: totals over the whole text, and each character's numbers
only for as many characters as are asked for, so that memory does not grow with the text.

Alignment, used throughout: position i of a text is the character text[i]. The model's state
"at i" is its state after reading text[i]; its prediction "at i" (for i >= 1) is the
distribution it gave text[i] after reading text[:i]. The first character is never predicted.
A model that reads both sides (nn/both_sides.py) predicts every character, the first included,
from all the others: its numbers start at position 0 (`first_predicted`), and `windows` keeps
no cache for it (the views that look inside a left-to-right reading do not take it).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from charrnn.errors import DataError
from charrnn.nn import both_sides
from charrnn.nn import model as network
from charrnn.nn.functional import bits, log_softmax
from charrnn.vocab import Vocab

if TYPE_CHECKING:
    from charrnn.language_model import LanguageModel

TOP_K = 5  # alternatives kept per position
BLOCK = 1 << 16  # characters encoded at a time: this, not the text's length, bounds the memory used


def check_text(vocab: Vocab, text: str, min_chars: int = 2) -> None:
    """UnknownCharacters naming the characters the model never saw, or a DataError if the text is too short."""
    vocab.check(text)
    if len(text) < min_chars:
        counted = {1: "one character", 2: "two characters (the first is never predicted)"}
        has = "one character" if len(text) == 1 else f"{len(text):,} characters"
        raise DataError(
            f"the text has {has}; reading it needs at least {counted.get(min_chars, f'{min_chars:,} characters')}"
        )


def first_predicted(model: LanguageModel) -> int:
    """The position of the first character a model predicts: 1, or 0 if it reads both sides."""
    return 0 if model.cfg.bidirectional else 1


class Window(NamedTuple):
    start: int  # position in the text of the window's first character
    logp: np.ndarray  # (T, V) float64: row j predicts text[start + j + first_predicted]
    targets: np.ndarray  # (T,) the ids predicted; one fewer in a left-to-right model's last window
    cache: network.Cache | None  # every layer's states for those T steps (batch of one); None: both sides


def windows(model: LanguageModel, text: str) -> Iterator[Window]:
    """Read a whole text from a zero state, a window at a time. The text is encoded a block at
    a time and each block's last input predicts the next block's first character."""
    if model.cfg.bidirectional:
        yield from _both_sides_windows(model, text)
        return
    state = None
    for b in range(0, len(text), BLOCK):
        ids = model.vocab.encode(text[b : b + BLOCK + 1]).astype(np.intp)
        for window in network.read(model.params, model.cfg, ids[None, :BLOCK], state):
            start, logits, state, cache = window  # the state read on to, for the next block
            targets = ids[start + 1 : start + 1 + len(logits)]
            yield Window(b + start, log_softmax(logits.astype(np.float64)), targets, cache)


def _both_sides_windows(model: LanguageModel, text: str) -> Iterator[Window]:
    """Every character predicted from both sides. Reading from the right needs the whole text's
    ids at once (8 bytes a character), not a block of them."""
    ids = model.vocab.encode(text).astype(np.intp)
    for start, logits in both_sides.read(model.params, model.cfg, ids[None]):
        yield Window(start, log_softmax(logits.astype(np.float64)), ids[start : start + len(logits)], None)


@dataclass
class Predictions:
    """What the model expected at positions first .. first + n - 1 of a text."""

    logp: np.ndarray  # (n,) ln p(text[i] | text[:i]), or given both sides
    top_ids: np.ndarray  # (n, k) the k most likely characters at each position, best first
    top_logp: np.ndarray  # (n, k) and their log-probabilities
    first_scored: int = 1  # the position of the text its first row predicts (first_predicted)

    @property
    def bits(self) -> np.ndarray:
        """Surprisal -log2 p of each predicted character, (n,)."""
        return bits(-self.logp)

    @property
    def bits_per_char(self) -> float:
        return float(self.bits.mean()) if len(self.logp) else float("nan")


@dataclass
class Score:
    """How surprising a text was: totals over every scored character, and each character's
    surprisal for all of them or for the first few."""

    chars: int  # characters scored: every one but the first, or (both sides) every one
    total_bits: float
    surprisal_bits: np.ndarray  # -log2 p of text[first], text[first + 1], ...: all `chars`, or the first ones
    first_scored: int = 1  # the position of the first character scored (first_predicted)

    @classmethod
    def of(cls, logp: np.ndarray) -> Score:
        """The score of log-probabilities (nats) of every scored character."""
        b = bits(-logp)
        return cls(len(b), float(b.sum()), b)

    @property
    def length(self) -> int:
        """The text's characters: every scored one and the first, if it was not."""
        return self.chars + self.first_scored

    @property
    def bits_per_char(self) -> float:
        return self.total_bits / max(self.chars, 1)

    def first(self, n: int) -> Score:
        """The same totals, with the surprisal of the first n characters only."""
        return Score(self.chars, self.total_bits, self.surprisal_bits[:n], self.first_scored)

    def summary(self) -> dict[str, float]:
        return {"chars": self.chars, "total_bits": self.total_bits, "bits_per_char": self.bits_per_char}

    def to_dict(self) -> dict:
        """Plain data; the per-character numbers stay a NumPy array, as long as the text may be."""
        return {**self.summary(), "surprisal_bits": self.surprisal_bits}


@dataclass
class Reading:
    """What one pass over a text kept."""

    score: Score
    predictions: Predictions  # at positions 1 .. `top` (none unless asked for)
    values: np.ndarray | None  # the probe's value after each character the score kept, and the first


def _put(dest: np.ndarray, start: int, src: np.ndarray) -> None:
    """dest[start : start + len(src)] = src, as far as dest goes."""
    part = dest[start : start + len(src)]
    part[...] = src[: len(part)]


def _put_top(preds: Predictions, start: int, rows: np.ndarray) -> None:
    """The k most likely characters of each row of log-probabilities, best first, at positions start, ..."""
    rows = rows[: len(preds.logp) - start]
    k = preds.top_ids.shape[1]
    best = np.argpartition(-rows, k - 1, axis=1)[:, :k]  # the k largest, unordered
    best_logp = np.take_along_axis(rows, best, axis=1)
    order = np.argsort(-best_logp, axis=1, kind="stable")
    _put(preds.top_ids, start, np.take_along_axis(best, order, axis=1))
    _put(preds.top_logp, start, np.take_along_axis(best_logp, order, axis=1))


def read(
    model: LanguageModel,
    text: str,
    *,
    keep: int | None = None,
    top: int = 0,
    k: int = TOP_K,
    probe: Callable[[network.Cache], np.ndarray] | None = None,
    observe: Sequence[Callable[[int, np.ndarray], None]] = (),
) -> Reading:
    """Score a text in one pass. keep: characters whose surprisal is kept (None: all); top:
    positions whose k best alternatives are kept; probe: a window's cache -> one value per step
    (e.g. a unit's activation), kept for the same characters and the first; observe: functions
    called after each window with the position of the first character it predicted and the
    surprisal of that character and those after it (what they keep is theirs:
    passages.Passages, a progress bar). Every count is of characters predicted: those from
    position first_predicted(model) on."""
    first = first_predicted(model)
    check_text(model.vocab, text, first + 1)
    n = len(text) - first
    kept = np.empty(n if keep is None else min(keep, n))
    top, k = min(top, n), min(k, len(model.vocab))
    preds = Predictions(np.empty(top), np.empty((top, k), np.intp), np.empty((top, k)), first)
    values = None if probe is None else np.empty(len(kept) + 1)
    total = 0.0
    for w in windows(model, text):
        rows = w.logp[: len(w.targets)]
        logp = rows[np.arange(len(rows)), w.targets]
        surprisal = bits(-logp)
        total += float(surprisal.sum())
        _put(kept, w.start, surprisal)
        if w.start < top:
            _put(preds.logp, w.start, logp)
            _put_top(preds, w.start, rows)
        if values is not None:
            _put(values, w.start, probe(w.cache))
        for observer in observe:
            observer(w.start + first, surprisal)
    return Reading(Score(n, total, kept, first), preds, values)


def predictions(model: LanguageModel, text: str, k: int = TOP_K) -> Predictions:
    """Each character's log-probability under the model and the model's top-k alternatives."""
    return read(model, text, keep=0, top=len(text), k=k).predictions


def log_probs(model: LanguageModel, text: str) -> np.ndarray:
    """ln p(text[i] | text[:i]) for i = 1 .. len(text)-1, in nats, shape (len(text) - 1,).

    The first character has no context and is not scored; a model that reads both sides scores
    it too, and gives ln p(text[i] | every other character) for i = 0 .. len(text)-1.
    """
    return -np.log(2) * read(model, text).score.surprisal_bits


def surprisal_bits(logp: np.ndarray) -> np.ndarray:
    """-log2 p of each scored character."""
    return bits(-logp)
