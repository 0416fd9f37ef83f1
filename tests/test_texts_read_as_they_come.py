"""inspect score and neurons read their text as it comes: decoded a chunk at a time with the
decoder's state carried across, scored in windows, in memory that does not grow with the text.
A character the model never saw, or a byte that is not the encoding's, is one line as soon as it
is read, even from a pipe that never ends; an endless pipe is scored until Ctrl-C, which shows
what was scored. A model of both sides holds the text's ids, up to a stated bound."""

from __future__ import annotations

import contextlib
import io
import json
import signal
import subprocess
import threading
import time
import tracemalloc

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from charrnn.analysis import scoring
from charrnn.analysis.passages import Passages
from charrnn.config import ModelConfig
from charrnn.data import streams
from charrnn.data.corpus import TextStream, read_text
from charrnn.errors import TextTooLong, UndecodableText, UnknownCharacters
from charrnn.language_model import LanguageModel
from charrnn.nn import both_sides, model
from charrnn.nn.functional import bits, log_softmax
from charrnn.vocab import Vocab

from .cli_helpers import error_line, script
from .test_inspect_cli import save

LINE = "the quick brown fox jumps over the lazy dog\n"
PROMPTLY = 30  # seconds: far more than refusing the first chunk takes, far less than a hang


def tiny(cell: str, bidirectional: bool = False, seed: int = 0, text: str = LINE + "Q") -> LanguageModel:
    vocab = Vocab(text)
    cfg = ModelConfig(cell=cell, hidden_size=6, num_layers=2, dropout=0.0, bidirectional=bidirectional)
    params = model.init_params(cfg, len(vocab), np.random.default_rng(seed))
    params["decoder.bias"][vocab.chars.index("Q")] = -30.0  # Q's line is the most surprising
    return LanguageModel(params, cfg, vocab)


@pytest.fixture(scope="module")
def one_side(tmp_path_factory):
    return save(tmp_path_factory.mktemp("one") / "one.npz", tiny("rnn"))


@pytest.fixture(scope="module")
def two_sides(tmp_path_factory):
    return save(tmp_path_factory.mktemp("two") / "two.npz", tiny("gru", bidirectional=True))


def cut(text: str, cuts: list[int]) -> list[str]:
    cuts = sorted({c % (len(text) + 1) for c in cuts})
    return [text[a:b] for a, b in zip([0, *cuts], [*cuts, len(text)]) if b > a]


# -- the library --------------------------------------------------------------------------


@pytest.mark.parametrize("bidirectional", [False, True])
@settings(max_examples=15, deadline=None)
@given(cuts=st.lists(st.integers(0, 10_000), max_size=30))
def test_a_text_read_as_it_comes_scores_as_the_whole_text(bidirectional, cuts):
    """Pieces of any lengths, in blocks smaller than the text: the totals, the kept surprisal, the
    predictions and the passages of the text read whole; a model of both sides gives the numbers
    of both_sides.read over the whole text at once (each direction carried across the blocks)."""
    text = (LINE * 14)[:-3] + "Q" + LINE * 3
    m = tiny("lstm", bidirectional, seed=1)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(scoring, "BLOCK", 100)
        patch.setattr(model, "WINDOW", 7)
        readings = []
        for source in (text, iter(cut(text, cuts))):
            passages = Passages()
            readings.append((scoring.read(m, source, keep=300, top=250, observe=(passages.add,)), passages))
            passages.finish()
    (whole, p_whole), (streamed, p_streamed) = readings
    first = scoring.first_predicted(m)
    assert streamed.score.chars == whole.score.chars == len(text) - first and streamed.complete
    # the blocks and windows are cut elsewhere: the same sums, up to float32's rounding
    assert streamed.score.total_bits == pytest.approx(whole.score.total_bits, rel=1e-6)
    np.testing.assert_allclose(streamed.score.surprisal_bits, whole.score.surprisal_bits, rtol=1e-5)
    np.testing.assert_allclose(streamed.predictions.top_logp, whole.predictions.top_logp, rtol=1e-5)
    # the same passages, but for ties between equal lines that rounding may order either way
    for found, expected in ((p_streamed.most, p_whole.most), (p_streamed.least, p_whole.least)):
        np.testing.assert_allclose([p.bits_per_char for p in found], [p.bits_per_char for p in expected], 1e-5)
        assert all(p.text == text[p.start : p.stop] for p in found)
    worst = p_streamed.most[0]
    assert (worst.line, worst.start) == (p_whole.most[0].line, p_whole.most[0].start) and "Q" in worst.text
    if bidirectional:  # against one pass over the whole text, not cut into blocks
        ids = m.vocab.encode(text).astype(np.intp)
        logits = np.concatenate([lg for _, lg in both_sides.read(m.params, m.cfg, ids[None], window=7)])
        at_once = bits(-log_softmax(logits.astype(np.float64))[np.arange(len(ids)), ids])
        np.testing.assert_allclose(streamed.score.surprisal_bits, at_once[:300], rtol=1e-6)


