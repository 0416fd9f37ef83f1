"""Beam search: more probable text than greedy decoding where greedy is wrong, argmax at width 1,
the exact optimum when the beam holds every hypothesis, and stop texts compared per character."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest

from charrnn.analysis import scoring
from charrnn.config import ModelConfig, SampleConfig
from charrnn.generation import beam
from charrnn.generation.sampling import generate
from charrnn.language_model import LanguageModel
from charrnn.nn import model
from charrnn.vocab import Vocab

from .cli_helpers import TEXT, assert_clean_error, invoke, train, write
from .conftest import CELLS
from .test_analysis import hand_model

CHARS = "\nabcde"
# P(next | previous), rows in CHARS order. After the newline 'a' is likelier than 'b', but 'a'
# leads to three equally likely characters and 'b' almost surely to 'c': the greedy 'a' loses.
MARKOV = {
    "\n": {"a": 0.55, "b": 0.45},
    "a": {"c": 1 / 3, "d": 1 / 3, "e": 1 / 3},
    "b": {"c": 0.97, "\n": 0.03},
    "c": {"\n": 0.5, "a": 0.5},
    "d": {"\n": 0.9, "e": 0.1},
    "e": {"\n": 0.6, "d": 0.4},
}


def markov_rnn():
    """An RNN whose prediction depends on the last character only, with the MARKOV probabilities:
    h = tanh(20 onehot(x)) is (almost exactly) one-hot, and the decoder's column j holds
    ln P(. | j)."""
    vocab = Vocab(CHARS)
    V = len(vocab)
    cfg = ModelConfig(cell="rnn", hidden_size=V, num_layers=1, dropout=0.0)
    table = np.full((V, V), 1e-6)  # (next, previous)
    for prev, row in MARKOV.items():
        for nxt, p in row.items():
            table[vocab.chars.index(nxt), vocab.chars.index(prev)] = p
    table /= table.sum(axis=0)
    params = hand_model(cfg, vocab, rnn__weight_ih_l0=20 * np.eye(V), decoder__weight=np.log(table) / np.tanh(20))
    return LanguageModel({k: v.astype(np.float32) for k, v in params.items()}, cfg, vocab)


def total_logp(m: LanguageModel, prime: str, written: str) -> float:
    """The written text's log-probability after the prime, by the scorer (not by the search)."""
    return float(scoring.log_probs(m, prime + written)[len(prime) - 1 :].sum())


def greedy(m: LanguageModel, prime: str, length: int) -> str:
    return "".join(c[0] for c in generate(m, SampleConfig(length=length, argmax=True), prime))


def test_beam_search_beats_greedy_where_greedy_is_wrong():
    m = markov_rnn()
    argmax_text = greedy(m, "\n", 2)
    best = beam.search(m, "\n", width=2, length=2)[0]
    beam_text = m.vocab.decode(best.ids)
    assert argmax_text[0] == "a" and beam_text == "bc"
    assert np.isclose(best.logp, np.log(0.45 * 0.97), atol=1e-4)
    assert total_logp(m, "\n", beam_text) > total_logp(m, "\n", argmax_text) + 0.5


def test_a_beam_holding_every_hypothesis_finds_the_most_probable_text():
    m = markov_rnn()
    length = 4
    texts = ["".join(t) for t in itertools.product(CHARS, repeat=length)]
    exact = max(texts, key=lambda t: total_logp(m, "\n", t))
    best = beam.search(m, "\n", width=len(CHARS) ** (length - 1), length=length)[0]
    assert m.vocab.decode(best.ids) == exact
    assert np.isclose(best.logp, total_logp(m, "\n", exact), atol=1e-4)


@pytest.mark.parametrize("cell", CELLS)
def test_each_hypothesis_carries_its_own_state(cell):
    """Totals the search reports equal the scorer's on the texts it returns: a state not moved
    with its hypothesis when the beam is reordered would give other numbers."""
    cfg = ModelConfig(cell=cell, hidden_size=8, num_layers=2, dropout=0.0)
    vocab = Vocab("abcdefg\n")
    params = model.init_params(cfg, len(vocab), np.random.default_rng(5))
    params = {k: v * 3 for k, v in params.items()}  # confident enough that the beam reorders
    m = LanguageModel(params, cfg, vocab)
    hyps = beam.search(m, "abc", width=5, length=30)
    assert len(hyps) == 5
    for h in hyps:
        np.testing.assert_allclose(h.logp, total_logp(m, "abc", vocab.decode(h.ids)), atol=2e-3)
    assert [h.logp for h in hyps] == sorted((h.logp for h in hyps), reverse=True)


