"""A bounded reader of `.npz` archives: nothing is decompressed before it is known to be wanted.

`np.load` on an `.npz` reads whatever members a file holds, as large as their headers say. Here
the zip directory is read first (its size is bounded by the file's), each member's `.npy` header
next (at most HEADER_MAX bytes, decompressed from the member's start), and an array's data only
when the caller asks for that member with the dtype kinds and shape it expects, and the zip
directory declares exactly the header plus that many bytes. So a hostile file costs at most the
memory of the arrays its caller expected, whatever it holds or claims.
"""

from __future__ import annotations

import math
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from charrnn.errors import one_line

HEADER_MAX = 4096  # bytes: charrnn's headers are under 200; numpy's own default limit is 10,000


class ArchiveError(ValueError):
    """A member that is not what the caller expects, or an archive that cannot be read."""


@dataclass(frozen=True)
class Header:
    shape: tuple[int, ...]
    fortran: bool
    dtype: np.dtype
    offset: int  # bytes of the .npy header before the data


class Archive:
    """The `.npy` members of a zip archive, by name without `.npy`; use as a context manager."""

    def __init__(self, path: str | Path):
        try:
            self.zip = zipfile.ZipFile(path)
        except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError) as e:
            raise ArchiveError(f"not a readable checkpoint (truncated or damaged: {type(e).__name__})") from None
        self.members = {i.filename[: -len(".npy")]: i for i in self.zip.infolist() if i.filename.endswith(".npy")}

    def __enter__(self) -> Archive:
        return self

    def __exit__(self, *exc) -> None:
        self.zip.close()

    def __contains__(self, name: str) -> bool:
        return name in self.members

    def header(self, name: str) -> Header:
        """The member's .npy header, decompressing no more than HEADER_MAX bytes of it."""
        return parse_header(self._bytes(name, HEADER_MAX), name)

    def read(self, name: str, kinds: str, shape: tuple[int, ...]) -> np.ndarray:
        """Member `name` as an array of one of the dtype `kinds` (e.g. "f", "iu") and this shape.

        Checked before its data is decompressed: the header's dtype and shape, and the size the
        zip directory declares (header plus data, exactly). Raises ArchiveError otherwise.
        """
        h = self.header(name)
        if h.dtype.kind not in kinds or h.dtype.hasobject:
            raise ArchiveError(f"{name} is not {KIND_NAMES.get(kinds, kinds)} (it holds {_dtype_name(h.dtype)})")
        if h.shape != tuple(shape):
            raise ArchiveError(f"{name} has shape {h.shape}, but its configuration needs {tuple(shape)}")
        n_bytes = math.prod(shape) * h.dtype.itemsize
        declared = self.members[name].file_size
        if declared != h.offset + n_bytes:
            raise ArchiveError(f"{name} declares {declared:,} bytes where its shape needs {h.offset + n_bytes:,}")
        data = self._bytes(name, declared)[h.offset :]  # to the end: the zip's checksum is verified
        if len(data) != n_bytes:
            raise ArchiveError(f"{name} is truncated")
        a = np.frombuffer(data, h.dtype)
        return a.reshape(shape[::-1]).T if h.fortran else a.reshape(shape)

    def _bytes(self, name: str, n: int) -> bytes:
        """The first n decompressed bytes of a member (never more)."""
        if name not in self.members:
            raise ArchiveError(f"{name} is missing")
        try:
            with self.zip.open(self.members[name]) as f:
                return f.read(n)
        except (
            zipfile.BadZipFile,
            NotImplementedError,
            RuntimeError,
            OSError,
            ValueError,
            EOFError,
        ) as e:  # RuntimeError: encrypted
            raise ArchiveError(f"{name} cannot be read, truncated or damaged ({one_line(e)[:80]})") from None


KIND_NAMES = {"f": "a floating-point array", "iu": "an integer array", "U": "text"}


def parse_header(head: bytes, name: str) -> Header:
    """Parse a .npy header from the first bytes of a member (numpy's own parser, bounded)."""
    import io

    f = io.BytesIO(head)
    try:
        major, _ = np.lib.format.read_magic(f)
        read = {1: np.lib.format.read_array_header_1_0, 2: np.lib.format.read_array_header_2_0}[major]
        shape, fortran, dtype = read(f, max_header_size=HEADER_MAX)
    except (ValueError, KeyError, SyntaxError, TypeError, EOFError) as e:
        raise ArchiveError(f"{name} has a damaged array header ({one_line(e)[:80]})") from None
    return Header(tuple(int(n) for n in shape), bool(fortran), np.dtype(dtype), f.tell())


def _dtype_name(dtype: np.dtype) -> str:
    return "Python objects (pickled)" if dtype.hasobject else f"{dtype.str} values"
