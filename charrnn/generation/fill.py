"""Filling gaps: every gap character of a text stands for one missing character, and each run of
gaps is filled jointly, by beam search over the run; nothing outside the gaps changes.

With a model that reads both sides (nn/both_sides.py), a run [a, b) is read between two known
states: the forward stack's after the text left of it (earlier runs filled), the backward stack's
after the text right of it up to the next gap (the zero state there: nothing is known beyond it,
as a training window's right end). The beam grows each filling from the left, proposing at each
position the characters the model expects there with the run's rest unknown; the complete
fillings are then ranked by what the model says of each character of the run and of AROUND
characters on each side of it, given everything else, the filling included (the sum of
log p(x_i | the rest)): a character that fits also makes its neighbours likely, which the
gap's own prediction does not count (on benchmarks/both_sides.py, 54 % of blanked letters
restored against 44 %).

A left-to-right model sees only what came before. It ranks candidates by the whole text's
probability instead: the beam grows fillings by p(filling | the text before), and each complete
one is scored by the probability of the filling and of the text after it up to the next gap. That
costs a read of that text per candidate kept (`beam` of them per run), where a model of both
sides reads it once.

No gap is filled with a line break: line structure and length are kept.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from charrnn import budget
from charrnn.errors import GapError
from charrnn.nn import both_sides
from charrnn.nn import model as network
from charrnn.nn.functional import log_softmax

if TYPE_CHECKING:
    from charrnn.language_model import LanguageModel

MAX_RUN = 64  # gaps in a row at most: the beam's work grows with the run
AROUND = 4  # characters on each side of a run whose probabilities rank its fillings too
NEXT_BEST = 3  # alternatives given for each gap
LINE_BREAKS = "\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"  # what str.splitlines() splits at


@dataclass
class Gap:
    position: int  # in the text, from 0
    char: str  # the character chosen
    probability: float
    next_best: list[tuple[str, float]]  # the likeliest others, with their probabilities

    def to_dict(self) -> dict:
        alternatives = [{"char": c, "probability": p} for c, p in self.next_best]
        return {
            "position": self.position,
            "char": self.char,
            "probability": self.probability,
            "next_best": alternatives,
        }


@dataclass
class Filling:
    text: str  # the text with every gap filled
    gaps: list[Gap]


def stretch_chars(runs: list[tuple[int, int]], beam: int) -> int:
    """The most characters read at once: the fillings of the longest run with the text around them."""
    return beam * (max(b - a for a, b in runs) + 2 * AROUND)


def gap_runs(text: str, gap: str) -> list[tuple[int, int]]:
    """The runs of gap characters, as (start, stop) positions."""
    return [m.span() for m in re.finditer(f"{re.escape(gap)}+", text)]


def check(model: LanguageModel, text: str, gap: str) -> list[tuple[int, int]]:
    """The text's runs of gaps, or GapError: a gap the model knows as a character, a text without
    a gap, a run longer than MAX_RUN; UnknownCharacters for other characters it never saw."""
    if gap in model.vocab:
        raise GapError("known", gap)
    runs = gap_runs(text, gap)
    if not runs:
        raise GapError("none", gap)
    longest = max(runs, key=lambda r: r[1] - r[0])
    if longest[1] - longest[0] > MAX_RUN:
        raise GapError("long", gap, position=longest[0], length=longest[1] - longest[0], bound=MAX_RUN)
    model.vocab.check(text.replace(gap, ""))
    return runs


def fill(model: LanguageModel, text: str, gap: str = "_", beam: int = 8) -> Filling:
    """The text with every gap filled, and what was chosen at each (module docstring)."""
    runs = check(model, text, gap)
    missing = sum(b - a for a, b in runs)
    budget.check_fill(model.cfg, len(model.vocab), len(text), missing, stretch_chars(runs, beam))
    ids = np.zeros(len(text), np.intp)
    known = np.ones(len(text), bool)
    for a, b in runs:
        known[a:b] = False
    ids[known] = model.vocab.encode(text.replace(gap, ""))
    banned = [model.vocab.chars.index(c) for c in LINE_BREAKS if c in model.vocab]
    run_filler = _BothSides if model.cfg.bidirectional else _LeftToRight
    filler = run_filler(model, ids, banned, beam)
    gaps, pieces, done = [], [], 0
    for k, (a, b) in enumerate(runs):
        stop = runs[k + 1][0] if k + 1 < len(runs) else len(text)  # the next gap, or the end
        filled, logp = filler.run(a, b, stop)
        ids[a:b] = filled
        for i in range(b - a):
            gaps.append(_gap(model, a + i, int(filled[i]), logp[i]))
        pieces += [text[done:a], "".join(g.char for g in gaps[len(gaps) - (b - a) :])]
        done = b
    return Filling("".join([*pieces, text[done:]]), gaps)


def _gap(model: LanguageModel, position: int, chosen: int, logp: np.ndarray) -> Gap:
    order = [int(i) for i in np.argsort(-logp, kind="stable") if i != chosen and np.isfinite(logp[i])]
    alternatives = [(model.vocab.chars[i], float(np.exp(logp[i]))) for i in order[:NEXT_BEST]]
    return Gap(position, model.vocab.chars[chosen], float(np.exp(logp[chosen])), alternatives)


def _expand(scores: np.ndarray, logp: np.ndarray, beam: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The `beam` best of every hypothesis (K,) extended by every character (K, V): their
    hypotheses, characters and scores."""
    total = (scores[:, None] + logp).ravel()
    best = np.argsort(-total, kind="stable")[: min(beam, int(np.isfinite(total).sum()))]
    return best // logp.shape[1], best % logp.shape[1], total[best]


