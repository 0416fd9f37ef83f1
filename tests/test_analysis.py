"""The analysis views' numbers, on tiny models whose weights are set by hand so that the answer is
known before the code runs: a unit that counts, one that latches, a gradient that must halve at
every step, one that must not fade at all. Trained tiny models only check agreement with the core.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import numpy as np
import pytest

from charrnn.analysis import gradient_reach, neurons, ranking, scoring
from charrnn.cli.errors import message
from charrnn.config import ModelConfig
from charrnn.errors import ConfigError, DataError, TooShort, UnknownCharacters
from charrnn.language_model import LanguageModel
from charrnn.nn import model
from charrnn.nn.functional import cross_entropy
from charrnn.vocab import Vocab
from tests.conftest import CELLS

from .conftest import TINY_TEXT, train_tiny

ROOT = Path(__file__).resolve().parent.parent
CODE = "def f(a, (b)):\n    return g(a)\n\nx = [1, 2]\n"


def hand_model(cfg: ModelConfig, vocab: Vocab, **weights: np.ndarray) -> dict[str, np.ndarray]:
    """Parameters of the right names and shapes, all zero except those given (float64)."""
    shapes = model.param_shapes(cfg, len(vocab))
    params = {name: np.zeros(shape) for name, shape in shapes.items()}
    for name, value in weights.items():
        params[name.replace("__", ".")] = np.asarray(value, dtype=np.float64)
    return params


def counting_rnn(text: str):
    """A ReLU RNN with three units whose activations are known exactly:
    unit 0 is 1 on whitespace, unit 1 counts the characters read since the last newline,
    unit 2 is the bracket depth."""
    vocab = Vocab(text)
    cfg = ModelConfig(cell="rnn", hidden_size=3, num_layers=1, dropout=0.0, nonlinearity="relu")
    w_ih = np.zeros((3, len(vocab)))
    for ch in vocab.chars:
        v = vocab.chars.index(ch)
        w_ih[0, v] = 1.0 if ch.isspace() else 0.0
        w_ih[1, v] = -1e3 if ch == "\n" else 1.0  # ReLU clears the count at a newline
        w_ih[2, v] = {"(": 1.0, "[": 1.0, ")": -1.0, "]": -1.0}.get(ch, 0.0)
    w_hh = np.diag([0.0, 1.0, 1.0])  # units 1 and 2 keep their count
    return LanguageModel(hand_model(cfg, vocab, rnn__weight_ih_l0=w_ih, rnn__weight_hh_l0=w_hh), cfg, vocab)


def counting_lstm(text: str, counted: str = "a"):
    """A one-unit LSTM whose cell state counts `counted`: gates i, f, o saturated open,
    g = tanh(0.5) on `counted` and 0 otherwise, so c = tanh(0.5) * count and h = tanh(c)."""
    vocab = Vocab(text)
    cfg = ModelConfig(cell="lstm", hidden_size=1, num_layers=1, dropout=0.0)
    w_ih = np.zeros((4, len(vocab)))
    w_ih[2, vocab.chars.index(counted)] = 0.5
    b_ih = np.array([30.0, 30.0, 0.0, 30.0])  # i, f, g, o
    return LanguageModel(hand_model(cfg, vocab, rnn__weight_ih_l0=w_ih, rnn__bias_ih_l0=b_ih), cfg, vocab)


# -- predictions --------------------------------------------------------------------------------


def test_predictions_agree_with_the_core_scorer_and_rank_alternatives():
    m = train_tiny("gru", steps=60)
    preds = scoring.predictions(m, TINY_TEXT)
    np.testing.assert_allclose(preds.logp, scoring.log_probs(m, TINY_TEXT), atol=1e-9)
    assert preds.top_ids.shape == (len(TINY_TEXT) - 1, scoring.TOP_K)
    assert np.all(np.diff(preds.top_logp, axis=1) <= 0)  # best first
    assert np.all(preds.logp <= preds.top_logp[:, 0] + 1e-12)  # nothing beats the favourite
    assert np.all(np.exp(preds.top_logp).sum(axis=1) <= 1 + 1e-9)


def test_an_untrained_decoder_predicts_uniformly():
    m = counting_rnn(CODE)  # decoder weights and bias are zero
    preds = scoring.predictions(m, CODE, k=3)
    np.testing.assert_allclose(preds.bits, math.log2(len(m.vocab)))
    np.testing.assert_allclose(np.exp(preds.top_logp), 1 / len(m.vocab))


def test_predictions_refuse_unknown_characters_and_say_what_to_do():
    with pytest.raises(UnknownCharacters, match=r"never saw: 'Z'") as e:
        scoring.predictions(counting_rnn(CODE), "Zdef")
    assert isinstance(e.value, DataError) and e.value.chars == ["Z"]
    assert re.search(r"never saw: 'Z'.*several -c", message(e.value))  # what to do: the command line's words


# -- neurons ------------------------------------------------------------------------------------


def test_a_hand_set_unit_counts_characters_since_the_newline_exactly():
    count = neurons.activation(counting_rnn(CODE), CODE, neurons.Unit(0, 1))
    expected = []
    for line in CODE.split("\n")[:-1]:
        expected += list(range(1, len(line) + 1)) + [0]  # 1 at a line's first character, 0 at its newline
    np.testing.assert_array_equal(count, expected)


def test_activations_span_windows_with_the_state_carried():
    text = "(" * 300 + ")" * 10  # longer than one analysis window
    depth = neurons.activation(counting_rnn(text + " \n"), text, neurons.Unit(0, 2))
    np.testing.assert_array_equal(depth, list(range(1, 301)) + list(range(299, 289, -1)))


def test_an_lstm_cell_state_counts_while_its_hidden_state_squashes_the_count():
    text = "abcab\naab"
    m = counting_lstm(text)
    c = neurons.activation(m, text, neurons.Unit(0, 0, "c"))
    h = neurons.activation(m, text, neurons.Unit(0, 0, "h"))
    count = np.cumsum([ch == "a" for ch in text]) * np.tanh(0.5)
    np.testing.assert_allclose(c, count, rtol=1e-6)  # kept as float32
    np.testing.assert_allclose(h, np.tanh(count), rtol=1e-6)


@pytest.mark.parametrize(
    "unit, message",
    [
        (neurons.Unit(1, 0), "no layer 1: the model has layers 0 to 0"),
        (neurons.Unit(0, 3), "no unit 3: each layer has units 0 to 2"),
        (neurons.Unit(0, 0, "c"), "only an LSTM has a cell state, and this model is RNN"),
    ],
)
def test_asking_for_a_unit_the_model_lacks_says_what_exists(unit, message):
    with pytest.raises(ConfigError, match=message):
        neurons.activation(counting_rnn(CODE), CODE, unit)


def test_text_properties_follow_quotes_brackets_comments_and_lines():
    text = "x = \"a(b\" # c)\n  f('it')\nit's"
    p = neurons.text_properties(text)
    assert len(p) >= 12 and all(v.shape == (len(text),) for v in p.values())

    def where(name):
        return "".join(ch if on else "." for ch, on in zip(text, p[name]))

    assert where("inside quotes") == "...." + '"a(b' + "......." + "...." + "'it" + "..." + ".." + "'s"
    assert where("inside a # comment") == "..........# c)" + "." * (len(text) - 14)
    assert p["bracket depth"].tolist() == [0] * 18 + [1] * 5 + [0] * 6  # ( in a string does not count
    assert p["position in line"][:3].tolist() == [1, 2, 3] and p["position in line"][14] == 0  # the newline
    assert p["characters left in line"][:2].tolist() == [13, 12]
    assert p["indentation of line"][15:17].tolist() == [2, 2]
    assert where("start of a word") == "x....a.b....c.." + "..f..i...." + "i..s"


def test_find_neurons_ranks_the_hand_set_units_first_for_their_properties():
    text = CODE * 4
    found = neurons.find_neurons(counting_rnn(text), text)
    for prop, unit in (("whitespace", 0), ("position in line", 1), ("bracket depth", 2)):
        best = found.best[prop][0]
        assert best.unit == neurons.Unit(0, unit) and best.r == pytest.approx(1.0), prop
    assert abs(found.best[list(found.best)[0]][0].r) == pytest.approx(1.0)  # strongest first
    assert "inside quotes" in found.constant and "uppercase" in found.constant  # none in this text
    as_json = json.loads(json.dumps(found.to_dict()))
    assert as_json["properties"][0]["units"][0].keys() == {"layer", "unit", "state", "r"}


def test_find_neurons_looks_at_an_lstm_cell_state_too():
    text = "abcab\naab" * 3
    found = neurons.find_neurons(counting_lstm(text, counted="\n"), text)
    assert {m.unit.state for matches in found.best.values() for m in matches} == {"h", "c"}


def test_correlation_of_a_constant_unit_is_zero_not_nan():
    acts = np.stack([np.zeros(5), np.arange(5.0)], axis=1)
    r = neurons.correlations(acts, np.arange(5.0)[:, None] ** 2)
    assert r[0, 0] == 0 and 0.9 < r[1, 0] < 1


# -- memory -------------------------------------------------------------------------------------

STEADY = "a" * 400 + "b"  # every window reads only 'a', so every step back looks the same


def decaying_rnn(vocab: Vocab, alpha: float):
    """tanh RNN with W_hh = alpha * I and tiny inputs: the state stays near 0, where tanh' = 1, so
    the gradient is multiplied by alpha at every step back."""
    cfg = ModelConfig(cell="rnn", hidden_size=4, num_layers=1, dropout=0.0)
    rng = np.random.default_rng(0)
    params = hand_model(
        cfg,
        vocab,
        rnn__weight_ih_l0=rng.uniform(-0.01, 0.01, (4, len(vocab))),
        rnn__weight_hh_l0=alpha * np.eye(4),
        decoder__weight=rng.standard_normal((len(vocab), 4)),
    )
    return LanguageModel(params, cfg, vocab)


def remembering_lstm(vocab: Vocab, forget_bias: float = 20.0):
    """LSTM with its forget gate held open and no recurrent weights: the loss's gradient reaches
    the cell state k steps back multiplied only by f^k, which is 1 to float precision."""
    cfg = ModelConfig(cell="lstm", hidden_size=4, num_layers=1, dropout=0.0)
    rng = np.random.default_rng(0)
    w_ih = np.zeros((16, len(vocab)))
    w_ih[8:12] = rng.uniform(-0.01, 0.01, (4, len(vocab)))  # the input reaches only the candidate g,
    # and only a little, so that the cell state, which adds it up, stays far from saturating tanh
    b_ih = np.zeros(16)
    b_ih[4:8] = forget_bias
    params = hand_model(
        cfg, vocab, rnn__weight_ih_l0=w_ih, rnn__bias_ih_l0=b_ih, decoder__weight=rng.standard_normal((len(vocab), 4))
    )
    return LanguageModel(params, cfg, vocab)


def test_a_vanilla_rnn_gradient_halves_at_every_step_back():
    curve = gradient_reach.gradient_curve(decaying_rnn(Vocab(STEADY), alpha=0.5), STEADY, span=30, positions=16)
    ratios = curve.norms[1:] / curve.norms[:-1]
    np.testing.assert_allclose(ratios, 0.5, rtol=1e-3)
    assert curve.k_below(0.01) == 7  # 0.5**6 = 0.016, 0.5**7 = 0.008
    assert curve.far_factor() == pytest.approx(0.5, rel=1e-3)
    assert curve.positions == 16


def test_an_lstm_with_an_open_forget_gate_keeps_its_gradient():
    curve = gradient_reach.gradient_curve(remembering_lstm(Vocab(STEADY)), STEADY, span=60, positions=16)
    np.testing.assert_allclose(curve.norms, curve.norms[0], rtol=1e-6)  # flat: f**60 = 1 - 1e-7
    assert curve.k_below(0.01) is None
    assert curve.far_factor() == pytest.approx(1.0, abs=1e-6)


def test_a_closing_forget_gate_makes_the_lstm_forget_geometrically():
    closing = remembering_lstm(Vocab(STEADY), forget_bias=0.0)  # f = sigmoid(0) = 1/2
    curve = gradient_reach.gradient_curve(closing, STEADY, span=20, positions=8)
    np.testing.assert_allclose(curve.norms[1:] / curve.norms[:-1], 0.5, rtol=1e-6)


def test_on_real_text_the_rnn_forgets_where_the_lstm_remembers():
    text = CODE * 10
    vocab = Vocab(text)
    rnn_curve = gradient_reach.gradient_curve(decaying_rnn(vocab, alpha=0.8), text, span=50, positions=32)
    lstm_curve = gradient_reach.gradient_curve(remembering_lstm(vocab), text, span=50, positions=32)
    assert rnn_curve.k_below() == pytest.approx(math.log(0.01) / math.log(0.8), abs=2)
    assert lstm_curve.k_below() is None and lstm_curve.relative[-1] > 0.1


def step_input_grads(params, cfg, dlogits, cache):
    """Layer 0's per-step input-projection gradient, as `inspect gradients` reads it."""
    per_layer = []
    model.backward(params, cfg, dlogits, cache, input_grads=per_layer)
    return per_layer[0]


