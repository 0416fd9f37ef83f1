"""What a corpus is read from, and how its documents are told apart.

`select` finds the files: the paths given, and every file under the folders given (recursively,
hidden files and folders left out), filtered by glob patterns, in sorted order. One file, or
standard input, is a selection of one `Source`. corpus.py reads any selection, in two passes; when
read as documents it skips files that are binary (a NUL byte in their first 8 KiB), not valid in
the encoding, empty or unreadable (`Skipped`), and lists the files read in a `manifest`.

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
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import numpy as np

from charrnn import files
from charrnn.data import streams
from charrnn.errors import DataError, NoFiles

BOUNDARY_CANDIDATES = [chr(c) for c in range(0xFDD0, 0xFDF0)]  # Unicode noncharacters
SNIFF_BYTES = 8192  # a NUL byte among the first this many means binary, as git and grep judge
MIN_DOCUMENTS_TO_HOLD_OUT = 10  # fewer: validation is the tail, as for one text
MANIFEST_LIST = 200  # up to this many files are listed one by one in the checkpoint
HOLD_OUT_SEED = 0  # the fixed shuffle from which held-out documents are drawn


@dataclass(frozen=True)
class Source:
    name: str  # as shown and recorded: relative to the folder given, or as given
    path: Path | None = None
    stream: BinaryIO | None = None  # standard input (copied first unless it is a regular file)
    skip: str | None = None  # why it is left out unread, found so by the walk (Skipped's reasons)

    def open(self):
        """The file, to read in a `with`; a stream is rewound and left open."""
        if self.stream is not None:
            self.stream.seek(0)
            return streams.Unclosed(self.stream)
        files.reading(self.path)  # no output of the running command may be written over it (files/inputs.py)
        return streams.open_path(self.path)


@dataclass
class Skipped:
    """What was left out, by reason. Files: binary, undecodable (in the encoding given), empty,
    separator-only, unreadable; and what a folder held that is not a file to read (FOUND_UNREAD)."""

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
        for name, rel, path, skip in _files_of(given):
            if (include and not _matches(name, rel, include)) or _matches(name, rel, exclude):
                continue
            real = path.resolve()
            if real not in seen:
                seen.add(real)
                if name in found:  # another folder of the same name: tell them apart by the path given
                    name = path.as_posix()
                found.setdefault(name, Source(name, path, skip=skip))
    if not found:
        raise NoFiles(list(map(str, paths)), bool(include or exclude))
    return [found[name] for name in sorted(found)]


UNREADABLE_FOLDER, LINKED_FOLDER, BROKEN_LINK, SPECIAL_FILE = FOUND_UNREAD = (
    "unreadable folder",  # it cannot be listed (its mode, or it vanished while the walk went on)
    "linked folder",  # a symbolic link to a folder: not followed, as it may lead back up the tree
    "broken link",
    "special file",  # a FIFO, device or socket, which may never end or be read twice
)


def _files_of(given: Path) -> Iterator[tuple[str, str, Path, str | None]]:
    """(name shown, path within the folder given, path, why it is left out unread or None) of
    each file, and of each thing in the folders that the walk does not read, with its reason."""
    if not given.is_dir():
        yield given.as_posix(), given.name, given, None
        return
    prefix = "" if given.name in ("", ".", "..") else given.name + "/"
    unlisted: list[OSError] = []
    for root, dirs, names in os.walk(given, onerror=unlisted.append):
        yield from _unlisted(given, prefix, unlisted)
        linked = {d for d in dirs if Path(root, d).is_symlink()}
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in linked)
        for f in sorted(linked.union(names)):
            if f.startswith("."):
                continue
            path = Path(root, f)
            rel = path.relative_to(given).as_posix()
            why = LINKED_FOLDER if f in linked else None if path.is_file() else _why_unread(path)
            yield prefix + rel, rel, path, why
    yield from _unlisted(given, prefix, unlisted)


def _unlisted(given: Path, prefix: str, errors: list[OSError]) -> Iterator[tuple[str, str, Path, str]]:
    while errors:
        path = Path(errors.pop(0).filename or given)
        rel = path.relative_to(given).as_posix() if path != given else ""
        yield (prefix + rel).rstrip("/") or given.as_posix(), rel, path, UNREADABLE_FOLDER


def _why_unread(path: Path) -> str:
    return BROKEN_LINK if path.is_symlink() and not path.exists() else SPECIAL_FILE


def is_binary(raw: BinaryIO, encoding: str) -> bool:
    """A NUL byte near the start, in an encoding where text never has one (UTF-8, Latin-1, ...)."""
    if len("a".encode(codecs.lookup(encoding).name)) != 1:  # UTF-16 and UTF-32 are full of NULs
        return False
    head = raw.read(SNIFF_BYTES)
    raw.seek(0)
    return b"\0" in head


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


def manifest(files: list[dict]) -> dict:
    lines = "".join(f"{f['sha256']}  {f['bytes']}  {f['path']}\n" for f in files)
    facts = {"files": len(files), "manifest_sha256": hashlib.sha256(lines.encode("utf-8")).hexdigest()}
    return {**facts, "file_list": files} if len(files) <= MANIFEST_LIST else facts


def writing_order(n_docs: int, held: np.ndarray) -> list[np.ndarray]:
    """The documents in the order written: the training ones, then the held-out ones."""
    is_held = np.zeros(n_docs, bool)
    is_held[held] = True
    return [np.flatnonzero(~is_held), np.flatnonzero(is_held)]
