"""Writing a checkpoint never loses or half-writes one: files that are not checkpoints are never
replaced; a full disk, a refused rename, an unwritable place, a signal or a SIGKILL in the middle of
a write, and two runs writing one file all leave a whole checkpoint (the old or the new one).
"""

from __future__ import annotations

import errno
import os
import signal
import time
from pathlib import Path

import numpy as np
import pytest

from charrnn import checkpoint as ckpt_io
from charrnn import files
from tests.cli_helpers import (
    Victim,
    assert_clean_error,
    checkpoint_arrays,
    checkpoint_meta,
    invoke,
    only_warnings,
    popen,
    tiny,
    wait_for,
    write,
)


def test_checkpoint_path_is_the_corpus(corpus):
    before = corpus.read_bytes()
    for flags in ([], ["--force"], ["--resume"]):
        assert_clean_error(invoke(["train", corpus, "-c", corpus, *tiny(), *flags]), 2, "is the corpus itself")
    assert corpus.read_bytes() == before


def test_force_replaces_only_checkpoints(corpus, tmp_path):
    notes = write(tmp_path / "notes.txt", "my precious notes\n")
    for flags in ([], ["--force"], ["--resume"]):
        result = invoke(["train", corpus, "-c", notes, *tiny(), *flags])
        assert_clean_error(result, 1, "not a charrnn checkpoint", "-c")
    assert notes.read_text() == "my precious notes\n"
    assert_clean_error(invoke(["train", corpus, "-c", os.devnull, *tiny(), "--force"]), 1, "not a regular file")
    empty = write(tmp_path / "empty.npz", b"")  # an empty file holds nothing to lose
    assert invoke(["train", corpus, "-c", empty, *tiny(), "--force", "-q"]).exit_code == 0


def test_disk_full_while_saving(corpus, victim, monkeypatch):
    real = np.savez

    def savez(file, **arrays):
        real(file, **dict(list(arrays.items())[:2]))
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(np, "savez", savez)
    result = invoke(["train", corpus, "-c", victim.path, *tiny(max_steps=20), "--resume", "-q"])
    assert_clean_error(result, 1, "No space left on device", "unchanged", "-c")
    assert victim.unchanged()
    assert not list(victim.path.parent.glob(".*.tmp"))


def test_rename_refused_while_saving(corpus, victim, monkeypatch):
    def refuse(src, dst):
        raise OSError(errno.EROFS, os.strerror(errno.EROFS))

    monkeypatch.setattr(os, "replace", refuse)
    result = invoke(["train", corpus, "-c", victim.path, *tiny(max_steps=20), "--resume", "-q"])
    assert_clean_error(result, 1, "Read-only file system", "unchanged")
    assert victim.unchanged()
    assert not list(victim.path.parent.glob(".*.tmp"))


@pytest.mark.parametrize("where", ["/proc/charrnn-test.npz", "FILE/model.npz", "MISSING/model.npz"])
def test_unwritable_place_fails_before_training(corpus, tmp_path, where):
    path = Path(where.replace("FILE", str(corpus)).replace("MISSING", str(tmp_path / "missing")))
    result = invoke(["train", corpus, "-c", path, *tiny()])
    assert_clean_error(result, 1, "cannot write the checkpoint", "-c")
    assert "Training a" not in result.stderr  # it said so before spending any time


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only directories")
def test_read_only_directory(corpus, victim):
    victim.path.parent.chmod(0o555)
    try:
        assert_clean_error(
            invoke(["train", corpus, "-c", victim.path, *tiny(max_steps=20), "--resume"]), 1, "cannot write"
        )
    finally:
        victim.path.parent.chmod(0o755)
    assert victim.unchanged()


