"""The vocabulary, reading corpora from files and streams, the train/validation split and the
B contiguous streams that training reads in (B, T) windows."""

from __future__ import annotations

import io
import re

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import charrnn.data.streams
from charrnn.data.batching import Streams, split
from charrnn.data.corpus import Corpus, read_corpus
from charrnn.errors import DataError, UnknownCharacters
from charrnn.vocab import Vocab, characters

BOM = b"\xef\xbb\xbf"

# -- vocabulary --------------------------------------------------------------------------------


def test_vocab_is_the_sorted_set_of_characters_whatever_the_order():
    v = Vocab("hello world")
    assert v.chars == [" ", "d", "e", "h", "l", "o", "r", "w"]
    assert Vocab("dlrow olleh") == v
    assert Vocab(reversed("hello world")).chars == v.chars
    assert len(v) == 8
    assert v.encode("hello").tolist() == [3, 2, 4, 4, 5]  # ids are positions in the sorted list


def test_vocab_round_trips_non_ascii_text():
    text = "naïve café — Ωμέγα, 日本語, emoji 🐍🙂, combining e\u0301, tab\t and NUL \x00"
    v = Vocab(text)
    ids = v.encode(text)
    assert ids.dtype == np.uint8
    assert len(ids) == len(text)
    assert v.decode(ids) == text
    assert v.chars == sorted(set(text))  # code point order, as Python sorts strings


def test_vocab_to_json_rebuilds_the_same_vocab():
    v = Vocab("zyx ä🐍")
    assert Vocab(v.to_json()) == v
    assert v.to_json() == sorted("zyx ä🐍")


def test_vocab_of_more_than_256_characters_uses_uint16():
    chars = "".join(chr(c) for c in range(0x100, 0x100 + 300))  # 300 distinct characters
    text = chars + chars[::-1] + chars[::7]
    v = Vocab(text)
    assert len(v) == 300
    ids = v.encode(text)
    assert ids.dtype == np.uint16
    assert int(ids.max()) == 299
    assert v.decode(ids) == text


def test_vocab_dtype_is_the_smallest_that_fits():
    assert Vocab(chr(c) for c in range(256)).dtype == np.uint8
    assert Vocab(chr(c) for c in range(257)).dtype == np.uint16


@pytest.mark.parametrize("text", ["hellz", "héllo", "hello🐍", "\x00hello"])
def test_encoding_unknown_characters_raises_naming_them(text):
    v = Vocab("hello world")
    unknown = sorted(set(text) - set("hello world"))
    with pytest.raises(DataError) as e:
        v.encode(text)
    for ch in unknown:
        assert repr(ch) in str(e.value)


@given(st.text(st.characters(codec="utf-8"), max_size=200), st.text(st.characters(codec="utf-8"), max_size=50))
def test_the_characters_counted_and_the_ids_looked_up_are_those_of_the_text(known, other):
    """The reader counts characters in arrays and encodes through a table (by search for code
    points beyond the table's): either way, the same characters and ids as the plain definitions."""
    assert characters(known) == set(known) and characters(other) == set(other)
    if not known:
        return
    vocab = Vocab(known)
    assert vocab.encode(known).tolist() == [vocab.chars.index(c) for c in known]
    if set(other) - set(known):
        with pytest.raises(UnknownCharacters):
            vocab.encode(other)


def test_empty_vocab_is_refused():
    with pytest.raises(DataError):
        Vocab("")


# -- reading corpora -------------------------------------------------------------------------


def read_bytes(tmp_path, data: bytes, **kwargs) -> Corpus:
    path = tmp_path / "corpus.txt"
    path.write_bytes(data)
    return read_corpus(path, workdir=str(tmp_path), **kwargs)


def text_of(corpus: Corpus) -> str:
    return corpus.vocab.decode(corpus.ids)


class _Pipe(io.RawIOBase):
    """A byte stream that cannot seek, like standard input from a pipe."""

    def __init__(self, data: bytes):
        self._src = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def readinto(self, buffer) -> int:
        return self._src.readinto(buffer)


def pipe(data: bytes) -> io.BufferedReader:
    return io.BufferedReader(_Pipe(data))  # as sys.stdin.buffer


def test_read_corpus_from_a_file(tmp_path):
    data = "To be, or not to be: that is the question.\n¿Qué? 🐍\n".encode()
    c = read_bytes(tmp_path, data)
    assert text_of(c) == data.decode()
    assert c.vocab == Vocab(data.decode())
    assert c.name == "corpus.txt"
    assert c.n_bytes == len(data)
    assert isinstance(c.ids, np.memmap)
    assert c.ids.dtype == np.uint8
    assert not c.ids.flags.writeable


