"""Many files as one corpus: what is read, what is skipped and why, and the documents they make."""

from __future__ import annotations

import errno
import os

import pytest

from charrnn.data import sources
from charrnn.data.corpus import read_documents
from charrnn.data.sources import select, split_documents
from charrnn.errors import DataError
from tests import cli_helpers


def write(path, content):
    path.parent.mkdir(parents=True, exist_ok=True)
    return cli_helpers.write(path, content)


@pytest.fixture
def folder(tmp_path):
    """Text files (one in a subfolder, one hidden), a binary, an undecodable, an empty file."""
    d = tmp_path / "project"
    write(d / "b.py", "print('b')\n")
    write(d / "a.py", "print('a')\n")
    write(d / "pkg" / "c.py", "x = 'ç'\n")
    write(d / "notes.md", "# notes\n")
    write(d / "logo.png", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    write(d / "latin1.txt", "café\n".encode("latin-1"))
    write(d / "empty.txt", "")
    write(d / ".hidden.py", "secret\n")
    write(d / ".git" / "config", "[core]\n")
    return d


def names(found):
    return [s.name for s in found]


def test_a_folder_is_read_recursively_in_sorted_order_without_hidden_files(folder):
    assert names(select([folder])) == [
        "project/a.py",
        "project/b.py",
        "project/empty.txt",
        "project/latin1.txt",
        "project/logo.png",
        "project/notes.md",
        "project/pkg/c.py",
    ]


def test_include_and_exclude_match_the_name_or_the_relative_path(folder):
    assert names(select([folder], include=["*.py"])) == ["project/a.py", "project/b.py", "project/pkg/c.py"]
    assert names(select([folder], include=["*.py"], exclude=["*/pkg/*"])) == ["project/a.py", "project/b.py"]
    assert names(select([folder / "b.py", folder / "a.py", folder / "a.py"])) == names(
        select([folder / "a.py", folder / "b.py"])
    )  # the same files in any order, each once


def test_binary_undecodable_and_empty_files_are_skipped_and_counted(folder):
    corpus, skipped = read_documents(select([folder]), val_fraction=0.1)
    assert skipped.files == {
        "empty": ["project/empty.txt"],
        "undecodable": ["project/latin1.txt"],
        "binary": ["project/logo.png"],
    }
    assert corpus.documents == 4 and corpus.provenance["files"] == 4
    assert corpus.provenance["skipped"] == {"empty": 1, "undecodable": 1, "binary": 1}
    assert [f["path"] for f in corpus.provenance["file_list"]] == [
        "project/a.py",
        "project/b.py",
        "project/notes.md",
        "project/pkg/c.py",
    ]
    assert corpus.n_bytes == sum(f["bytes"] for f in corpus.provenance["file_list"]) == 11 + 11 + 8 + 9
    B = corpus.boundary
    assert corpus.vocab.decode(corpus.ids) == f"{B}print('a')\n{B}print('b')\n{B}# notes\n{B}x = 'ç'\n{B}"
    assert corpus.held_out == 0  # four documents are too few to hold some out


def test_a_lenient_decoding_reads_the_undecodable_file(folder):
    corpus, skipped = read_documents(select([folder]), errors="replace")
    assert "undecodable" not in skipped.files and corpus.documents == 5
    assert "caf\ufffd\n" in corpus.vocab.decode(corpus.ids)


def test_latin1_reads_every_file_but_the_binary_one(folder):
    corpus, skipped = read_documents(select([folder]), encoding="latin-1")
    assert skipped.counts() == {"empty": 1, "binary": 1}


def test_the_boundary_is_a_noncharacter_the_text_does_not_contain(tmp_path):
    first = sources.BOUNDARY_CANDIDATES[0]
    write(tmp_path / "a.txt", f"uses {first}\n")
    write(tmp_path / "b.txt", "plain\n")
    corpus, _ = read_documents(select([tmp_path]))
    assert corpus.boundary == sources.BOUNDARY_CANDIDATES[1] and corpus.boundary in corpus.vocab
    assert corpus.meta()["boundary"] == corpus.boundary


def test_an_empty_selection_is_a_clear_error(folder, tmp_path):
    with pytest.raises(DataError, match="no files matching"):
        select([folder], include=["*.rs"])
    with pytest.raises(DataError, match="no files"):
        select([write(tmp_path / "void" / ".only-hidden", "x").parent])
    with pytest.raises(DataError, match="none of the 2 files could be read"):
        read_documents(select([folder / "logo.png", folder / "empty.txt"]))


@pytest.mark.parametrize("cut", range(1, 12))
def test_a_separator_is_found_across_chunk_edges(cut):
    text = "one<|>two<|><|>three<|"
    pieces = list(split_documents(iter([text[:cut], text[cut:]]), "<|>"))
    docs = "".join("\0" if p is None else p for p in pieces).split("\0")
    assert docs == ["one", "two", "", "three<|"]


def test_separators_cut_a_text_into_documents_and_whole_documents_are_held_out(tmp_path):
    docs = [f"recipe {i}: {'mix ' * (i % 5 + 1)}\n" for i in range(40)]
    path = write(tmp_path / "recipes.txt", "\n===\n".join(docs) + "\n===\n")
    corpus, _ = read_documents(select([path]), separator="\n===\n", val_fraction=0.1)
    assert corpus.documents == 40
    B = corpus.boundary
    text = corpus.vocab.decode(corpus.ids)
    assert sorted(text.strip(B).split(B)) == sorted(docs)
    held = text[len(text) - corpus.held_out :]
    assert held.startswith(B) and held.endswith(B)
    held_docs = held.strip(B).split(B)
    assert set(held_docs) < set(docs) and 0.05 <= len("".join(held_docs)) / len("".join(docs)) <= 0.2


def test_a_large_manifest_is_a_hash(tmp_path, monkeypatch):
    monkeypatch.setattr(sources, "MANIFEST_LIST", 3)
    for i in range(5):
        write(tmp_path / f"{i}.txt", f"text {i}\n")
    corpus, _ = read_documents(select([tmp_path]))
    assert "file_list" not in corpus.provenance and corpus.provenance["files"] == 5
    assert corpus.sha256 == corpus.provenance["manifest_sha256"]
    again, _ = read_documents(select([tmp_path]))
    assert again.sha256 == corpus.sha256
    write(tmp_path / "4.txt", "text changed\n")
    assert read_documents(select([tmp_path]))[0].sha256 != corpus.sha256


def test_two_folders_of_the_same_name_keep_all_their_files(tmp_path):
    write(tmp_path / "one" / "data" / "x.txt", "first\n")
    write(tmp_path / "two" / "data" / "x.txt", "second\n")
    found = select([tmp_path / "one" / "data", tmp_path / "two" / "data"])
    assert len(found) == 2 and {s.path.read_text() for s in found} == {"first\n", "second\n"}


def _unlistable(monkeypatch, *folders):
    """Folders that cannot be listed, as for a user without the right to (root lists any folder):
    their listing fails as the system's would, or as for a folder that vanished meanwhile."""
    scandir = os.scandir
    refused = {str(f) for f in folders}

    def refuse(path="."):
        if os.fspath(path) in refused:
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), os.fspath(path))
        return scandir(path)

    monkeypatch.setattr(os, "scandir", refuse)


