"""The shipped corpora match the record in corpora/README.md.

corpora/README.md has a markdown table with one row per corpus:

    | file | bytes | sha256 | distinct chars | ... |

These tests parse that table and check every file against it, and check that
every ``.txt`` file in corpora/ is in the table.  They also check the
normalisation the README promises, and exercise the pure helpers of
corpora/build_corpora.py on small made-up inputs (the sdists themselves are
not needed).
"""

from __future__ import annotations

import hashlib
import importlib.util
import io
import re
import sys
import tarfile
from dataclasses import dataclass
from pathlib import Path

import pytest

CORPORA = Path(__file__).resolve().parent.parent / "corpora"
README = CORPORA / "README.md"

# | name.txt | 1,031,368 | <64 hex> | 79 | ... |
ROW = re.compile(
    r"^\|\s*(?P<name>[^|\s]+\.txt)\s*"
    r"\|\s*(?P<size>[\d,]+)\s*"
    r"\|\s*(?P<sha>[0-9a-fA-F]+)\s*"
    r"\|\s*(?P<chars>\d+)\s*\|"
)


@dataclass(frozen=True)
class Entry:
    name: str
    size: int
    sha256: str
    chars: int


def parse_table(markdown: str) -> list[Entry]:
    """Rows of the corpus table: the lines whose first cell names a .txt file."""
    entries = []
    for line in markdown.splitlines():
        m = ROW.match(line.strip())
        if m:
            entries.append(
                Entry(
                    name=m["name"],
                    size=int(m["size"].replace(",", "")),
                    sha256=m["sha"].lower(),
                    chars=int(m["chars"]),
                )
            )
    return entries


def readme_entries() -> list[Entry]:
    return parse_table(README.read_text(encoding="utf-8"))


ENTRIES = readme_entries() if README.is_file() else []


def load_builder():
    """Import corpora/build_corpora.py (not a package) once."""
    name = "_charrnn_corpora_build"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, CORPORA / "build_corpora.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module  # dataclasses look the module up there
        spec.loader.exec_module(module)
    return sys.modules[name]


# ---------------------------------------------------------------------------
# The table itself
# ---------------------------------------------------------------------------


def test_readme_exists_and_has_a_table():
    assert README.is_file()
    assert len(ENTRIES) >= 2, "expected at least two corpora in the README table"


def test_table_is_well_formed():
    names = [e.name for e in ENTRIES]
    assert len(names) == len(set(names)), f"duplicate rows: {names}"
    for e in ENTRIES:
        assert re.fullmatch(r"[0-9a-f]{64}", e.sha256), e
        assert e.size > 0 and e.chars > 0, e
    assert "shakespeare.txt" in names


def test_every_txt_file_is_listed():
    on_disk = {p.name for p in CORPORA.glob("*.txt")}
    listed = {e.name for e in ENTRIES}
    assert on_disk == listed, (
        f"not in README: {sorted(on_disk - listed)}; listed but missing: {sorted(listed - on_disk)}"
    )


def test_total_size_is_modest():
    assert sum(e.size for e in ENTRIES) < 2_600_000


# ---------------------------------------------------------------------------
# Each corpus against its row
# ---------------------------------------------------------------------------


@pytest.fixture(params=ENTRIES, ids=lambda e: e.name)
def corpus(request) -> tuple[Entry, bytes]:
    entry = request.param
    path = CORPORA / entry.name
    assert path.is_file(), f"{entry.name} is listed in README.md but missing"
    return entry, path.read_bytes()


def test_size_matches(corpus):
    entry, data = corpus
    assert len(data) == entry.size


def test_sha256_matches(corpus):
    entry, data = corpus
    assert hashlib.sha256(data).hexdigest() == entry.sha256


def test_strict_utf8_without_bom_or_cr(corpus):
    entry, data = corpus
    text = data.decode("utf-8", errors="strict")
    assert not data.startswith(b"\xef\xbb\xbf")
    assert "\ufeff" not in text
    assert "\r" not in text


def test_distinct_characters_match(corpus):
    entry, data = corpus
    assert len(set(data.decode("utf-8"))) == entry.chars


def test_normalised(corpus):
    entry, data = corpus
    text = data.decode("utf-8")
    assert text.endswith("\n") and not text.endswith("\n\n")
    assert not text.startswith("\n")
    assert "\n\n\n\n" not in text, "a run of 3+ blank lines"
    assert "\t" not in text
    bad = [i for i, line in enumerate(text.split("\n"), 1) if line != line.rstrip()]
    assert not bad, f"trailing whitespace on lines {bad[:10]}"


def test_no_leftover_boilerplate(corpus):
    entry, data = corpus
    text = data.decode("utf-8").lower()
    for word in ("gutenberg", "etext", "e-text", "&egrave;", "&amp;"):
        assert word not in text, f"{entry.name} contains {word!r}"


