"""Every option of `sample` and of the `inspect` views is bounded before it is paid: a value whose
memory no machine could hold is refused at once, in one line naming the option the user gave (not
one it left alone), and a value that cannot be met in full is said, not quietly shrunk.
"""

from __future__ import annotations

import pytest

from tests.cli_helpers import TEXT, assert_clean_error, invoke, run, tiny, write

FAST = 60  # seconds: far more than any refusal here takes, far less than filling the memory
HUGE = "1000000000"


@pytest.fixture(scope="module")
def with_documents(tmp_path_factory):
    """A tiny model of a text cut into documents at each full stop: it can end a document."""
    d = tmp_path_factory.mktemp("documents")
    corpus = write(d / "corpus.txt", TEXT)
    result = invoke(["train", corpus, "-c", d / "m.npz", *tiny(), "--document-separator", ".", "-q"])
    assert result.exit_code == 0, result.stderr
    return d / "m.npz"


@pytest.mark.parametrize("option", ["--best-of", "--beam"])
def test_a_billion_streams_of_a_search_are_refused_naming_the_search(trained, option):
    line = assert_clean_error(run(["sample", "-c", trained, option, HUGE, "-n", "10"], timeout=FAST), 1, option)
    assert "memory" in line and "--num-samples" not in line and "--hidden-size" not in line


def test_a_billion_documents_are_refused_naming_documents(with_documents):
    args = ["sample", "-c", with_documents, "--documents", HUGE, "-n", "10"]
    line = assert_clean_error(run(args, timeout=FAST), 1, "--documents", "memory")
    assert "--num-samples" not in line


def test_a_beam_over_a_billion_characters_is_refused_before_it_searches(trained):
    line = assert_clean_error(run(["sample", "-c", trained, "--beam", "2", "-n", HUGE], timeout=FAST), 1, "-n/--length")
    assert "memory" in line


def test_one_long_sample_is_said_in_the_singular(trained):
    line = assert_clean_error(invoke(["sample", "-c", trained, "-n", str(10**12)]), 1, "-n/--length")
    assert "a sample of 1,000,000,000,000 characters" in line


def test_gradients_say_when_the_text_has_room_for_fewer_positions_than_asked(trained, tmp_path):
    text = write(tmp_path / "t.txt", TEXT[:300])  # room for 300 - 100 = 200 positions 100 steps back
    result = invoke(["inspect", "gradients", text, "-c", trained, "--positions", "100000", "--json"])
    assert result.exit_code == 0, result.stderr
    assert "room for 200 positions" in result.stderr and "100,000 asked" in result.stderr
    import json

    model = json.loads(result.stdout)["models"][0]
    assert (model["positions"], model["positions_asked"]) == (200, 100000)


def test_gradients_measured_at_every_position_asked_say_nothing_more(trained, tmp_path):
    text = write(tmp_path / "t.txt", TEXT)
    result = invoke(["inspect", "gradients", text, "-c", trained, "--positions", "8", "--json"])
    assert result.exit_code == 0 and result.stderr == "", result.stderr
    assert '"positions": 8, "positions_asked": 8' in result.stdout
