"""Helpers shared by the command-line tests: tiny options, corpora, checkpoints and checks.

Every model here is tiny (one layer of 8 units, windows of 2 x 8 characters, a few steps), so a
training run takes a fraction of a second in-process and about half a second as a subprocess.
"""

from __future__ import annotations

import json
import re
import shutil
import signal
import subprocess
import sys
import time
import warnings
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from click.testing import CliRunner, Result

from charrnn.cli import cli, streams

ESCAPES = re.compile(r"\x1b\[[0-9;]*m")  # what a terminal interprets: colours and styles

# one layer, so no dropout (it acts between layers): tests of resuming add --layers 2 so that the
# dropout random stream has to be saved and restored too
TINY = [
    "--hidden-size",
    "8",
    "--layers",
    "1",
    "--seq-len",
    "8",
    "--batch-size",
    "2",
    "--max-steps",
    "5",
    "--eval-every",
    "5",
]
TEXT = "the quick brown fox jumps over the lazy dog.\nhow vexingly quick daft zebras jump!\n" * 16  # 1,312 chars
NON_ASCII = "é"  # not in TEXT


def tiny(**overrides) -> list[str]:
    """TINY with some options replaced: tiny(max_steps=9) -> [..., "--max-steps", "9", ...]."""
    args = list(TINY)
    for key, value in overrides.items():
        flag = "--" + key.replace("_", "-")
        if flag in args:
            args[args.index(flag) + 1] = str(value)
        else:
            args += [flag, str(value)]
    return args


RESUMABLE = [*tiny(), "--layers", "2", "--dropout", "0.2"]  # two layers: the dropout stream must resume too


def write(path: Path, content: str | bytes) -> Path:
    if isinstance(content, str):
        content = content.encode("utf-8")
    path.write_bytes(content)
    return path


class ScriptRunner(CliRunner):
    """CliRunner with the console script's streams (cli/streams.guard): names that are not UTF-8
    are written as escapes there, and must be here too."""

    @contextmanager
    def isolation(self, *args, **kwargs):
        with super().isolation(*args, **kwargs) as outputs:
            streams.guard()
            yield outputs


