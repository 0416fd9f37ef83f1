"""Scoring a long text: memory that does not grow with it, a bounded view of it, and totals, the
most and least surprising lines and --json over all of it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from charrnn.analysis import scoring
from charrnn.analysis.passages import MAX_CHARS, Passages
from charrnn.cli import cli
from charrnn.config import ModelConfig
from charrnn.language_model import LanguageModel
from charrnn.nn import model
from charrnn.vocab import Vocab

from .cli_helpers import script
from .test_inspect_cli import save

LINE = "the quick brown fox jumps over the lazy dog\n"


@pytest.fixture
def small_model(tmp_path):
    """A 1 x 8 RNN with random weights, cheap to run over megabytes, that never expects a Q."""
    vocab = Vocab(LINE + "Q")
    cfg = ModelConfig(cell="rnn", hidden_size=8, num_layers=1, dropout=0.0)
    params = unlikely_q(model.init_params(cfg, len(vocab), np.random.default_rng(0)), vocab)
    return save(tmp_path / "small.npz", LanguageModel(params, cfg, vocab))


def unlikely_q(params, vocab):
    params["decoder.bias"][vocab.chars.index("Q")] = -30.0  # about 43 bits: Q's line is the most surprising
    return params


PEAK = """
import resource, subprocess, sys
with open(sys.argv[1], "wb") as out:
    subprocess.run(sys.argv[2:], stdout=out, check=True)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
"""


def peak_rss_kib(args: list[str], out: Path) -> int:
    """The peak resident memory of a command writing its stdout to `out`, measured from a small
    parent process (a child forked from this test process would start with its memory)."""
    run = subprocess.run([sys.executable, "-c", PEAK, out, *args], capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr
    return int(run.stdout)


def test_scoring_megabytes_takes_no_more_memory_than_a_page(tmp_path, small_model):
    small, big = tmp_path / "small.txt", tmp_path / "big.txt"
    small.write_text(LINE * 200)  # 9 kB
    big.write_text(LINE * 70_000 + "Q" + LINE * 2)  # 3.1 MB, one surprise near the end
    command = [*script(), "inspect", "score", "-c", str(small_model), "--json"]
    out = tmp_path / "out.json"
    grown = peak_rss_kib([*command, str(big)], out) - peak_rss_kib([*command, str(small)], tmp_path / "small.json")
    print(f"peak RSS, 3.1 MB text against 9 kB: {grown / 1024:+.1f} MB")
    assert grown < 50 * 1024, f"peak RSS grew by {grown / 1024:.0f} MB for 3 MB of text"
    result = json.loads(out.read_text())
    n = len(LINE) * 70_002 + 1
    assert result["score"]["chars"] == n - 1 and len(result["score"]["surprisal_bits"]) == 999
    assert result["shown_chars"] == 1000
    most = result["passages"]["most_surprising"][0]
    assert most["line"] == 70_001 and most["text"] == "Q" + LINE  # found at the end, after 3 MB


def test_a_long_text_shows_its_first_characters_and_its_extremes_and_totals_over_all(tmp_path, small_model):
    text = tmp_path / "t.txt"
    text.write_text(LINE * 100 + "QQQ" + LINE)  # 4,447 characters
    result = CliRunner().invoke(cli, ["inspect", "score", str(text), "-c", str(small_model), "--show", "100"])
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "the first 100 of 4,447 characters; --show N shows more, --all every one" in out
    assert "4,446 characters scored of 4,447" in out
    assert "the most surprising lines:\nline 101," in out and "QQQthe quick" in out
    assert "the least surprising lines:" in out
    every = CliRunner().invoke(cli, ["inspect", "score", str(text), "-c", str(small_model), "--all", "--json"])
    assert len(json.loads(every.stdout)["score"]["surprisal_bits"]) == 4446
    short = CliRunner().invoke(cli, ["inspect", "score", str(text), "-c", str(small_model), "--show", "5000"]).stdout
    assert "most surprising" not in short and "the first" not in short  # all of it is shown


def test_the_window_totals_are_those_of_the_whole_text(monkeypatch):
    """Blocks of encoding and windows of reading change nothing: the same numbers as one forward pass."""
    text = (LINE * 30)[:-3] + "Q" + LINE
    vocab = Vocab(text)
    cfg = ModelConfig(cell="lstm", hidden_size=6, num_layers=2, dropout=0.0)
    params = unlikely_q(model.init_params(cfg, len(vocab), np.random.default_rng(1)), vocab)
    ids = vocab.encode(text).astype(np.intp)[None]
    logits, _, _ = model.forward(params, cfg, ids[:, :-1], model.zero_state(cfg, 1))
    logits = logits.astype(np.float64)
    logp = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    whole = -logp[np.arange(len(text) - 1), ids[0, 1:]] / np.log(2)
    monkeypatch.setattr(scoring, "BLOCK", 100)
    monkeypatch.setattr(model, "WINDOW", 7)
    passages = Passages()
    reading = scoring.read(LanguageModel(params, cfg, vocab), text, keep=50, observe=(passages.add,))
    passages.finish()
    assert reading.score.chars == len(text) - 1 and reading.score.total_bits == pytest.approx(whole.sum(), rel=1e-5)
    np.testing.assert_allclose(reading.score.surprisal_bits, whole[:50], rtol=1e-4)
    worst = passages.most[0]
    assert worst.text == text[worst.start : worst.stop] and "Q" in worst.text
    np.testing.assert_allclose(worst.surprisal_bits, whole[worst.start - 1 : worst.stop - 1], rtol=1e-4)


def test_passages_are_lines_and_pieces_of_long_lines():
    text = "x" * 400 + "\n" + "y" * 30 + "\n" + "short\n"
    passages = Passages(count=10)
    bits = np.arange(1, len(text), dtype=float)
    for start in range(0, len(text) - 1, 64):  # as scoring.read gives them, a window at a time
        passages.add(start + 1, bits[start : start + 64], text[start : start + 65])
    passages.finish()
    found = sorted((p.line, p.start, p.stop) for p in passages.most)
    assert found == [(1, 0, MAX_CHARS), (1, MAX_CHARS, 2 * MAX_CHARS), (1, 2 * MAX_CHARS, 401), (2, 401, 432)]
    assert passages.most[0].bits_per_char == pytest.approx(np.mean(bits[400:431]))  # "short" is too short
