"""The training progress bar on a terminal: it fits the width the terminal has at each moment,
leaves nothing behind when the terminal narrows, drops whole figures rather than cutting one, and
says "validating" and "saving" when that is what the run is doing.

The terminal tests run the console script on a pseudo-terminal and replay what it wrote in a
terminal emulator (pyte), resized at the moment the pseudo-terminal was.
"""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import signal
import struct
import subprocess
import termios
import time
from pathlib import Path

import pyte
import pytest

from charrnn.cli.progress import fit
from tests.cli_helpers import TEXT, script, tiny, write

FIGURES = ["loss 2.345 bpc", "val 2.400", "10.5k char/s"]
WHOLE = [  # every field the bar can show, each as a whole
    r"\d+/\d+ steps",
    r"(\d+:)?\d\d:\d\d<((\d+:)?\d\d:\d\d|\?)",
    r"loss (\d+\.\d{3}|-) bpc",
    r"val (\d+\.\d{3}|-)",
    r"([\d.]+k|-) char/s",
]
BAR_ROW = re.compile(r"^(train|validating|saving) +\d+%")
DRAWN = re.compile(rb"(?:train|validating|saving) +\d+%")
BAR_MARKS = ("%", "bpc", "char/s", "steps [")  # what no row but the bar's holds


def fields_of(line: str) -> list[str]:
    """The fields of a bar line after its head and bar: the count and what is inside [...]."""
    rest = BAR_ROW.sub("", line).rstrip()
    rest = re.sub(r"^\|[^|]*\|", "", rest).strip()
    count, _, inside = rest.partition("[")
    assert inside == "" or inside.endswith("]"), line
    return [f for f in [count.strip(), *inside[:-1].split(", ")] if f]


@pytest.mark.parametrize("width", [200, 120, 80, 60, 50, 40, 30, 20])
def test_a_narrow_line_drops_whole_fields_never_part_of_one(width):
    line = fit("train  45%", 0.45, "25/40 steps", "00:01<00:02", FIGURES, width - 1)
    assert len(line) <= width - 1 and line.startswith("train  45%")
    for field in fields_of(line):
        assert any(re.fullmatch(p, field) for p in WHOLE), (width, field, line)
    if width >= 120:  # room for everything, in the order the bar has always had
        assert re.fullmatch(
            r"train  45%\|█+ *\| 25/40 steps \[00:01<00:02, loss 2.345 bpc, val 2.400, 10.5k char/s\]", line
        ), line


def test_the_fields_kept_longest_are_the_loss_and_the_time():
    kept = [fields_of(fit("train  45%", 0.45, "25/40 steps", "00:01<00:02", FIGURES, w)) for w in range(10, 120)]
    for fields in kept:
        assert not fields or "loss 2.345 bpc" in fields  # the loss goes last
        if "10.5k char/s" in fields:
            assert "val 2.400" in fields  # the speed goes first, then the validation figure
    assert kept[0] == [] and kept[-1] == ["25/40 steps", "00:01<00:02", *FIGURES]


# -- on a terminal --------------------------------------------------------------------------------