def test_shakespeare_looks_like_plays():
    text = (CORPORA / "shakespeare.txt").read_text(encoding="utf-8")
    for title in (
        "HAMLET, PRINCE OF DENMARK",
        "THE TRAGEDY OF KING LEAR",
        "MACBETH",
        "OTHELLO, THE MOOR OF VENICE",
        "JULIUS CAESAR",
        "A MIDSUMMER NIGHT'S DREAM",
        "THE MERCHANT OF VENICE",
        "TWELFTH NIGHT; OR, WHAT YOU WILL",
    ):
        assert f"\n{title}\n\nby William Shakespeare\n" in "\n" + text, title
    assert text.count("by William Shakespeare") == 8
    assert "To be, or not to be" in text
    assert "[Exeunt" in text and "\nACT I.\n" in text
    assert "THE END" not in text


def test_python_code_carries_licence_and_compiles():
    text = (CORPORA / "python_code.txt").read_text(encoding="utf-8")
    assert text.startswith("# Source code of click ")
    assert "# Copyright 2014 Pallets" in text
    assert "# THIS SOFTWARE IS PROVIDED BY THE COPYRIGHT HOLDERS" in text
    # the concatenation is still valid Python (relative imports compile fine)
    compile(text, "python_code.txt", "exec")


# ---------------------------------------------------------------------------
# The parser can fail
# ---------------------------------------------------------------------------


def test_parse_table_reads_rows_and_ignores_other_lines():
    md = (
        "| file | bytes | sha256 | distinct chars |\n"
        "| --- | ---: | --- | ---: |\n"
        f"| a.txt | 1,234 | {'AB' * 32} | 7 | text |\n"
        "| `b.py` | 3 | x | 1 |\n"
        "not a row a.txt | 1 |\n"
    )
    assert parse_table(md) == [Entry("a.txt", 1234, "ab" * 32, 7)]


def test_a_wrong_hash_is_caught():
    data = b"abc\n"
    wrong = Entry("x.txt", len(data), "0" * 64, 4)
    assert hashlib.sha256(data).hexdigest() != wrong.sha256


# ---------------------------------------------------------------------------
# build_corpora.py helpers
# ---------------------------------------------------------------------------


def test_normalise():
    b = load_builder()
    raw = "\ufeff\n\nline one  \r\nline two\t\r\n\n\n\n\n\n\tindented\rlast   \n\n"
    assert b.normalise(raw) == "line one\nline two\n\n\n    indented\nlast\n"
    assert b.normalise("") == ""
    assert b.normalise(" \n \n") == ""
    assert b.normalise("a\n\n\n\nb", max_blank_lines=1) == "a\n\nb\n"


def test_clean_play_applies_fixes_and_drops_the_end():
    b = load_builder()
    raw = "TITLE\n\n\n\n\nfix&egrave;d   \n\n[Exit.]\n\n\nTHE END\n"
    assert b.clean_play("hamlet", raw) == "TITLE\n\n\nfixèd\n\n[Exit.]\n"
    with pytest.raises(SystemExit):
        b.clean_play("twelfth_night", "no slip here\n")


def test_comment_block_and_join():
    b = load_builder()
    assert b.comment_block("A\n\n  B  \n") == "# A\n#\n#   B\n"
    assert b.join_parts(["a\n", "", "b\n"]) == "a\n\n\nb\n"


def _fake_sdist(tmp_path: Path, root: str, files: dict[str, str]) -> Path:
    path = tmp_path / f"{root}.tar.gz"
    with tarfile.open(path, "w:gz") as tar:
        for name, text in files.items():
            data = text.encode("utf-8")
            info = tarfile.TarInfo(f"{root}/{name}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def test_build_python_code_from_a_fake_sdist(tmp_path):
    b = load_builder()
    path = _fake_sdist(
        tmp_path,
        "click-0.0",
        {
            "LICENSE.txt": "Copyright X\n",
            "src/click/b.py": "x = (1,\n     2)\r\n",
            "src/click/__init__.py": "from .b import x\n",
            "src/click/sub/c.py": "ignored = True\n",
            "src/click/py.typed": "",
        },
    )
    with b.Sdist(path, "0" * 64, verify=False) as sdist:
        text = b.build_python_code(sdist)
    assert text == (
        "# Source code of click 0.0 (src/click/*.py), by Pallets.\n"
        "# Licence of click (LICENSE.txt of its source distribution):\n"
        "#\n"
        "# Copyright X\n"
        "\n\n"
        "# file: click/__init__.py\n\nfrom .b import x\n"
        "\n\n"
        "# file: click/b.py\n\nx = (1,\n     2)\n"
    )
    with pytest.raises(SystemExit):
        b.Sdist(path, "0" * 64, verify=True)
