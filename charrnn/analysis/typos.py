"""Typos: the characters of a text that a model of both sides finds least likely where they stand,
each with the character it finds far more likely there.

Each character is predicted from everything else (nn/both_sides.py), so a wrong letter stands
out twice over: it is unlikely itself, and the model knows what should be there. But a rare
letter that fits is unlikely too. What tells a slip from it is what the replacement does to the
text around it: a wrong letter also makes its neighbours unlikely (each is predicted from it),
and putting the right one back makes them likely again, where replacing a rare but fitting
letter makes its neighbours fit worse. So where the model would put another character, each of
its ALTERNATIVES likeliest there is tried, and a suspect is ranked by how many bits likelier its
best replacement makes the stretch of AROUND characters on each side and itself, each character
given all the others (the sum of their log-probabilities, as `fill` ranks a filling). On
benchmarks/both_sides.py that names more of the changed letters than ranking by the character's
own bits less its replacement's (docs/bidirectional.md).

Its echoes on the neighbours can still rank high, so of the suspects within SPACING of each
other only the most suspect is named: one slip, one suspect.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

import numpy as np

from charrnn import budget
from charrnn.analysis import scoring
from charrnn.errors import ReadsOneSide
from charrnn.nn import both_sides
from charrnn.nn import model as network
from charrnn.nn.functional import bits, log_softmax
from charrnn.nn.model import REVERSE

if TYPE_CHECKING:
    from charrnn.language_model import LanguageModel

FAR = 3.0  # bits: the replacement must make the text around it at least 2**3 = 8 times as likely
SPACING = 3  # characters: a suspect this close to a more suspect one is its echo
AROUND = 4  # characters on each side of a suspect whose probabilities weigh its replacement too
ALTERNATIVES = 3  # replacements tried at each suspect: the model's likeliest there
BATCH = 256  # suspects whose stretches are read at once: this, not the text, bounds that reading's memory


@dataclass
class Suspect:
    position: int  # in the text, from 0
    char: str
    suggestion: str  # of the model's 3 likeliest there, the one that makes the text around it likeliest
    bits: float  # -log2 p(char | both sides)
    suggestion_bits: float  # -log2 p(suggestion | both sides)
    gain_bits: float  # how many bits likelier the suggestion makes the text around it: the rank

    def to_dict(self) -> dict:
        return asdict(self)


def suspects(
    model: LanguageModel, text: str, count: int, far: float = FAR, around: int = AROUND
) -> tuple[list[Suspect], scoring.Reading]:
    """The `count` most suspect characters, most suspect first, and the reading they come from
    (its predictions cover every character: for a page of the text)."""
    if not model.cfg.bidirectional:
        raise ReadsOneSide("find typos")
    budget.check_typos(model.cfg, len(model.vocab), len(text), stretch_chars(around, len(text)))
    reading = scoring.read(model, text, top=len(text), k=scoring.TOP_K)
    p = reading.predictions
    ids = model.vocab.encode(text).astype(np.intp)
    candidates = np.flatnonzero(p.top_ids[:, 0] != ids)  # only where the model would put another character
    tried = p.top_ids[candidates, :ALTERNATIVES]
    gained, choice = _gains(model, ids, candidates, tried, around)
    kept = gained >= far
    order = _apart(candidates[kept][np.argsort(-gained[kept], kind="stable")], count)
    chars, have = model.vocab.chars, bits(-p.logp)
    found = []
    for i in order:
        row = int(np.searchsorted(candidates, i))
        suggestion = int(tried[row, choice[row]])
        rank = int(np.flatnonzero(p.top_ids[i] == suggestion)[0])
        suggestion_bits = float(bits(-p.top_logp[i, rank]))
        found.append(Suspect(i, text[i], chars[suggestion], float(have[i]), suggestion_bits, float(gained[row])))
    return found, reading


def _gains(
    model: LanguageModel, ids: np.ndarray, at: np.ndarray, tried: np.ndarray, around: int
) -> tuple[np.ndarray, np.ndarray]:
    """For each position of `at` (sorted) and each character of `tried` (M, K) put there: how many
    bits likelier the stretch of `around` characters on each side becomes with it than with the
    character that stands there, each character of the stretch given all the rest (M, K) -> the
    best gain (M,) and which of `tried` gives it (M,).

    A stretch is read in both directions from the states the whole text gives at its ends. The
    positions are taken BATCH at a time, right to left: the backward stack reads the text once,
    and the forward stack reads it twice (once to keep its state where each batch starts)."""
    N, M = len(ids), len(tried)
    width = min(2 * around + 1, N)
    lo = np.clip(at - around, 0, N - width)
    batches = [slice(b, min(b + BATCH, M)) for b in range(0, M, BATCH)]
    forward, backward = _Reader(model, ""), _Reader(model, REVERSE)
    starts = [forward.states_at(ids, lo[rows.start : rows.start + 1]) for rows in batches]
    gains, choice = np.empty(M), np.empty(M, np.intp)
    back = ids[::-1]
    for rows, start in zip(reversed(batches), reversed(starts)):
        forward.state, forward.done = start, int(lo[rows.start])
        lefts = forward.states_at(ids, lo[rows])
        rights = backward.states_at(back, (N - lo[rows] - width)[::-1])[:, :, ::-1]  # after ids[lo + width:]
        gains[rows], choice[rows] = _stretch_gains(model, ids, at[rows], lo[rows], width, tried[rows], lefts, rights)
    return gains, choice


def _stretch_gains(model, ids, at, lo, width, tried, lefts, rights) -> tuple[np.ndarray, np.ndarray]:
    """_gains for one batch: each stretch ids[lo : lo + width] between its two states (L, S, m, H)
    read as it stands and with each tried character at `at`."""
    m, K = tried.shape
    stretches = np.repeat(ids[lo[:, None] + np.arange(width)][:, None], K + 1, axis=1)  # (m, K + 1, width)
    stretches[np.arange(m), 1:, at - lo] = tried
    flat = stretches.reshape(m * (K + 1), width)
    left, right = (np.repeat(s, K + 1, axis=2) for s in (lefts, rights))
    logits, _ = both_sides.stretch_logits(model.params, model.cfg, flat, left, right)
    logp = log_softmax(logits.astype(np.float64)).reshape(width, m * (K + 1), -1)
    given_rest = logp[np.arange(width)[:, None], np.arange(m * (K + 1))[None], flat.T].sum(axis=0).reshape(m, K + 1)
    gained = bits(given_rest[:, 1:] - given_rest[:, :1])  # log2 p(stretch, tried) - log2 p(stretch as it stands)
    gained[tried == ids[at, None]] = -np.inf  # what stands there is no replacement
    best = np.argmax(gained, axis=1)
    return gained[np.arange(m), best], best


def stretch_chars(around: int, chars: int) -> int:
    """The characters of the stretches read at once to weigh replacements in a text of `chars`:
    BATCH suspects' at most, each read as it stands and with each of the ALTERNATIVES."""
    return min(BATCH, chars) * (ALTERNATIVES + 1) * min(2 * around + 1, chars)


