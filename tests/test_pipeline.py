"""The installed console script in real shell pipelines and on a real (pseudo-)terminal.

stdout carries only the product, so it can be piped; a reader that goes away (`| head`) ends a
sample quietly; progress and colours appear only on a terminal, and NO_COLOR turns colours off.
"""

from __future__ import annotations

import fcntl
import json
import os
import pty
import re
import signal
import struct
import subprocess
import termios
import time
from pathlib import Path

import pytest

from tests.cli_helpers import TEXT, only_warnings, run, script, tiny, write

COLOUR = re.compile(r"\x1b\[[0-9;]*?(?:3[0-7]|9[0-7]|38;[0-9;]+)m")  # a foreground colour being set


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    """A directory with a corpus and a checkpoint trained from it through a pipe."""
    d = tmp_path_factory.mktemp("pipeline")
    write(d / "corpus.txt", TEXT)
    result = shell(
        f"cat corpus.txt | {charrnn()} train - -c model.npz {' '.join(tiny(max_steps=20, eval_every=10))}", d
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    assert "on <stdin>" in result.stderr and "Done: 20 steps" in result.stderr
    assert (
        "Traceback" not in result.stderr and "\r" not in result.stderr and "\x1b" not in result.stderr
    )  # no bar, no colour
    return d


def charrnn() -> str:
    return " ".join(script())


def shell(command: str, cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    """Run a bash pipeline; pipefail makes its exit code non-zero if any stage fails (or dies of SIGPIPE)."""
    return subprocess.run(
        ["bash", "-c", f"set -o pipefail; {command}"],
        cwd=cwd,
        capture_output=True,
        timeout=120,
        env=env,
        encoding="utf-8",
        errors="replace",
    )


def test_train_from_a_pipe_then_sample_into_head(workdir):
    result = shell(f"{charrnn()} sample -c model.npz -n 500 --seed 1 | head -c 50", workdir)
    assert result.returncode == 0
    assert result.stderr == ""
    assert len(result.stdout) == 50 and set(result.stdout) <= set(TEXT)


@pytest.mark.parametrize("extra", [[], ["--num-samples", "3"], ["--prime", "the "]])
def test_sample_into_a_reader_that_leaves_exits_quietly(workdir, extra):
    result = shell(f"{charrnn()} sample -c model.npz -n 100000 {' '.join(map(repr, extra))} | head -c 200", workdir)
    assert result.returncode == 0, result.stderr  # 141 if charrnn died of SIGPIPE, 1 on an error
    assert result.stderr == ""  # no traceback, no BrokenPipeError, no "Exception ignored"
    assert len(result.stdout) == 200


@pytest.mark.parametrize("num_samples", ["1", "2"])
def test_a_sample_as_long_as_asked_streams_into_head(workdir, num_samples):
    """A trillion characters: nothing that grows with -n is kept, so nothing is refused or waited for."""
    command = f"{charrnn()} sample -c model.npz -n 1000000000000 --num-samples {num_samples} | head -c 100"
    result = shell(command, workdir)
    assert result.returncode == 0, result.stderr
    assert result.stderr == "" and len(result.stdout) == 100


@pytest.mark.parametrize("command", ["inspect", "inspect --json", "inspect score corpus.txt"])
def test_inspect_into_a_reader_that_leaves_exits_quietly(workdir, command):
    result = shell(f"{charrnn()} {command} -c model.npz | head -c 20", workdir)
    assert result.returncode == 0 and result.stderr == "" and len(result.stdout) == 20


def test_inspect_json_is_only_json(workdir):
    result = shell(
        f'{charrnn()} inspect -c model.npz --json | python3 -c \'import json, sys; print(json.load(sys.stdin)["training"]["steps"])\'',
        workdir,
    )
    assert result.returncode == 0 and result.stdout.strip() == "20" and result.stderr == ""


def test_score_a_text_from_a_pipe(workdir):
    result = shell(f"head -c 200 corpus.txt | {charrnn()} inspect score - -c model.npz --json", workdir)
    assert result.returncode == 0 and result.stderr == ""
    assert json.loads(result.stdout)["score"]["chars"] == 199


def test_sample_feeds_training(workdir):
    """A sample is plain text: it can be the corpus of another model."""
    result = shell(
        f"{charrnn()} sample -c model.npz -n 400 --seed 0 | {charrnn()} train - -c again.npz {' '.join(tiny())} -q",
        workdir,
    )
    assert result.returncode == 0 and result.stdout == "" and only_warnings(result.stderr)
    assert (workdir / "again.npz").is_file()


def test_train_from_process_substitution(workdir, tmp_path):
    """bash's <(...) is a pipe with a name: it can be read only once, and is copied first."""
    result = shell(f"{charrnn()} train <(cat corpus.txt) -c {tmp_path / 'm.npz'} {' '.join(tiny())} -q", workdir)
    assert result.returncode == 0 and only_warnings(result.stderr)
    facts = json.loads(run(["inspect", "-c", tmp_path / "m.npz", "--json"]).stdout)
    assert facts["corpus"]["chars"] == len(TEXT)


def test_output_encoding_that_cannot_carry_the_text(workdir):
    env = {**os.environ, "PYTHONIOENCODING": "ascii"}
    result = run(["sample", "-c", "model.npz", "-n", "5", "--prime", "the", "--seed", "0"], cwd=workdir, env=env)
    assert result.returncode == 0 and result.stdout.startswith("the")  # ASCII text is fine
    zh = write(workdir / "zh.txt", "\u4e00\u4e01\u4e02\n" * 40)
    assert run(["train", zh, "-c", "zh.npz", *tiny(), "-q"], cwd=workdir).returncode == 0
    result = run(["sample", "-c", "zh.npz", "-n", "5", "--prime", "\u4e00"], cwd=workdir, env=env)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr.splitlines()[-1].startswith("Error: standard output (ascii) cannot encode")
    assert "PYTHONIOENCODING=utf-8" in result.stderr


def test_the_three_commands_exactly_as_written(tmp_path):
    """`charrnn train corpus.txt`, `charrnn sample --temp 0.8`, `charrnn inspect`: no other flags.

    The default model trains for minutes, so it is stopped with Ctrl-C once training has begun;
    it saves the default checkpoint, which sample and inspect then read by default.
    """
    write(tmp_path / "corpus.txt", TEXT * 3)
    proc = subprocess.Popen(
        [*script(), "train", "corpus.txt"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),  # as at a terminal
    )
    seen = []
    while not any(line.startswith("Training a model (LSTM, 2 x 256, ") for line in seen):
        line = proc.stderr.readline()
        assert line, f"train ended early: {seen}"
        seen.append(line)
    time.sleep(0.2)  # a few steps in (announcing training means a signal now saves first)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130 and out == "" and "Traceback" not in err
    assert "Interrupted at step" in err and (tmp_path / "charrnn.npz").is_file()
    sample = run(["sample", "--temp", "0.8"], cwd=tmp_path)
    assert sample.returncode == 0 and sample.stderr == "" and len(sample.stdout) == 1000
    inspect = run(["inspect"], cwd=tmp_path)
    assert inspect.returncode == 0 and inspect.stderr == "" and "LSTM, 2 x 256" in inspect.stdout


def test_errors_from_the_real_script(workdir):
    missing = run(["sample", "-c", "none.npz"], cwd=workdir)
    assert missing.returncode == 1 and missing.stdout == ""
    assert missing.stderr.startswith("Error: no checkpoint at none.npz") and missing.stderr.count("\n") == 1
    usage = run(["train", "none.txt"], cwd=workdir)
    assert usage.returncode == 2 and "Traceback" not in usage.stderr
    assert usage.stderr.splitlines()[-1] == "Error: Invalid value for 'CORPUS...': Path 'none.txt' does not exist."
    version = run(["--version"])
    assert version.returncode == 0 and version.stdout.startswith("charrnn, version ")


# -- on a terminal --------------------------------------------------------------------------------


def on_terminal(args: list[str], cwd: Path, no_color: bool) -> tuple[int, str]:
    """Run the script with stdin, stdout and stderr on a 160-column pseudo-terminal; return all it wrote."""
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR", "COLUMNS", "LINES", "TERM")}
    env["TERM"] = "xterm-256color"
    if no_color:
        env["NO_COLOR"] = "1"
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 160, 0, 0))
    proc = subprocess.Popen([*script(), *args], cwd=cwd, stdin=slave, stdout=slave, stderr=slave, env=env)
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:  # EIO: the other side is closed
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    return proc.wait(timeout=60), b"".join(chunks).decode("utf-8", "replace")


