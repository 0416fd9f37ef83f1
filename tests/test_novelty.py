"""Novelty: the longest span of a text copied from the training corpus, where the corpus has it,
the share of the text in copied spans, and the check that the corpus is the one trained on."""

from __future__ import annotations

import json

import numpy as np
import pytest

from charrnn.analysis import novelty
from charrnn.analysis.novelty import CorpusIndex, suffix_array
from charrnn.data.corpus import read_corpus
from charrnn.errors import DataError
from charrnn.metadata import CorpusRecord

from .cli_helpers import TEXT, assert_clean_error, invoke, train, write


@pytest.mark.parametrize("alphabet", [1, 2, 3, 30])
def test_the_suffix_array_sorts_every_suffix(alphabet):
    rng = np.random.default_rng(alphabet)
    for _ in range(40):
        ids = rng.integers(0, alphabet, int(rng.integers(0, 80))).astype(np.uint8)
        expected = sorted(range(len(ids)), key=lambda i: ids[i:].tolist())
        assert suffix_array(ids).tolist() == expected


def test_long_repeats_are_sorted_too():
    ids = np.array([0, 1] * 300 + [2] + [0, 1] * 300 + [0], np.uint8)  # ties last hundreds of characters
    expected = sorted(range(len(ids)), key=lambda i: ids[i:].tolist())
    assert suffix_array(ids).tolist() == expected


def random_corpus(n: int = 3000, seed: int = 0) -> str:
    return "".join(np.random.default_rng(seed).choice(list("acgt\n"), n))


def test_copied_spans_are_found_with_their_exact_positions_and_lengths():
    corpus = random_corpus()
    index = CorpusIndex(*_ids(corpus))
    # '#' and '%' are not in the corpus, so no copied span can run across them
    text = "##" + corpus[100:140] + "%%%" + corpus[2000:2025] + "#" + corpus[500:512] + "%"
    found = index.novelty(text, min_copy=20)
    assert (found.longest, found.longest_at, found.corpus_at) == (40, 2, 100)
    assert found.occurrences == 1 and found.corpus_line == corpus[:100].count("\n") + 1
    assert found.copied_chars == 40 + 25  # the 12-character span is below min_copy
    assert found.chars == len(text) and np.isclose(found.copied_share, 65 / len(text))
    assert index.novelty(text, min_copy=10).copied_chars == 40 + 25 + 12
    length, _ = index.matches(index.encode(text))
    assert length[2:42].tolist() == list(range(40, 0, -1)) and length[0] == 0


def test_a_span_the_corpus_has_several_times_names_the_first():
    corpus = "xyz the cat sat\nand then the cat sat again\n"
    index = CorpusIndex(*_ids(corpus))
    found = index.novelty("the cat sat", min_copy=5)
    assert (found.longest, found.corpus_at, found.occurrences, found.copied_chars) == (11, 4, 2, 11)


def test_a_text_that_copies_nothing():
    index = CorpusIndex(*_ids(random_corpus()))
    found = index.novelty("HELLO, WORLD!")  # none of its characters is in the corpus
    assert (found.longest, found.corpus_at, found.occurrences, found.copied_chars) == (0, -1, 0, 0)
    assert found.copied_share == 0.0 and index.novelty("").chars == 0


def _ids(text: str):
    chars = sorted(set(text))
    return np.array([chars.index(c) for c in text], np.uint8), chars


def test_the_training_corpus_is_read_from_its_recorded_path(tmp_path):
    path = tmp_path / "corpus.txt"
    path.write_text("some training text\n" * 20)
    record = read_corpus(path).meta()
    assert record["path"] == str(path.resolve())
    corpus = novelty.training_corpus(CorpusRecord.of(record))
    assert corpus.sha256 == record["sha256"]
    moved = tmp_path / "moved.txt"
    path.rename(moved)
    with pytest.raises(DataError, match="is not at"):
        novelty.training_corpus(CorpusRecord.of(record))
    assert novelty.training_corpus(CorpusRecord.of(record), moved).sha256 == record["sha256"]


def test_a_corpus_path_that_is_a_folder_or_a_device_is_said_to_be_no_regular_file(tmp_path):
    path = tmp_path / "corpus.txt"
    path.write_text("some training text\n" * 20)
    record = read_corpus(path).meta()
    (tmp_path / "zero").symlink_to("/dev/zero")
    for other in (tmp_path, tmp_path / "zero"):
        with pytest.raises(DataError, match="is not a regular file, so it cannot be the training corpus corpus.txt"):
            novelty.training_corpus(CorpusRecord.of(record), other)


