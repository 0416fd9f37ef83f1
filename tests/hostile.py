"""What the hostile-value tests share: the values, and a folder of hostile files (the `place`
fixture of tests/conftest.py).

The folder holds files, a folder, links to /dev/null and /dev/full (devices only through links
inside tmp), names that are not UTF-8, empty and binary files; `devices_intact` checks after a
command that what it wrote through a link left the device a device.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from tests.cli_helpers import TEXT, write

NUMBERS = [
    "0", "1", "2", "3", "-1", "1e308", "1e-300", "5e-324", str(10**30), str(2**63), "nan", "inf", "-inf", "", "x",
    "1_0", "0x10",
]  # fmt: skip
# a sample's length or count: every number but those whose stream would run for ever, which is what
# they ask (like `yes`), not a hostile value
COUNTS = [n for n in NUMBERS if n not in (str(10**30), str(2**63))]
UNITS = ["0:0", "0:7", "0:8", "1:0", "-1:0", "0:-1", f"0:{10**30}", f"{2**63}:0", ":", "0:", "0", "0:0:0", "a:b", "٣:٣"]
ENCODINGS = [
    "utf-8", "utf-16", "utf-16-be", "utf-32", "latin-1", "utf-8-sig", "utf-7", "idna", "punycode", "unicode_escape",
    "raw_unicode_escape", "rot13", "hex", "zlib", "base64", "uu", "undefined", "nope", "", "x" * 300,
]  # fmt: skip
DECODE_ERRORS = ["strict", "replace", "ignore", "surrogateescape", "backslashreplace", ""]
NOT_UTF8 = os.fsdecode(b"caf\xe9")  # a name as Linux may hold it: its byte \xe9 is no UTF-8

# names in a place (make_place): files, a folder, nothing, links to devices, names that are not UTF-8
TEXTS = ["t.txt", "empty.txt", "binary.bin", "one.txt", "dir", "missing.txt", "null", "m.npz", NOT_UTF8 + ".txt"]
CHECKPOINTS = [
    "m.npz",
    "other.npz",
    "dir",
    "missing.npz",
    "null",
    "empty.txt",
    "binary.bin",
    "t.txt",
    NOT_UTF8 + ".npz",
]
PAGES = ["page.html", "t.txt", "m.npz", "dir", "null", "full", "missing/page.html", "link.html", NOT_UTF8 + ".html"]
CORPORA = ["corpus.txt", "t.txt", "empty.txt", "binary.bin", "dir", "missing.txt", "null"]


def make_place(d: Path, trained: Path) -> Path:
    """Everything a command may be pointed at, in the folder d."""
    for name in ("m.npz", "other.npz", NOT_UTF8 + ".npz"):
        (d / name).write_bytes(trained.read_bytes())
    write(d / "t.txt", TEXT[:200])
    write(d / (NOT_UTF8 + ".txt"), TEXT[:50])
    write(d / "one.txt", "t")
    write(d / "empty.txt", "")
    write(d / "binary.bin", bytes(range(256)) * 4)
    write(d / "corpus.txt", TEXT)
    (d / "dir").mkdir()
    (d / "null").symlink_to("/dev/null")
    (d / "full").symlink_to("/dev/full")
    (d / "link.html").symlink_to(d / "page.html")
    return d


def devices_intact() -> None:
    for device in ("/dev/null", "/dev/full"):
        assert stat.S_ISCHR(os.stat(device).st_mode), f"{device} is no longer a device"