@pytest.mark.parametrize("stream", [io.BytesIO, pipe])
def test_read_corpus_from_a_binary_stream(stream, tmp_path):
    data = BOM + "line one\r\nline two\rline thrée\n".encode()
    c = read_corpus(stream(data), workdir=str(tmp_path))
    assert text_of(c) == "line one\nline two\nline thrée\n"
    assert c.name == "<stdin>"
    assert c.n_bytes == len(data)
    assert isinstance(c.ids, np.memmap)
    assert list(tmp_path.iterdir()) == []  # the spooled copy and the ids file are gone


def test_read_corpus_with_more_than_256_characters_uses_a_uint16_memmap(tmp_path):
    text = "".join(chr(c) for c in range(0x400, 0x400 + 300)) * 2
    c = read_bytes(tmp_path, text.encode())
    assert isinstance(c.ids, np.memmap)
    assert c.ids.dtype == np.uint16
    assert text_of(c) == text


def test_read_corpus_leaves_no_temporary_files(tmp_path):
    (tmp_path / "corpus.txt").write_text("abc" * 10)
    c = read_corpus(tmp_path / "corpus.txt", workdir=str(tmp_path))
    assert text_of(c) == "abc" * 10
    assert sorted(p.name for p in tmp_path.iterdir()) == ["corpus.txt"]


def test_bom_is_stripped_and_only_at_the_start(tmp_path):
    c = read_bytes(tmp_path, BOM + "a\ufeffb".encode())
    assert text_of(c) == "a\ufeffb"  # a BOM inside the text is a character like any other


def test_only_a_bom_is_an_empty_corpus(tmp_path):
    with pytest.raises(DataError, match="empty"):
        read_bytes(tmp_path, BOM)


NEWLINES = b"ab\r\ncd\r\r\nef\rg\n\nh\r\n\r\ni\r"


@pytest.mark.parametrize("chunk", [1, 2, 3, 4, 5, 7, 1 << 20])
def test_crlf_and_cr_become_newlines_across_chunk_boundaries(tmp_path, monkeypatch, chunk):
    monkeypatch.setattr(charrnn.data.streams, "CHUNK_BYTES", chunk)
    expected = "ab\ncd\n\nef\ng\n\nh\n\ni\n"
    assert text_of(read_bytes(tmp_path, NEWLINES)) == expected
    assert text_of(read_corpus(io.BytesIO(BOM + NEWLINES))) == expected
    assert text_of(read_corpus(pipe(NEWLINES))) == expected


def test_crlf_straddling_the_default_chunk_boundary(tmp_path):
    """A real 1 MiB chunk: the \\r is the chunk's last byte and its \\n the next chunk's first."""
    head = b"x" * (charrnn.data.streams.CHUNK_BYTES - 1)
    c = read_bytes(tmp_path, head + b"\r\nyz")
    assert len(c.ids) == len(head) + 3
    assert text_of(c)[-4:] == "x\nyz"


def invalid_utf8_cases():
    """(bytes, offset of the first undecodable byte), the offset from Python's own decoder."""
    cases = [
        b"\xff",
        b"abc\xffdef",
        "héllo".encode() + b"\x80tail",  # a stray continuation byte after a 2-byte character
        "日本".encode() + b"\xe6\x97" + b"x",  # a 3-byte sequence cut short
        b"abcdefgh\xc3",  # truncated at the end of the file
        "abc🐍".encode()[:-1] + b"ok",  # a 4-byte sequence cut short
        b"0123456789" * 3 + b"\xfe" + b"abc",
    ]
    out = []
    for data in cases:
        for prefix in (b"", BOM):
            try:
                (prefix + data).decode("utf-8")
            except UnicodeDecodeError as e:
                out.append((prefix + data, e.start))
    return out


def without_bom(cases):
    return [case for case in cases if not case[0].startswith(BOM)]


def with_bom(cases):
    return [case for case in cases if case[0].startswith(BOM)]


