"""Many files (or one text cut at a separator) as one corpus of documents.

`select` finds the files: the paths given, and every file under the folders given (recursively,
hidden files and folders left out), filtered by glob patterns, in sorted order. `read_documents`
reads them as corpus.py reads one text, streaming, in passes over the files: the first finds the
vocabulary, the documents' lengths and each file's SHA-256, and skips files that are binary (a NUL
byte in their first 8 KiB) or not valid in the encoding; the next writes the ids.

Documents are joined by a boundary symbol that is in the vocabulary but never in the text: the
first Unicode noncharacter (U+FDD0 ...; reserved for a program's internal use) that the corpus
does not contain. The ids are B d1 B d2 ... B dn B, so the model learns how a document starts
(after B) and where it ends (before B). With enough documents, whole documents are held out for
validation: they are written last, so the usual head/tail split falls on a document boundary.
"""

from __future__ import annotations

import codecs
import fnmatch
import hashlib
import os
from array import array
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import numpy as np

from charrnn import files
from charrnn.config import ReadConfig
from charrnn.data import mapped, streams
from charrnn.data.corpus import Corpus
from charrnn.errors import DataError, UndecodableText
from charrnn.vocab import Vocab

BOUNDARY_CANDIDATES = [chr(c) for c in range(0xFDD0, 0xFDF0)]  # Unicode noncharacters
SNIFF_BYTES = 8192  # a NUL byte among the first this many means binary, as git and grep judge
MIN_DOCUMENTS_TO_HOLD_OUT = 10  # fewer: validation is the tail, as for one text
MANIFEST_LIST = 200  # up to this many files are listed one by one in the checkpoint
CHANGED = "a corpus file changed while it was being read; train again once it is complete"
HOLD_OUT_SEED = 0  # the fixed shuffle from which held-out documents are drawn


@dataclass(frozen=True)
class Source:
    name: str  # as shown and recorded: relative to the folder given, or as given
    path: Path | None = None
    stream: BinaryIO | None = None  # seekable (standard input, spooled)

    def open(self):
        """The file, to read in a `with`; a stream is rewound and left open."""
        if self.stream is not None:
            self.stream.seek(0)
            return streams.Unclosed(self.stream)
        files.reading(self.path)  # no output of the command may be written over it
        return streams.open_path(self.path)


@dataclass
class Skipped:
    """Files left out, by reason: binary, undecodable (in the encoding given), empty, unreadable."""

    files: dict[str, list[str]] = field(default_factory=dict)

    def add(self, reason: str, name: str) -> None:
        self.files.setdefault(reason, []).append(name)

    def counts(self) -> dict[str, int]:
        return {reason: len(names) for reason, names in self.files.items()}


def _matches(name: str, rel: str, patterns: Sequence[str]) -> bool:
    """A glob matches the file's name, its path in the folder given, or its path as shown:
    '*.py', 'tests/*', 'src/tests/*'."""
    base = name.rsplit("/", 1)[-1]
    return any(fnmatch.fnmatchcase(n, p) for p in patterns for n in (base, rel, name))


def select(paths: Sequence[str | Path], include: Sequence[str] = (), exclude: Sequence[str] = ()) -> list[Source]:
    """The files named and those under the folders named, filtered, deduplicated, sorted by name."""
    found: dict[str, Source] = {}
    seen: set[Path] = set()
    for given in map(Path, paths):
        if not given.exists():
            raise DataError(f"corpus not found: {given}")
        for name, rel, path in _files_of(given):
            if (include and not _matches(name, rel, include)) or _matches(name, rel, exclude):
                continue
            real = path.resolve()
            if real not in seen:
                seen.add(real)
                if name in found:  # another folder of the same name: tell them apart by the path given
                    name = path.as_posix()
                found.setdefault(name, Source(name, path))
    if not found:
        what = ", ".join(map(str, paths))
        filters = " matching the include and exclude patterns" if include or exclude else ""
        raise DataError(f"no files{filters} in {what}: nothing to train on")
    return [found[name] for name in sorted(found)]


def _files_of(given: Path) -> Iterator[tuple[str, str, Path]]:
    """(name shown, path within the folder given, path) of each file."""
    if not given.is_dir():
        yield given.as_posix(), given.name, given
        return
    prefix = "" if given.name in ("", ".", "..") else given.name + "/"
    for root, dirs, names in os.walk(given):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for f in sorted(names):
            path = Path(root, f)
            if not f.startswith(".") and path.is_file():  # not a FIFO, device or broken link
                rel = path.relative_to(given).as_posix()
                yield prefix + rel, rel, path


