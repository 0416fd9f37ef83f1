"""Every file charrnn writes goes through here: outputs never destroy inputs, and are whole.

The rules, for checkpoints, `inspect` pages, exports and logs alike:

1. **Inputs are never written over.** Whatever a command reads is declared with `reading(source)`
   (the corpus and text readers and the checkpoint reader do it), inside the `command()` scope that
   the command line opens for each command. A write whose target is one of them, compared by
   resolved path *and* by inode (so a hard link, a symbolic link or `/dev/stdin` redirected from the
   file are caught too), is refused with `OutputError`. A checkpoint that a resumed run continues is the
   one input a command may update: it is declared with `reading(path, updatable=True)`.
2. **Regular files are replaced atomically.** The new content goes to a temporary file beside the
   target (`.NAME.XXXX.tmp`, in the target's own directory so the rename stays on one file
   system), is fsynced, renamed over the target, and the directory is fsynced. A full disk, a
   crash or a signal at any moment leaves either the old file or the new one, whole, and never a
   temporary file (removed on every exception; one left by SIGKILL is swept by `check_target` an
   hour later). A new file gets the mode `0o666 & ~umask`; a replaced one keeps its mode.
3. **Nothing but a regular file is ever renamed over.** A symbolic link is followed to the file it
   names, which is replaced there: the link keeps pointing at the updated file. A directory is
   refused. A device or FIFO (an HTML page sent to /dev/stdout) is written in place, as a shell redirection
   would, when the caller allows it (`in_place=True`: pages, exports, logs); a checkpoint must be
   a file that can be read back, so there it is refused.
4. **No surprise replacement.** `write(..., expect=...)` says which file the caller means to
   replace: `ANY` (a page, a forced replacement), `NEW` (the first save of a new run: the target must still
   not exist, checked atomically by a hard link), or the `Identity` returned by the previous write
   or by `identity()` of the file read (later saves, a resumed run): a checkpoint that another run
   put there meanwhile is refused, not overwritten.
5. **Logs are appended, not replaced.** `appending(path)` opens an append-only log (JSON lines):
   rewriting a growing log atomically at every record would cost its whole size each time and
   lose what a concurrent `tail -f` holds, so a log is opened with O_APPEND and each record is one
   `write` of one whole line (`LogWriter.line`); rules 1 and 3 apply to it as to any output, and
   a record that cannot be written whole raises `OutputError`.

Text is encoded as UTF-8; a file name that is not UTF-8 (its undecodable bytes arrive as lone
surrogates) is shown with those bytes escaped (`display`), never as an encoding error.

Errors are `OutputError`, carrying the path and the reason as facts; they never name an option,
which the command line, knowing which option gave the path, adds.
"""

from __future__ import annotations

import contextlib
import errno
import glob
import os
import re
import stat
import tempfile
import time
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from charrnn.errors import OutputError

STALE_SECONDS = 3600  # a temporary file untouched this long belongs to a writer that was killed


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


ANY = "any"  # expect: replace whatever is there
NEW = "new"  # expect: the target must not exist


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


def display(text: str | os.PathLike) -> str:
    """A file name as text any UTF-8 output can carry: an undecodable byte (a lone surrogate from
    os.fsdecode) shown as \\xNN, as `ls -b` does; any other lone surrogate as \\uNNNN."""
    return _SURROGATE.sub(_escape, os.fspath(text))


_SURROGATE = re.compile("[\ud800-\udfff]")


def _escape(m: re.Match) -> str:
    code = ord(m[0])
    return f"\\x{code - 0xDC00:02x}" if 0xDC80 <= code <= 0xDCFF else f"\\u{code:04x}"


def _error(path: str | os.PathLike, reason: str, kind: str = "os") -> OutputError:
    return OutputError(f"cannot write {display(path)}: {reason}", Path(path), kind)


@dataclass(frozen=True)
class Target:
    """Where a write lands: the file a path resolves to, and what is there now."""

    path: Path  # as given
    real: Path  # links followed
    st: os.stat_result | None  # None: nothing there yet

    @property
    def regular(self) -> bool:
        return self.st is None or stat.S_ISREG(self.st.st_mode)


def check_target(path: str | os.PathLike, in_place: bool = False) -> Target:
    """Check now, before any work is done, that `path` may be written; sweep stale temporary files.

    Raises OutputError if `path` is an input of the current command, a directory, a device or FIFO
    (unless `in_place`), or in a directory that does not exist or cannot be written.
    """
    given = Path(path)
    real = Path(os.path.realpath(given))
    try:
        st = os.stat(real)
    except FileNotFoundError:
        st = None
    except OSError as e:
        raise _error(given, e.strerror or str(e)) from None
    inputs = _inputs.get()
    if inputs is not None and inputs.protects(str(real), None if st is None else Identity.of(st)):
        raise _error(given, "it is a file this command reads", "input")
    if st is not None and stat.S_ISDIR(st.st_mode):
        raise _error(given, "it is a directory", "directory")
    if st is not None and not stat.S_ISREG(st.st_mode):
        if not in_place or not (stat.S_ISCHR(st.st_mode) or stat.S_ISFIFO(st.st_mode)):
            raise _error(given, "it is not a regular file", "not-regular")
        return Target(given, real, st)
    if not real.parent.is_dir():
        raise _error(given, f"{display(real.parent)} is not a directory", "no-directory")
    target = Target(given, real, st)
    fd, tmp = _temporary(target)  # the one sure test that a file can be created there
    os.close(fd)
    os.unlink(tmp)
    _sweep(real)
    return target


