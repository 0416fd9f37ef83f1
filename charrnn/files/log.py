"""Logs are appended, not replaced (rule 5 of the package docstring): one `write` of one whole line
per record, on a file opened with O_APPEND. A record starts on a line of its own even when the
log's last line was cut short (a killed run, a full disk): it is not glued onto that fragment."""

from __future__ import annotations

import contextlib
import errno
import os
import stat
from collections.abc import Iterator
from pathlib import Path

from charrnn.files.names import encodable
from charrnn.files.writer import check_target, error, kind_of


class LogWriter:
    """An append-only log: one `write` of one whole line per record."""

    def __init__(self, path: Path, fd: int, cut: bool = False):
        self.path, self.fd = path, fd
        self.cut = cut  # the file's last line has no newline yet

    def line(self, text: str) -> None:
        data = (encodable(text).rstrip("\n") + "\n").encode("utf-8")
        try:
            if self.cut:
                data = b"\n" + data  # in the same write: the record stays one write
            if os.write(self.fd, data) != len(data):
                raise OSError(errno.ENOSPC, "the record was cut short")
            self.cut = False
        except OSError as e:
            raise error(self.path, e.strerror or str(e), kind_of(e)) from None


def _ends_mid_line(fd: int, path: str) -> bool:
    """Whether the regular file open on fd (for writing only: a FIFO must still wait for its reader)
    has a last line without its newline. A pipe or a device has no last line to look at, and a
    file this process may not read is taken as whole."""
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode) or info.st_size == 0:
        return False
    try:
        with open(path, "rb") as f:
            f.seek(info.st_size - 1)
            return f.read(1) not in (b"\n", b"")
    except OSError:
        return False


@contextlib.contextmanager
def appending(path: str | os.PathLike) -> Iterator[LogWriter]:
    """Open a log for appending (created if absent), by rules 1 and 3; closes it on exit."""
    target = check_target(path, in_place=True)
    flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(target.real, flags, 0o666)
    except OSError as e:
        raise error(target.path, e.strerror or str(e), kind_of(e)) from None
    try:
        yield LogWriter(target.path, fd, _ends_mid_line(fd, target.real))
    finally:
        os.close(fd)
