"""Single units of a trained network: their activation along a text, and what they track.

`activations` reads every layer's hidden state (and an LSTM's cell state) after each character.
`text_properties` turns a text into simple named signals, one value per character: inside
quotes, bracket depth, position within the line, start of a word, ... `find_neurons` ranks the
units by the Pearson correlation of their activation with each property, so that a model's
"quote detector" or "line-length counter", when it has one, comes out on top.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from charrnn import budget
from charrnn.analysis import scoring
from charrnn.config import ModelConfig
from charrnn.errors import ConfigError
from charrnn.nn import cells
from charrnn.nn.model import Cache, check_left_to_right

if TYPE_CHECKING:
    from charrnn.language_model import LanguageModel

STATES = {"h": "hidden state", "c": "cell state"}
OPENERS, CLOSERS = "([{", ")]}"


@dataclass(frozen=True)
class Unit:
    layer: int
    unit: int
    state: str = "h"  # "h" hidden, or "c" for an LSTM's cell state

    def __str__(self) -> str:
        """Short, for lists: 0:42, or 0:42 cell for a cell state."""
        return f"{self.layer}:{self.unit}{' cell' if self.state == 'c' else ''}"

    @property
    def label(self) -> str:
        """In words, for titles: layer 0, unit 42, cell state."""
        return f"layer {self.layer}, unit {self.unit}, {STATES[self.state]}"


def state_kinds(cfg: ModelConfig) -> tuple[str, ...]:
    """The states a cell keeps: ("h", "c") for an LSTM, ("h",) otherwise."""
    return tuple(STATES)[: cells.get(cfg).states]


def check_unit(cfg: ModelConfig, unit: Unit) -> None:
    """ConfigError, saying what exists, when the model has no such unit."""
    if not 0 <= unit.layer < cfg.num_layers:
        raise ConfigError(f"there is no layer {unit.layer}: the model has layers 0 to {cfg.num_layers - 1}")
    if not 0 <= unit.unit < cfg.hidden_size:
        raise ConfigError(f"there is no unit {unit.unit}: each layer has units 0 to {cfg.hidden_size - 1}")
    if unit.state not in state_kinds(cfg):
        raise ConfigError(f"only an LSTM has a cell state, and this model is {cfg.cell.upper()}", "cell_state")


def activations(model: LanguageModel, text: str) -> dict[tuple[int, str], np.ndarray]:
    """Every layer's states after each character: {(layer, "h" | "c"): (N, H)}."""
    cfg = model.cfg
    check_left_to_right(cfg, "show its states reading from the left")
    scoring.check_text(model.vocab, text, min_chars=1)
    kinds = state_kinds(cfg)
    out = {
        (layer, k): np.empty((len(text), cfg.hidden_size), np.float32) for layer in range(cfg.num_layers) for k in kinds
    }
    for w in scoring.windows(model, text):
        for layer, layer_cache in enumerate(w.cache.layers):
            for k in kinds:
                steps = getattr(layer_cache, k + "s")[1:, 0]  # (T, H): the cache keeps h_0 .. h_T
                out[layer, k][w.start : w.start + len(steps)] = steps
    return out


def probe(cfg: ModelConfig, unit: Unit) -> Callable[[Cache], np.ndarray]:
    """A window's cache -> the unit's activation after each of its characters, for scoring.read."""
    check_left_to_right(cfg, "show its states reading from the left")
    check_unit(cfg, unit)

    def values(cache: Cache) -> np.ndarray:
        return getattr(cache.layers[unit.layer], unit.state + "s")[1:, 0, unit.unit]  # the cache keeps h_0 .. h_T

    return values


def activation(model: LanguageModel, text: str, unit: Unit) -> np.ndarray:
    """One unit's activation after each character of the text, (N,)."""
    return scoring.read(model, text, probe=probe(model.cfg, unit)).values


# -- properties of a text -----------------------------------------------------------------------


