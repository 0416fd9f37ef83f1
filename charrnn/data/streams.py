"""Byte streams that texts are read from: opened, made readable twice, decoded and hashed.

- `open_path` opens a file the user named, with one clear error for a missing file or a folder.
- `twice_readable` gives a stream that can be rewound and ends: a regular file or bytes in memory
  as they are; standard input, a pipe, a FIFO or a device (a symbolic link to `/dev/zero`) is
  copied to an anonymous temporary file first. The copy is checked as it grows: it stops, with
  the temporary file gone, once the directory could no longer hold the ids of what was read on
  top of it (data/scratch.py), so an endless stream ends in an error and not in a full disk.
- `decoded_chunks` decodes in chunks of CHUNK_BYTES, with one convention for every text: no
  byte-order mark, and \\r\\n and \\r as \\n; an error names its byte offset.
- `Hashing` passes a stream's bytes on while counting and hashing them (SHA-256).
"""

from __future__ import annotations

import codecs
import hashlib
import io
import os
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from charrnn import files
from charrnn.config import DECODE_ERRORS, ReadConfig
from charrnn.data import scratch
from charrnn.errors import DataError, NoByteOrder, NoRoom, UndecodableText

CHUNK_BYTES = 1 << 20
MAX_BYTES = 2**53  # a checkpoint records a corpus's size exactly up to this (metadata.COUNT_MAX)
COPY = "a copy of the corpus"


class Unclosed:
    """A caller's stream, usable in `with` without closing it."""

    def __init__(self, raw: BinaryIO):
        self.raw = raw

    def __enter__(self):
        return self.raw

    def __exit__(self, *exc):
        return False


class Hashing:
    """A read-through wrapper that hashes and counts the bytes it passes on."""

    def __init__(self, raw: BinaryIO):
        self.raw, self.digest, self.n_bytes = raw, hashlib.sha256(), 0

    def read(self, n: int) -> bytes:
        data = self.raw.read(n)
        self.digest.update(data)
        self.n_bytes += len(data)
        return data


def open_path(path: Path) -> BinaryIO:
    if not path.exists():
        raise DataError(f"corpus not found: {path}")
    if path.is_dir():
        raise DataError(f"corpus is a directory, not a text file: {path}")
    try:
        raw = open(path, "rb")
    except OSError as e:
        raise DataError(f"cannot read the corpus {path}: {e.strerror}") from None
    size = os.fstat(raw.fileno()).st_size
    if size > MAX_BYTES:
        raw.close()
        raise DataError(f"the corpus {path} has {size:,} bytes, more than a checkpoint can record ({MAX_BYTES:,})")
    return raw


def opened(source: str | Path | BinaryIO):
    """A path opened, or a caller's stream left open, for a `with`."""
    return open_path(Path(source)) if isinstance(source, (str, Path)) else Unclosed(source)


def has_descriptor(raw: BinaryIO) -> bool:
    """Whether the stream is a file descriptor's (not bytes in memory)."""
    try:
        raw.fileno()
    except (OSError, ValueError, io.UnsupportedOperation):
        return False
    return True


def _rereadable(raw: BinaryIO) -> bool:
    """Whether the stream can be read again from its start and has an end: a regular file, or bytes
    in memory. A terminal, a pipe or a device is not (/dev/zero can seek, but never ends)."""
    if not raw.seekable():
        return False
    return not has_descriptor(raw) or stat.S_ISREG(os.fstat(raw.fileno()).st_mode)


def regular_size(raw: BinaryIO) -> int | None:
    """A regular file's size in bytes; None for a pipe, a device or bytes in memory."""
    if not has_descriptor(raw):
        return None
    info = os.fstat(raw.fileno())
    return info.st_size if stat.S_ISREG(info.st_mode) else None


