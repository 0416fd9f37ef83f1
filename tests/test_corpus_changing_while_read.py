"""A corpus file rewritten while it is read (between the reader's two passes) is one line naming
it, whatever the change: nothing is trained on a text other than the one the checkpoint records."""

from __future__ import annotations

import pytest

from charrnn.data import corpus as corpus_module
from tests.cli_helpers import TEXT, assert_clean_error, checkpoint_meta, invoke, tiny, train, write

SEPARATOR = "\n---\n"
CHANGES = {  # how the file is rewritten after its survey: old text -> new text
    "same size, same characters": lambda t: t[1:] + t[0],
    "same size, a new character": lambda t: "Z" + t[1:],
    "longer": lambda t: t + t,
    "shorter": lambda t: t[: len(t) // 2],
    "a document more": lambda t: t + SEPARATOR + t,
    "undecodable now": lambda t: "\udcff",  # written as a byte that is not UTF-8
}


def _rewrite_after_the_survey(monkeypatch, path, change):
    survey_one = corpus_module._survey_one

    def survey_then_rewrite(src, *args):
        survey_one(src, *args)
        if src.path is not None and src.path.name == path.name:
            path.write_bytes(change(path.read_text("utf-8")).encode("utf-8", "surrogateescape"))

    monkeypatch.setattr(corpus_module, "_survey_one", survey_then_rewrite)


@pytest.mark.parametrize("change", CHANGES.values(), ids=CHANGES.keys())
@pytest.mark.parametrize("given", ["one file", "a folder", "separated"])
def test_a_corpus_file_changed_between_the_two_passes_is_one_line_naming_it(tmp_path, monkeypatch, given, change):
    folder = tmp_path / "docs"
    folder.mkdir()
    write(folder / "a.txt", TEXT)
    victim = write(folder / "b.txt", TEXT.replace("fox", "cat") + SEPARATOR + TEXT)
    args = {"one file": [victim], "a folder": [folder], "separated": [victim, "--document-separator", SEPARATOR]}
    _rewrite_after_the_survey(monkeypatch, victim, change)
    ckpt = tmp_path / "m.npz"
    result = invoke(["train", *args[given], "-c", ckpt, *tiny()])
    line = assert_clean_error(result, 1, "b.txt", "changed while it was being read")
    assert "vocabulary" not in line and "never saw" not in line
    assert not ckpt.exists()


def test_a_corpus_that_stays_the_same_records_the_sha256_of_what_was_read(tmp_path):
    import hashlib

    corpus = write(tmp_path / "c.txt", TEXT)
    train(corpus, tmp_path / "m.npz")
    assert (
        checkpoint_meta(tmp_path / "m.npz")["progress"]["corpus"]["sha256"] == hashlib.sha256(TEXT.encode()).hexdigest()
    )