def _scan(text: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Inside quotes, bracket depth and inside a # comment, after each character.

    A quote opens a string when none is open and closes the one it opened; a single-quoted
    string also ends at a newline (code never continues one, and prose apostrophes would
    otherwise leave one open). Brackets inside strings and comments do not count.
    """
    quoted, depth, comment = (np.zeros(len(text)) for _ in range(3))
    open_quote, level, in_comment = "", 0, False
    for i, ch in enumerate(text):
        if ch == "\n":
            in_comment = False
            if open_quote == "'":
                open_quote = ""
        elif in_comment:
            pass
        elif ch in "\"'":
            open_quote = ch if not open_quote else "" if ch == open_quote else open_quote
        elif not open_quote:
            if ch == "#":
                in_comment = True
            elif ch in OPENERS:
                level += 1
            elif ch in CLOSERS:
                level = max(level - 1, 0)
        quoted[i], depth[i], comment[i] = bool(open_quote), level, in_comment
    return quoted, depth, comment


def _line_positions(text: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Characters read in the line so far (1 at its first, 0 at a newline), characters still to
    come before the newline, and the line's indentation."""
    column, left, indent = (np.zeros(len(text)) for _ in range(3))
    start = 0
    for line in text.split("\n"):
        n = len(line)
        stop = start + n  # the newline itself, if any, is at `stop`
        column[start:stop] = np.arange(1, n + 1)
        left[start:stop] = np.arange(n - 1, -1, -1)
        indent[start:stop] = n - len(line.lstrip(" \t"))
        start = stop + 1
    return column, left, indent


def text_properties(text: str) -> dict[str, np.ndarray]:
    """Named properties of each character of `text`, each (N,) float."""
    chars = np.array(list(text)) if text else np.array([], dtype="<U1")
    word = np.array([c.isalnum() or c == "_" for c in text], dtype=bool)
    quoted, depth, comment = _scan(text)
    column, left, indent = _line_positions(text)

    def flag(test) -> np.ndarray:
        return np.array([test(c) for c in text], dtype=float)

    return {
        "inside quotes": quoted,
        "inside brackets": (depth > 0).astype(float),
        "bracket depth": depth,
        "inside a # comment": comment,
        "position in line": column,
        "characters left in line": left,
        "indentation of line": indent,
        "start of a word": (word & ~np.concatenate([[False], word[:-1]])).astype(float),
        "inside a word": word.astype(float),
        "whitespace": flag(str.isspace),
        "newline": (chars == "\n").astype(float),
        "uppercase": flag(str.isupper),
        "digit": flag(str.isdigit),
        "vowel": flag(lambda c: c in "aeiouAEIOU"),
        "punctuation": flag(lambda c: not (c.isalnum() or c.isspace())),
    }


# -- ranking units by property ------------------------------------------------------------------


def correlations(acts: np.ndarray, props: np.ndarray) -> np.ndarray:
    """Pearson correlation of every unit with every property: acts (N, U), props (N, P) -> (U, P).

    A constant unit or property correlates with nothing: its entries are 0.
    """
    a = acts - acts.mean(axis=0)
    p = props - props.mean(axis=0)
    norm = np.outer(np.sqrt((a * a).sum(axis=0)), np.sqrt((p * p).sum(axis=0)))  # (U, P)
    with np.errstate(invalid="ignore", divide="ignore"):
        r = (a.T @ p) / norm
    return np.where(norm > 1e-12, r, 0.0).clip(-1, 1)


@dataclass(frozen=True)
class Match:
    unit: Unit
    r: float  # Pearson correlation; negative: the unit falls where the property holds


@dataclass
class NeuronSearch:
    best: dict[str, list[Match]]  # property -> its best units by |r|, properties by their best |r|
    constant: list[str] = field(default_factory=list)  # properties with one value over the whole text
    chars: int = 0

    def to_dict(self) -> dict:
        return {
            "chars": self.chars,
            "properties": [
                {"property": name, "units": [{**asdict(m.unit), "r": m.r} for m in matches]}
                for name, matches in self.best.items()
            ],
            "constant_properties": self.constant,
        }


def find_neurons(model: LanguageModel, text: str, per_property: int = 3) -> NeuronSearch:
    """For each property of the text, the units whose activation correlates most with it."""
    cfg = model.cfg
    check_left_to_right(cfg, "show its states reading from the left")
    units_total = cfg.num_layers * cells.get(cfg).states * cfg.hidden_size
    # every unit's value at every character, in float32 and float64, and the properties
    budget.require("tracking every unit over the text", len(text) * (12 * units_total + 8 * 20), {})
    acts = activations(model, text)
    units = [Unit(layer, u, k) for (layer, k) in acts for u in range(cfg.hidden_size)]
    a = np.concatenate([acts[key] for key in acts], axis=1).astype(np.float64)  # (N, L*S*H), in `units` order
    props = text_properties(text)
    varying = [name for name, v in props.items() if np.ptp(v) > 0]
    r = correlations(a, np.stack([props[name] for name in varying], axis=1)) if varying else np.zeros((len(units), 0))
    best = {}
    for j, name in enumerate(varying):
        top = np.argsort(-np.abs(r[:, j]), kind="stable")[:per_property]
        best[name] = [Match(units[i], float(r[i, j])) for i in top]
    order = sorted(best, key=lambda name: -abs(best[name][0].r))
    return NeuronSearch({name: best[name] for name in order}, [n for n in props if n not in varying], len(text))
