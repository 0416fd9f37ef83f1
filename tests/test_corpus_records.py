"""One reader serves every corpus (data/corpus.py), and what it records of a file, of standard
input and of a folder is one documented set of fields. Checkpoints written before it
(tests/data/written_before_one_reader) still match their texts: `--resume` continues them as
their own corpus, the novelty check finds their text, and the reader records what they record.
"""

from __future__ import annotations

import io
import os
import shutil
import threading
from pathlib import Path

import pytest

from charrnn import checkpoint as ckpt_io
from charrnn.analysis.novelty import training_corpus
from charrnn.config import TrainConfig
from charrnn.data.corpus import read_corpus, read_documents
from charrnn.data.sources import Source, select
from charrnn.metadata import CorpusRecord
from tests.cli_helpers import TEXT, assert_clean_error, invoke, tiny, write

BEFORE = Path(__file__).parent / "data" / "written_before_one_reader"
TRAINED = ["--hidden-size", "8", "--layers", "1", "--seq-len", "8", "--batch-size", "2", "--workers", "1"]
EVERY = {"name", "bytes", "chars", "sha256", "encoding", "decode_errors"}  # what every corpus records
DOCUMENTS = {"documents", "boundary", "held_out"}
LISTED = {"files", "manifest_sha256", "file_list", "skipped", "separator"}

# how each checkpoint's corpus was given to `train` (see the data folder's README)
GIVEN = {
    "file": (["corpus.txt"], None),
    "stdin": (["-"], "corpus.txt"),
    "folder": (["docs"], None),
    "separated": (["cut.txt", "--document-separator", "---\n"], None),
}


@pytest.fixture
def before(tmp_path, monkeypatch):
    """A copy of the data folder, as the working directory (the folder's files are recorded by
    their path as given)."""
    copy = tmp_path / "before"
    shutil.copytree(BEFORE, copy)
    monkeypatch.chdir(copy)
    return copy


def _read_as_train_does(name: str):
    args, stdin = GIVEN[name]
    if name == "file":
        return read_corpus("corpus.txt")
    if name == "stdin":
        return read_corpus(io.BytesIO(Path(stdin).read_bytes()))
    separator = args[2] if len(args) > 1 else None
    held_out = TrainConfig().val_fraction  # train's default, which they were trained with
    return read_documents(select([args[0]]), separator=separator, val_fraction=held_out, name=args[0])[0]


@pytest.mark.parametrize("name", sorted(GIVEN))
def test_the_reader_records_what_a_checkpoint_written_before_records(before, name):
    recorded = ckpt_io.load(before / f"{name}.npz").progress["corpus"]
    now = _read_as_train_does(name).meta()
    same = set(recorded) - {"path"}  # the path is where the text was when it was trained: elsewhere now
    assert {k: now[k] for k in same} == {k: recorded[k] for k in same}
    assert set(now) - set(recorded) <= {"encoding", "decode_errors", "path"}  # fields added, none lost


@pytest.mark.parametrize("name", sorted(GIVEN))
def test_resume_continues_a_checkpoint_written_before_on_its_own_corpus(before, name):
    path = before / f"{name}.npz"
    old = ckpt_io.load(path).progress
    args, stdin = GIVEN[name]
    text = Path(stdin).read_bytes() if stdin else None
    result = invoke(["train", *args, "-c", path, *TRAINED, "--max-steps", "8", "--resume", "-q"], input=text)
    assert result.exit_code == 0, result.stderr
    assert "is not the text" not in result.stderr
    new = ckpt_io.load(path).progress
    assert new["step"] == 8 and new.get("init_from") is None
    assert new["history"][: len(old["history"])] == old["history"]
    assert new["corpus"]["sha256"] == old["corpus"]["sha256"]


def test_the_novelty_check_finds_the_text_of_a_checkpoint_written_before(before):
    record = ckpt_io.load(before / "file.npz").progress["corpus"]
    corpus = training_corpus(CorpusRecord.of(record), before / "corpus.txt")  # its size and SHA-256 checked
    assert corpus.sha256 == record["sha256"] and len(corpus.ids) == record["chars"]
    result = invoke(["inspect", "novelty", "-", "-c", before / "file.npz", "--corpus", "corpus.txt"], input="the quick")
    assert result.exit_code == 0, result.stderr
    assert "the quick" in result.stdout


def test_a_file_standard_input_and_a_folder_record_one_set_of_fields(tmp_path):
    text = write(tmp_path / "one.txt", TEXT)
    folder = tmp_path / "docs"
    folder.mkdir()
    write(folder / "a.txt", TEXT)
    write(folder / "b.txt", TEXT.upper())
    one, piped = read_corpus(text).meta(), read_corpus(io.BytesIO(TEXT.encode())).meta()
    docs = read_documents(select([folder]), encoding="latin-1")[0].meta()
    assert set(one) == EVERY | {"path"} and one["path"] == str(text.resolve())
    assert set(piped) == EVERY and piped["name"] == "<stdin>"
    assert set(docs) == EVERY | DOCUMENTS | LISTED and docs["encoding"] == "latin-1"
    assert one["sha256"] == piped["sha256"] == docs["file_list"][0]["sha256"]  # a text read whole: its own hash
    assert docs["sha256"] == docs["manifest_sha256"]  # documents: the manifest's


def test_a_file_read_whole_and_as_a_selection_of_one_give_the_same_ids(tmp_path):
    text = write(tmp_path / "one.txt", TEXT.replace("\n", "\r\n"))
    whole = read_corpus(text)
    [selected] = select([text])
    documents = read_documents([selected])[0]
    assert whole.ids.tolist() == documents.ids.tolist() and whole.vocab == documents.vocab
    assert documents.meta()["file_list"] == [{"path": selected.name, "bytes": whole.n_bytes, "sha256": whole.sha256}]


def test_a_named_pipe_among_the_documents_is_read_once_and_copied(tmp_path):
    """A named pipe gives its bytes once, and the reader reads every file twice: it is copied first."""
    fifo = tmp_path / "pipe.txt"
    os.mkfifo(fifo)
    writer = threading.Thread(target=lambda: fifo.write_text(TEXT + "---\n" + TEXT.upper()), daemon=True)
    writer.start()
    corpus, skipped = read_documents([Source("pipe.txt", fifo)], separator="---\n")
    writer.join(timeout=10)
    assert corpus.documents == 2 and not skipped.files
    assert corpus.vocab.decode(corpus.ids[1 : 1 + len(TEXT)]) == TEXT


def test_a_link_to_a_device_read_as_documents_is_refused_not_read_for_ever(tmp_path, monkeypatch):
    from charrnn.data import scratch

    monkeypatch.setattr(scratch, "space", lambda where: scratch.Space(8 << 20, 100 << 20))
    link = tmp_path / "zeros.txt"
    link.symlink_to("/dev/zero")
    result = invoke(["train", link, "--document-separator", "---", "-c", tmp_path / "m.npz", *tiny()])
    assert_clean_error(result, 1, "zeros.txt does not end", "TMPDIR")
