"""Corpora: any text, one file or many, read as one compact, memory-mapped array of ids.

One reader serves every corpus: `read` takes a selection of sources (data/sources.py finds the
files of folders; one file or standard input is a selection of one) and reads it in chunks, in
two passes. The first learns the vocabulary, each document's length and each file's size and
SHA-256; the second writes the ids to an anonymous temporary file that is then memory-mapped
(data/mapped.py). Memory stays flat whatever the size of the text. A stream that can be read only
once is copied first (data/streams.py). `read_corpus` reads one text whole, `read_documents` a
selection of files as documents.

What a corpus records of what it read (`Corpus.meta()`, saved in the checkpoint, compared when a
run is resumed, shown by `inspect`, checked by the novelty check) is the same for every corpus:

- `name`, `bytes`, `chars`, `sha256`, `encoding`, `decode_errors`: what it is called, its size in
  bytes and in ids, its identity and how it was decoded. `sha256` is the SHA-256 of the bytes of
  a text read whole (a file, or standard input); of the manifest (below) of a corpus read as
  documents, which stands for every file read, in order.
- `path`: where a file read whole is (absolute), so that it can be found and checked again.
- `documents`, `boundary`, `held_out`: with more than one document, how many, the symbol that
  ends each and the ids of whole documents held out for validation at the end (0: none).
- `files`, `manifest_sha256`, `file_list`, `skipped`, `separator`: of a corpus read as documents,
  the files read (each one's path, bytes and SHA-256: up to MANIFEST_LIST of them), the hash of
  the manifest that lists them, the files skipped by reason, and the separator that cut them.
"""

from __future__ import annotations

import dataclasses
import hashlib
import stat
from array import array
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import numpy as np

from charrnn import files
from charrnn.config import ReadConfig
from charrnn.data import mapped, sources, streams
from charrnn.data.sources import Skipped, Source
from charrnn.data.streams import CHUNK_BYTES
from charrnn.errors import (
    SEPARATORS_ONLY,
    CorpusChanged,
    DataError,
    NothingToRead,
    TextTooLong,
    UndecodableText,
    UnknownCharacters,
)
from charrnn.vocab import Vocab, characters


@dataclass
class Corpus:
    ids: np.ndarray  # (N,) unsigned ids, usually a read-only memmap
    vocab: Vocab
    name: str  # file name, or "<stdin>"
    n_bytes: int
    sha256: str  # of the raw bytes of a text read whole; of the manifest of documents (see above)
    path: str | None = None  # where it was read from (absolute), None for standard input or a text
    encoding: str = ReadConfig.encoding  # how it was decoded, so that it can be read again the same way
    decode_errors: str = ReadConfig.decode_errors
    documents: int = 1  # texts joined by `boundary`: files, or chunks between separators
    boundary: str | None = None  # the symbol between documents, which the text never contains
    held_out: int = 0  # ids at the end that are whole documents held out for validation (0: none)
    provenance: dict | None = None  # the files read as documents: see above

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
        """What the corpus records of what it read: the fields in this module's docstring."""
        meta = {"name": self.name, "bytes": self.n_bytes, "chars": int(len(self.ids)), "sha256": self.sha256}
        if self.path is not None:
            meta["path"] = self.path
        meta.update(encoding=self.encoding, decode_errors=self.decode_errors)
        if self.documents > 1:
            meta.update(documents=self.documents, boundary=self.boundary, held_out=self.held_out)
        return meta if self.provenance is None else {**meta, **self.provenance}


def read_text(
    source: str | Path | BinaryIO,
    max_chars: int | None,
    encoding: str = ReadConfig.encoding,
    errors: str = ReadConfig.decode_errors,
) -> str:
    """A whole (small) text as one string, decoded and normalised as a corpus is, read in one pass.

    Raises TextTooLong once it is longer than `max_chars` (None: no limit, for a text known to be
    small), having held no more than that: an endless source (/dev/zero, `yes |`) ends in an
    error, not in exhausted memory or a full disk.
    """
    parts, n = [], 0
    for text in TextStream(source, encoding, errors):
        n += len(text)
        if max_chars is not None and n > max_chars:
            raise TextTooLong(max_chars)
        parts.append(text)
    return "".join(parts)


class TextStream:
    """A text read as it comes: iterate once over its decoded, normalised pieces (decoded_chunks:
    the decoder's state carried from one chunk to the next, so a character split between two
    reads decodes whole), never holding more than a chunk. A pipe's bytes are taken as soon as
    they arrive, so an endless one is read for as long as it goes on, and a character the reader
    refuses is seen before the pipe fills a chunk. `n_bytes`: the bytes read so far; `size`: a
    regular file's size (None for a stream); `waiting`: true while a read waits for bytes."""

    def __init__(
        self, source: str | Path | BinaryIO, encoding: str = ReadConfig.encoding, errors: str = ReadConfig.decode_errors
    ):
        streams.check_decoding(encoding, errors)
        files.reading(source)  # the running command's inputs (files/inputs.py)
        self.source, self.encoding, self.errors = source, encoding, errors
        self.n_bytes, self.size, self.waiting = 0, None, False

    def __iter__(self) -> Iterator[str]:
        with streams.opened(self.source) as raw:
            self.size = streams.regular_size(raw)
            for text in streams.decoded_chunks(_AsItComes(raw, self), self.encoding, self.errors):
                if text:
                    yield text