def test_the_reader_holds_no_more_of_the_text_as_it_grows():
    """What a pass allocates at its peak is the same for a text 8 times as long: no character is
    kept but those asked for (a text held whole would add a byte a character at least)."""
    m = tiny("rnn")

    def peak(n_lines: int) -> int:
        pieces = (LINE * 20 for _ in range(n_lines // 20))  # 880 characters a piece
        tracemalloc.start()
        try:
            reading = scoring.read(m, pieces, keep=1000, observe=(Passages().add,))
            held = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert reading.score.chars == n_lines * len(LINE) - 1
        return held

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(scoring, "BLOCK", 4096)
        short, long = peak(300), peak(2_400)  # 13 kB and 106 kB
    assert long - short < 32_000, f"the peak grew by {long - short:,} bytes for 92,400 more characters"


def test_characters_the_model_never_saw_are_refused_in_the_first_piece_that_has_them():
    def endless():
        yield LINE * 10 + "é"
        raise AssertionError("the text was read past the piece with the unknown character")

    with pytest.raises(UnknownCharacters, match="'é'"):
        scoring.read(tiny("rnn"), endless(), keep=10)


@pytest.mark.parametrize("bidirectional", [False, True])
def test_a_pass_ended_early_covers_what_was_read(bidirectional):
    m = tiny("gru", bidirectional)

    def until(chars: int):
        def stop(first, surprisal, window):
            if first + len(surprisal) >= chars:
                raise scoring.Enough

        return stop

    reading = scoring.read(m, iter([LINE * 100]), keep=50, observe=(until(1000),))
    assert not reading.complete and 1000 <= reading.score.length <= 1000 + model.WINDOW
    assert len(reading.score.surprisal_bits) == 50

    def interrupted():
        yield LINE * 100
        raise scoring.Enough  # Ctrl-C while waiting for a pipe

    reading = scoring.read(m, interrupted(), keep=50)
    assert not reading.complete
    # a left-to-right model scored what came; a model of both sides scores nothing before the end
    assert reading.score.chars == (0 if bidirectional else len(LINE) * 100 - 1)


def test_a_model_of_both_sides_holds_the_text_up_to_a_bound_and_refuses_beyond_it(monkeypatch):
    from charrnn import budget

    monkeypatch.setattr(budget, "text_chars_max", lambda: 1000)

    def endless():
        while True:
            yield LINE

    with pytest.raises(TextTooLong, match="longer than 1,000 characters.*both sides reads a text from its end"):
        scoring.read(tiny("rnn", bidirectional=True), endless(), keep=10)
    reading = scoring.read(tiny("rnn", bidirectional=False), iter([LINE] * 100), keep=10)
    assert reading.score.length == 100 * len(LINE)  # left to right: no bound


@settings(max_examples=40, deadline=None)
@given(
    chars=st.lists(st.sampled_from(["a", "é", "中", "😀", "\r\n", "\r", "\n", "\ufeff"]), min_size=1, max_size=60),
    chunk=st.integers(1, 9),
)
def test_a_character_cut_between_two_reads_decodes_whole(chars, chunk):
    """Every character of 2, 3 and 4 bytes and every \\r\\n split at some read: the decoder's state
    (and a \\r waiting for its \\n) goes on to the next, as decoding the whole at once gives."""
    text = "".join(chars)
    raw = text.encode("utf-8")
    expected = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(streams, "CHUNK_BYTES", chunk)
        stream = TextStream(io.BytesIO(raw))
        assert "".join(stream) == expected == read_text(io.BytesIO(raw), None)
    assert stream.n_bytes == len(raw)


def test_a_byte_that_is_not_utf8_names_its_offset_after_many_chunks():
    raw = (LINE * 30_000).encode() + b"\xff" + b"more"
    with pytest.raises(UndecodableText, match=f"offset {len(LINE) * 30_000}"):
        for _ in TextStream(io.BytesIO(raw)):
            pass


# -- the command line ---------------------------------------------------------------------


@contextlib.contextmanager
def scoring_stdin(checkpoint, *args: str, env=None):
    """`inspect score -` in a child, killed when the test ends however it ends: a child left
    reading a pipe that never ends would score it for the rest of the session."""
    command = [*script(), "inspect", "score", "-", "-c", str(checkpoint), *args]
    child = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    try:
        yield child
    finally:
        child.kill()
        child.wait()


def finished(child: subprocess.Popen) -> tuple[bytes, bytes]:
    """(stdout, stderr) of a child that was told to stop; a child that does not stop within
    PROMPTLY fails the test (communicate would first wait for the feeder's write to let go of stdin,
    with no timeout). What these children write fits in the pipes."""
    child.wait(PROMPTLY)
    return child.stdout.read(), child.stderr.read()


class Feeder(threading.Thread):
    """Writes `head`, then `then` again and again (or nothing, the pipe held open) until the child
    stops reading: a pipe that never ends. `written`: the bytes the child has taken, but for
    what the pipe holds."""

    def __init__(self, child: subprocess.Popen, head: bytes, then: bytes | None = LINE.encode() * 100):
        super().__init__(daemon=True)
        self.child, self.head, self.then, self.written = child, head, then, 0
        self.start()

    def run(self):
        try:
            self.child.stdin.write(self.head)
            self.child.stdin.flush()
            while self.then is not None:
                self.child.stdin.write(self.then)
                self.written += len(self.then)
        except (BrokenPipeError, ValueError, OSError):
            return

    def until_read(self, n_bytes: int = 1 << 20) -> None:
        """Wait until the child has read about n_bytes: it is scoring (or holding) the text."""
        deadline = time.monotonic() + PROMPTLY
        while self.written < n_bytes:
            assert time.monotonic() < deadline and self.child.poll() is None, "the child read nothing"
            time.sleep(0.05)


@pytest.mark.parametrize(
    "head, then, said",
    [
        ((LINE * 10 + "é").encode(), None, "never saw: 'é'"),  # the pipe held open after it
        ((LINE * 10 + "é").encode(), LINE.encode() * 100, "never saw: 'é'"),  # `yes` after it
        (LINE.encode() * 10 + b"\xff", None, f"undecodable byte at offset {len(LINE) * 10}"),
    ],
    ids=["unknown, then held open", "unknown, then endless", "not utf-8, then held open"],
)
def test_a_bad_character_in_a_pipe_that_never_ends_is_one_line_at_once(one_side, head, then, said):
    with scoring_stdin(one_side) as child:
        Feeder(child, head, then)
        out, err = finished(child)
        assert child.returncode == 1
    err = err.decode()
    assert len(err.splitlines()) == 1 and said in error_line(err), err
    assert out == b""


def test_an_endless_pipe_is_scored_until_ctrl_c_which_shows_what_was_scored(one_side):
    with scoring_stdin(one_side, "--json") as child:
        Feeder(child, b"").until_read(300_000)  # the pipe holds 64 kB of it at most
        child.send_signal(signal.SIGINT)  # the pipe never ends
        out, err = finished(child)
    assert child.returncode == 130, err
    score = json.loads(out)["score"]
    assert score["chars"] > 100_000 and len(score["surprisal_bits"]) == 999
    assert err.decode() == f"Interrupted: the totals are those of the first {score['chars'] + 1:,} characters.\n"


def test_ctrl_c_while_a_model_of_both_sides_reads_says_nothing_was_scored(two_sides):
    with scoring_stdin(two_sides) as child:
        Feeder(child, b"").until_read()
        child.send_signal(signal.SIGINT)
        out, err = finished(child)
    assert child.returncode == 130 and out == b""
    assert err.decode() == (
        "Interrupted before any character was scored: a model of both sides reads the whole text, "
        "from its end too, before it scores its first character.\n"
    )


def test_a_model_of_both_sides_scores_a_piped_text_given_both_sides(two_sides):
    m = LanguageModel.load(two_sides)
    text = LINE * 50
    ids = m.vocab.encode(text).astype(np.intp)
    logits = np.concatenate([lg for _, lg in both_sides.read(m.params, m.cfg, ids[None])])
    at_once = bits(-log_softmax(logits.astype(np.float64))[np.arange(len(ids)), ids])
    with scoring_stdin(two_sides, "--json", "--show", "100") as child:
        out, err = child.communicate(text.encode(), timeout=PROMPTLY)
    assert child.returncode == 0, err
    score = json.loads(out)["score"]
    assert score["chars"] == len(text) and score["total_bits"] == pytest.approx(at_once.sum(), rel=1e-5)
    np.testing.assert_allclose(score["surprisal_bits"], at_once[:100], rtol=1e-4)
