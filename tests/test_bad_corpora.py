"""Corpora a user may hand to `train`: missing, unreadable, empty, too short, not UTF-8, huge alphabets,
other line endings, a byte order mark, no room for the copy. Each trains or fails with one clean
`Error:` line, and an existing checkpoint is left byte for byte as it was.
"""

from __future__ import annotations

import errno
import io
import json
import os
import random

import numpy as np
import pytest

from charrnn.data import corpus as corpus_io
from charrnn.data import mapped, streams
from charrnn.data.corpus import read_corpus
from tests.cli_helpers import (
    TEXT,
    assert_clean_error,
    checkpoint_meta,
    invoke,
    tiny,
    train_over,
    vocab_of,
    write,
)


def test_corpus_missing(victim, tmp_path):
    assert_clean_error(train_over(victim, tmp_path / "nope.txt"), 2, "nope.txt", "does not exist")
    assert victim.unchanged()


def test_corpus_is_a_directory_with_nothing_to_read(victim, tmp_path):
    """A folder is a corpus of its files (tests/test_training_on_files.py); one with no text is an error."""
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "blob.bin").write_bytes(b"\x00\x01" * 100)
    assert_clean_error(train_over(victim, empty), 1, "none of the 1 files could be read")
    (empty / "blob.bin").unlink()
    assert_clean_error(train_over(victim, empty), 1, "no files in")
    assert victim.unchanged()


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
def test_corpus_unreadable(victim, corpus):
    corpus.chmod(0)
    try:
        assert_clean_error(train_over(victim, corpus), 2, "corpus.txt", "not readable")
    finally:
        corpus.chmod(0o644)
    assert victim.unchanged()


def test_corpus_unreadable_even_for_root(victim, corpus, monkeypatch):
    """Root can read anything, so make the open itself fail as it does for others."""

    def refuse(path, *args, **kwargs):
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(path))

    monkeypatch.setattr(streams, "open", refuse, raising=False)
    assert_clean_error(train_over(victim, corpus), 1, "cannot read the corpus", "Permission denied")
    assert victim.unchanged()


def test_corpus_empty(victim, tmp_path):
    assert_clean_error(train_over(victim, write(tmp_path / "e.txt", "")), 1, "e.txt is empty")
    assert_clean_error(train_over(victim, "-", input=""), 1, "<stdin> is empty")
    assert_clean_error(train_over(victim, write(tmp_path / "bom.txt", "\ufeff")), 1, "empty")
    assert victim.unchanged()


def test_corpus_shorter_than_a_window_says_the_minimum(victim, tmp_path):
    # one window of 2 x 8 and its target need 17 characters, and 5% validation must be >= 2: 40
    short = write(tmp_path / "short.txt", "a" * 39)
    assert_clean_error(train_over(victim, short), 1, "39 characters", "at least 40 characters", "--val-fraction")
    shorter = write(tmp_path / "shorter.txt", "a" * 10)
    assert_clean_error(train_over(victim, shorter), 1, "10 characters", "at least 40", "--batch-size/--seq-len")
    assert victim.unchanged()
    enough = write(tmp_path / "enough.txt", "ab" * 20)
    assert invoke(["train", enough, "-c", tmp_path / "ok.npz", *tiny(), "-q"]).exit_code == 0


INVALID = b"hello world\n" * 5 + b"\xff\xfe tail\n" + b"more text here\n" * 4  # bad byte at offset 60


def test_corpus_invalid_utf8_names_the_offset(victim, tmp_path):
    bad = write(tmp_path / "bad.txt", INVALID)
    assert_clean_error(train_over(victim, bad), 1, "not valid utf-8", "offset 60", "--encoding", "--decode-errors")
    assert victim.unchanged()


def test_corpus_invalid_utf8_offset_across_chunks(victim, tmp_path, monkeypatch):
    monkeypatch.setattr(streams, "CHUNK_BYTES", 7)
    bad = write(tmp_path / "bad.txt", INVALID)
    assert_clean_error(train_over(victim, bad), 1, "offset 60")
    binary = write(tmp_path / "b.bin", bytes(np.random.default_rng(0).integers(0, 256, 2000, dtype=np.uint8)))
    assert_clean_error(train_over(victim, binary), 1, "not valid utf-8", "offset")
    assert victim.unchanged()