def test_whatever_a_folder_holds_that_is_not_read_is_counted_and_named(folder, tmp_path, monkeypatch):
    (folder / "locked").mkdir()
    write(folder / "locked" / "inside.py", "never listed\n")
    (folder / "gone").mkdir()
    os.mkfifo(folder / "pipe")
    (folder / "dangling.py").symlink_to(tmp_path / "nowhere.py")
    (folder / "elsewhere").symlink_to(folder / "pkg", target_is_directory=True)
    _unlistable(monkeypatch, folder / "locked", folder / "gone")
    found = select([folder])
    corpus, skipped = read_documents(found)
    assert {k: v for k, v in skipped.files.items() if k in sources.FOUND_UNREAD} == {
        "broken link": ["project/dangling.py"],
        "linked folder": ["project/elsewhere"],
        "unreadable folder": ["project/gone", "project/locked"],
        "special file": ["project/pipe"],
    }
    assert corpus.provenance["skipped"] == {
        "broken link": 1,
        "empty": 1,
        "linked folder": 1,
        "unreadable folder": 2,
        "special file": 1,
        "undecodable": 1,
        "binary": 1,
    }


def test_train_warns_of_an_unreadable_folder_and_every_other_skip(folder, tmp_path, monkeypatch):
    (folder / "locked").mkdir()
    os.mkfifo(folder / "pipe")
    _unlistable(monkeypatch, folder / "locked")
    result = cli_helpers.invoke(["train", folder, "-c", tmp_path / "m.npz", *cli_helpers.tiny()])
    assert result.exit_code == 0, result.stderr
    (warning,) = [line for line in result.stderr.splitlines() if line.startswith("Warning: skipped")]
    assert "1 unreadable folder (project/locked)" in warning and "1 special file (project/pipe)" in warning


def test_a_folder_that_cannot_be_listed_at_all_is_said_so(tmp_path, monkeypatch):
    locked = tmp_path / "locked"
    locked.mkdir()
    _unlistable(monkeypatch, locked)
    result = cli_helpers.invoke(["train", locked, "-c", tmp_path / "m.npz", *cli_helpers.tiny()])
    cli_helpers.assert_clean_error(result, 1, "1 unreadable folder")