def split_documents(chunks: Iterator[str], separator: str | None) -> Iterator[str | None]:
    """Text pieces, with None wherever `separator` stood (found across chunk edges too)."""
    if not separator:
        yield from chunks
        return
    keep = len(separator) - 1  # a separator cut by a chunk edge starts in the last `keep` characters
    carry = ""
    for text in chunks:
        *whole, last = (carry + text).split(separator)
        for piece in whole:
            yield piece
            yield None
        carry = last[len(last) - keep :] if keep and len(last) > keep else last if keep else ""
        yield last[: len(last) - len(carry)]
    yield carry


@dataclass
class _Survey:
    """What the first pass learns: the characters, each document's length and file, each file's facts."""

    seen: set[str] = field(default_factory=set)
    lengths: array = field(default_factory=lambda: array("q"))  # per document, in characters
    file_of: array = field(default_factory=lambda: array("q"))  # per document, its source's index
    files: list[dict] = field(default_factory=list)  # per source read: name, bytes, sha256
    read: list[Source] = field(default_factory=list)


def _is_binary(raw: BinaryIO, encoding: str) -> bool:
    """A NUL byte near the start, in an encoding where text never has one (UTF-8, Latin-1, ...)."""
    if len("a".encode(codecs.lookup(encoding).name)) != 1:  # UTF-16 and UTF-32 are full of NULs
        return False
    head = raw.read(SNIFF_BYTES)
    raw.seek(0)
    return b"\0" in head


def _documents_of(raw: BinaryIO, encoding: str, errors: str, separator: str | None) -> Iterator[str | None]:
    return split_documents(streams.decoded_chunks(raw, encoding, errors), separator)


def _survey_one(src: Source, encoding: str, errors: str, separator: str | None, survey: _Survey, skipped: Skipped):
    try:
        opened = src.open()
    except DataError:
        skipped.add("unreadable", src.name)
        return
    with opened as raw:
        if _is_binary(raw, encoding):
            skipped.add("binary", src.name)
            return
        hashing, seen, lengths = streams.Hashing(raw), set(), [0]
        try:
            for piece in _documents_of(hashing, encoding, errors, separator):
                if piece is None:
                    lengths.append(0)
                else:
                    seen.update(piece)
                    lengths[-1] += len(piece)
        except UndecodableText:
            skipped.add("undecodable", src.name)
            return
        except OSError:
            skipped.add("unreadable", src.name)
            return
    lengths = [n for n in lengths if n]  # empty documents (two separators in a row) are none
    if not lengths:
        skipped.add("empty", src.name)
        return
    survey.seen |= seen
    survey.lengths.extend(lengths)
    survey.file_of.extend([len(survey.read)] * len(lengths))
    survey.files.append({"path": src.name, "bytes": hashing.n_bytes, "sha256": hashing.digest.hexdigest()})
    survey.read.append(src)


def choose_boundary(seen: set[str], prefer: str | None = None) -> str:
    """The boundary symbol: `prefer` (a model's own, when fine-tuning) or the first free noncharacter."""
    for ch in ([prefer] if prefer else []) + BOUNDARY_CANDIDATES:
        if ch not in seen:
            return ch
    raise DataError("the corpus uses every Unicode noncharacter, so no symbol is free to mark its documents' ends")


def held_out_documents(lengths: Sequence[int], val_fraction: float) -> np.ndarray:
    """Indices of whole documents to validate on, or none when there are too few to choose from.

    Documents are drawn in a fixed shuffled order, skipping any that would take validation past
    twice its share, until they make up `val_fraction` of the characters; if that reaches less
    than half the share, or leaves no document to train on, none are held out.
    """
    n = len(lengths)
    if n < MIN_DOCUMENTS_TO_HOLD_OUT:
        return np.zeros(0, np.intp)
    target = val_fraction * float(np.sum(lengths))
    chosen, total = [], 0
    for i in np.random.default_rng(HOLD_OUT_SEED).permutation(n):
        if total >= target:
            break
        if total + lengths[i] <= 2 * target:
            chosen.append(i)
            total += lengths[i]
    if total < target / 2 or len(chosen) >= n:
        return np.zeros(0, np.intp)
    return np.sort(np.array(chosen, np.intp))