@pytest.mark.parametrize("cell", CELLS)
def test_per_step_input_gradients_match_the_core_backward(cell):
    """Summed over steps and rows they are the core's W_ih and b_ih gradients; step by step, the
    gradient sent into the state before a step is W_hh^T times the step's (for one RNN layer)."""
    rng = np.random.default_rng(1)
    cfg = ModelConfig(cell=cell, hidden_size=5, num_layers=2, dropout=0.0)
    params = model.init_params(cfg, 6, rng, dtype=np.float64)
    x, y = rng.integers(0, 6, (3, 7)), rng.integers(0, 6, (3, 7))
    state = 0.1 * rng.standard_normal(model.zero_state(cfg, 3).shape)
    logits, _, cache = model.forward(params, cfg, x, state)
    _, dlogits = cross_entropy(logits, y.T.ravel())
    grads, _ = model.backward(params, cfg, dlogits.copy(), cache)
    da = step_input_grads(params, cfg, dlogits.copy(), cache)  # (T, B, G)
    np.testing.assert_allclose(da.sum(axis=(0, 1)), grads["rnn.bias_ih_l0"], atol=1e-12)
    onehot = np.eye(6)[x.T]  # (T, B, V)
    np.testing.assert_allclose(np.einsum("tbg,tbv->gv", da, onehot), grads["rnn.weight_ih_l0"], atol=1e-12)


