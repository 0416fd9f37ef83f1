"""Corpora: read any text as a compact, memory-mapped array of ids.

A corpus is read twice in chunks: once to build the vocabulary (and hash and count it), once to
write its ids to a temporary file that is then memory-mapped. Memory stays flat whatever the size
of the text; the disk holds one small integer per character. Standard input is spooled to a
temporary file first so that it too can be read twice.
"""

from __future__ import annotations

import codecs
import dataclasses
import errno
import hashlib
import mmap
import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np

from charrnn import files
from charrnn.config import DECODE_ERRORS, ReadConfig
from charrnn.errors import DataError, NoByteOrder, UndecodableText
from charrnn.vocab import Vocab

CHUNK_BYTES = 1 << 20


@dataclass
class Corpus:
    ids: np.ndarray  # (N,) unsigned ids, usually a read-only memmap
    vocab: Vocab
    name: str  # file name, or "<stdin>"
    n_bytes: int
    sha256: str  # of the raw bytes (of the manifest, for several files: see data/sources.py)
    path: str | None = None  # where it was read from (absolute), None for standard input or a text
    encoding: str = ReadConfig.encoding  # how it was decoded, so that it can be read again the same way
    decode_errors: str = ReadConfig.decode_errors
    documents: int = 1  # texts joined by `boundary`: files, or chunks between separators
    boundary: str | None = None  # the symbol between documents, which the text never contains
    held_out: int = 0  # ids at the end that are whole documents held out for validation (0: none)
    provenance: dict | None = None  # the files read: see data/sources.py

    @classmethod
    def from_text(cls, text: str, name: str = "<text>", vocab: Vocab | None = None) -> Corpus:
        """A small in-memory corpus (tests, scoring); the vocabulary defaults to the text's own."""
        raw = text.encode("utf-8")
        vocab = vocab or Vocab(text)
        return cls(vocab.encode(text), vocab, name, len(raw), hashlib.sha256(raw).hexdigest())

    def with_vocab(self, vocab: Vocab) -> Corpus:
        """The same text under a larger vocabulary (to continue training a model on a new text).

        Raises UnknownCharacters naming the characters that `vocab` lacks.
        """
        if vocab == self.vocab:
            return self
        vocab.check("".join(self.vocab.chars), f"the corpus {self.name}", "corpus")
        remap = vocab.encode("".join(self.vocab.chars))  # (V_self,) this corpus's ids -> vocab's ids
        n = len(self.ids)
        chunks = (remap[self.ids[at : at + CHUNK_BYTES]] for at in range(0, n, CHUNK_BYTES))
        ids = _ids_to_memmap(chunks, vocab.dtype, n, None)
        return dataclasses.replace(self, ids=ids, vocab=vocab)

    def meta(self) -> dict:
        meta = {"name": self.name, "bytes": self.n_bytes, "chars": int(len(self.ids)), "sha256": self.sha256}
        if self.path is not None:
            meta.update(path=self.path, encoding=self.encoding, decode_errors=self.decode_errors)
        if self.documents > 1:
            meta.update(documents=self.documents, boundary=self.boundary, held_out=self.held_out)
        return meta if self.provenance is None else {**meta, **self.provenance}


def _decoded_chunks(raw: BinaryIO, encoding: str, errors: str) -> Iterator[str]:
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
                f"the corpus is not valid {encoding}: undecodable byte at offset {at}", encoding, at
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


def _open_twice_readable(source: str | Path | BinaryIO, spool_dir: str | None):
    """Return a seekable binary file; standard input, pipes and FIFOs are spooled to a temporary file.

    The source is declared an input of the command first: no output may be written over it.
    """
    files.reading(source)
    if hasattr(source, "seekable") and source.seekable():
        return _Unclosed(source)
    if not isinstance(source, (str, Path)):
        return _spool(source, spool_dir)
    raw = _open_path(Path(source))
    if raw.seekable():
        return raw
    with raw:  # a named pipe, such as bash's <(...)
        return _spool(raw, spool_dir)


def _open_path(path: Path) -> BinaryIO:
    if not path.exists():
        raise DataError(f"corpus not found: {path}")
    if path.is_dir():
        raise DataError(f"corpus is a directory, not a text file: {path}")
    try:
        return open(path, "rb")
    except OSError as e:
        raise DataError(f"cannot read the corpus {path}: {e.strerror}") from None


def _spool(raw: BinaryIO, spool_dir: str | None) -> BinaryIO:
    """Copy a stream that can be read only once into an anonymous temporary file."""
    try:
        spool = tempfile.TemporaryFile(dir=spool_dir)
    except OSError as e:
        raise _no_room("a copy of the corpus", spool_dir, e) from None
    try:
        shutil.copyfileobj(raw, spool, CHUNK_BYTES)
        spool.seek(0)
    except OSError as e:
        spool.close()
        raise _no_room("a copy of the corpus", spool_dir, e) from None
    except BaseException:
        spool.close()
        raise
    return spool


