"""Ctrl-C and SIGTERM while training or sampling: training saves validated weights, says how to go on,
exits 130/143, and resuming gives exactly the run that was never stopped; a second signal gives up at
once without losing what was saved. Some run in-process, others send real signals to the console script.
"""

from __future__ import annotations

import os
import shlex
import signal
import subprocess
import time

import pytest

from charrnn import checkpoint as ckpt_io
from charrnn.training.trainer import Trainer
from tests.cli_helpers import (
    RESUMABLE,
    assert_same_arrays,
    checkpoint_meta,
    invoke,
    only_warnings,
    popen,
    script,
    tiny,
    wait_for,
    without_times,
)


def stop_at_step(monkeypatch, step: int, signum: int, times: int = 1) -> None:
    """Send this process `signum` right after training step `step`, as a user at the keyboard would."""
    real = Trainer.train_step

    def train_step(self):
        event = real(self)
        if self.step == step:
            for _ in range(times):
                os.kill(os.getpid(), signum)
        return event

    monkeypatch.setattr(Trainer, "train_step", train_step)


@pytest.mark.parametrize("signum, code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_signal_saves_and_resume_equals_an_uninterrupted_run(corpus, tmp_path, monkeypatch, signum, code):
    interrupted, whole = tmp_path / "interrupted.npz", tmp_path / "whole.npz"
    with monkeypatch.context() as m:
        stop_at_step(m, 7, signum)
        result = invoke(["train", corpus, "-c", interrupted, *RESUMABLE, "--max-steps", "12"])
    assert result.exit_code == code
    assert "Traceback" not in result.stderr
    assert "Interrupted at step 7: saved" in result.stderr and "--resume" in result.stderr
    assert ckpt_io.load(interrupted).progress["step"] == 7
    resumed = invoke(["train", corpus, "-c", interrupted, *RESUMABLE, "--max-steps", "12", "--resume", "-q"])
    assert resumed.exit_code == 0, resumed.stderr
    assert invoke(["train", corpus, "-c", whole, *RESUMABLE, "--max-steps", "12", "-q"]).exit_code == 0
    assert_same_arrays(interrupted, whole)
    assert without_times(checkpoint_meta(interrupted)) == without_times(checkpoint_meta(whole))


def test_a_signal_before_the_first_validation_saves_validated_weights(corpus, tmp_path, monkeypatch):
    """The checkpoint's weights are always ones with a validation loss, even when stopped early."""
    path = tmp_path / "early.npz"
    with monkeypatch.context() as m:
        stop_at_step(m, 2, signal.SIGINT)
        result = invoke(["train", corpus, "-c", path, *RESUMABLE, "--max-steps", "12", "--eval-every", "10"])
    assert result.exit_code == 130, result.stderr
    progress = ckpt_io.load(path).progress
    assert progress["step"] == progress["best_step"] == 2
    assert [h["step"] for h in progress["history"]] == [2] and progress["best_val_loss"] is not None


def test_a_second_signal_gives_up_at_once_and_loses_nothing_saved(corpus, victim, monkeypatch):
    with monkeypatch.context() as m:
        stop_at_step(m, 13, signal.SIGINT, times=2)
        result = invoke(["train", corpus, "-c", victim.path, *tiny(max_steps=20), "--resume"])
    assert result.exit_code == 130
    assert "Interrupted." in result.stderr and "Traceback" not in result.stderr
    assert victim.unchanged()  # no validation had come since step 10


def test_ctrl_c_while_sampling(trained, monkeypatch):
    import charrnn.generation.sampling

    def interrupted(*args, **kwargs):
        yield ["a"]
        raise KeyboardInterrupt

    monkeypatch.setattr(charrnn.generation.sampling, "generate", interrupted)
    result = invoke(["sample", "-c", trained, "-n", "100"])
    assert result.exit_code == 130 and result.stdout == "a" and result.stderr == "Interrupted.\n"


@pytest.mark.parametrize("signum, code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_real_signal_during_training(corpus, tmp_path, signum, code):
    interrupted, whole = tmp_path / "interrupted.npz", tmp_path / "whole.npz"
    # the step limit is lowered on resuming: the cosine is given its own length, which stays
    resumable = [*RESUMABLE, "--cosine-steps", "1000000"]
    proc = popen(["train", corpus, "-c", interrupted, *resumable, "--max-steps", "1000000"])
    wait_for(interrupted.exists, proc)
    proc.send_signal(signum)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == code, err
    assert out == "" and "Traceback" not in err
    assert "Interrupted at step" in err.splitlines()[-1]
    step = ckpt_io.load(interrupted).progress["step"]
    assert step >= 5
    target = ["--max-steps", str(step + 7)]
    resumed = invoke(["train", corpus, "-c", interrupted, *resumable, *target, "--resume", "-q"])
    assert resumed.exit_code == 0, resumed.stderr
    assert invoke(["train", corpus, "-c", whole, *resumable, *target, "-q"]).exit_code == 0
    assert_same_arrays(interrupted, whole)


def test_an_ignored_sigint_stays_ignored(corpus, tmp_path):
    """A background job of a script starts with SIGINT ignored; training must not take it over."""
    path = tmp_path / "model.npz"
    proc = subprocess.Popen(
        [*script(), "train", str(corpus), "-c", str(path), *tiny(max_steps=10**6)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN),
    )
    wait_for(path.exists, proc)
    proc.send_signal(signal.SIGINT)
    time.sleep(0.3)
    assert proc.poll() is None  # still training
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 143 and "Interrupted at step" in err


def test_the_interrupt_message_gives_the_command_line_to_continue(corpus, tmp_path, monkeypatch):
    """The user's own arguments, shell-quoted, --force dropped and --resume added: pasted, it continues."""
    path = tmp_path / "my model.npz"  # a space, so the line must quote it
    args = ["train", str(corpus), "-c", str(path), *RESUMABLE, "--max-steps", "12", "--force"]
    with monkeypatch.context() as m:
        stop_at_step(m, 7, signal.SIGINT)
        result = invoke(args)
    assert result.exit_code == 130
    typed = f"charrnn train {corpus} -c '{path}' {' '.join(RESUMABLE)} --max-steps 12 --resume"
    assert result.stderr.splitlines()[-1] == f"Interrupted at step 7: saved {path}; continue with `{typed}`"
    pasted = shlex.split(typed)
    assert pasted[0] == "charrnn"
    resumed = invoke(pasted[1:])
    assert resumed.exit_code == 0, resumed.stderr
    assert "Resuming" in resumed.stderr and ckpt_io.load(path).progress["step"] == 12


def test_the_interrupt_message_of_the_console_script_continues_when_pasted(corpus, tmp_path):
    path = tmp_path / "model.npz"
    proc = popen(["train", corpus, "-c", path, *tiny(max_steps=10**6), "--force"])
    wait_for(path.exists, proc)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    typed = f"charrnn train {corpus} -c {path} {' '.join(tiny(max_steps=10**6))} --resume"
    last = err.splitlines()[-1]
    assert last.startswith("Interrupted at step ") and last.endswith(f"; continue with `{typed}`"), last
    step = ckpt_io.load(path).progress["step"]
    # the same line with a step limit in reach, so that the resumed run ends by itself
    pasted = [*script(), *shlex.split(typed)[1:], "--max-steps", str(step + 3), "-q"]
    resumed = subprocess.run(pasted, capture_output=True, text=True, timeout=60)
    assert resumed.returncode == 0 and only_warnings(resumed.stderr), resumed.stderr
    assert ckpt_io.load(path).progress["step"] == step + 3


def test_the_interrupt_message_says_a_piped_corpus_must_come_again(corpus, tmp_path, monkeypatch):
    path = tmp_path / "model.npz"
    with monkeypatch.context() as m:
        stop_at_step(m, 3, signal.SIGINT)
        result = invoke(["train", "-", "-c", path, *tiny()], input=corpus.read_text())
    assert result.exit_code == 130
    typed = f"charrnn train - -c {path} {' '.join(tiny())} --resume"
    assert result.stderr.splitlines()[-1] == (
        f"Interrupted at step 3: saved {path}; continue with `{typed}` (with the same text on standard input)"
    )
