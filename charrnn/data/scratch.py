"""The temporary directory a corpus is kept in: how much room it has, and how much is kept free.

A stream read once (standard input, a pipe, a device) is copied there, and every corpus's ids are
written there. Both are checked against the directory's free space before it runs out, not when
a write fails with the disk full: a full disk breaks every other program that writes to it, and
an endless stream (`yes |`, `/dev/zero`) would otherwise be copied until it is.

Room is judged with a margin: whatever is written, MARGIN_FRACTION of the file system (at most
MARGIN_MAX) stays free for everyone else.
"""

from __future__ import annotations

import errno
import os
import tempfile
from dataclasses import dataclass

from charrnn.errors import NoRoom

MARGIN_FRACTION = 0.02
MARGIN_MAX = 1 << 30
FULL = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)  # the errors of a disk, a quota or a file size limit


@dataclass(frozen=True)
class Space:
    free: int  # bytes an unprivileged writer may still use
    total: int  # bytes of the file system


def directory(workdir: str | None) -> str:
    """Where temporary files go: `workdir`, or the system's temporary directory (TMPDIR)."""
    return workdir or tempfile.gettempdir()


def space(where: str) -> Space | None:
    """The free and total bytes of the file system holding `where`; None where that cannot be known."""
    try:
        st = os.statvfs(where)
    except (OSError, AttributeError):
        return None
    return Space(st.f_bavail * st.f_frsize, st.f_blocks * st.f_frsize)


def margin(s: Space) -> int:
    return min(int(s.total * MARGIN_FRACTION), MARGIN_MAX)


def left_after(needed: int, workdir: str | None) -> tuple[bool, int]:
    """Whether `needed` more bytes fit in the temporary directory with the margin kept, and the bytes free."""
    s = space(directory(workdir))
    if s is None:
        return True, -1
    return s.free - needed >= margin(s), s.free


def check_room(what: str, needed: int, workdir: str | None) -> None:
    """Raise NoRoom unless `needed` bytes fit in the temporary directory with the margin kept."""
    fits, free = left_after(needed, workdir)
    if not fits:
        raise NoRoom(what, directory(workdir), needed=needed, left=free)


def no_room(what: str, workdir: str | None, e: OSError) -> NoRoom:
    """The error of a write to the temporary directory that the system refused (a full disk, a quota)."""
    return NoRoom(what, directory(workdir), reason=str(e.strerror or e))
