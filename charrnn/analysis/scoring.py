"""Scoring: reading a text through a model, and what it predicted at every character.

The analysis views (neurons.py, gradient_reach.py, ranking.py, and the page, web/text_page.py)
all start here. A text is read through a model (a LanguageModel: weights, config, vocabulary)
once by `windows`, window by window with the state carried across as training carries it, through the core's own `read`
(nn/model.py); nothing in these modules writes a forward pass of its own. `read` is that one
pass with what the views keep of it: totals over the whole text, and each character's numbers
only for as many characters as are asked for, so that memory does not grow with the text. The
text is a string, or its pieces as they come (a stream being decoded), never all held but by
a model of both sides, which needs the text's end first and holds its ids.

Alignment, used throughout: position i of a text is the character text[i]. The model's state
"at i" is its state after reading text[i]; its prediction "at i" (for i >= 1) is the
distribution it gave text[i] after reading text[:i]. The first character is never predicted.
A model that reads both sides (nn/both_sides.py) predicts every character, the first included,
from all the others: its numbers start at position 0 (`first_predicted`), and `windows` keeps
no cache for it (the views that look inside a left-to-right reading do not take it).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from charrnn import budget
from charrnn.errors import DataError, TextTooLong
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
    check_length(len(text), min_chars)


def check_length(length: int, min_chars: int = 2) -> None:
    """A DataError if a text of `length` characters is shorter than `min_chars`."""
    if length < min_chars:
        counted = {1: "one character", 2: "two characters (the first is never predicted)"}
        has = "one character" if length == 1 else f"{length:,} characters"
        raise DataError(
            f"the text has {has}; reading it needs at least {counted.get(min_chars, f'{min_chars:,} characters')}"
        )


def first_predicted(model: LanguageModel) -> int:
    """The position of the first character a model predicts: 1, or 0 if it reads both sides."""
    return 0 if model.cfg.bidirectional else 1


class Enough(Exception):
    """Raised by an observer of `read`, or by what feeds it a text read as it comes, to end the
    pass early: the reading then covers the windows read so far, and says it is not complete."""


class Window(NamedTuple):
    start: int  # position in the text of the window's first character
    logp: np.ndarray  # (T, V) float64: row j predicts text[start + j + first_predicted]
    targets: np.ndarray  # (T,) the ids predicted; one fewer in a left-to-right model's last window
    cache: network.Cache | None  # every layer's states for those T steps (batch of one); None: both sides
    chars: str  # text[start : start + len(chars)]: its first input to its last character predicted


def windows(model: LanguageModel, text: str | Iterable[str]) -> Iterator[Window]:
    """Read a whole text from a zero state, a window at a time: a string, or its pieces as they
    come (a stream being decoded: pieces of any lengths, never all held). Each piece is encoded
    and read as it comes, so characters the model never saw are refused in the first piece that
    has them, before anything after it is read, and a pipe's text is scored as it arrives. The
    text is read a block at a time, and each block's last character is the next one's first input."""
    if model.cfg.bidirectional:
        yield from _both_sides_windows(model, text)
        return
    state = None
    for b, chars, ids, inputs in _blocks(model.vocab, text, overlap=1):
        for window in network.read(model.params, model.cfg, ids[None, :inputs], state):
            start, logits, state, cache = window  # the state read on to, for the next block
            targets = ids[start + 1 : start + 1 + len(logits)]
            piece = chars[start : start + 1 + len(targets)]
            yield Window(b + start, log_softmax(logits.astype(np.float64)), targets, cache, piece)


def _blocks(vocab: Vocab, text: str | Iterable[str], overlap: int) -> Iterator[tuple[int, str, np.ndarray, int]]:
    """(b, chars, ids, inputs): chars = text[b : b + len(chars)], at most BLOCK + overlap of them,
    its ids, and how many of them are read as inputs: all but the last `overlap`, which start the
    next block, save in the text's last block. Consecutive, however the text's pieces are cut;
    each piece is given on as soon as it comes."""
    pieces = (text[i : i + BLOCK] for i in range(0, len(text), BLOCK)) if isinstance(text, str) else text
    b, chars, ids = 0, "", np.empty(0, np.intp)  # the text not yet read, from position b
    for piece in pieces:
        chars, ids = chars + piece, np.concatenate([ids, vocab.encode(piece)])
        at = 0
        while len(chars) - at > overlap:
            end = min(at + BLOCK, len(chars) - overlap)
            yield b, chars[at : end + overlap], ids[at : end + overlap], end - at
            at, b = end, b + end - at
        chars, ids = chars[at:], ids[at:]
    if chars:
        yield b, chars, ids, len(chars)


# why a model of both sides holds its text: the backward stack starts from the text's end
HELD_WHOLE = "a model of both sides reads a text from its end before it scores its first character"


def _both_sides_windows(model: LanguageModel, text: str | Iterable[str]) -> Iterator[Window]:
    """Every character predicted from both sides. Reading from the right needs the text's end
    first, so the whole text is read before its first window: its ids are held (Vocab.dtype,
    one or two bytes a character), up to budget.text_chars_max() of them, and TextTooLong
    beyond. Then the backward stack reads the blocks from the last, keeping its state at each
    block's right end, and each block is read in both directions between its two states."""
    blocks, n, limit = [], 0, budget.text_chars_max()
    for _, _, ids, _ in _blocks(model.vocab, text, overlap=0):
        n += len(ids)
        if n > limit:
            raise TextTooLong(limit, HELD_WHOLE)
        blocks.append(ids.astype(model.vocab.dtype))
    params, cfg = model.params, model.cfg
    right = network.zero_state(cfg, 1, params["decoder.weight"].dtype)
    rights = []
    for ids in reversed(blocks):
        rights.append(right)
        right = both_sides.state_after(params, cfg, ids[None, ::-1].astype(np.intp), right, network.REVERSE)
    b, left, ends = 0, None, []
    for ids, right in zip(blocks, reversed(rights)):
        ids = ids.astype(np.intp)
        for start, logits in _returned(both_sides.read(params, cfg, ids[None], left=left, right=right), ends):
            targets = ids[start : start + len(logits)]
            chars = model.vocab.decode(targets)
            yield Window(b + start, log_softmax(logits.astype(np.float64)), targets, None, chars)
        b, left = b + len(ids), ends.pop()


