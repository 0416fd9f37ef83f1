"""Best of N: the samples kept are the best of the batch by the stated score, the writer's own or
a judge's, and that score is the scorer's bits per character of the sample after its prime."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from charrnn import checkpoint
from charrnn.analysis import scoring
from charrnn.config import SampleConfig
from charrnn.generation import best_of
from charrnn.language_model import LanguageModel

from .cli_helpers import TEXT, assert_clean_error, invoke, train, write
from .conftest import train_tiny


def own_bits(m: LanguageModel, context: str, text: str) -> float:
    logp = scoring.log_probs(m, context + text)[len(context) - 1 :]
    return float(-logp.mean() / np.log(2))


def test_the_kept_samples_are_the_best_of_the_batch_by_the_writers_bits(trained_lstm):
    m = LanguageModel(trained_lstm.params, trained_lstm.cfg, trained_lstm.vocab)
    cfg = SampleConfig(length=40, temperature=1.5, seed=4)
    context, batch = best_of.draw(m, cfg, "he", 8, None, np.random.default_rng(4))
    assert context == "he" and len(set(batch)) == 8  # a hot batch: eight different samples
    every = sorted(own_bits(m, "he", t) for t in batch)
    kept = best_of.best_of(m, cfg, 8, 3, "he")
    assert [k.text for k in kept] == [batch[k.index] for k in kept]  # the same batch, drawn again
    np.testing.assert_allclose([k.bits_per_char for k in kept], every[:3], rtol=1e-6)


def test_a_judge_ranks_by_its_own_bits_and_skips_characters_it_never_saw(trained_lstm):
    m = LanguageModel(trained_lstm.params, trained_lstm.cfg, trained_lstm.vocab)
    j = train_tiny("gru", text="hello there\n" * 40)  # has no 'w', 'd'
    judge = LanguageModel(j.params, j.cfg, j.vocab)
    cfg = SampleConfig(length=30, temperature=1.5, seed=2)
    _, batch = best_of.draw(m, cfg, "", 6, None, np.random.default_rng(2))
    kept = best_of.best_of(m, cfg, 6, 6, judge=judge)
    scores = [k.bits_per_char for k in kept]
    assert scores == sorted(scores)
    for k in kept:
        known = "".join(ch for ch in "\n" + batch[k.index] if ch in judge.vocab)
        logp = scoring.log_probs(judge, known)
        n_known = sum(ch in judge.vocab for ch in batch[k.index])
        assert np.isclose(k.bits_per_char, -logp[-n_known:].mean() / np.log(2), rtol=1e-6)


def test_samples_stop_after_the_stop_text(trained_lstm):
    m = LanguageModel(trained_lstm.params, trained_lstm.cfg, trained_lstm.vocab)
    _, batch = best_of.draw(m, SampleConfig(length=60, argmax=True), "h", 3, "\n", np.random.default_rng(0))
    assert batch == ["ello world\n"] * 3


# -- the command line ------------------------------------------------------------------------


def test_sample_best_of_prints_the_best_by_the_stated_score(tmp_path):
    corpus, ckpt = write(tmp_path / "c.txt", TEXT), tmp_path / "m.npz"
    train(corpus, ckpt)
    args = ["sample", "-c", ckpt, "-n", "40", "--prime", "th", "--seed", "5", "--temp", "1.5"]
    batch = json.loads(invoke([*args, "--num-samples", "6", "--json"]).stdout)["samples"]
    best = json.loads(invoke([*args, "--best-of", "6", "--num-samples", "2", "--json"]).stdout)["samples"]
    assert [s["text"] for s in best] == [batch[s["drawn"] - 1]["text"] for s in best]
    assert [s["bits_per_char"] for s in best] == sorted(s["bits_per_char"] for s in batch)[:2]
    m = checkpoint.load(ckpt)
    for s in best:
        assert np.isclose(
            s["bits_per_char"], own_bits(LanguageModel(m.params, m.model, m.vocab), "th", s["text"]), rtol=1e-6
        )
    printed = invoke([*args, "--best-of", "6", "--num-samples", "2", "--no-prime-echo"])
    assert printed.stdout.startswith(best[0]["text"]) and best[1]["text"] in printed.stdout
    assert f"sample 1: {best[0]['bits_per_char']:.4f} bits/char; draw {best[0]['drawn']} of 6" in printed.stderr


def test_sample_judge_scores_by_the_other_model(tmp_path):
    corpus, ckpt = write(tmp_path / "c.txt", TEXT), tmp_path / "m.npz"
    train(corpus, ckpt)
    other, judge = write(tmp_path / "o.txt", TEXT.upper()), tmp_path / "judge.npz"
    train(other, judge)
    args = ["sample", "-c", ckpt, "-n", "40", "--seed", "1", "--best-of", "4", "--num-samples", "4", "--json"]
    out = json.loads(invoke([*args, "--judge", judge]).stdout)
    assert out["scored_by"] == str(judge)
    j = checkpoint.load(judge)
    scores = [best_of.bits_per_char(LanguageModel(j.params, j.model, j.vocab), "\n", s["text"]) for s in out["samples"]]
    assert [s["bits_per_char"] for s in out["samples"]] == scores == sorted(scores)
    assert_clean_error(invoke(["sample", "-c", ckpt, "--judge", judge]), 2, "--best-of")
    missing = invoke(["sample", "-c", ckpt, "--best-of", "4", "--judge", tmp_path / "none.npz"])
    assert_clean_error(missing, 2, "--judge", "none.npz")
    assert "-c PATH" not in missing.stderr  # -c names the writer, not the judge


def test_options_that_cannot_go_with_beam_search_are_named_as_flags(tmp_path):
    corpus, ckpt = write(tmp_path / "c.txt", TEXT), tmp_path / "m.npz"
    train(corpus, ckpt)
    for extra, named in (
        (["--beam", "4", "--temp", "0.5"], "leave out --temp"),
        (["--beam", "2", "--best-of", "4"], "leave out --best-of"),
        (["--documents", "2", "--beam", "2"], "leave out --beam"),
        (["--best-of", "2", "--argmax"], "leave out --argmax"),
    ):
        assert_clean_error(invoke(["sample", "-c", ckpt, "-n", "5", *extra]), 2, named)


def test_a_judge_that_can_score_no_sample_is_refused_or_said_not_to_rank(tmp_path):
    corpus, ckpt = write(tmp_path / "c.txt", TEXT), tmp_path / "m.npz"
    train(corpus, ckpt)
    digits, spaced = tmp_path / "digits.npz", tmp_path / "spaced.npz"
    train(write(tmp_path / "d.txt", "0123456789" * 40), digits)  # not one character of the writer's
    refused = invoke(["sample", "-c", ckpt, "-n", "5", "--best-of", "3", "--judge", digits])
    assert_clean_error(refused, 2, "--judge", "digits.npz knows none of the characters the model writes")
    train(write(tmp_path / "s.txt", "0123456789 " * 40), spaced)  # one character after an unknown prime: none scored
    args = ["sample", "-c", ckpt, "-n", "1", "--best-of", "3", "--num-samples", "3", "--judge", spaced, "--seed", "3"]
    unranked = invoke([*args, "--prime", "x"])
    assert unranked.exit_code == 0, unranked.stderr
    warning, *per_sample = unranked.stderr.splitlines()
    # one warning that none of the 3 draws could be ranked, then each sample unscored, in the order drawn
    assert warning.startswith("Warning: --judge") and "3 draws" in warning and "not ranked" in warning, warning
    assert [re.fullmatch(r"sample (\d): no score: .+; draw (\d) of 3", line).groups() for line in per_sample] == [
        (str(i), str(i)) for i in (1, 2, 3)
    ]
    assert all(f"no score: {spaced} " in line for line in per_sample)  # the judge that could not score it, named


@pytest.mark.parametrize(
    "extra", [["--json"], ["--json", "--novelty"], ["--best-of", "2"], ["--beam", "2", "--json"], ["--beam", "2"]]
)
def test_an_empty_sample_has_no_score_rather_than_nan(trained, extra):
    """-n 0 draws nothing, and nothing has no bits per character: JSON null and no score on
    stderr, where 0/0 gave NaN (not JSON: an internal error) and "nan bits/char"."""
    result = invoke(["sample", "-c", trained, "-n", "0", *extra])
    assert result.exit_code == 0, result.stderr
    assert "nan" not in result.stderr
    if "--json" in extra:
        assert [s["bits_per_char"] for s in json.loads(result.stdout)["samples"]] == [None]
