"""Every option of `sample` and of the `inspect` views is bounded before it is paid: a value whose
memory no machine could hold is refused at once, in one line naming the option the user gave (not
one it left alone), and a value that cannot be met in full is said, not quietly shrunk.
"""

from __future__ import annotations

import contextlib
import io
import tracemalloc

import pytest

from charrnn.cli import cli
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


def test_one_long_sample_kept_for_its_novelty_is_said_in_the_singular(trained):
    line = assert_clean_error(invoke(["sample", "-c", trained, "-n", str(10**12), "--novelty"]), 1, "-n/--length")
    assert "keeping a sample of 1,000,000,000,000 characters" in line


class Lengths(io.TextIOBase):
    """A stdout that keeps only the length of each sample written to it (split at "|")."""

    def __init__(self):
        self.lengths = [0]

    def write(self, text: str) -> int:
        first, *others = text.split("|")
        self.lengths[-1] += len(first)
        self.lengths += [len(o) for o in others]
        return len(text)


def traced_peak(args: list[str]) -> tuple[int, list[int]]:
    """(the peak of the memory Python allocated while the command ran, the lengths of what it wrote),
    its stdout a sink that keeps nothing, so that the peak is the command's own."""
    out = Lengths()
    tracemalloc.start()
    try:
        with contextlib.redirect_stdout(out):
            cli.main([str(a) for a in args], prog_name="charrnn", standalone_mode=False)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return peak, out.lengths


@pytest.mark.parametrize("num_samples", [1, 2])
def test_a_streamed_sample_keeps_nothing_that_grows_with_its_length(trained, num_samples):
    """A sample written out as it is drawn keeps nothing of it (it kept a list and a string, about
    10 bytes a character). Two samples that would not fit as one batch are drawn one after
    another, each written as it is drawn."""
    from charrnn import budget

    # with two, a machine whose memory holds no two of these samples at once
    memory = 40_000 * budget.SAMPLE_BYTES_PER_CHAR if num_samples > 1 else budget.memory_total()
    base = ["sample", "-c", trained, "--seed", "3", "--num-samples", num_samples, "--separator", "|"]
    with budget.memory_planned_for(memory):
        traced_peak([*base, "-n", "100"])  # what is allocated once (imports, caches) is not counted below
        length = 82_000 // num_samples  # 82,000 characters drawn in all
        short, _ = traced_peak([*base, "-n", "1000"])
        long, lengths = traced_peak([*base, "-n", length])
    grown = (long - short) / 80_000
    assert grown < 3, f"{grown:.1f} bytes kept per character drawn"  # what a run allocates varies by 100 kB
    assert lengths == [length] * num_samples


def test_samples_too_many_for_one_batch_are_drawn_in_batches_that_fit(trained, monkeypatch):
    from charrnn import budget
    from charrnn.language_model import LanguageModel

    model = LanguageModel.load(trained)
    two = budget.streamed_bytes(model.cfg, len(model.vocab), 100, 2, False)
    drawn = []
    generate = LanguageModel.generate
    monkeypatch.setattr(
        LanguageModel,
        "generate",
        lambda self, cfg, prime, n, rng: drawn.append(n) or generate(self, cfg, prime, n, rng),
    )
    with budget.memory_planned_for(2 * two):  # half of it holds a batch of two, not of three
        assert budget.streamed_batch(model.cfg, len(model.vocab), 100, 5, False) == 2
        result = invoke(["sample", "-c", trained, "-n", "100", "--num-samples", "5", "--separator", "|", "--seed", "1"])
    assert result.exit_code == 0, result.stderr
    assert drawn == [2, 2, 1] and [len(s) for s in result.stdout.split("|")] == [100] * 5


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


def _index(corpus: str):
    import numpy as np

    from charrnn.analysis.novelty import CorpusIndex

    chars = sorted(set(corpus))
    return CorpusIndex(np.array([chars.index(c) for c in corpus], np.uint8), chars)