def _returned(generator: Iterator, into: list) -> Iterator:
    """The generator's items; what it returns is appended to `into` once it ends."""
    into.append((yield from generator))


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
    complete: bool = True  # False: the pass was ended early (Enough); it covers what was read


def _put(dest: np.ndarray, start: int, src: np.ndarray) -> None:
    """dest[start : start + len(src)] = src, as far as dest goes."""
    part = dest[start : start + len(src)]
    part[...] = src[: len(part)]


def _room(a: np.ndarray, need: int, limit: int) -> np.ndarray:
    """`a`, or a copy with room for `need` rows (at most `limit`), twice as many at least: the
    arrays of a text read as it comes grow with it, as a list does, up to what is kept."""
    if len(a) >= min(need, limit):
        return a
    grown = np.empty((min(max(need, 2 * len(a)), limit), *a.shape[1:]), a.dtype)
    grown[: len(a)] = a
    return grown


class _Kept:
    """Each character's numbers one pass keeps: the surprisal of the first `keep` characters
    predicted, the predictions of the first `top`, the probe's values of the first keep + 1.
    Sized once when the text's length is known (`known`), else grown as it is read."""

    def __init__(self, keep: int, top: int, k: int, first: int, probe, known: bool):
        self.keep, self.top, self.probe = keep, top, probe
        at_first = (lambda m: m) if known else (lambda m: min(m, BLOCK))  # noqa: E731
        self.surprisal = np.empty(at_first(keep))
        t = at_first(top)
        self.preds = Predictions(np.empty(t), np.empty((t, k), np.intp), np.empty((t, k)), first)
        self.values = None if probe is None else np.empty(at_first(keep) + 1)

    def add(self, w: Window, rows: np.ndarray, logp: np.ndarray, surprisal: np.ndarray) -> None:
        read = w.start + len(w.targets)  # rows predicted so far, through this window
        self.surprisal = _room(self.surprisal, read, self.keep)
        _put(self.surprisal, w.start, surprisal)
        if w.start < self.top:
            p = self.preds
            self.preds = Predictions(
                *(_room(a, read, self.top) for a in (p.logp, p.top_ids, p.top_logp)), p.first_scored
            )
            _put(self.preds.logp, w.start, logp)
            _put_top(self.preds, w.start, rows)
        if self.values is not None:
            self.values = _room(self.values, read + 1, self.keep + 1)
            _put(self.values, w.start, self.probe(w.cache))

    def reading(self, n: int, total: float, complete: bool) -> Reading:
        """What was kept of a text of which n characters were predicted, in total_bits."""
        keep, top, p = min(self.keep, n), min(self.top, n), self.preds
        preds = Predictions(p.logp[:top], p.top_ids[:top], p.top_logp[:top], p.first_scored)
        values = None if self.values is None else self.values[: keep + 1]
        return Reading(Score(n, total, self.surprisal[:keep], p.first_scored), preds, values, complete)


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
    text: str | Iterable[str],
    *,
    keep: int | None = None,
    top: int = 0,
    k: int = TOP_K,
    probe: Callable[[network.Cache], np.ndarray] | None = None,
    observe: Sequence[Callable[[int, np.ndarray, str], None]] = (),
) -> Reading:
    """Score a text in one pass: a string, or its pieces as they come (see `windows`; `keep`
    then bounds what is kept). keep: characters whose surprisal is kept (None: all); top:
    positions whose k best alternatives are kept; probe: a window's cache -> one value per step
    (e.g. a unit's activation), kept for the same characters and the first; observe: functions
    called after each window with the position of the first character it predicted, the
    surprisal of that character and those after it, and the window's characters up to the last
    of them (Window.chars); what they keep is theirs: passages.Passages, a progress bar. Every
    count is of characters predicted: those from position first_predicted(model) on. An
    observer, or the text's pieces, may end the pass early by raising Enough."""
    first, whole = first_predicted(model), isinstance(text, str)
    if whole:
        check_text(model.vocab, text, first + 1)
        n = len(text) - first
        keep, top = n if keep is None else min(keep, n), min(top, n)
    elif keep is None:
        raise ValueError("a text read as it comes keeps the numbers of a bounded number of characters")
    kept = _Kept(keep, top, min(k, len(model.vocab)), first, probe, known=whole)
    total, n, complete = 0.0, 0, True
    try:
        for w in windows(model, text):
            rows = w.logp[: len(w.targets)]
            logp = rows[np.arange(len(rows)), w.targets]
            surprisal = bits(-logp)
            total, n = total + float(surprisal.sum()), n + len(surprisal)
            kept.add(w, rows, logp, surprisal)
            for observer in observe:
                observer(w.start + len(w.chars) - len(surprisal), surprisal, w.chars)
    except Enough:
        complete = False
    if complete and not whole:
        check_length(n + first, first + 1)
    return kept.reading(n, total, complete)


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