@pytest.mark.parametrize(
    "options, present, absent",
    [
        (["--decode-errors", "replace"], "\ufffd", "\xff"),
        (["--decode-errors", "ignore"], None, "\ufffd"),
        (["--encoding", "latin-1"], "\xff", "\ufffd"),
    ],
)
def test_corpus_invalid_utf8_can_be_read(tmp_path, options, present, absent):
    bad = write(tmp_path / "bad.txt", INVALID)
    ckpt = tmp_path / "m.npz"
    result = invoke(["train", bad, "-c", ckpt, *tiny(), "-q", *options])
    assert result.exit_code == 0, result.stderr
    vocab = vocab_of(ckpt)
    assert absent not in vocab and (present is None or present in vocab)


def test_unknown_or_non_text_encoding(victim, corpus):
    # a usage error (exit 2), like every other bad option value
    assert_clean_error(train_over(victim, corpus, "--encoding", "klingon"), 2, "unknown text encoding", "'klingon'")
    assert_clean_error(train_over(victim, corpus, "--encoding", "hex"), 2, "unknown text encoding", "'hex'")
    assert victim.unchanged()


def test_chinese_with_thousands_of_characters(tmp_path):
    rng = random.Random(0)
    chars = [chr(0x4E00 + i) for i in range(3000)]
    text = "".join(rng.choice(chars) + ("\n" if i % 40 == 39 else "") for i in range(3000))
    text = "".join(chars) + "\n" + text  # every one of the 3,000 occurs
    corpus = write(tmp_path / "zh.txt", text)
    ckpt = tmp_path / "zh.npz"
    result = invoke(["train", corpus, "-c", ckpt, *tiny(), "--sample-length", "20"])
    assert result.exit_code == 0, result.stderr
    facts = json.loads(invoke(["inspect", "-c", ckpt, "--json"]).stdout)
    assert facts["vocab"]["size"] == 3001 and facts["corpus"]["chars"] == len(text)
    sample = invoke(["sample", "-c", ckpt, "-n", "30", "--prime", "\u4e00\u4e01", "--seed", "0"])
    assert sample.exit_code == 0 and sample.stdout.startswith("\u4e00\u4e01") and len(sample.stdout) == 32
    assert set(sample.stdout) <= set(text)
    scored = json.loads(invoke(["inspect", "score", "-", "-c", ckpt, "--json"], input=text[:50]).stdout)
    assert scored["score"]["chars"] == 49


def test_windows_line_endings_and_old_mac_ones_become_newlines(tmp_path):
    text = TEXT.replace("\n", "\r\n")
    corpus = write(tmp_path / "crlf.txt", text[:600] + TEXT[:100].replace("\n", "\r"))
    ckpt = tmp_path / "m.npz"
    assert invoke(["train", corpus, "-c", ckpt, *tiny(), "-q"]).exit_code == 0
    meta = checkpoint_meta(ckpt)
    assert "\r" not in meta["vocab"] and "\n" in meta["vocab"]
    assert meta["progress"]["corpus"]["chars"] == len(text[:600].replace("\r\n", "\n")) + 100


def test_byte_order_mark_is_not_text(tmp_path):
    ckpt = tmp_path / "m.npz"
    assert invoke(["train", "-", "-c", ckpt, *tiny(), "-q"], input=("\ufeff" + TEXT).encode("utf-8")).exit_code == 0
    assert "\ufeff" not in vocab_of(ckpt)
    utf16 = write(tmp_path / "u16.txt", TEXT.replace("\n", "\r\n").encode("utf-16"))  # BOM and CRLF
    assert invoke(["train", utf16, "-c", ckpt, *tiny(), "-q", "--force", "--encoding", "utf-16"]).exit_code == 0
    assert vocab_of(ckpt) == sorted(set(TEXT))


def test_no_room_for_the_corpus_copy_or_its_ids(victim, corpus, monkeypatch):
    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    class Pipe(io.BytesIO):  # what standard input is in a shell pipeline: readable once
        def seekable(self):
            return False

    with monkeypatch.context() as m:
        m.setattr(streams.tempfile, "TemporaryFile", full)  # a pipe is copied to a file first
        with pytest.raises(corpus_io.DataError, match="No space left on device.*TMPDIR"):
            read_corpus(Pipe(TEXT.encode()))
    with monkeypatch.context() as m:
        m.setattr(mapped.os, "posix_fallocate", full, raising=False)
        assert_clean_error(train_over(victim, corpus), 1, "corpus's ids", "No space left on device", "TMPDIR")
    assert victim.unchanged()