@pytest.mark.parametrize("no_color", [False, True])
def test_progress_bar_and_colours_on_a_terminal(workdir, tmp_path, no_color):
    code, out = on_terminal(
        ["train", str(workdir / "corpus.txt"), "-c", str(tmp_path / "t.npz"), *tiny(max_steps=40, eval_every=10)],
        tmp_path,
        no_color,
    )
    assert code == 0, out
    bar = [line for line in re.split(r"[\r\n]", out) if line.startswith("train ")][-1]
    assert "100%" in bar and "40/40 steps" in bar
    assert re.search(r"\[\d\d:\d\d<\d\d:\d\d, loss \d+\.\d+ bpc, val \d+\.\d+, [\d.]+k char/s\]", bar), bar
    assert "Done: 40 steps" in out and "A sample at temperature 0.8" in out
    if no_color:
        assert not COLOUR.search(out), repr(out)
    else:
        assert "\x1b[33mWarning:" in out  # warnings are yellow on a terminal


def test_sample_on_a_terminal_ends_its_line(workdir):
    code, out = on_terminal(["sample", "-c", "model.npz", "-n", "20", "--seed", "0"], workdir, no_color=True)
    assert code == 0 and out.endswith("\n") and len(out.replace("\r\n", "\n").rstrip("\n")) <= 20