def invoke(args: list[str], input: str | bytes | None = None, env: dict | None = None) -> Result:
    """Run the click application in-process, as the console script would (prog name `charrnn`, its
    streams), with every warning an error: no library's warning may reach the user raw."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        # Python itself hides these from users (unless run with -X dev); a descriptor left to the
        # collector is not said to the user, and when it is collected is not deterministic
        warnings.simplefilter("ignore", ResourceWarning)
        result = ScriptRunner().invoke(cli, [str(a) for a in args], input=input, env=env, prog_name="charrnn")
    # anything but a normal exit is an exception that would have reached the user
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exc_info
    return result


def only_warnings(stderr: str) -> bool:
    """What -q lets through: warnings (here a tiny corpus's small validation set), no message."""
    return all(line.startswith("Warning: ") for line in stderr.splitlines())


def train(corpus: Path, ckpt: Path, *extra: str) -> Result:
    result = invoke(["train", corpus, "-c", ckpt, *TINY, *extra])
    assert result.exit_code == 0, result.stderr
    return result


def error_line(stderr: str) -> str:
    """The last non-empty line of stderr, where every error says what is wrong."""
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert lines, "nothing on stderr"
    return lines[-1]


def assert_clean_error(result, code: int, *needles: str, stdout_empty: bool = True) -> str:
    """Exit code `code`, one `Error:` line last on stderr naming each needle, no traceback.

    Works for a CliRunner Result and a subprocess.CompletedProcess (text mode). Returns the line.
    """
    exit_code = getattr(result, "exit_code", None)
    if exit_code is None:
        exit_code = result.returncode
    stdout, stderr = result.stdout, result.stderr
    assert exit_code == code, f"exit {exit_code}, expected {code}; stderr: {stderr!r}"
    assert "Traceback" not in stderr + stdout
    line = error_line(stderr)
    assert line.startswith("Error: "), stderr
    assert sum(part.startswith("Error:") for part in stderr.splitlines()) == 1, stderr
    if code == 2:  # click's usage block comes first; it is the only other text
        assert stderr.lstrip().startswith("Usage: ") or stderr.startswith("Error: "), stderr
    for needle in needles:
        assert needle in line, f"{needle!r} not in {line!r}"
    if stdout_empty:
        assert stdout == "", stdout
    return line


def assert_result_or_clean_error(result) -> None:
    """A result, or one clean error line (assert_clean_error) with exit 1 or 2; never a bug's
    message ("internal error", "please report", a traceback) on either stream."""
    if result.exit_code != 0:
        assert result.exit_code in (1, 2), result.stderr
        assert_clean_error(result, result.exit_code, stdout_empty=False)
    for bug in ("internal error", "please report", "Traceback"):
        assert bug not in result.stderr + result.stdout


def checkpoint_arrays(path: Path) -> dict[str, np.ndarray]:
    """Every array of a checkpoint but its metadata (which holds wall-clock times)."""
    with np.load(path, allow_pickle=False) as npz:
        return {k: npz[k] for k in npz.files if k != "meta"}


def checkpoint_meta(path: Path) -> dict:
    with np.load(path, allow_pickle=False) as npz:
        return json.loads(str(npz["meta"]))


def assert_same_arrays(a: Path, b: Path) -> None:
    x, y = checkpoint_arrays(a), checkpoint_arrays(b)
    assert x.keys() == y.keys()
    for k in x:
        assert x[k].dtype == y[k].dtype and x[k].shape == y[k].shape, k
        assert x[k].tobytes() == y[k].tobytes(), f"{k} differs"


def script() -> list[str]:
    """The installed console script, or `python -m charrnn` when it is not on PATH."""
    found = shutil.which("charrnn", path=str(Path(sys.executable).parent)) or shutil.which("charrnn")
    return [found] if found else [sys.executable, "-m", "charrnn"]


def run(args: list, input: str | bytes | None = None, cwd: Path | None = None, timeout: float = 60, env=None):
    """Run the console script in a subprocess; text mode unless input is bytes."""
    text = not isinstance(input, bytes)
    return subprocess.run(
        [*script(), *map(str, args)], input=input, cwd=cwd, capture_output=True, text=text, timeout=timeout, env=env
    )


class Victim:
    """A copy of a good checkpoint that a failing command must leave exactly as it was."""

    def __init__(self, source: Path, path: Path):
        path.write_bytes(source.read_bytes())
        self.path, self.bytes = path, path.read_bytes()

    def unchanged(self) -> bool:
        return self.path.read_bytes() == self.bytes


def train_over(victim: Victim, corpus, *extra, input=None):
    """train with --force onto an existing checkpoint: a bad input must not cost the user it."""
    return invoke(["train", corpus, "-c", victim.path, *tiny(), "--force", *extra], input=input)


def vocab_of(ckpt: Path) -> list[str]:
    return checkpoint_meta(ckpt)["vocab"]


def without_times(meta: dict) -> dict:
    """A checkpoint's metadata without its wall-clock times, which differ from run to run."""
    meta = json.loads(json.dumps(meta))
    meta["progress"].pop("elapsed")
    for h in meta["progress"]["history"]:
        h.pop("elapsed")
    return meta


def wait_for(condition, proc: subprocess.Popen, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if proc.poll() is not None:
            raise AssertionError(f"exited early ({proc.returncode}): {proc.stderr.read()}")
        if time.monotonic() > deadline:
            proc.kill()
            raise AssertionError("timed out")
        time.sleep(0.005)


def popen(args: list) -> subprocess.Popen:
    return subprocess.Popen(
        [*script(), *map(str, args)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),  # as at a terminal
    )


def commands(group=cli, path: str = "charrnn"):
    """(path, command) for every command under `group`, the group itself included."""
    yield path, group
    for name, sub in getattr(group, "commands", {}).items():
        yield from commands(sub, f"{path} {name}")