class _AsItComes:
    """A read-through wrapper that returns what a pipe already holds rather than waiting for a
    whole chunk (read1), counting the bytes for its TextStream."""

    def __init__(self, raw: BinaryIO, stream: TextStream):
        self.raw, self.stream = raw, stream

    def read(self, n: int) -> bytes:
        self.stream.waiting = True
        try:
            data = self.raw.read1(n) if hasattr(self.raw, "read1") else self.raw.read(n)
        finally:
            self.stream.waiting = False
        self.stream.n_bytes += len(data)
        return data


@dataclass(frozen=True)
class Reading:
    """How a selection of sources is read."""

    encoding: str = ReadConfig.encoding
    errors: str = ReadConfig.decode_errors
    separator: str | None = None  # what ends a document within a file (None: each file is one)
    val_fraction: float = 0.0  # the share of whole documents held out, when there are enough
    boundary: str | None = None  # the boundary symbol to use if the text allows (a model's own)
    whole: bool = False  # one text read whole: a failure is the corpus's error, not a skipped file


def read_corpus(
    source: str | Path | BinaryIO,
    encoding: str = ReadConfig.encoding,
    errors: str = ReadConfig.decode_errors,
    *,
    workdir: str | None = None,
) -> Corpus:
    """One text, a file or a binary stream, read whole: a selection of one source. Its temporary
    files go to `workdir` (default: TMPDIR)."""
    named = isinstance(source, (str, Path))
    src = Source(Path(source).name, Path(source)) if named else Source("<stdin>", stream=source)
    return read([src], Reading(encoding, errors, whole=True), workdir=workdir)[0]


def read_documents(
    selection: Sequence[Source],
    encoding: str = ReadConfig.encoding,
    errors: str = ReadConfig.decode_errors,
    separator: str | None = None,
    val_fraction: float = 0.0,
    boundary: str | None = None,
    name: str | None = None,
) -> tuple[Corpus, Skipped]:
    """Files (data/sources.py selects them) as one corpus of documents; the files that are binary, not
    valid in the encoding, empty or unreadable are skipped and counted."""
    return read(selection, Reading(encoding, errors, separator, val_fraction, boundary), name)


def read(
    selection: Sequence[Source], how: Reading, name: str | None = None, workdir: str | None = None
) -> tuple[Corpus, Skipped]:
    """The one reader: the selection's survey, then its ids, and what it records (see above)."""
    streams.check_decoding(how.encoding, how.errors)
    survey, skipped = _Survey(), Skipped()
    for src in selection:
        if src.skip is not None:  # found by the walk, not to be read
            skipped.add(src.skip, src.name)
        else:
            _survey_one(_rereadable(src, workdir), how, survey, skipped)
    if not survey.read:
        raise NothingToRead(len(selection), skipped.counts(), how.encoding)
    lengths = np.frombuffer(survey.lengths, np.int64)
    several = len(lengths) > 1
    mark = sources.choose_boundary(survey.seen, how.boundary) if several else None
    vocab = Vocab(survey.seen | ({mark} if mark else set()))
    held = sources.held_out_documents(lengths, how.val_fraction) if several else np.zeros(0, np.intp)
    n = int(lengths.sum()) + (len(lengths) + 1 if several else 0)
    chunks = _ids(survey, sources.writing_order(len(lengths), held), vocab, mark, how)
    ids = mapped.ids_to_memmap(chunks, vocab.dtype, n, workdir)
    held_out = int(lengths[held].sum()) + len(held) + 1 if len(held) else 0
    facts = dict(encoding=how.encoding, decode_errors=how.errors, documents=len(lengths), boundary=mark)
    return Corpus(ids, vocab, **_identity(survey, skipped, how, name), **facts, held_out=held_out), skipped


def _identity(survey: _Survey, skipped: Skipped, how: Reading, name: str | None) -> dict:
    """Name, size, SHA-256 and where from: a text read whole is its file; documents, their manifest."""
    if how.whole:
        (facts,), (src,) = survey.files, survey.read
        path = str(src.path.resolve()) if src.path else None
        return dict(name=src.name, n_bytes=facts["bytes"], sha256=facts["sha256"], path=path)
    provenance = {**sources.manifest(survey.files), "skipped": skipped.counts(), "separator": how.separator}
    n_files = len(survey.files)
    return dict(
        name=name or (survey.files[0]["path"] if n_files == 1 else f"{n_files} files"),
        n_bytes=sum(f["bytes"] for f in survey.files),
        sha256=provenance["manifest_sha256"],
        provenance=provenance,
    )


