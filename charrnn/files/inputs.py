"""Which files the current command reads, so that no output is ever written over one (rule 1 of
the package docstring): declared with `reading` inside the `command()` scope, compared by resolved
path and by inode (device, inode)."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import BinaryIO


@dataclass(frozen=True)
class Identity:
    """Which file a path names, whatever the path: its device and inode; with its size and
    modification time, which version of it (an inode number freed by a deletion is reused)."""

    dev: int
    ino: int
    size: int = -1
    mtime_ns: int = -1

    @classmethod
    def of(cls, st: os.stat_result) -> Identity:
        return cls(st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)

    @property
    def file(self) -> tuple[int, int]:
        return self.dev, self.ino


@dataclass
class _Inputs:
    """What one command reads: resolved paths and identities, and which may be updated."""

    paths: dict[str, bool] = field(default_factory=dict)  # resolved path -> updatable
    ids: dict[tuple[int, int], bool] = field(default_factory=dict)  # (device, inode) -> updatable

    def add(self, path: str | None, ident: Identity | None, updatable: bool) -> None:
        # a file read both as an input and as the updatable checkpoint stays protected
        if path is not None:
            self.paths[path] = self.paths.get(path, True) and updatable
        if ident is not None:
            self.ids[ident.file] = self.ids.get(ident.file, True) and updatable

    def protects(self, path: str, ident: Identity | None) -> bool:
        return self.paths.get(path) is False or (ident is not None and self.ids.get(ident.file) is False)


# The inputs of the command running now. State held here rather than passed: the files a command
# reads are opened deep inside the library (checkpoint.load, the corpus and text readers, a folder's
# sources), and the writes that must not replace them happen elsewhere (files.writer, from any
# command); an argument threaded through every reader and writer between them would put this one
# rule into dozens of signatures that have nothing else to do with it. Only the command line opens
# the scope (cli/__init__.py, once per command), so a library caller, who chose its own paths,
# records nothing. A ContextVar rather than a global, so that each thread (or task) running a
# command keeps its own, and a scope ends exactly where it was opened.
_inputs: ContextVar[_Inputs | None] = ContextVar("charrnn_inputs", default=None)


@contextlib.contextmanager
def command() -> Iterator[None]:
    """The scope of one command: the inputs declared inside it are protected from its writes."""
    token = _inputs.set(_Inputs())
    try:
        yield
    finally:
        _inputs.reset(token)


def reading(source: str | os.PathLike | BinaryIO, updatable: bool = False) -> None:
    """Declare that the current command reads `source` (a path, or a stream with a file descriptor).

    Outside a `command()` scope this records nothing (library use: the caller chose its paths).
    """
    inputs = _inputs.get()
    if inputs is None:
        return
    if isinstance(source, (str, os.PathLike)):
        path = os.path.realpath(source)
        try:
            ident = Identity.of(os.stat(path))
        except OSError:
            ident = None
        inputs.add(path, ident, updatable)
        return
    try:
        ident = Identity.of(os.fstat(source.fileno()))
    except (OSError, AttributeError, ValueError):  # an in-memory stream: nothing on disk to protect
        return
    inputs.add(None, ident, updatable)


def identity(path: str | os.PathLike) -> Identity | None:
    """The identity of the file `path` names (links followed), or None if there is none."""
    try:
        return Identity.of(os.stat(path))
    except OSError:
        return None


def protected(path: str, ident: Identity | None) -> bool:
    """Whether the current command reads the file at resolved `path` (or of identity `ident`) and
    may not update it; False outside a `command()` scope."""
    inputs = _inputs.get()
    return inputs is not None and inputs.protects(path, ident)