@pytest.mark.parametrize("data,offset", without_bom(invalid_utf8_cases()))
@pytest.mark.parametrize("chunk", [1, 2, 3, 5, 8, 1 << 20])
def test_invalid_utf8_names_the_byte_offset_across_chunks(tmp_path, monkeypatch, chunk, data, offset):
    monkeypatch.setattr(charrnn.data.streams, "CHUNK_BYTES", chunk)
    with pytest.raises(DataError, match=rf"offset {offset}\b") as e:
        read_bytes(tmp_path, data)
    assert "utf-8" in str(e.value)
    with pytest.raises(DataError, match=rf"offset {offset}\b"):
        read_corpus(io.BytesIO(data))
    with pytest.raises(DataError, match=rf"offset {offset}\b"):
        read_corpus(pipe(data))


@pytest.mark.parametrize("data,offset", with_bom(invalid_utf8_cases()))
@pytest.mark.parametrize("chunk", [1, 3])
def test_invalid_utf8_offset_counts_the_bom(tmp_path, monkeypatch, chunk, data, offset):
    """Chunks of 1 and 3 bytes: the BOM is complete before the bad byte is read."""
    monkeypatch.setattr(charrnn.data.streams, "CHUNK_BYTES", chunk)
    with pytest.raises(DataError, match=rf"offset {offset}\b"):
        read_bytes(tmp_path, data)


@pytest.mark.parametrize(
    "data,offset", [(BOM + b"abc\xffdef", 6), (BOM + b"\xff", 3), (BOM + "h\u00e9".encode() + b"\x80", 6)]
)
def test_invalid_utf8_offset_counts_the_bom_in_the_first_chunk(tmp_path, data, offset):
    with pytest.raises(DataError, match=rf"offset {offset}\b"):
        read_bytes(tmp_path, data)


def test_decode_errors_replace_and_ignore(tmp_path):
    data = b"ab\xffcd\xc3"
    assert text_of(read_bytes(tmp_path, data, errors="replace")) == "ab\ufffdcd\ufffd"
    assert text_of(read_bytes(tmp_path, data, errors="ignore")) == "abcd"
    with pytest.raises(DataError, match="offset 2"):
        read_bytes(tmp_path, data, errors="strict")


def test_unknown_decode_error_mode_and_encoding_are_refused(tmp_path):
    with pytest.raises(DataError, match="replace"):
        read_bytes(tmp_path, b"abc", errors="backslashreplace")
    with pytest.raises(DataError, match="no-such-codec"):
        read_bytes(tmp_path, b"abc", encoding="no-such-codec")


def test_latin1_encoding(tmp_path):
    data = "café crème à l'œil".replace("œ", "oe").encode("latin-1") + b"\xff"
    c = read_bytes(tmp_path, data, encoding="latin-1")
    assert text_of(c) == "café crème à l'oeil\xff"
    assert c.n_bytes == len(data)


def test_empty_file_is_refused(tmp_path):
    with pytest.raises(DataError, match="empty"):
        read_bytes(tmp_path, b"")
    with pytest.raises(DataError, match="empty"):
        read_corpus(pipe(b""))


def test_missing_file_and_directory_are_refused(tmp_path):
    with pytest.raises(DataError, match="not found"):
        read_corpus(tmp_path / "nope.txt")
    with pytest.raises(DataError, match="directory"):
        read_corpus(tmp_path)


def test_corpus_meta_names_size_and_hash(tmp_path):
    import hashlib

    data = "hello\r\nwörld".encode()
    c = read_bytes(tmp_path, data)
    assert c.meta() == {
        "name": "corpus.txt",
        "bytes": len(data),
        "chars": len("hello\nwörld"),
        "sha256": hashlib.sha256(data).hexdigest(),
        "path": str((tmp_path / "corpus.txt").resolve()),  # where novelty checks read it again
        "encoding": "utf-8",
        "decode_errors": "strict",
    }


# -- split and streams ------------------------------------------------------------------------


def test_split_keeps_the_tail_for_validation():
    ids = np.arange(100)
    train, val = split(ids, 0.1, batch_size=2, seq_len=4)
    assert train.tolist() == list(range(90))
    assert val.tolist() == list(range(90, 100))


@pytest.mark.parametrize("val_fraction,batch,seq", [(0.05, 4, 16), (0.1, 3, 7), (0.5, 2, 1), (0.3, 1, 4)])
def test_too_short_corpus_names_a_sufficient_minimum(val_fraction, batch, seq):
    with pytest.raises(DataError) as e:
        split(np.zeros(3, np.uint8), val_fraction, batch, seq)
    minimum = int(re.search(r"at least (\d+)", str(e.value)).group(1))
    train, val = split(np.zeros(minimum, np.uint8), val_fraction, batch, seq)  # accepted
    assert len(train) >= batch * seq + 1 and len(val) >= 2
    assert str(batch) in str(e.value) and str(seq) in str(e.value)