def test_each_step_of_the_input_gradient_is_in_its_place():
    rng = np.random.default_rng(2)
    cfg = ModelConfig(cell="rnn", hidden_size=4, num_layers=1, dropout=0.0)
    params = model.init_params(cfg, 5, rng, dtype=np.float64)
    x = rng.integers(0, 5, (2, 6))
    logits, _, cache = model.forward(params, cfg, x, model.zero_state(cfg, 2, np.float64))
    dlogits = np.zeros_like(logits)
    dlogits[-2:] = rng.standard_normal((2, 5))  # a loss at the last step only
    da = step_input_grads(params, cfg, dlogits, cache)
    for s in range(1, 6):  # the same loss differentiated by the core with respect to the state h_s
        logits_s, _, cache_s = model.forward(params, cfg, x[:, s:], cache.layers[0].hs[s][None, None])
        dl = np.zeros_like(logits_s)
        dl[-2:] = dlogits[-2:]
        _, dstate = model.backward(params, cfg, dl, cache_s)
        np.testing.assert_allclose(dstate[0, 0], da[s] @ params["rnn.weight_hh_l0"], atol=1e-12)


def test_window_starts_are_spread_and_short_texts_are_refused():
    starts = gradient_reach.window_starts(1000, 100, 5)
    assert starts.tolist() == [0, 225, 450, 674, 899]  # 899 + 100 = 999, the last character
    assert gradient_reach.window_starts(12, 10, 64).tolist() == [0, 1]
    with pytest.raises(TooShort, match="at least 11") as e:
        gradient_reach.window_starts(10, 10, 64)
    assert isinstance(e.value, DataError) and (e.value.length, e.value.least, e.value.needed_by) == (
        10,
        11,
        {"span": 10},
    )
    assert re.search("at least 11.*smaller --span", message(e.value))