@dataclass
class _Survey:
    """What the first pass learns: the characters, each document's length and file, each file's facts."""

    seen: set[str] = field(default_factory=set)
    lengths: array = field(default_factory=lambda: array("q"))  # per document, in characters
    file_of: array = field(default_factory=lambda: array("q"))  # per document, its source's index
    files: list[dict] = field(default_factory=list)  # per source read: name, bytes, sha256
    read: list[Source] = field(default_factory=list)

    def add(self, src: Source, seen: set[str], lengths: list[int], hashing: streams.Hashing) -> None:
        self.seen |= seen
        self.lengths.extend(lengths)
        self.file_of.extend([len(self.read)] * len(lengths))
        self.files.append({"path": src.name, "bytes": hashing.n_bytes, "sha256": hashing.digest.hexdigest()})
        self.read.append(src)


def _rereadable(src: Source, workdir: str | None) -> Source:
    """The source, or, for a stream, a named pipe or a device, its copy (data/streams.py): each
    source is read twice, and a pipe gives its bytes once and a device may never end."""
    if src.stream is None:
        try:
            if stat.S_ISREG(src.path.stat().st_mode):
                return src
        except OSError:
            return src  # missing or unreadable: said when it is opened
    copy = streams.twice_readable(src.path if src.stream is None else src.stream, workdir)
    return Source(src.name, src.path, copy.__enter__())


def _survey_one(src: Source, how: Reading, survey: _Survey, skipped: Skipped) -> None:
    """One source's characters, documents and facts. One that cannot be read is skipped and
    counted by reason, or, read whole, is the corpus's error."""
    try:
        with src.open() as raw:
            if not how.whole and sources.is_binary(raw, how.encoding):
                return skipped.add("binary", src.name)
            hashing = streams.Hashing(raw)
            seen, lengths = _learn(hashing, how)
    except (DataError, OSError) as e:
        if how.whole:
            raise
        return skipped.add("undecodable" if isinstance(e, UndecodableText) else "unreadable", src.name)
    if not lengths:
        if how.whole:
            raise DataError(f"the corpus {src.name} is empty; give it some text to learn from")
        # text that is all separators has no document in it: not an empty file
        return skipped.add(SEPARATORS_ONLY if hashing.n_bytes and how.separator else "empty", src.name)
    survey.add(src, seen, lengths, hashing)


def _documents_of(raw: BinaryIO, how: Reading) -> Iterator[str | None]:
    return sources.split_documents(streams.decoded_chunks(raw, how.encoding, how.errors), how.separator)


def _learn(raw: BinaryIO, how: Reading) -> tuple[set[str], list[int]]:
    """The characters of a source and the lengths of its documents (empty ones left out)."""
    seen, lengths = set(), [0]
    for piece in _documents_of(raw, how):
        if piece is None:
            lengths.append(0)
        else:
            seen.update(characters(piece))
            lengths[-1] += len(piece)
    return seen, [n for n in lengths if n]


def _ids(
    survey: _Survey, order: list[np.ndarray], vocab: Vocab, mark: str | None, how: Reading
) -> Iterator[np.ndarray]:
    """The ids, document by document in `order`, each document after a boundary, and one at the end."""
    first_doc = np.concatenate([[0], np.cumsum(np.bincount(survey.file_of, minlength=len(survey.read)))])
    lengths = np.frombuffer(survey.lengths, np.int64)
    b = vocab.encode(mark) if mark else None
    for docs in order:
        wanted = np.zeros(len(lengths), bool)
        wanted[docs] = True
        for f in np.unique(np.frombuffer(survey.file_of, np.int64)[docs]):
            src, doc, had = survey.read[f], int(first_doc[f]), 0
            for piece in _read_again(src, survey.files[f], how):
                if piece is None:
                    doc, had = doc + (had > 0), 0
                    continue
                if not piece:
                    continue
                had += len(piece)
                if doc >= first_doc[f + 1] or had > lengths[doc]:
                    raise CorpusChanged(src.name)
                if wanted[doc]:
                    if had == len(piece) and b is not None:
                        yield b
                    yield _encoded(piece, vocab, src)
    if b is not None:
        yield b


def _encoded(piece: str, vocab: Vocab, src: Source) -> np.ndarray:
    try:
        return vocab.encode(piece)
    except UnknownCharacters:  # a character the survey never saw: the file changed meanwhile
        raise CorpusChanged(src.name) from None


def _read_again(src: Source, facts: dict, how: Reading) -> Iterator[str | None]:
    """A source's documents read again, which must be those the survey read (the caller checks
    their count, lengths and characters) and, at its end, the same bytes (SHA-256): what the
    corpus records is then what it holds. A file that changed raises CorpusChanged naming it."""
    try:
        with src.open() as raw:
            hashing = streams.Hashing(raw)
            yield from _documents_of(hashing, how)
    except (DataError, OSError):  # gone, unreadable or undecodable since
        raise CorpusChanged(src.name) from None
    if hashing.digest.hexdigest() != facts["sha256"] or hashing.n_bytes != facts["bytes"]:
        raise CorpusChanged(src.name)