def signal_mid_write(monkeypatch, signum: int, times: int = 1) -> None:
    """Make np.savez deliver `signum` to this process half-way through its first checkpoint write."""
    real = np.savez
    calls = []

    def savez(file, **arrays):
        names = list(arrays)
        half = {k: arrays[k] for k in names[: len(names) // 2]}
        real(file, **half)  # part of the file is on disk
        if not calls:
            for _ in range(times):
                os.kill(os.getpid(), signum)
        calls.append(file)
        file.seek(0)
        file.truncate()
        real(file, **arrays)

    monkeypatch.setattr(np, "savez", savez)


@pytest.mark.parametrize("signum, code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_signal_during_the_checkpoint_write_finishes_the_write(corpus, victim, monkeypatch, signum, code):
    with monkeypatch.context() as m:
        signal_mid_write(m, signum)
        result = invoke(["train", corpus, "-c", victim.path, *tiny(max_steps=20), "--resume"])
    assert result.exit_code == code and "Traceback" not in result.stderr
    assert "Interrupted at step 15: saved" in result.stderr  # the write finished, then training stopped
    assert ckpt_io.load(victim.path).progress["step"] == 15
    assert not list(victim.path.parent.glob(".*.tmp"))


def test_a_second_signal_during_the_write_keeps_the_old_checkpoint(corpus, victim, monkeypatch):
    with monkeypatch.context() as m:
        signal_mid_write(m, signal.SIGINT, times=2)
        result = invoke(["train", corpus, "-c", victim.path, *tiny(max_steps=20), "--resume"])
    assert result.exit_code == 130 and "Interrupted." in result.stderr and "Traceback" not in result.stderr
    assert victim.unchanged()
    assert not list(victim.path.parent.glob(".*.tmp"))


@pytest.mark.parametrize("failure", [KeyboardInterrupt(), OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))])
def test_save_interrupted_half_way_keeps_the_old_file(trained, tmp_path, monkeypatch, failure):
    victim = Victim(trained, tmp_path / "model.npz")
    real = np.savez

    def savez(file, **arrays):
        real(file, **dict(list(arrays.items())[:3]))
        raise failure

    monkeypatch.setattr(np, "savez", savez)
    with pytest.raises(type(failure) if isinstance(failure, KeyboardInterrupt) else ckpt_io.CheckpointError):
        ckpt_io.save(ckpt_io.load(trained), victim.path)
    assert victim.unchanged()
    assert list(tmp_path.iterdir()) == [victim.path]  # no temporary file left behind


def test_kill_during_checkpoint_writes_never_leaves_a_broken_file(corpus, tmp_path):
    """SIGKILL at moments spread over a run that saves big checkpoints at every step."""
    path = tmp_path / "model.npz"
    args = [
        "train",
        corpus,
        "-c",
        path,
        *tiny(hidden_size=48, max_steps=10**6, eval_every=1),
        "--layers",
        "2",
        "--force",
    ]
    for delay in (0.0, 0.004, 0.009, 0.017, 0.031):
        before = path.stat().st_ino if path.exists() else None
        proc = popen(args)
        wait_for(lambda before=before: path.exists() and path.stat().st_ino != before, proc)  # its first save is done
        time.sleep(delay)
        proc.kill()
        proc.communicate(timeout=30)
        loaded = ckpt_io.load(path)  # whole, whatever the moment of the kill
        assert loaded.progress["step"] >= 1
    # a kill cannot clean up: what it leaves is a hidden temporary file, never the checkpoint itself
    assert all(p == path or (p.name.startswith(".model.npz.") and p.suffix == ".tmp") for p in tmp_path.glob("*model*"))


def test_temporary_files_of_killed_writers_are_swept(corpus, tmp_path):
    path = tmp_path / "model.npz"
    old, fresh, other = (
        tmp_path / name for name in (".model.npz.dead1.tmp", ".model.npz.live1.tmp", ".notes.dead.tmp")
    )
    for f in (old, fresh, other):
        f.write_bytes(b"PK\x03\x04half")
    for f in (old, other):
        os.utime(f, (time.time() - 2 * files.STALE_SECONDS,) * 2)
    assert invoke(["train", corpus, "-c", path, *tiny(), "-q"]).exit_code == 0
    assert not old.exists()  # a writer killed an hour ago
    assert fresh.exists() and other.exists()  # perhaps still being written; not ours


def test_two_runs_writing_one_checkpoint_leave_one_whole(corpus, tmp_path):
    alone = {"a": tmp_path / "a.npz", "b": tmp_path / "b.npz"}
    options = {
        "a": [*tiny(max_steps=40, eval_every=1), "--seed", "1"],
        "b": [*tiny(max_steps=40, eval_every=1, hidden_size=12), "--seed", "2"],
    }
    solo = [popen(["train", corpus, "-c", alone[k], *options[k], "-q"]) for k in "ab"]
    shared = tmp_path / "shared.npz"
    both = [popen(["train", corpus, "-c", shared, *options[k], "-q", "--force"]) for k in "ab"]
    for proc in solo + both:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0 and out == "" and only_warnings(err), err
    final = checkpoint_arrays(shared)
    ckpt_io.load(shared)
    matches = [k for k in "ab" if _equal_arrays(final, checkpoint_arrays(alone[k]))]
    assert len(matches) == 1, "the checkpoint mixes the two runs"
    assert checkpoint_meta(shared)["train"]["seed"] == {"a": 1, "b": 2}[matches[0]]


def _equal_arrays(x: dict, y: dict) -> bool:
    return x.keys() == y.keys() and all(x[k].shape == y[k].shape and x[k].tobytes() == y[k].tobytes() for k in x)
