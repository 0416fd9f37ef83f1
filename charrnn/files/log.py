"""Logs are appended, not replaced (rule 5 of the package docstring): one `write` of one whole line
per record, on a file opened with O_APPEND."""

from __future__ import annotations

import contextlib
import errno
import os
from collections.abc import Iterator
from pathlib import Path

from charrnn.files.names import display
from charrnn.files.writer import check_target, error, kind_of


class LogWriter:
    """An append-only log: one `write` of one whole line per record."""

    def __init__(self, path: Path, fd: int):
        self.path, self.fd = path, fd

    def line(self, text: str) -> None:
        data = (display(text).rstrip("\n") + "\n").encode("utf-8")
        try:
            if os.write(self.fd, data) != len(data):
                raise OSError(errno.ENOSPC, "the record was cut short")
        except OSError as e:
            raise error(self.path, e.strerror or str(e), kind_of(e)) from None


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
        yield LogWriter(target.path, fd)
    finally:
        os.close(fd)