def test_a_corpus_whose_hash_or_size_does_not_match_is_refused(tmp_path):
    path = tmp_path / "corpus.txt"
    path.write_text("some training text\n" * 20)
    record = read_corpus(path).meta()
    path.write_text("Some training text\n" * 20)  # same size, other bytes
    with pytest.raises(DataError, match=r"is not the training corpus corpus.txt: its SHA-256 is \w+"):
        novelty.training_corpus(CorpusRecord.of(record))
    path.write_text("some training text\n" * 21)
    with pytest.raises(DataError, match="it has 399 bytes, the checkpoint records 380"):
        novelty.training_corpus(CorpusRecord.of(record))
    del record["path"]
    with pytest.raises(DataError, match="does not record where its training corpus"):
        novelty.training_corpus(CorpusRecord.of(record))


def test_a_corpus_too_large_to_index_is_refused_before_it_is_read(tmp_path, monkeypatch):
    path = tmp_path / "corpus.txt"
    path.write_text("abc\n" * 100)
    record = read_corpus(path).meta()
    monkeypatch.setattr(novelty, "MAX_INDEX_CHARS", 399)
    monkeypatch.setattr(novelty, "read_corpus", lambda *a: pytest.fail("read a corpus too large to index"))
    with pytest.raises(DataError, match="the corpus has 400 characters; the novelty index holds at most 399"):
        novelty.training_corpus(CorpusRecord.of(record))


# -- the command line ------------------------------------------------------------------------


def test_inspect_novelty_reports_the_copied_span_of_a_text(tmp_path):
    corpus, ckpt = write(tmp_path / "c.txt", TEXT), tmp_path / "m.npz"
    train(corpus, ckpt)
    copied = TEXT[50:90]
    text = write(tmp_path / "t.txt", "ZZ" + copied + "QQ")  # Z and Q: not in the corpus
    result = invoke(["inspect", "novelty", text, "-c", ckpt, "--json"])
    assert result.exit_code == 0, result.stderr
    found = json.loads(result.stdout)["novelty"]
    assert (found["longest"], found["longest_at"], found["span"], found["copied_chars"]) == (40, 2, copied, 40)
    assert found["corpus_at"] == TEXT.index(copied) and found["min_copy"] == 20
    shown = invoke(["inspect", "novelty", text, "-c", ckpt, "--min-copy", "41"])
    assert "longest span found in c.txt: 40 characters" in shown.stdout and "copied: 0 of 44" in shown.stdout


def test_inspect_novelty_refuses_a_corpus_that_is_not_the_one_trained_on(tmp_path):
    corpus, ckpt = write(tmp_path / "c.txt", TEXT), tmp_path / "m.npz"
    train(corpus, ckpt)
    text = write(tmp_path / "t.txt", TEXT[:100])
    other = write(tmp_path / "other.txt", TEXT.upper())
    line = assert_clean_error(invoke(["inspect", "novelty", text, "-c", ckpt, "--corpus", other]), 1, "SHA-256")
    assert "is not the training corpus c.txt" in line
    corpus.rename(tmp_path / "moved.txt")
    assert_clean_error(invoke(["inspect", "novelty", text, "-c", ckpt]), 1, "is not at", "--corpus PATH")
    ok = invoke(["inspect", "novelty", text, "-c", ckpt, "--corpus", tmp_path / "moved.txt", "--json"])
    assert ok.exit_code == 0 and json.loads(ok.stdout)["novelty"]["longest"] == 100


def test_sample_novelty_reports_each_sample_against_the_training_corpus(tmp_path):
    corpus, ckpt = write(tmp_path / "c.txt", TEXT), tmp_path / "m.npz"
    train(corpus, ckpt)
    args = ["sample", "-c", ckpt, "-n", "60", "--seed", "2", "--num-samples", "2", "--novelty"]
    out = json.loads(invoke([*args, "--json", "--min-copy", "8"]).stdout)["samples"]
    index = CorpusIndex(*_ids(TEXT))
    for s in out:
        assert s["novelty"] == index.novelty(s["text"], 8).to_dict()
    printed = invoke(args)
    assert printed.stderr.count("longest copied span") == 2 and "in copied spans of at least 20" in printed.stderr
    assert_clean_error(invoke(["sample", "-c", ckpt, "--novelty", "--corpus", ckpt]), 1, "is not the training corpus")
    assert_clean_error(invoke(["sample", "-c", ckpt, "--min-copy", "5"]), 2, "--novelty")


def test_a_corpus_of_several_files_is_refused_plainly(tmp_path):
    from charrnn.data.corpus import read_documents
    from charrnn.data.sources import select

    for name in ("a.txt", "b.txt"):
        (tmp_path / name).write_text(f"the text of {name}\n" * 10)
    record = read_documents(select([tmp_path]))[0].meta()
    with pytest.raises(DataError, match="only against a corpus of one file read whole"):
        novelty.training_corpus(CorpusRecord.of(record))