def test_too_short_corpus_message_names_the_exact_minimum():
    wrong = []
    for f in (0.05, 0.1, 0.2, 0.3, 0.5, 0.7):
        for batch in (1, 2, 3):
            for seq in (1, 4, 7):
                with pytest.raises(DataError) as e:
                    split(np.zeros(3, np.uint8), f, batch, seq)
                minimum = int(re.search(r"at least (\d+)", str(e.value)).group(1))
                try:
                    split(np.zeros(minimum - 1, np.uint8), f, batch, seq)
                    wrong.append((f, batch, seq, minimum))
                except DataError:
                    pass
    assert wrong == []


def test_streams_are_contiguous_and_windows_continue():
    B, T = 3, 4
    ids = np.arange(40, dtype=np.uint16)  # ids equal positions, so continuity is arithmetic
    s = Streams(ids, B, T)
    length = (40 - 1) // B  # 13 characters per stream
    assert s.n_windows == length // T == 3
    xs, ys = zip(*(s.window(k) for k in range(s.n_windows)))
    for x, y in zip(xs, ys):
        assert x.shape == y.shape == (B, T)
        assert x.dtype == y.dtype == np.intp
        np.testing.assert_array_equal(y, x + 1)  # targets are the inputs shifted by one
    for k in range(1, s.n_windows):
        np.testing.assert_array_equal(xs[k][:, 0], xs[k - 1][:, -1] + 1)  # window k continues k-1
    whole = np.concatenate(xs, axis=1)
    for b in range(B):
        np.testing.assert_array_equal(whole[b], np.arange(b * length, b * length + s.n_windows * T))


def test_streams_of_text_read_the_text_in_order():
    text = "abcdefghijklmnopqrstuvwxyz" * 2
    v = Vocab(text)
    s = Streams(v.encode(text), 2, 5)
    x0, y0 = s.window(0)
    x1, _ = s.window(1)
    assert [v.decode(r) for r in x0] == ["abcde", "zabcd"]
    assert [v.decode(r) for r in y0] == ["bcdef", "abcde"]
    assert [v.decode(r) for r in x1] == ["fghij", "efghi"]


def test_streams_shorten_the_window_to_fit_and_refuse_too_little_text():
    s = Streams(np.arange(7), 2, 16)
    assert s.seq_len == 3 and s.n_windows == 1
    with pytest.raises(DataError):
        Streams(np.arange(2), 2, 4)


def test_streams_start_each_epoch_at_an_offset_drawn_from_the_seed():
    ids = np.arange(400, dtype=np.uint16)
    s, again, other = Streams(ids, 4, 8, seed=7), Streams(ids, 4, 8, seed=7), Streams(ids, 4, 8, seed=8)
    offsets = [s.offset(e) for e in range(12)]
    assert offsets[0] == 0  # the first epoch reads the streams where a run without offsets does
    assert len(set(offsets[1:])) >= 10  # epochs differ (two of 399 may meet by chance)
    assert offsets == [again.offset(e) for e in range(12)]
    assert offsets[1:] != [other.offset(e) for e in range(1, 12)]
    assert [Streams(ids, 4, 8).offset(e) for e in range(12)] == [0] * 12  # no seed: the same every epoch
    np.testing.assert_array_equal(s.window(3, epoch=0)[0], Streams(ids, 4, 8).window(3)[0])


@pytest.mark.parametrize("epoch", [1, 2, 5])
def test_shifted_streams_stay_contiguous_around_the_text(epoch):
    ids = np.arange(41, dtype=np.uint16)  # ids equal positions; 40 pairs (x, y) on the circle
    s = Streams(ids, 3, 4, seed=1)
    at = s.offset(epoch)
    assert at != 0
    xs, ys = zip(*(s.window(k, epoch=epoch) for k in range(s.n_windows)))
    whole, targets = np.concatenate(xs, axis=1), np.concatenate(ys, axis=1)
    for b in range(3):  # stream b runs on from its start, and past the text's end into its start
        np.testing.assert_array_equal(whole[b], (at + b * s.length + np.arange(s.n_windows * 4)) % 40)
    np.testing.assert_array_equal(targets, whole + 1)  # the target is always the next character
    rows = slice(1, 3)  # a worker's streams are the same rows of the batch
    np.testing.assert_array_equal(s.window(1, rows, epoch)[0], xs[1][rows])
