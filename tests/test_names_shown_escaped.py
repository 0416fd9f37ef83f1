"""A name from outside (a file's, a checkpoint's corpus's) is shown escaped wherever it is shown:
in errors (click's and charrnn's), warnings, messages, tables and pages. A file named
'x\\nError: forged.txt' cannot print a line of its own, nor one holding ESC[2J clear the screen,
nor a right-to-left override turn the rest of a line around.

Each case below walks one way a name reaches the user; every hostile name takes every way.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import pytest

from tests.cli_helpers import TEXT, invoke, tiny, write
from tests.hostile import NOT_UTF8, make_place

HOSTILE = {
    "a newline": "x\nError: forged.txt",
    "a carriage return": "ok\rError: forged.txt",
    "an escape sequence": "x\x1b[2Jy.txt",
    "a right-to-left override": "a\u202etxt.exe",
    "a backspace": "ab\bc.txt",
}
if sys.platform == "linux":  # names are bytes there: one that is not UTF-8 arrives as surrogates
    HOSTILE["an undecodable byte"] = os.fsdecode(b"caf\xe9\x9b.txt")

# what a terminal acts on: controls but the newline that ends a line, the bidirectional controls,
# the line separators, and lone surrogates (which would not even encode)
ACTS = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069\ud800-\udfff]")


def _checkpoint(d: Path, name: str) -> Path:
    """A tiny model trained on a corpus of that name, itself saved under that name."""
    ckpt = d / f"{name}.npz"
    result = invoke(["train", write(d / name, TEXT), "-c", ckpt, *tiny(), "-q"])
    assert result.exit_code == 0, result.stderr
    return ckpt


def _cases(d: Path, name: str):
    """(what is shown, arguments) for each way a name reaches the user; files made as needed."""
    corpus = write(d / "corpus.txt", TEXT)
    folder = d / "folder"
    folder.mkdir()
    write(folder / "good.txt", TEXT)
    write(folder / name, b"\0binary")
    yield "click's error of a path", ["train", d / "missing" / name]
    yield "the library's error", ["train", write(d / f"empty {name}", ""), "-c", d / "e.npz"]
    yield "a warning of a skipped file", ["train", folder, "-c", d / "f.npz", *tiny(), "-q"]
    yield "an error of a checkpoint", ["sample", "-c", d / f"missing {name}"]
    yield "an output refused", ["train", corpus, "-c", d / "o.npz", "--log", d / "nodir" / name]
    yield "an output that is an input", ["train", corpus, "-c", d / name, "--log", d / name]
    ckpt = _checkpoint(d, name)
    yield "the messages of a run", ["train", d / name, "-c", d / f"again {name}.npz", *tiny()]
    yield "the command line to continue", ["train", d / name, "-c", ckpt, *tiny()]
    yield "the table of a checkpoint", ["inspect", "-c", ckpt]
    yield "a page and its message", ["inspect", "-c", ckpt, "score", corpus, "--html", d / f"{name}.html"]
    yield "an export and its message", ["export", "-c", ckpt, d / f"export {name}.html"]


@pytest.mark.parametrize("name", HOSTILE.values(), ids=HOSTILE.keys())
def test_every_way_a_name_is_shown_escapes_it(tmp_path, name):
    shown = []
    for what, args in _cases(tmp_path, name):
        result = invoke(args)
        for stream, said in (("stderr", result.stderr), ("stdout", result.stdout)):
            assert not ACTS.search(said), (what, stream, said)
            forged = [line for line in said.splitlines() if line.startswith("Error: forged")]
            assert not forged, (what, stream, said)
        assert sum(line.startswith("Error:") for line in result.stderr.splitlines()) <= 1, (what, result.stderr)
        shown.append(what)
    for page in tmp_path.glob("*.html"):
        html = page.read_text("utf-8")
        named = re.findall(r"<title>(.*?)</title>|<h1>(.*?)</h1>|<table class=\"facts\">(.*?)</table>", html, re.S)
        assert named and not ACTS.search("".join(map("".join, named))), (page, named)
    assert len(shown) == 11 and len(list(tmp_path.glob("*.html"))) == 2


@pytest.mark.parametrize("args", [["-c", NOT_UTF8 + ".npz"], ["-c", "m.npz", "--title", NOT_UTF8]])
def test_a_page_title_that_is_not_utf8_is_written_escaped(trained, tmp_path, monkeypatch, args):
    """A checkpoint's name (the default title) or a --title holding bytes that are not UTF-8 (a
    Linux name may): the page shows them as \\xNN, as every message does, and is UTF-8 throughout."""
    monkeypatch.chdir(make_place(tmp_path, trained))
    result = invoke(["export", *args, "page.html"])
    assert result.exit_code == 0, result.stderr
    assert "<title>" + ("charrnn: " if "--title" not in args else "") + "caf\\xe9" in (
        (tmp_path / "page.html").read_bytes().decode("utf-8")
    )