def _no_room(what: str, directory: str | None, e: OSError) -> DataError:
    where = directory or tempfile.gettempdir()
    return DataError(
        f"cannot keep {what} in {where}: {e.strerror or e}; free some space there or set TMPDIR to another directory"
    )


def read_text(
    source: str | Path | BinaryIO,
    encoding: str = ReadConfig.encoding,
    errors: str = ReadConfig.decode_errors,
    max_chars: int | None = None,
) -> str:
    """A whole (small) text as one string, decoded and normalised as a corpus is, read in one pass.

    Raises DataError once it is longer than `max_chars`, having held no more than that: an endless
    source (/dev/zero, `yes |`) ends in an error, not in exhausted memory or a full disk.
    """
    check_decoding(encoding, errors)
    files.reading(source)
    parts, n = [], 0
    with _Unclosed(source) if not isinstance(source, (str, Path)) else _open_path(Path(source)) as raw:
        for text in _decoded_chunks(raw, encoding, errors):
            n += len(text)
            if max_chars is not None and n > max_chars:
                raise DataError(
                    f"the text is longer than {max_chars:,} characters, more than this machine's memory can hold "
                    "to read it whole; give a shorter text"
                )
            parts.append(text)
    return "".join(parts)


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


def read_corpus(
    source: str | Path | BinaryIO,
    encoding: str = ReadConfig.encoding,
    errors: str = ReadConfig.decode_errors,
    workdir: str | None = None,
) -> Corpus:
    """Read a text file (or binary stream) into a memory-mapped Corpus."""
    check_decoding(encoding, errors)
    name = "<stdin>" if not isinstance(source, (str, Path)) else Path(source).name
    with _open_twice_readable(source, workdir) as raw:
        # pass 1: vocabulary, length, hash
        seen: set[str] = set()
        n_chars, hashing = 0, _Hashing(raw)
        for text in _decoded_chunks(hashing, encoding, errors):
            seen.update(text)
            n_chars += len(text)
        if n_chars == 0:
            raise DataError(f"the corpus {name} is empty; give it some text to learn from")
        vocab = Vocab(seen)
        # pass 2: ids into a memory-mapped temporary file
        raw.seek(0)
        ids = _ids_to_memmap(map(vocab.encode, _decoded_chunks(raw, encoding, errors)), vocab.dtype, n_chars, workdir)
    path = str(Path(source).resolve()) if isinstance(source, (str, Path)) else None
    return Corpus(ids, vocab, name, hashing.n_bytes, hashing.digest.hexdigest(), path, encoding, errors)


class _Unclosed:
    """A caller's seekable stream, usable in `with` without closing it."""

    def __init__(self, raw: BinaryIO):
        self.raw = raw

    def __enter__(self):
        return self.raw

    def __exit__(self, *exc):
        return False


class _Hashing:
    """A read-through wrapper that hashes and counts the bytes it passes on."""

    def __init__(self, raw: BinaryIO):
        self.raw, self.digest, self.n_bytes = raw, hashlib.sha256(), 0

    def read(self, n: int) -> bytes:
        data = self.raw.read(n)
        self.digest.update(data)
        self.n_bytes += len(data)
        return data


def _ids_to_memmap(chunks: Iterator[np.ndarray], dtype: np.dtype, n: int, workdir: str | None) -> np.ndarray:
    """n ids, given in chunks, written to a temporary file and mapped read-only: (n,) dtype.

    The file never has a name (O_TMPFILE on Linux; elsewhere it is unlinked as it is created), so
    no signal or kill at any moment can leave it behind: its space is freed with the last map.
    """
    try:
        f = tempfile.TemporaryFile(prefix="charrnn-ids-", suffix=".bin", dir=workdir)
    except OSError as e:
        raise _no_room("the corpus's ids", workdir, e) from None
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
            if e.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
                raise _no_room("the corpus's ids", workdir, e) from None
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
        if e.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
            raise _no_room("the corpus's ids", workdir, e) from None
        # other errors: the file system cannot preallocate; go on as before


def release_pages(ids: np.ndarray) -> None:
    """Let the kernel drop the pages of a memory-mapped corpus read so far.

    They come back from the file when read again. Without this, the resident size of a long run
    would creep up to the corpus's size over an epoch (file pages: reclaimable, but counted).
    """
    mapped = getattr(ids, "_mmap", None)
    if mapped is not None and hasattr(mapped, "madvise") and hasattr(mmap, "MADV_DONTNEED"):
        mapped.madvise(mmap.MADV_DONTNEED)
