"""Filling the gaps of a text: what is chosen, that it is the model's own best, and that nothing
else changes."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from charrnn import checkpoint
from charrnn.analysis import scoring
from charrnn.checkpoint import Checkpoint
from charrnn.config import TrainConfig
from charrnn.generation import fill
from charrnn.language_model import LanguageModel
from charrnn.nn import both_sides
from charrnn.nn.functional import log_softmax
from tests.cli_helpers import invoke
from tests.conftest import PATTERN, train_tiny


@pytest.fixture(scope="module")
def both() -> LanguageModel:
    return train_tiny("lstm", steps=150, bidirectional=True)


@pytest.fixture(scope="module")
def left() -> LanguageModel:
    return train_tiny("lstm", steps=150)


def test_a_model_of_both_sides_restores_a_damaged_pattern(both):
    damaged = "hel_o wor_d\nhello _orld\n__llo world\n"
    assert fill.fill(both, damaged).text == PATTERN * 3


def test_a_left_to_right_model_restores_it_too(left):
    assert fill.fill(left, "hello w_rld\nhel_o world\n").text == PATTERN * 2


def both_sides_logp(model: LanguageModel, text: str) -> np.ndarray:
    ids = model.vocab.encode(text).astype(np.intp)
    logits = np.concatenate([lg for _, lg in both_sides.read(model.params, model.cfg, ids[None])])
    return log_softmax(logits.astype(np.float64))


def pseudo_log_likelihood(model, text: str, a: int, b: int) -> float:
    """The sum of log p(x_i | everything else) over a run [a, b) and fill.AROUND characters on
    each side: what a filling of the run is ranked by."""
    logp = both_sides_logp(model, text)
    ids = model.vocab.encode(text)
    return float(sum(logp[i, ids[i]] for i in range(max(0, a - fill.AROUND), min(len(text), b + fill.AROUND))))


def test_one_gap_takes_the_character_that_makes_the_text_around_it_likeliest(both):
    """With a beam of every character, the one chosen gives the gap and the characters around it
    their highest probability given everything else; its probability is the model's for it there."""
    text = "hello world\nhello wo_ld\nhello"
    gap = fill.fill(both, text, beam=len(both.vocab)).gaps[0]
    candidates = [c for c in both.vocab.chars if c != "\n"]
    best = max(candidates, key=lambda c: pseudo_log_likelihood(both, text.replace("_", c), 20, 21))
    assert gap.position == 20 and gap.char == best == "r"
    logp = both_sides_logp(both, text.replace("_", "h"))[20]  # the prediction of x_20 does not read x_20
    assert gap.probability == pytest.approx(np.exp(logp[both.vocab.chars.index("r")]), rel=1e-5)
    logp[both.vocab.chars.index("\n")] = logp[both.vocab.chars.index("r")] = -np.inf
    assert [c for c, _ in gap.next_best] == [both.vocab.chars[i] for i in np.argsort(-logp)[:3]]


def test_a_run_of_gaps_is_filled_jointly_with_the_best_filling_of_the_whole_run(both):
    """With a beam as wide as every pair, the filling chosen is the best of all V^2 pairs."""
    text = "hello world\nhe__o world\n"
    chars = [c for c in both.vocab.chars if c != "\n"]
    V = len(both.vocab)
    chosen = fill.fill(both, text, beam=V * V).text
    best = max(
        (text.replace("__", a + b) for a, b in itertools.product(chars, repeat=2)),
        key=lambda t: pseudo_log_likelihood(both, t, 14, 16),
    )
    assert chosen == best == PATTERN * 2


def test_a_left_to_right_model_ranks_a_gap_by_the_whole_texts_probability(left):
    text = "hello world\nhello wo_ld\nhello"
    V = len(left.vocab)
    chosen = fill.fill(left, text, beam=V).text
    candidates = [text.replace("_", c) for c in left.vocab.chars if c != "\n"]
    best = max(candidates, key=lambda t: scoring.read(left, t).score.total_bits * -1)
    assert chosen == best


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(alphabet="helo wrd\n_", min_size=1, max_size=30).filter(lambda t: "_" in t))
def test_nothing_but_the_gaps_changes_and_no_gap_becomes_a_line_break(both, text):
    filled = fill.fill(both, text, beam=2)
    assert len(filled.text) == len(text)
    assert all(a == b for a, b in zip(text, filled.text) if a != "_")
    assert filled.text.count("\n") == text.count("\n")
    assert [g.position for g in filled.gaps] == [i for i, c in enumerate(text) if c == "_"]


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory, both, left):
    d = tmp_path_factory.mktemp("fill")
    for name, trained in (("both", both), ("left", left)):
        checkpoint.save(Checkpoint(trained.cfg, TrainConfig(), trained.vocab, trained.params), d / f"{name}.npz")
    return d


def test_fill_writes_the_text_with_its_gaps_filled_and_nothing_more(checkpoints):
    result = invoke(["fill", "-", "-c", checkpoints / "both.npz"], input="hello w_rld\n")
    assert result.exit_code == 0, result.stderr
    assert len(result.stdout) == len("hello w_rld\n") and result.stdout.endswith("rld\n")
    assert result.stderr == ""


@pytest.mark.parametrize("name,reads", [("both", "both sides"), ("left", "left to right")])
def test_fill_json_gives_each_gaps_position_choice_probability_and_next_best(checkpoints, name, reads):
    result = invoke(["fill", "-", "-c", checkpoints / f"{name}.npz", "--json", "--gap", "#"], input="hel#o wor#d")
    assert result.exit_code == 0, result.stderr
    out = json.loads(result.stdout)
    assert list(out) == ["checkpoint", "text", "gap", "reads", "filled", "gaps"]
    assert out["reads"] == reads and out["gap"] == "#" and len(out["filled"]) == 11
    assert [g["position"] for g in out["gaps"]] == [3, 9]
    for g in out["gaps"]:
        assert list(g) == ["position", "char", "probability", "next_best"]
        assert out["filled"][g["position"]] == g["char"] and 0 < g["probability"] <= 1
        assert all(set(n) == {"char", "probability"} and n["char"] != g["char"] for n in g["next_best"])


@pytest.mark.parametrize(
    "text,args,code,says",
    [
        ("hello world", [], 1, "has no gap ('_') to fill"),
        ("hello world", ["--gap", "o"], 1, "'o' is a character the model knows"),
        ("h" + "_" * 65, [], 1, "65 gaps in a row at position 1; a run of at most 64"),
        ("hello_", ["--gap", "ab"], 2, "--gap must be one character"),
        ("héllo_", [], 1, "never saw"),
    ],
)
def test_what_cannot_be_filled_is_said_in_one_line(checkpoints, text, args, code, says):
    result = invoke(["fill", "-", "-c", checkpoints / "both.npz", *args], input=text)
    assert result.exit_code == code and says in result.stderr, result.stderr
    assert result.stdout == "" and result.stderr.count("\n") == 1