class _Filler:
    def __init__(self, model: LanguageModel, ids: np.ndarray, banned: list[int], beam: int):
        self.params, self.cfg, self.ids, self.banned, self.beam = model.params, model.cfg, ids, banned, beam
        dtype = self.params["decoder.weight"].dtype
        self.zero = network.zero_state(self.cfg, 1, dtype)
        self.left, self.read_to = self.zero, 0  # the forward state after ids[:read_to]
        self.around = AROUND

    def left_of(self, a: int) -> np.ndarray:
        """The forward stack's state after ids[:a], read on from the last run's."""
        self.left = self._read(self.ids[None, self.read_to : a], self.left)
        self.read_to = a
        return self.left

    def log_probs(self, logits: np.ndarray) -> np.ndarray:
        """Log-probabilities (N, V) of the characters a gap may take: no line break."""
        logp = log_softmax(logits.astype(np.float64))
        logp[:, self.banned] = -np.inf
        return logp

    def beam_search(self, m: int, state: np.ndarray, next_logp, step) -> tuple[np.ndarray, np.ndarray]:
        """Fillings (K, m) of m characters grown from the left with their scores (K,): next_logp(
        states, k) gives each hypothesis's log-probabilities at position k, step(states, chars)
        the states after one more character."""
        states, scores, filled = state, np.zeros(1), np.zeros((1, 0), np.intp)
        for k in range(m):
            rows, chars, scores = _expand(scores, next_logp(states, k), self.beam)
            filled = np.concatenate([filled[rows], chars[:, None]], axis=1)
            states = step(states[:, :, rows], chars)
        return filled, scores


