"""A corpus's ids on disk: written once to an anonymous temporary file, then memory-mapped read-only.

Memory stays flat whatever the size of the corpus (its pages come from the file and can be let
go, `release_pages`); the disk holds one small integer per character, and only while the map lives.
"""

from __future__ import annotations

import mmap
import os
import tempfile
from collections.abc import Iterator

import numpy as np

from charrnn.data import scratch

IDS = "the corpus's ids"


def ids_to_memmap(chunks: Iterator[np.ndarray], dtype: np.dtype, n: int, workdir: str | None) -> np.ndarray:
    """n ids, given in chunks, written to a temporary file and mapped read-only: (n,) dtype.

    The file never has a name (O_TMPFILE on Linux; elsewhere it is unlinked as it is created), so
    no signal or kill at any moment can leave it behind: its space is freed with the last map.
    """
    scratch.check_room(IDS, n * dtype.itemsize, workdir)
    try:
        f = tempfile.TemporaryFile(prefix="charrnn-ids-", suffix=".bin", dir=workdir)
    except OSError as e:
        raise scratch.no_room(IDS, workdir, e) from None
    with f:
        try:
            _reserve(f.fileno(), n * dtype.itemsize, workdir)
            # ordinary writes, not writes through a map: pages written through a map stay resident
            # in this process, and memory would grow with the corpus
            for ids in chunks:
                f.write(ids.tobytes())
            f.flush()
            return np.memmap(f, dtype=dtype, mode="r", shape=(n,))  # the map keeps the file alive
        except OSError as e:
            if e.errno in scratch.FULL:
                raise scratch.no_room(IDS, workdir, e) from None
            raise


def _reserve(fd: int, n_bytes: int, workdir: str | None) -> None:
    """Allocate the map's disk space now: a full disk is then an error here, not a SIGBUS later.

    A new memmap is a sparse file, whose pages get their disk blocks only when first written.
    """
    if not hasattr(os, "posix_fallocate") or n_bytes == 0:
        return
    try:
        os.posix_fallocate(fd, 0, n_bytes)
    except OSError as e:
        if e.errno in scratch.FULL:
            raise scratch.no_room(IDS, workdir, e) from None
        # other errors: the file system cannot preallocate; go on as before


def release_pages(ids: np.ndarray) -> None:
    """Let the kernel drop the pages of a memory-mapped corpus read so far.

    They come back from the file when read again. Without this, the resident size of a long run
    would creep up to the corpus's size over an epoch (file pages: reclaimable, but counted).
    """
    mapped = getattr(ids, "_mmap", None)
    if mapped is not None and hasattr(mapped, "madvise") and hasattr(mmap, "MADV_DONTNEED"):
        mapped.madvise(mmap.MADV_DONTNEED)