def test_a_copy_longer_than_measured_is_said_at_least_and_its_share_stays_exact(monkeypatch):
    """A span is measured up to MAX_SPAN characters (a text copied whole would otherwise cost time
    quadratic in its length); every character of a longer copy is still counted as copied."""
    import numpy as np

    from charrnn.analysis import novelty

    corpus = "".join(np.random.default_rng(0).choice(list("acgt\n"), 3000))
    text = "#" + corpus[100:400] + "%" + corpus[2000:2030] + "#"  # copies of 300 and 30 characters
    whole = _index(corpus).novelty(text, min_copy=20)
    assert (whole.longest, whole.longest_at_least, whole.copied_chars) == (300, False, 330)
    monkeypatch.setattr(novelty, "MAX_SPAN", 50)
    cut = _index(corpus).novelty(text, min_copy=20)
    assert (cut.longest, cut.longest_at, cut.longest_at_least) == (50, 1, True)
    assert cut.copied_chars == 330 and (cut.copied == whole.copied).all()
    assert cut.to_dict()["longest_at_least"] is True


def test_a_min_copy_above_the_longest_span_measured_is_refused(trained, tmp_path):
    from charrnn.config import MAX_COPY_SPAN

    text = write(tmp_path / "t.txt", TEXT)
    too_long = str(MAX_COPY_SPAN + 1)
    assert_clean_error(invoke(["inspect", "novelty", text, "-c", trained, "--min-copy", too_long]), 2, "--min-copy")
    result = invoke(["sample", "-c", trained, "-n", "5", "--novelty", "--min-copy", too_long])
    assert_clean_error(result, 2, "--min-copy")


def _weights(path) -> int:
    from charrnn.language_model import LanguageModel

    return sum(a.nbytes for a in LanguageModel.load(path).params.values())


@pytest.mark.parametrize("view, small", [("compare", []), ("gradients", ["--span", "5", "--positions", "2"])])
def test_more_models_than_memory_holds_are_refused_naming_c(trained, tmp_path, view, small):
    from charrnn import budget

    # room for a few such models and the work of two on the text, not for forty models at once
    text = write(tmp_path / "t.txt", TEXT)
    with budget.memory_planned_for(5 * _weights(trained) + 64 * len(TEXT)):
        forty = invoke(["inspect", view, text, *["-c", trained] * 40, *small])
        two = invoke(["inspect", view, text, *["-c", trained] * 2, *small])
    line = assert_clean_error(forty, 1, "holding 40 models")
    assert line.endswith("give fewer -c/--checkpoint"), line
    assert two.exit_code == 0, two.stderr


def test_a_text_too_long_to_rank_under_every_model_is_refused_before_scoring(trained, tmp_path):
    from charrnn import budget

    # room for the two models and the text itself, not for each character's surprisal under both
    text = write(tmp_path / "t.txt", TEXT)
    with budget.memory_planned_for(2 * _weights(trained) + 16 * len(TEXT)):
        result = invoke(["inspect", "compare", text, "-c", trained, "-c", trained])
    line = assert_clean_error(result, 1, "scoring 1,312")
    assert line.endswith("give a shorter text"), line


def test_every_characters_numbers_that_would_not_fit_are_refused_naming_all(trained, tmp_path):
    """neurons --all keeps two numbers a character (surprisal and the unit's value), score --all one."""
    from charrnn import budget

    # room for the text and one number a character, or two for its first 1,000, not two for all of it
    text = write(tmp_path / "t.txt", TEXT)  # 1,312 characters
    neurons = ["inspect", "neurons", text, "-c", trained, "--unit", "0:1"]
    with budget.memory_planned_for(22_000):
        line = assert_clean_error(invoke([*neurons, "--all"]), 1, "keeping 2 numbers for each of 1,312 characters")
        assert line.endswith("leave out --all, or give a shorter text"), line
        for fits in (neurons, ["inspect", "score", text, "-c", trained, "--all"]):
            result = invoke(fits)
            assert result.exit_code == 0, result.stderr