class _BothSides(_Filler):
    def _read(self, ids: np.ndarray, state: np.ndarray) -> np.ndarray:
        return both_sides.state_after(self.params, self.cfg, ids, state)

    def run(self, a: int, b: int, stop: int) -> tuple[np.ndarray, np.ndarray]:
        """The run [a, b) filled, and each position's log-probabilities given the rest (m, V)."""
        lo, hi = max(self.read_to, a - self.around), min(stop, b + self.around)
        outer_left = self.left_of(lo)
        left = self._read(self.ids[None, lo:a], outer_left)
        outer_right = self._read_back(self.ids[None, hi:stop], self.zero)
        right = self._read_back(self.ids[None, b:hi], outer_right)
        m = b - a

        def next_logp(states, k):  # the run's rest, unknown, is the zero state to the right
            beside = right if k == m - 1 else self.zero
            return self.log_probs(both_sides.next_logits(self.params, states, _wide(beside, states.shape[2])))

        def step(states, chars):
            return both_sides.state_after(self.params, self.cfg, chars[:, None], states)

        filled, _ = self.beam_search(m, left, next_logp, step)
        K = len(filled)
        stretch = np.repeat(self.ids[None, lo:hi], K, axis=0)
        stretch[:, a - lo : b - lo] = filled
        logits, _ = both_sides.stretch_logits(
            self.params, self.cfg, stretch, _wide(outer_left, K), _wide(outer_right, K)
        )
        logp = log_softmax(logits.astype(np.float64)).reshape(hi - lo, K, -1)  # (hi - lo, K, V)
        given_rest = logp[np.arange(hi - lo)[:, None], np.arange(K)[None], stretch.T].sum(axis=0)  # (K,)
        best = int(np.argmax(given_rest))
        return filled[best], self.log_probs(logp[a - lo : b - lo, best])

    def _read_back(self, ids: np.ndarray, state: np.ndarray) -> np.ndarray:
        """The backward stack's state after reading ids (1, N) from their end, on from `state`."""
        return both_sides.state_after(self.params, self.cfg, ids[:, ::-1], state, network.REVERSE)


class _LeftToRight(_Filler):
    def _read(self, ids: np.ndarray, state: np.ndarray) -> np.ndarray:
        return network.state_after(self.params, self.cfg, ids, state)

    def _logits(self, states: np.ndarray) -> np.ndarray:
        """The prediction after each state (L, S, K, H): the decoder on its top layer's h."""
        return states[-1, 0] @ self.params["decoder.weight"].T + self.params["decoder.bias"]

    def run(self, a: int, b: int, stop: int) -> tuple[np.ndarray, np.ndarray]:
        """The run [a, b) filled, and each position's probabilities among the candidates kept,
        weighed by the whole text's probability up to the next gap (m, V) in logs."""
        left = self.left_of(a)

        def step(states, chars):
            return network.state_after(self.params, self.cfg, chars[:, None], states)

        filled, scores = self.beam_search(b - a, left, lambda s, k: self.log_probs(self._logits(s)), step)
        states = network.state_after(self.params, self.cfg, filled, _wide(left, len(filled)))
        scores = scores + self._after(states, self.ids[b:stop])
        share = np.exp(scores - scores.max())
        share /= share.sum()
        V = self.params["decoder.bias"].shape[0]
        posterior = np.zeros((b - a, V))
        for i in range(b - a):
            np.add.at(posterior[i], filled[:, i], share)
        with np.errstate(divide="ignore"):
            return filled[int(np.argmax(scores))], np.log(posterior)

    def _after(self, states: np.ndarray, right: np.ndarray) -> np.ndarray:
        """ln p(right | each state) (K,): the text after the run read once per candidate."""
        K = states.shape[2]
        total = np.zeros(K)
        if len(right) == 0:
            return total
        logits = self._logits(states)
        total += log_softmax(logits.astype(np.float64))[:, right[0]]
        ids = np.broadcast_to(right, (K, len(right)))
        for start, window_logits, _, _ in network.read(self.params, self.cfg, ids[:, :-1], states):
            T = len(window_logits) // K
            logp = log_softmax(window_logits.astype(np.float64)).reshape(T, K, -1)
            targets = right[start + 1 : start + 1 + T]
            total += logp[np.arange(T)[:, None], np.arange(K)[None], targets[:, None]].sum(axis=0)
        return total


def _wide(state: np.ndarray, K: int) -> np.ndarray:
    """One stream's state (L, S, 1, H) as K streams'."""
    return np.ascontiguousarray(np.broadcast_to(state, (*state.shape[:2], K, state.shape[3])))
