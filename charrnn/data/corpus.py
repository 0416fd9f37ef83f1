"""Corpora: read any text as a compact, memory-mapped array of ids.

A corpus is read twice in chunks: once to build the vocabulary (and hash and count it), once to
write its ids to a temporary file that is then memory-mapped. Memory stays flat whatever the size
of the text; the disk holds one small integer per character. Standard input is spooled to a
temporary file first so that it too can be read twice.
"""

from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np

from charrnn import files
from charrnn.config import ReadConfig
from charrnn.data import mapped, streams
from charrnn.data.streams import CHUNK_BYTES
from charrnn.errors import DataError
from charrnn.vocab import Vocab


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
        ids = mapped.ids_to_memmap(chunks, vocab.dtype, n, None)
        return dataclasses.replace(self, ids=ids, vocab=vocab)

    def meta(self) -> dict:
        meta = {"name": self.name, "bytes": self.n_bytes, "chars": int(len(self.ids)), "sha256": self.sha256}
        if self.path is not None:
            meta.update(path=self.path, encoding=self.encoding, decode_errors=self.decode_errors)
        if self.documents > 1:
            meta.update(documents=self.documents, boundary=self.boundary, held_out=self.held_out)
        return meta if self.provenance is None else {**meta, **self.provenance}


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
    streams.check_decoding(encoding, errors)
    files.reading(source)
    parts, n = [], 0
    with streams.opened(source) as raw:
        for text in streams.decoded_chunks(raw, encoding, errors):
            n += len(text)
            if max_chars is not None and n > max_chars:
                raise DataError(
                    f"the text is longer than {max_chars:,} characters, more than this machine's memory can hold "
                    "to read it whole; give a shorter text"
                )
            parts.append(text)
    return "".join(parts)


def read_corpus(
    source: str | Path | BinaryIO,
    encoding: str = ReadConfig.encoding,
    errors: str = ReadConfig.decode_errors,
    workdir: str | None = None,
) -> Corpus:
    """Read a text file (or binary stream) into a memory-mapped Corpus."""
    streams.check_decoding(encoding, errors)
    name = "<stdin>" if not isinstance(source, (str, Path)) else Path(source).name
    with streams.twice_readable(source, workdir) as raw:
        # pass 1: vocabulary, length, hash
        seen: set[str] = set()
        n_chars, hashing = 0, streams.Hashing(raw)
        for text in streams.decoded_chunks(hashing, encoding, errors):
            seen.update(text)
            n_chars += len(text)
        if n_chars == 0:
            raise DataError(f"the corpus {name} is empty; give it some text to learn from")
        vocab = Vocab(seen)
        # pass 2: ids into a memory-mapped temporary file
        raw.seek(0)
        chunks = map(vocab.encode, streams.decoded_chunks(raw, encoding, errors))
        ids = mapped.ids_to_memmap(chunks, vocab.dtype, n_chars, workdir)
    path = str(Path(source).resolve()) if isinstance(source, (str, Path)) else None
    return Corpus(ids, vocab, name, hashing.n_bytes, hashing.digest.hexdigest(), path, encoding, errors)
