"""A corpus that never ends (`yes | charrnn train -`, a link to /dev/zero) or that the temporary
directory cannot hold is refused while it is being copied, before the disk is full: one line
saying how much was read and how much room is left, and no temporary file left behind.

The file system is faked small (scratch.space) so that no test fills the real disk.
"""

from __future__ import annotations

import io
import os
import tempfile

import numpy as np
import pytest

from charrnn.cli.train import workers
from charrnn.data import mapped, scratch, streams
from charrnn.data.corpus import read_corpus
from charrnn.errors import NoRoom
from tests.cli_helpers import TEXT, assert_clean_error, checkpoint_meta, invoke, run, tiny, write

MiB = 1 << 20


class Yes(io.RawIOBase):
    """What `yes` writes into a pipe: b"y\\n" for ever, counting what was read."""

    def __init__(self):
        self.given = 0

    def readable(self):
        return True

    def readinto(self, buf):
        n = len(buf)
        buf[:n] = (b"y\n" * (n // 2 + 1))[:n]
        self.given += n
        return n


@pytest.fixture
def small_disk(tmp_path, monkeypatch):
    """TMPDIR is an empty folder on a file system of 100 MiB with 8 MiB free, whatever is written."""
    spool = tmp_path / "tmp"
    spool.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(spool))
    monkeypatch.setattr(scratch, "space", lambda where: scratch.Space(8 * MiB, 100 * MiB))
    return spool


def test_an_endless_standard_input_is_refused_before_the_disk_is_full(small_disk, tmp_path):
    yes = Yes()
    result = invoke(["train", "-", "-c", tmp_path / "m.npz", *tiny()], input=io.BufferedReader(yes))
    line = assert_clean_error(result, 1, "standard input does not end", "read into", "left", "TMPDIR", "finite")
    assert str(small_disk) in line
    assert yes.given <= 8 * MiB  # stopped as the copy grew, not at the end of the stream
    assert os.listdir(small_disk) == [] and not (tmp_path / "m.npz").exists()


def test_a_link_to_an_endless_device_is_refused_not_read_for_ever(small_disk, tmp_path):
    link = tmp_path / "zeros.txt"
    link.symlink_to("/dev/zero")
    result = invoke(["train", link, "-c", tmp_path / "m.npz", *tiny()])
    assert_clean_error(result, 1, "zeros.txt does not end", "TMPDIR", "finite")
    assert os.listdir(small_disk) == [] and not (tmp_path / "m.npz").exists()


def test_a_finite_standard_input_with_room_trains(small_disk, tmp_path):
    result = invoke(["train", "-", "-c", tmp_path / "m.npz", *tiny(), "-q"], input=TEXT)
    assert result.exit_code == 0, result.stderr
    assert os.listdir(small_disk) == []


def test_the_copy_keeps_room_for_the_ids_and_the_margin(monkeypatch, tmp_path):
    """With 8 MiB free and a 2 MiB margin, the copy may hold 3 MiB (the ids need as much again):
    the chunk that takes it past that stops it, with as much free as it read."""
    monkeypatch.setattr(scratch, "space", lambda where: scratch.Space(8 * MiB - taken[0], 100 * MiB))
    taken = [0]

    class Pipe(io.RawIOBase):
        def readable(self):
            return True

        def readinto(self, buf):
            taken[0] += len(buf)  # what the copy has taken of the disk so far
            buf[:] = b"a" * len(buf)
            return len(buf)

    with pytest.raises(NoRoom) as e:
        streams.spool(io.BufferedReader(Pipe(), MiB), "the pipe", str(tmp_path))
    assert e.value.read == 4 * MiB and e.value.left == 4 * MiB
    assert os.listdir(tmp_path) == []


def test_a_short_stream_is_copied_whole():
    copy = streams.spool(io.BytesIO(TEXT.encode()), "the pipe", None)
    with copy:
        assert copy.read() == TEXT.encode()


def test_the_ids_are_refused_before_their_file_is_made_when_they_cannot_fit(monkeypatch, tmp_path):
    monkeypatch.setattr(scratch, "space", lambda where: scratch.Space(3 * MiB, 100 * MiB))
    made = []
    monkeypatch.setattr(mapped.tempfile, "TemporaryFile", lambda **kw: made.append(kw) or pytest.fail("made"))
    with pytest.raises(
        NoRoom, match=r"cannot keep the corpus's ids in .*: it needs 2\.0 MB and 3\.0 MB is free.*TMPDIR"
    ):
        mapped.ids_to_memmap(iter([]), np.dtype(np.uint16), MiB, str(tmp_path))
    assert made == []


def test_a_corpus_larger_than_a_checkpoint_can_record_is_refused_at_once(monkeypatch, tmp_path):
    monkeypatch.setattr(streams, "MAX_BYTES", 100)
    corpus = write(tmp_path / "big.txt", TEXT)
    with pytest.raises(streams.DataError, match=f"big.txt has {len(TEXT):,} bytes, more than a checkpoint can record"):
        read_corpus(corpus)
    result = invoke(["train", corpus, "-c", tmp_path / "m.npz", *tiny()])
    assert_clean_error(result, 1, "more than a checkpoint can record")


def test_an_endless_standard_input_is_refused_before_an_mpi_job_starts(small_disk, tmp_path, monkeypatch):
    """The launcher of --workers copies standard input itself, bounded, before mpiexec starts."""
    monkeypatch.setattr(workers, "mpi_installed", lambda: True)
    monkeypatch.setattr(workers, "launch", lambda *a: pytest.fail("an MPI job started on an endless corpus"))
    result = invoke(["train", "-", "-c", tmp_path / "m.npz", *tiny(), "--workers", "2"], input=io.BufferedReader(Yes()))
    assert_clean_error(result, 1, "standard input does not end", "TMPDIR")
    assert os.listdir(small_disk) == []


@pytest.mark.skipif(not workers.mpi_installed(), reason="the mpi extra is not installed: no MPI job can run")
def test_a_megabyte_piped_into_several_workers_trains(tmp_path):
    """mpiexec would pass standard input on to rank 0 through a pipe, and end the job when rank 0
    read it more slowly than it came: the workers read the launcher's copy instead."""
    scratch_dir = tmp_path / "tmp"
    scratch_dir.mkdir()
    text = TEXT * 800  # a megabyte, written as fast as the pipe takes it
    args = ["train", "-", "-c", tmp_path / "m.npz", *tiny(max_steps=2, eval_every=2), "--workers", "2", "-q"]
    result = run(args, input=text.encode(), env={**os.environ, "TMPDIR": str(scratch_dir)}, timeout=120)
    assert result.returncode == 0, result.stderr.decode()
    corpus = checkpoint_meta(tmp_path / "m.npz")["progress"]["corpus"]
    assert corpus["name"] == "<stdin>" and corpus["chars"] == len(text)
    assert os.listdir(scratch_dir) == []