class Terminal:
    """The console script on a pseudo-terminal of a given size, with all it wrote kept in phases."""

    def __init__(self, args: list, cwd: Path, columns: int, rows: int = 40):
        env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR", "COLUMNS", "LINES")}
        env.update(TERM="xterm-256color", NO_COLOR="1")
        self.master, slave = pty.openpty()
        self.rows = rows
        self.resize(columns)
        self.proc = subprocess.Popen(
            [*script(), *map(str, args)], cwd=cwd, stdin=slave, stdout=slave, stderr=slave, env=env
        )
        os.close(slave)
        self.phases: list[tuple[int, bytes]] = [(columns, b"")]

    def resize(self, columns: int) -> None:
        fcntl.ioctl(self.master, termios.TIOCSWINSZ, struct.pack("HHHH", self.rows, columns, 0, 0))

    def read(self, timeout: float) -> bytes:
        ready, _, _ = select.select([self.master], [], [], timeout)
        try:
            data = os.read(self.master, 65536) if ready else b""
        except OSError:  # EIO: the program has exited and closed its side
            data = b""
        width, seen = self.phases[-1]
        self.phases[-1] = (width, seen + data)
        return data

    def wait_for_draws(self, n: int, timeout: float = 60) -> None:
        """Read until this phase holds n drawings of the bar."""
        deadline = time.monotonic() + timeout
        while len(DRAWN.findall(self.phases[-1][1])) < n:
            assert time.monotonic() < deadline and self.proc.poll() is None, self.phases[-1][1][-2000:]
            self.read(0.5)

    def narrow_to(self, columns: int) -> None:
        """Resize while the program is stopped, so that every byte it wrote is on the terminal first."""
        self.proc.send_signal(signal.SIGSTOP)
        while self.read(0.3):
            pass
        self.resize(columns)
        self.phases.append((columns, b""))
        self.proc.send_signal(signal.SIGCONT)

    def finish(self, timeout: float = 60) -> int:
        deadline = time.monotonic() + timeout
        while self.proc.poll() is None or self.read(0.1):
            assert time.monotonic() < deadline
            self.read(0.1)
        os.close(self.master)
        return self.proc.wait()

    def screens(self) -> list[list[str]]:
        """What the terminal showed at the end of each phase, replayed in an emulator."""
        screen = pyte.Screen(self.phases[0][0], self.rows)
        stream = pyte.ByteStream(screen)
        shown = []
        for columns, data in self.phases:
            screen.resize(self.rows, columns)
            stream.feed(data)
            shown.append([row.rstrip() for row in screen.display])
        return shown


def bar_rows(screen: list[str]) -> list[str]:
    return [row for row in screen if any(mark in row for mark in BAR_MARKS) or BAR_ROW.match(row)]


def test_narrowing_the_terminal_during_training_leaves_no_stale_fragment(tmp_path):
    corpus = write(tmp_path / "corpus.txt", TEXT)
    term = Terminal(
        ["train", corpus, "-c", tmp_path / "m.npz", *tiny(max_steps=10**6, eval_every=10**6)], tmp_path, 120
    )
    term.wait_for_draws(3)
    term.narrow_to(80)
    term.wait_for_draws(3)
    term.narrow_to(50)
    term.wait_for_draws(3)
    term.proc.send_signal(signal.SIGINT)
    assert term.finish() == 130
    wide, eighty, fifty = term.screens()
    for screen, columns in ((wide, 120), (eighty, 80), (fifty, 50)):
        rows = bar_rows(screen)
        assert len(rows) == 1, (columns, "\n".join(screen))  # the bar, and no piece of an older one
        assert BAR_ROW.match(rows[0]) and len(rows[0]) < columns
        for field in fields_of(rows[0]):
            assert any(re.fullmatch(p, field) for p in WHOLE), (columns, field, rows[0])
    assert "char/s" in bar_rows(wide)[0] and "loss" in bar_rows(fifty)[0]
    assert any(row.startswith("Interrupted at step") for row in fifty)


def test_the_end_of_a_run_says_validating_and_saving(tmp_path):
    corpus = write(tmp_path / "corpus.txt", TEXT)
    term = Terminal(["train", corpus, "-c", tmp_path / "m.npz", *tiny(max_steps=30, eval_every=10)], tmp_path, 120)
    assert term.finish() == 0
    draws = [d.decode() for d in term.phases[0][1].split(b"\x1b[J\r")]
    heads = [m.group(1) for d in draws if (m := BAR_ROW.search(d.split("\n")[-1]))]
    # every validation is announced, then its save, then training goes on; the last word is "train"
    assert heads.count("validating") == 3 and heads.count("saving") == 3 and heads[-1] == "train"
    assert heads.index("validating") < heads.index("saving")
    final = bar_rows(term.screens()[-1])
    assert len(final) == 1 and final[0].startswith("train 100%") and "30/30 steps" in final[0]