class _Reader:
    """One stack of a model of both sides, reading a text on from where it last stopped."""

    def __init__(self, model: LanguageModel, side: str):
        self.weights, self.cfg = network.prepare(model.params, model.cfg, side), model.cfg
        self.state = network.zero_state(self.cfg, 1, model.params["decoder.weight"].dtype)
        self.done = 0  # characters read

    def states_at(self, ids: np.ndarray, stops: np.ndarray) -> np.ndarray:
        """The state after ids[:stop] for each of `stops` (sorted, none before `done`) -> (L, S,
        len(stops), H), read on from ids[:done] a window at a time (ids in the order this stack
        reads them), each window's states taken from its cache."""
        found, stops = [], stops.tolist()
        while len(found) < len(stops):
            end = min(self.done + network.WINDOW, stops[-1])
            after, along = self.state, self.state[:, :, None]  # (L, S, 1, 1, H): nothing more to read
            if end > self.done:
                chunk = np.ascontiguousarray(ids[self.done : end, None])
                _, after, cache = network.run_stack(self.weights, self.cfg, chunk, self.state)
                along = network.states_along(self.cfg, cache)
            while len(found) < len(stops) and stops[len(found)] <= end:
                found.append(along[:, :, stops[len(found)] - self.done, 0])
            self.state, self.done = after, end
        return np.stack(found, axis=2)


def _apart(ranked: np.ndarray, count: int) -> list[int]:
    """The first `count` positions of `ranked` (most suspect first) that stand at least SPACING
    from every one taken before them."""
    taken: list[int] = []
    for i in ranked.tolist():
        if all(abs(i - j) >= SPACING for j in taken):
            taken.append(i)
            if len(taken) == count:
                break
    return taken