def _sweep(real: Path) -> None:
    """Remove the temporary files of writers killed mid-write (SIGKILL, power loss)."""
    now = time.time()
    for stale in real.parent.glob(f".{glob.escape(real.name)}.*.tmp"):
        with contextlib.suppress(OSError):
            if now - stale.stat().st_mtime > STALE_SECONDS:
                stale.unlink()


def write(
    path: str | os.PathLike,
    content: bytes | Callable[[BinaryIO], None],
    expect: str | Identity | None = ANY,
    in_place: bool = False,
) -> Identity | None:
    """Write `content` (bytes, or a function that writes to a binary file) to `path` by the rules.

    Returns the identity of the file written (None for a device or FIFO written in place), to be
    passed as `expect` to the next write of the same file. Raises OutputError, leaving whatever
    was at `path` as it was.
    """
    target = check_target(path, in_place)
    if not target.regular:
        _write_in_place(target, content)
        return None
    _check_expected(target, expect)
    fd, tmp = _temporary(target)
    try:
        with os.fdopen(fd, "wb") as f:
            content(f) if callable(content) else f.write(content)
            f.flush()
            os.fsync(f.fileno())
            os.fchmod(f.fileno(), _mode(target))
        written = identity(tmp)
        if expect == NEW:
            _link_new(tmp, target)
        else:
            _check_expected(Target(target.path, target.real, _stat(target.real)), expect)
            os.replace(tmp, target.real)
        tmp = None
        _fsync_dir(target.real.parent)
        return written
    except OSError as e:
        raise _error(target.path, f"{e.strerror or e}; anything there before is unchanged", _kind(e)) from None
    finally:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)


def write_text(path: str | os.PathLike, text: str, expect: str | Identity | None = ANY, in_place: bool = True):
    """`write` for text, encoded as UTF-8 (a page, an export)."""
    return write(path, display(text).encode("utf-8"), expect, in_place)


def _temporary(target: Target) -> tuple[int, str]:
    try:
        return tempfile.mkstemp(prefix=f".{target.real.name}.", suffix=".tmp", dir=target.real.parent)
    except OSError as e:
        where = display(target.real.parent)
        raise _error(target.path, f"{e.strerror or e} in {where}", _kind(e)) from None


def _check_expected(target: Target, expect: str | Identity | None) -> None:
    if expect == ANY:
        return
    now = None if target.st is None else Identity.of(target.st)
    if expect == NEW and now is not None:
        raise _error(target.path, "a file appeared there after this command started", "appeared")
    if isinstance(expect, Identity) and now != expect:
        raise _error(target.path, "another program replaced it after this command started", "replaced")


def _link_new(tmp: str, target: Target) -> None:
    """Put `tmp` at the target only if nothing is there: a hard link fails if the name exists."""
    try:
        os.link(tmp, target.real)
    except FileExistsError:
        raise _error(target.path, "a file appeared there after this command started", "appeared") from None
    except OSError as e:
        if e.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EMLINK):
            raise
        # a file system without hard links: the check and the rename are two steps
        _check_expected(Target(target.path, target.real, _stat(target.real)), NEW)
        os.replace(tmp, target.real)
        return
    os.unlink(tmp)


def _stat(path: Path) -> os.stat_result | None:
    try:
        return os.stat(path)
    except FileNotFoundError:
        return None


def _mode(target: Target) -> int:
    if target.st is not None:
        return stat.S_IMODE(target.st.st_mode)
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def _write_in_place(target: Target, content) -> None:
    try:
        with open(target.real, "wb", buffering=0) as f:
            content(f) if callable(content) else f.write(content)
    except OSError as e:
        raise _error(target.path, e.strerror or str(e), _kind(e)) from None


def _kind(e: OSError) -> str:
    return "no-space" if e.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG) else "os"


def _fsync_dir(directory: Path) -> None:
    """Make the rename itself durable; not every system can open a directory, which is fine."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


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
            raise _error(self.path, e.strerror or str(e), _kind(e)) from None


@contextlib.contextmanager
def appending(path: str | os.PathLike) -> Iterator[LogWriter]:
    """Open a log for appending (created if absent), by rules 1 and 3; closes it on exit."""
    target = check_target(path, in_place=True)
    flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(target.real, flags, 0o666)
    except OSError as e:
        raise _error(target.path, e.strerror or str(e), _kind(e)) from None
    try:
        yield LogWriter(target.path, fd)
    finally:
        os.close(fd)
