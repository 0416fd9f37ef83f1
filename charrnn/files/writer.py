"""The atomic writer (rules 2 to 4 of the package docstring): a regular file is replaced through a
fsynced temporary file beside it and a rename, nothing but a regular file is renamed over, and a
write names which file it means to replace (`expect`)."""

from __future__ import annotations

import contextlib
import errno
import glob
import os
import stat
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from charrnn.errors import OutputError
from charrnn.files.inputs import Identity, identity, protected
from charrnn.files.names import display, encodable

STALE_SECONDS = 3600  # a temporary file untouched this long belongs to a writer that was killed

ANY = "any"  # expect: replace whatever is there
NEW = "new"  # expect: the target must not exist


def error(path: str | os.PathLike, reason: str, kind: str = "os") -> OutputError:
    """The writer's refusal: the path and the reason as facts, no option named."""
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
    except (FileNotFoundError, NotADirectoryError):  # the folder's check below says which
        st = None
    except OSError as e:
        raise error(given, e.strerror or str(e)) from None
    if protected(str(real), None if st is None else Identity.of(st)):
        raise error(given, "it is a file this command reads", "input")
    if st is not None and stat.S_ISDIR(st.st_mode):
        raise error(given, "it is a directory", "directory")
    if st is not None and not stat.S_ISREG(st.st_mode):
        if not in_place or not (stat.S_ISCHR(st.st_mode) or stat.S_ISFIFO(st.st_mode)):
            raise error(given, "it is not a regular file", "not-regular")
        return Target(given, real, st)
    if not real.parent.is_dir():
        missing = not real.parent.exists()
        reason = (
            f"there is no directory {display(real.parent)}" if missing else f"{display(real.parent)} is not a directory"
        )
        raise error(given, reason, "no-directory")
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
        raise error(target.path, f"{e.strerror or e}; anything there before is unchanged", kind_of(e)) from None
    finally:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)


def write_text(path: str | os.PathLike, text: str, expect: str | Identity | None = ANY, in_place: bool = True):
    """`write` for text, encoded as UTF-8 (a page, an export)."""
    return write(path, encodable(text).encode("utf-8"), expect, in_place)


def _temporary(target: Target) -> tuple[int, str]:
    try:
        return tempfile.mkstemp(prefix=f".{target.real.name}.", suffix=".tmp", dir=target.real.parent)
    except OSError as e:
        where = display(target.real.parent)
        raise error(target.path, f"{e.strerror or e} in {where}", kind_of(e)) from None


def _check_expected(target: Target, expect: str | Identity | None) -> None:
    if expect == ANY:
        return
    now = None if target.st is None else Identity.of(target.st)
    if expect == NEW and now is not None:
        raise error(target.path, "a file appeared there after this command started", "appeared")
    if isinstance(expect, Identity) and now != expect:
        raise error(target.path, "another program replaced it after this command started", "replaced")


def _link_new(tmp: str, target: Target) -> None:
    """Put `tmp` at the target only if nothing is there: a hard link fails if the name exists."""
    try:
        os.link(tmp, target.real)
    except FileExistsError:
        raise error(target.path, "a file appeared there after this command started", "appeared") from None
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
        raise error(target.path, e.strerror or str(e), kind_of(e)) from None


def kind_of(e: OSError) -> str:
    """The kind of an OSError as OutputError carries it: a full disk, or any other."""
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