def twice_readable(source: str | Path | BinaryIO, workdir: str | None = None):
    """A stream of `source` that can be rewound, for a `with`; what cannot be is copied first.

    The source is declared an input of the command: no output may be written over it.
    """
    files.reading(source)  # the running command's inputs (files/inputs.py)
    name = "standard input" if not isinstance(source, (str, Path)) else str(source)
    if not isinstance(source, (str, Path)):
        return Unclosed(source) if _rereadable(source) else spool(source, name, workdir)
    raw = open_path(Path(source))
    if _rereadable(raw):
        return raw
    with raw:  # a named pipe, such as bash's <(...), or a device
        return spool(raw, name, workdir)


def spool(raw: BinaryIO, name: str, workdir: str | None) -> BinaryIO:
    """Copy a stream that can be read only once into an anonymous temporary file, rewound.

    Raises NoRoom, the copy removed, once the directory could not also hold the ids of what was
    read (at most as many bytes again: one per byte read, for up to 256 distinct characters).
    """
    try:
        copy = tempfile.TemporaryFile(dir=workdir)
    except OSError as e:
        raise scratch.no_room(COPY, workdir, e) from None
    try:
        n = 0
        while data := raw.read(CHUNK_BYTES):
            copy.write(data)
            n += len(data)
            fits, free = scratch.left_after(n, workdir)
            if not fits or n > MAX_BYTES:
                raise NoRoom(name, scratch.directory(workdir), left=free, read=n)
        copy.seek(0)
    except OSError as e:
        copy.close()
        raise scratch.no_room(COPY, workdir, e) from None
    except BaseException:
        copy.close()
        raise
    return copy


def check_decoding(encoding: str, errors: str = ReadConfig.decode_errors) -> None:
    """Raise DataError unless `encoding` decodes bytes to text and `errors` is a decoding mode."""
    try:
        info = codecs.lookup(encoding)
    except LookupError:
        info = None
    if info is None or not getattr(info, "_is_text_encoding", True):  # hex, zlib, rot13: not bytes -> text
        raise DataError(f"unknown text encoding {encoding!r}; try utf-8, latin-1 or cp1252")
    if errors not in DECODE_ERRORS:
        raise DataError(f"decode errors must be one of {', '.join(DECODE_ERRORS)}, not {errors!r}")


def decoded_chunks(raw: BinaryIO, encoding: str, errors: str) -> Iterator[str]:
    """Decode in chunks, dropping a leading BOM and turning \\r\\n and \\r into \\n.

    A decoding error names the byte offset, which a traceback-free CLI can pass to the user.
    """
    # A UTF-8 BOM is not part of the text. It is stripped here rather than by the utf-8-sig
    # codec, whose error offsets would not count the BOM's three bytes.
    strip_bom = codecs.lookup(encoding).name == "utf-8"
    decoder = codecs.getincrementaldecoder(encoding)(errors)
    offset, carry = 0, ""
    while True:
        data = raw.read(CHUNK_BYTES)
        final = not data
        buffered = len(decoder.getstate()[0])
        try:
            text = carry + decoder.decode(data, final)
        except UnicodeError as e:
            # utf-16 and utf-32 without a byte-order mark: no byte order to read by. Python 3.13 says it
            # with a UnicodeDecodeError, earlier Pythons with a plain UnicodeError: both name the BOM.
            if "BOM" in str(e):
                raise NoByteOrder(
                    f"the text is {encoding} without a byte-order mark, so its byte order is unknown", encoding, 0
                ) from None
            if not isinstance(e, UnicodeDecodeError):
                raise UndecodableText(f"the text cannot be decoded as {encoding} ({e})", encoding, offset) from None
            at = offset - buffered + e.start
            raise UndecodableText(
                f"the text is not valid {encoding}: undecodable byte at offset {at}", encoding, at
            ) from None
        offset += len(data)
        carry = ""
        if strip_bom and text:
            text, strip_bom = text.removeprefix("\ufeff"), False
        if text.endswith("\r") and not final:  # its \n may start the next chunk
            text, carry = text[:-1], "\r"
        yield text.replace("\r\n", "\n").replace("\r", "\n")
        if final:
            return
