"""SIGHUP (a closed terminal or ssh session) saves as Ctrl-C and SIGTERM do, and no signal at any
moment leaves a temporary file behind: the corpus's ids live in a file that never has a name, and
SIGTERM and SIGHUP outside training raise like Ctrl-C, so every clean-up runs.
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading

import numpy as np
import pytest

from charrnn import checkpoint as ckpt_io
from charrnn.data import mapped
from tests.cli_helpers import RESUMABLE, TEXT, invoke, script, tiny
from tests.test_interrupts import stop_at_step


def test_sighup_during_training_saves_and_exits_129(corpus, tmp_path, monkeypatch):
    path = tmp_path / "hup.npz"
    with monkeypatch.context() as m:
        stop_at_step(m, 7, signal.SIGHUP)
        result = invoke(["train", corpus, "-c", path, *RESUMABLE, "--max-steps", "12"])
    assert result.exit_code == 129, result.stderr
    assert "Interrupted at step 7: saved" in result.stderr
    assert ckpt_io.load(path).progress["step"] == 7


def test_the_ids_file_never_has_a_name(tmp_path):
    seen = []

    def chunks():
        for i in range(5):
            seen.append(sorted(os.listdir(tmp_path)))  # while the ids are being written
            yield np.full(10, i, np.uint8)

    ids = mapped.ids_to_memmap(chunks(), np.dtype(np.uint8), 50, str(tmp_path))
    assert seen == [[]] * 5 and os.listdir(tmp_path) == []
    assert ids.tolist() == [i for i in range(5) for _ in range(10)]


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP])
def test_a_signal_while_a_large_corpus_is_read_leaves_no_temporary_file(tmp_path, signum):
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    proc = subprocess.Popen(
        [*script(), "train", "-", "-c", tmp_path / "m.npz", *tiny()],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "TMPDIR": str(scratch)},
    )
    block = (TEXT * 200).encode()  # 262 kB a write: the corpus is spooled as it comes

    def feed():
        try:
            while True:
                proc.stdin.write(block)
        except (BrokenPipeError, ValueError, OSError):
            pass

    feeder = threading.Thread(target=feed, daemon=True)
    feeder.start()
    try:
        # wait until a good part of the corpus has come in, then stop it
        deadline = 200
        while deadline and proc.poll() is None:
            deadline -= 1
            threading.Event().wait(0.02)
        proc.send_signal(signum)
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
        try:
            proc.stdin.close()
        except BrokenPipeError:  # the unwritten rest of the corpus
            pass
    assert proc.returncode == 128 + signum, proc.stderr.read()
    assert os.listdir(scratch) == [] and not (tmp_path / "m.npz").exists()