def test_warm_states_are_the_states_of_one_pass_over_the_text():
    m = counting_rnn(CODE * 10)
    ids = m.vocab.encode(CODE * 10).astype(np.intp)
    states = gradient_reach.states_at(m, ids, np.array([0, 3, 300]))
    assert states[0, 0, 0].tolist() == [0, 0, 0]
    depth_after_3 = neurons.activation(m, CODE * 10, neurons.Unit(0, 2))[2]
    assert states[0, 0, 1, 2] == depth_after_3


# -- which model wrote it -----------------------------------------------------------------------


def uniform_model(chars: str):
    """Zero weights: every character has probability 1/V, so bits per character is log2 V."""
    return counting_rnn(chars)


def test_ranking_skips_unknown_characters_and_compares_the_rest():
    text = "abcab\ncab"
    small = ranking.score_known("small", uniform_model("ab\n"), text)  # never saw 'c'
    large = ranking.score_known("large", uniform_model("abc\n "), text)
    assert small.skipped == 2 and small.missing == ["c"] and large.skipped == 0
    assert small.scored == len(text) - 3  # neither 'c' nor the first character
    ranked = ranking.rank([large, small])
    assert [s.name for s in ranked.scores] == ["small", "large"]  # 3 choices beat 5
    assert ranked.common.sum() == len(text) - 3
    assert ranked.bits_per_char(small) == pytest.approx(math.log2(3))
    assert ranked.bits_per_char(large) == pytest.approx(math.log2(5))
    d = json.loads(json.dumps(ranked.to_dict()))
    assert d["comparable_chars"] == 6 and d["models"][0] | {"bits_per_char": 0} == {
        "rank": 1,
        "name": "small",
        "bits_per_char": 0,
        "own_bits_per_char": pytest.approx(math.log2(3)),
        "scored_chars": 6,
        "skipped_chars": 2,
        "missing": ["c"],
    }


def test_the_model_that_learned_a_text_is_ranked_first_on_it():
    other_text, passage = "the cat sat on a mat\n" * 20, TINY_TEXT[:120]
    hello = train_tiny("lstm", steps=80)
    other = train_tiny("lstm", steps=80, text=other_text)
    scores = [ranking.score_known(name, m, passage) for name, m in (("other", other), ("hello", hello))]
    ranked = ranking.rank(scores)
    assert ranked.scores[0].name == "hello"
    unknown = sorted(set(passage) - set(other_text))
    assert scores[0].missing == unknown == ["d", "l", "r", "w"]
    assert scores[0].skipped == sum(passage.count(c) for c in unknown)


def test_ranking_needs_characters_every_model_can_score():
    with pytest.raises(DataError, match="no character of the text is scored by every model"):
        ranking.rank(
            [
                ranking.score_known("x", uniform_model("xy"), "abab"),
                ranking.score_known("a", uniform_model("ab"), "abab"),
            ]
        )
