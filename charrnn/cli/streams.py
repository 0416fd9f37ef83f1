"""The standard streams, made safe once at start-up and checked once at the end.

- A standard stream closed by the caller (`>&-`, `<&-`) gets /dev/null on its descriptor, so that
  no file charrnn opens later (a checkpoint, a temporary file) can take descriptor 0, 1 or 2 and
  receive the product or the messages; the Python stream is replaced by one that refuses to be
  used, so a command that needs it says "standard output is closed" instead of writing nothing
  and exiting 0.
- stdout and stderr carry file names that are not UTF-8 (their undecodable bytes are lone
  surrogates in Python) as `\\xNN` escapes, with the same escapes as files.display, instead of
  failing to encode; any other character the stream's encoding lacks is still an error.
- `finish()` flushes stdout inside the command's error handling: a full disk (`> /dev/full`) is a
  one-line error and exit 1, never a lost product with exit 0.
"""

from __future__ import annotations

import codecs
import errno
import io
import os
import sys
from typing import NoReturn

import click

NAMES = {0: "standard input", 1: "standard output", 2: "standard error"}
ERRORS = "charrnn-names"  # the codec error handler registered here


class ClosedStream(io.TextIOBase):
    """Stands for a standard stream the caller closed: any use is an OSError naming it."""

    def __init__(self, fd: int):
        self.fd = fd
        self.buffer = self

    def _closed(self, *args, **kwargs):
        raise OSError(errno.EBADF, f"{NAMES[self.fd]} is closed")

    read = readline = write = _closed

    def flush(self) -> None:  # nothing was written, nothing to lose
        pass

    def isatty(self) -> bool:
        return False

    def fileno(self) -> int:
        self._closed()


def _escape_names(e: UnicodeError):
    """Encode lone surrogates (undecodable bytes of file names) as escapes; refuse anything else."""
    from charrnn.files import display

    if not isinstance(e, UnicodeEncodeError):
        raise e
    bad = e.object[e.start : e.end]
    if not all(0xD800 <= ord(c) <= 0xDFFF for c in bad):
        raise e
    return display(bad), e.end


def guard() -> None:
    """At start-up: closed standard streams held by /dev/null and refused; names escaped on output."""
    codecs.register_error(ERRORS, _escape_names)
    for fd, name in ((0, "stdin"), (1, "stdout"), (2, "stderr")):
        try:
            os.fstat(fd)
        except OSError:
            os.dup2(os.open(os.devnull, os.O_RDONLY if fd == 0 else os.O_WRONLY), fd)
            setattr(sys, name, ClosedStream(fd))
            continue
        stream = getattr(sys, name)
        if fd and stream is not None and hasattr(stream, "reconfigure"):
            stream.reconfigure(errors=ERRORS)


def json_line(obj) -> str:
    """One JSON object as strict JSON (no NaN or Infinity, which are not JSON), with the lone
    surrogates of undecodable file names as the text of their escapes (files.display)."""
    import json
    import re

    from charrnn.files import display

    text = json.dumps(obj, ensure_ascii=False, allow_nan=False)
    return re.sub("[\ud800-\udfff]", lambda m: display(m[0]).replace("\\", "\\\\"), text)


STDIN_VARIABLE = "CHARRNN_STDIN_FD"  # set by `train --workers`: its stdin's copy (docs/parallel.md)


def stdin_bytes():
    """Standard input as a binary stream, or a one-line error if the caller closed it.

    A worker of `train --workers` reads its launcher's copy of it instead (STDIN_VARIABLE): mpiexec
    would pass standard input on through a pipe that fails when the reader falls behind.
    """
    fd = os.environ.get(STDIN_VARIABLE)
    if fd is not None and fd.isdigit():
        return os.fdopen(int(fd), "rb", closefd=False)
    if isinstance(sys.stdin, ClosedStream) or sys.stdin is None:
        raise click.ClickException("standard input is closed; give a file, or pipe the text in")
    return sys.stdin.buffer


def reader_gone() -> NoReturn:
    """The reader of stdout has gone (`charrnn sample | head`): stop now, quietly, with exit 0, as
    the writer of a pipeline should; stdout is dropped so that the final flush cannot fail again."""
    _drop_stdout()
    sys.exit(0)


def finish() -> None:
    """Flush stdout while errors can still be reported: a full disk must not pass for success."""
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        _drop_stdout()
    except OSError as e:
        _drop_stdout()
        raise click.ClickException(f"cannot write to standard output: {e.strerror or e}") from None


def os_message(e: OSError) -> str:
    """An OSError no one caught, as a line: the system's reason, and the file it concerns."""
    from charrnn.files import display

    where = f" ({display(str(e.filename))})" if e.filename else ""
    return f"{e.strerror or e}{where}"


def report(e: OSError) -> None:
    """An OSError that reached the entry point, in one line (stdout dropped: it may be the cause)."""
    _drop_stdout()
    try:
        from charrnn.cli.console import error_line

        error_line(f"Error: {os_message(e)}")
    except OSError:  # stderr itself is gone: the exit status says it
        pass


def _drop_stdout() -> None:
    """Point descriptor 1 at /dev/null, so that the interpreter's own final flush cannot fail again."""
    try:
        os.dup2(os.open(os.devnull, os.O_WRONLY), 1)
    except OSError:
        pass