def _manifest(files: list[dict]) -> dict:
    lines = "".join(f"{f['sha256']}  {f['bytes']}  {f['path']}\n" for f in files)
    facts = {"files": len(files), "manifest_sha256": hashlib.sha256(lines.encode("utf-8")).hexdigest()}
    return {**facts, "file_list": files} if len(files) <= MANIFEST_LIST else facts


def read_documents(
    sources: Sequence[Source],
    encoding: str = ReadConfig.encoding,
    errors: str = ReadConfig.decode_errors,
    separator: str | None = None,
    val_fraction: float = 0.0,
    boundary: str | None = None,
    name: str | None = None,
    workdir: str | None = None,
) -> tuple[Corpus, Skipped]:
    """Read `sources` as one corpus of documents; `boundary` is the one to use if the text allows."""
    streams.check_decoding(encoding, errors)
    survey, skipped = _Survey(), Skipped()
    for src in sources:
        _survey_one(src, encoding, errors, separator, survey, skipped)
    if not survey.read:
        raise DataError(f"none of the {len(sources)} files could be read as {encoding} text ({_said(skipped)})")
    lengths = np.frombuffer(survey.lengths, np.int64)
    several = len(lengths) > 1
    mark = choose_boundary(survey.seen, boundary) if several else None
    vocab = Vocab(survey.seen | ({mark} if mark else set()))
    held = held_out_documents(lengths, val_fraction) if several else np.zeros(0, np.intp)
    n = int(lengths.sum()) + (len(lengths) + 1 if several else 0)
    order = _writing_order(len(lengths), held)
    chunks = _ids(survey, order, vocab, mark, encoding, errors, separator)
    ids = mapped.ids_to_memmap(_counted(chunks, n), vocab.dtype, n, workdir)
    total_bytes = sum(f["bytes"] for f in survey.files)
    provenance = {**_manifest(survey.files), "skipped": skipped.counts(), "separator": separator}
    return (
        Corpus(
            ids,
            vocab,
            name or (survey.files[0]["path"] if len(survey.files) == 1 else f"{len(survey.files)} files"),
            total_bytes,
            provenance["manifest_sha256"],
            documents=len(lengths),
            boundary=mark,
            held_out=int(lengths[held].sum()) + len(held) + 1 if len(held) else 0,
            provenance=provenance,
        ),
        skipped,
    )


def _said(skipped: Skipped) -> str:
    return ", ".join(f"{n} {reason}" for reason, n in skipped.counts().items())


def _writing_order(n_docs: int, held: np.ndarray) -> list[np.ndarray]:
    """The documents in the order written: the training ones, then the held-out ones."""
    is_held = np.zeros(n_docs, bool)
    is_held[held] = True
    return [np.flatnonzero(~is_held), np.flatnonzero(is_held)]


def _ids(
    survey: _Survey, order: list[np.ndarray], vocab: Vocab, mark: str | None, encoding, errors, separator
) -> Iterator[np.ndarray]:
    """The ids, document by document in `order`, each document after a boundary, and one at the end."""
    first_doc = np.concatenate([[0], np.cumsum(np.bincount(survey.file_of, minlength=len(survey.read)))])
    b = vocab.encode(mark) if mark else None
    for docs in order:
        wanted = np.zeros(len(survey.lengths), bool)
        wanted[docs] = True
        for f in np.unique(np.frombuffer(survey.file_of, np.int64)[docs]):
            doc, started = int(first_doc[f]), False
            with survey.read[f].open() as raw:
                for piece in _documents_of(raw, encoding, errors, separator):
                    if piece is None:
                        doc, started = doc + started, False
                        continue
                    if not piece:
                        continue
                    if doc >= first_doc[f + 1]:
                        raise DataError(CHANGED)
                    if wanted[doc]:
                        yield from (
                            [b, vocab.encode(piece)] if not started and b is not None else [vocab.encode(piece)]
                        )
                    started = True
    if b is not None:
        yield b


def _counted(chunks: Iterator[np.ndarray], n: int) -> Iterator[np.ndarray]:
    """Pass the chunks on; a file that changed between the passes is an error, not a garbled corpus."""
    written = 0
    for c in chunks:
        written += len(c)
        if written > n:
            break
        yield c
    if written != n:
        raise DataError(CHANGED)
