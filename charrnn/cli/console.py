"""Terminal plumbing: the two consoles, messages, warnings, the progress bar and durations.

rich and tqdm are imported inside the functions that use them, so `charrnn --help` stays fast.
Consoles never interpret markup or highlight data, and every string they print is one line whose
names are shown escaped (`line`: a file name cannot forge a line or act on the terminal); a text
drawn as rich Text is shown as it is. Colour follows rich's rules: off for pipes and files, and
off when NO_COLOR is set.
"""

from __future__ import annotations

import os
import sys
from functools import cache
from pathlib import Path


@cache
def console(stderr: bool = False):
    from rich.console import Console

    class PipeConsole(Console):
        def on_broken_pipe(self) -> None:
            # rich would exit with status 1; the CLI stops quietly with 0 instead, as `sample` does
            raise BrokenPipeError

        def render_str(self, text: str, **kwargs):
            # every string printed (a message, a table's cell or title) is a line, after any blank
            # lines: what it holds that could act on the terminal came from a name. Text objects
            # (a text drawn character by character, a sample) are shown as they are.
            blank = len(text) - len(text.lstrip("\n"))
            return super().render_str(text[:blank] + line(text[blank:]), **kwargs)

    return PipeConsole(stderr=stderr, markup=False, emoji=False, highlight=False, soft_wrap=False)


def message(text: str, style: str | None = None) -> None:
    """One line of information on stderr, the names in it escaped (line())."""
    console(stderr=True).print(text, style=style, soft_wrap=True)


def line(text: str) -> str:
    """What is said on stderr, or in a cell of a table, as one line whatever names it holds: every
    line said is one line by design, so a newline or any other control character in it can only
    have come from a name (a file's, a checkpoint's corpus's) and is shown escaped (files.display):
    a file named 'x\nError: forged' cannot print a line of its own, nor ESC[2J clear the screen."""
    from charrnn.files import display

    return display(text)


def error_line(text: str) -> None:
    """One line on stderr through click (where rich may be broken: a failing stream, a bug)."""
    import click

    click.echo(line(text), err=True)


def warning(text: str) -> None:
    message(f"Warning: {text}", style="yellow")


def library_warnings_in_one_line() -> None:
    """From start-up: a library's warning that charrnn did not handle (it should have: a bug) is
    one line of ours, not Python's two lines of a source file's path and code."""
    import warnings

    def show(text, category, filename, lineno, file=None, line=None) -> None:
        said = " ".join(str(text).split())
        warning(f"{said} ({category.__name__} in {Path(filename).name}); please report it")

    warnings.showwarning = show


TERMINAL_VARIABLE = "CHARRNN_STDERR_IS_TERMINAL"  # set by `train --workers` (docs/parallel.md)


def progress_bar(total: float, initial: float, unit: str, quiet: bool, desc: str = "train"):
    """A bar on stderr, only on a terminal; it fits the terminal's width at each refresh (progress.py)."""
    from charrnn.cli.progress import ProgressBar

    shown = None if not os.environ.get(TERMINAL_VARIABLE) else False  # None: off when stderr is not a terminal

    return ProgressBar(
        total=total,
        initial=initial,
        unit=unit,
        desc=desc,
        file=sys.stderr,
        dynamic_ncols=True,
        leave=True,
        disable=True if quiet else shown,
        mininterval=0.25,
    )


def format_duration(seconds: float) -> str:
    seconds = int(round(seconds))
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}h {m:02d}m {s:02d}s" if h else f"{m}m {s:02d}s" if m else f"{s}s"
