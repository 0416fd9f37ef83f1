"""What `fill` and `inspect typos` hold grows with the text by a stated amount a character
(budget.py): a text whose estimate is beyond this machine's memory is refused at once, in one line
that names it, and what they allocate stays within that estimate."""

from __future__ import annotations

import tracemalloc

import pytest

from charrnn import budget, checkpoint
from charrnn.analysis import typos
from charrnn.checkpoint import Checkpoint
from charrnn.config import TrainConfig
from charrnn.generation import fill
from charrnn.language_model import LanguageModel
from tests.cli_helpers import assert_clean_error, invoke, write
from tests.conftest import PATTERN, train_tiny


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """A folder with a tiny model of both sides and two texts of 1,200 characters."""
    d = tmp_path_factory.mktemp("memory")
    trained = train_tiny("lstm", steps=60, bidirectional=True)
    checkpoint.save(Checkpoint(trained.cfg, TrainConfig(), trained.vocab, trained.params), d / "both.npz")
    write(d / "text.txt", PATTERN * 100)
    write(d / "gaps.txt", "hel_o world\n" * 100)
    return d


@pytest.fixture(scope="module")
def both(saved):
    return LanguageModel.load(saved / "both.npz")


@pytest.mark.parametrize(
    "command,says",
    [
        (["inspect", "typos", "text.txt"], "finding the typos of 1,200 characters would need"),
        (["fill", "gaps.txt"], "filling 1,200 characters would need"),
    ],
)
def test_a_text_beyond_the_memory_is_refused_in_one_line_naming_it(saved, monkeypatch, command, says):
    monkeypatch.chdir(saved)
    with budget.memory_planned_for(30_000):
        line = assert_clean_error(invoke([*command, "-c", "both.npz"]), 1, says, "of memory", "give a shorter text")
    assert "this machine has 30,000 bytes" in line
    with budget.memory_planned_for(100_000_000):
        assert invoke([*command, "-c", "both.npz"]).exit_code == 0


def peak_over(run) -> int:
    """The most memory Python allocated while `run()` ran, above what it held before."""
    tracemalloc.start()
    try:
        run()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_finding_typos_allocates_no_more_than_its_estimate(both):
    text = (PATTERN * 500).replace("world", "wlrld")  # 6,000 characters, more suspects than a batch
    estimate = budget.typos_bytes(both.cfg, len(both.vocab), len(text), typos.stretch_chars(typos.AROUND, len(text)))
    peak = peak_over(lambda: typos.suspects(both, text, 60, far=0.0))
    assert peak < estimate, (peak, estimate)


def test_filling_allocates_no_more_than_its_estimate(both):
    text = "hel_o world\n" * 500
    runs = fill.gap_runs(text, "_")
    estimate = budget.fill_bytes(both.cfg, len(both.vocab), len(text), len(runs), fill.stretch_chars(runs, 8))
    peak = peak_over(lambda: fill.fill(both, text))
    assert peak < estimate, (peak, estimate)