def test_width_one_is_argmax(trained_lstm):
    (only,) = beam.search(trained_lstm, "he", width=1, length=60)
    assert trained_lstm.vocab.decode(only.ids) == greedy(trained_lstm, "he", 60)


def test_finished_hypotheses_end_with_the_stop_text_and_rank_per_character():
    m = markov_rnn()
    vocab = m.vocab
    hyps = beam.search(m, "\n", width=4, length=12, stop_at="\n")
    finished = [h for h in hyps if h.finished]
    assert finished and all(vocab.decode(h.ids).endswith("\n") for h in finished)
    assert all("\n" not in vocab.decode(h.ids)[:-1] for h in finished)  # stopped at the first one
    per_char = [h.bits_per_char for h in finished]
    assert per_char == sorted(per_char)
    # "bc\n": 0.45 * 0.97 * 0.5 in three characters, the best per character of all finished texts
    assert vocab.decode(finished[0].ids) == "bc\n"
    for h in finished:
        assert np.isclose(
            h.bits_per_char,
            -total_logp(m, "\n", vocab.decode(h.ids)) / np.log(2) / len(h.ids),
            atol=1e-4,
        )


# -- the command line ------------------------------------------------------------------------


def test_sample_beam_1_prints_what_argmax_prints(tmp_path):
    corpus, ckpt = write(tmp_path / "c.txt", TEXT), tmp_path / "m.npz"
    train(corpus, ckpt, "--max-steps", "300", "--hidden-size", "24", "--seq-len", "32", "--lr", "0.01")
    args = ["sample", "-c", ckpt, "-n", "120", "--prime", "the "]
    greedy = invoke([*args, "--argmax"])
    beam_1 = invoke([*args, "--beam", "1"])
    assert greedy.exit_code == beam_1.exit_code == 0 and beam_1.stdout == greedy.stdout
    assert "sample 1: " in beam_1.stderr and "total log-probability" in beam_1.stderr
    stopped = [invoke([*args, flag, "--stop-at", "\n"]).stdout for flag in ("--argmax", "--beam=1")]
    assert stopped[0] == stopped[1] and stopped[0].endswith("\n")


def test_sample_beam_json_gives_each_hypothesis_and_its_total(tmp_path):
    corpus, ckpt = write(tmp_path / "c.txt", TEXT), tmp_path / "m.npz"
    train(corpus, ckpt)
    result = invoke(
        ["sample", "-c", ckpt, "-n", "50", "--prime", "the ", "--beam", "4", "--num-samples", "3", "--json"]
    )
    assert result.exit_code == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["method"] == "beam" and len(out["samples"]) == 3
    model = LanguageModel.load(ckpt)
    totals = [s["total_log_prob_nats"] for s in out["samples"]]
    assert totals == sorted(totals, reverse=True)
    for s in out["samples"]:
        assert len(s["text"]) == 50
        assert np.isclose(s["total_log_prob_nats"], total_logp(model, "the ", s["text"]), atol=1e-3)
    refused = invoke(["sample", "-c", ckpt, "--beam", "2", "--top-k", "3"])
    assert_clean_error(refused, 2, "beam search", "top-k")


def test_a_beam_asked_for_more_texts_than_can_differ_says_how_many_it_printed(tmp_path):
    corpus, ckpt = write(tmp_path / "c.txt", TEXT), tmp_path / "m.npz"
    train(corpus, ckpt)
    vocab = len(LanguageModel.load(ckpt).vocab)
    asked = vocab + 3
    result = invoke(["sample", "-c", ckpt, "-n", "1", "--beam", asked, "--num-samples", asked, "--json"])
    assert result.exit_code == 0, result.stderr
    texts = [s["text"] for s in json.loads(result.stdout)["samples"]]
    assert len(texts) == len(set(texts)) == vocab  # every one-character text, once
    said = [line for line in result.stderr.splitlines() if "--num-samples" in line]
    assert said == [
        f"Warning: --num-samples {asked} asked for more than there are: only {vocab} different texts of 1 character "
        f"can be written with the model's {vocab} characters; printing {vocab}"
    ]
    longer = invoke(["sample", "-c", ckpt, "-n", "3", "--beam", asked, "--num-samples", asked])
    assert longer.exit_code == 0 and "Warning" not in longer.stderr and f"sample {asked}: " in longer.stderr
