"""`train --resume` continues a run on its own corpus: another text with the same characters is
refused (its SHA-256 differs from the one the checkpoint records), so the best weights, the
validation set and everything `inspect` reports stay about one text."""

from __future__ import annotations

from charrnn import checkpoint as ckpt_io
from charrnn.errors import OtherCorpus
from charrnn.training.resume import check_same_corpus
from tests.cli_helpers import TEXT, assert_clean_error, invoke, tiny, write


def test_resume_on_another_text_with_the_same_characters_is_refused(victim, tmp_path):
    hard = write(tmp_path / "hard.txt", "".join(reversed(TEXT)))  # the same characters, another text
    result = invoke(["train", hard, "-c", victim.path, *tiny(max_steps=20), "--resume"])
    assert_clean_error(result, 1, "trained on corpus.txt", "hard.txt", "--force")
    assert victim.unchanged()


def test_resume_on_its_own_corpus_continues(victim, tmp_path):
    same = write(tmp_path / "renamed.txt", TEXT)  # the same text under another name
    result = invoke(["train", same, "-c", victim.path, *tiny(max_steps=20), "--resume", "-q"])
    assert result.exit_code == 0, result.stderr
    assert ckpt_io.load(victim.path).progress["step"] == 20


def test_the_library_compares_the_recorded_hash(trained, tmp_path):
    from charrnn.data.corpus import read_corpus

    ckpt = ckpt_io.load(trained)
    check_same_corpus(ckpt, read_corpus(write(tmp_path / "a.txt", TEXT)))
    try:
        check_same_corpus(ckpt, read_corpus(write(tmp_path / "b.txt", TEXT + "the")))
    except OtherCorpus as e:
        assert e.trained_on == "corpus.txt" and e.given == "b.txt"
    else:
        raise AssertionError("another corpus was accepted")
